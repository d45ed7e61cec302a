//! The one place that performs HTTP: a [`RequestPlan`] in, an [`HttpReply`] or a
//! [`TransportFailure`] out. [`FetchExchange`] also gives the batch its clock, sleep and
//! randomness (see [`crate::batch::Exchange`]).
//!
//! Requests are built with gloo-net and sent with the global `fetch` (Node's undici inside n8n).
//! The exchange is sent by a binding of our own rather than `gloo_net::http::Request::send`,
//! because gloo-net keeps only `name` and `message` of a rejection — losing the `cause` that
//! says *why* Node could not connect (`ECONNREFUSED`, a TLS failure, …) — and panics when a
//! promise rejects with something that is not an `Error`. The body is read exactly once, as text.

use gloo_net::http::{Method as GlooMethod, RequestBuilder};
use js_sys::{Date, Math, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::AbortSignal;

use serde_json::Value;

use crate::batch::Exchange;
use crate::credentials::ApiKey;
use crate::js;
use crate::plan::{Method, RequestPlan};
use crate::response::{HttpReply, JsonType, TransportFailure};

#[wasm_bindgen]
extern "C" {
    /// The global `fetch` (works in Node and browsers alike, unlike `window.fetch`).
    #[wasm_bindgen(js_name = fetch, catch)]
    fn global_fetch(request: &web_sys::Request) -> Result<Promise, JsValue>;
}

/// The real world for a batch: `fetch` with the API key, `Date.now`, `Math.random`, and sleeps
/// made of `AbortSignal.timeout` (the package may not use timer globals).
pub struct FetchExchange<'a> {
    /// The key sent as the `Token` header.
    pub api_key: &'a ApiKey,
}

impl Exchange for FetchExchange<'_> {
    type Object = JsValue;

    async fn send(
        &self,
        plan: &RequestPlan,
        budget_ms: u32,
    ) -> Result<HttpReply, TransportFailure> {
        send(plan, self.api_key, budget_ms).await
    }

    async fn sleep(&self, ms: u64) {
        let signal = AbortSignal::timeout_with_u32(u32::try_from(ms).unwrap_or(u32::MAX));
        let fired = Promise::new(&mut |resolve, _reject| signal.set_onabort(Some(&resolve)));
        // `signal` stays referenced until it fires, so Node cannot collect it (and its timer).
        let _ = JsFuture::from(fired).await;
        drop(signal);
    }

    fn now_ms(&self) -> f64 {
        Date::now()
    }

    fn random(&self) -> f64 {
        Math::random()
    }

    fn parse(&self, text: &str) -> Result<Value, String> {
        js::to_json(&js::parse(text)?)
    }

    fn parse_body(&self, text: &str) -> Result<(JsonType, JsValue), String> {
        js::parse(text).map(|value| (js::json_type(&value), value))
    }
}

/// Sends `plan` and reads the whole answer. `budget_ms` covers connecting, waiting for the
/// headers and reading the body; when it runs out the request is aborted, not abandoned.
pub async fn send(
    plan: &RequestPlan,
    api_key: &ApiKey,
    budget_ms: u32,
) -> Result<HttpReply, TransportFailure> {
    let signal = AbortSignal::timeout_with_u32(budget_ms);
    let started = Date::now();
    let failure =
        |error: JsValue, during_body: bool| classify(&error, &signal, started, during_body);

    let builder = RequestBuilder::new(&plan.url)
        .method(match plan.method {
            Method::Get => GlooMethod::GET,
            Method::Post => GlooMethod::POST,
        })
        .header("Token", api_key.expose())
        .header("Accept", "application/json")
        .abort_signal(Some(&signal));
    let request = match &plan.body {
        Some(body) => builder
            .header("Content-Type", "application/json")
            .body(body.as_str()),
        None => builder.build(),
    }
    .map_err(|e| TransportFailure::Network {
        code: None,
        // gloo-net's own Display would pull in the formatting of errors we never get here.
        detail: match e {
            gloo_net::Error::JsError(js) => {
                format!("the request could not be built: {}", js.message)
            }
            _ => "the request could not be built".to_string(),
        },
        during_body: false,
    })?;
    let request: web_sys::Request = request.into();

    let promise = global_fetch(&request).map_err(|e| failure(e, false))?;
    let response: web_sys::Response = JsFuture::from(promise)
        .await
        .map_err(|e| failure(e, false))?
        .dyn_into()
        .map_err(|_| TransportFailure::Network {
            code: None,
            detail: "fetch resolved to something that is not a Response".to_string(),
            during_body: false,
        })?;
    // The headers matter only for errors (an HTML page, Retry-After); a success skips them.
    let failed = !response.ok();
    let header = |name: &str| {
        failed
            .then(|| response.headers().get(name).ok().flatten())
            .flatten()
    };
    let content_type = header("content-type");
    let retry_after = header("retry-after");

    let text = response.text().map_err(|e| failure(e, true))?;
    let body = JsFuture::from(text).await.map_err(|e| failure(e, true))?;
    Ok(HttpReply {
        status: response.status(),
        content_type,
        retry_after,
        body: body.as_string().unwrap_or_default(),
        elapsed_ms: elapsed_ms(started),
    })
}

fn elapsed_ms(started: f64) -> u64 {
    (Date::now() - started).max(0.0) as u64
}

/// Turns a rejection of `fetch` or of reading the body into a [`TransportFailure`].
fn classify(
    error: &JsValue,
    signal: &AbortSignal,
    started: f64,
    during_body: bool,
) -> TransportFailure {
    if signal.aborted() {
        return TransportFailure::TimedOut {
            elapsed_ms: elapsed_ms(started),
        };
    }
    // Node reports network faults as `TypeError: fetch failed` whose `cause` (possibly nested)
    // carries the code and the useful text, e.g. `connect ECONNREFUSED 127.0.0.1:9`.
    let mut code = None;
    let mut messages: Vec<String> = Vec::new();
    let mut current = error.clone();
    for _ in 0..4 {
        if !current.is_object() {
            if let Some(text) = current.as_string() {
                messages.push(text);
            }
            break;
        }
        if code.is_none() {
            code = string_property(&current, "code");
        }
        if let Some(message) = string_property(&current, "message") {
            if !message.is_empty() && !messages.contains(&message) {
                messages.push(message);
            }
        }
        match Reflect::get(&current, &JsValue::from_str("cause")) {
            Ok(cause) if !cause.is_undefined() && !cause.is_null() => current = cause,
            _ => break,
        }
    }
    TransportFailure::Network {
        code,
        detail: messages.join(": "),
        during_body,
    }
}

fn string_property(object: &JsValue, name: &str) -> Option<String> {
    Reflect::get(object, &JsValue::from_str(name))
        .ok()
        .and_then(|value| value.as_string())
}
