//! The one place that performs HTTP: a [`RequestPlan`] in, an [`HttpReply`] or a
//! [`TransportFailure`] out. [`FetchExchange`] also gives the batch its clock, sleep and
//! randomness and cancellation (see [`crate::core::io::Io`]) and its JSON reading.
//!
//! The headers are gloo-net's [`Headers`]; the request goes out as `fetch(url, init)` through a
//! binding of our own, with a plain init dictionary, rather than as a gloo-net `Request`:
//! - building a web `Request` costs Node's undici about 0.1 ms per request, and `fetch` copies it
//!   once more — as much as half the node's own time per item (measured, see the README's
//!   *Where the time goes*);
//! - gloo-net's `send` keeps only `name` and `message` of a rejection — losing the `cause` that
//!   says *why* Node could not connect (`ECONNREFUSED`, a TLS failure, …) — and panics when a
//!   promise rejects with something that is not an `Error` (an abort reason can be anything).
//!
//! The body is read exactly once, as text, and never past [`MAX_BODY_BYTES`].

use gloo_net::http::Headers;
use js_sys::{Array, Date, Math, Promise, Reflect, Uint8Array};
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, ReadableStreamDefaultReader, RequestInit};

use crate::core::credentials::ApiKey;
use crate::core::http::{HttpReply, TransportFailure, MAX_BODY_BYTES};
use crate::core::io::Io;
use crate::core::json::JsonReader;
use crate::core::json::JsonType;
use crate::core::plan::{Method, RequestPlan};
use crate::core::text::find_text;
use crate::wasm::js;

#[wasm_bindgen(module = "n8n-workflow")]
extern "C" {
    /// n8n-workflow's `sleepWithAbort`: resolves after `ms`, rejects at once when `signal` aborts.
    #[wasm_bindgen(js_name = sleepWithAbort)]
    fn sleep_with_abort(ms: f64, signal: Option<&AbortSignal>) -> Promise;
}

#[wasm_bindgen]
extern "C" {
    /// The global `fetch` (works in Node and browsers alike, unlike `window.fetch`).
    #[wasm_bindgen(js_name = fetch, catch)]
    fn global_fetch(url: &str, init: &RequestInit) -> Result<Promise, JsValue>;

    /// `AbortSignal.any`: aborts when any of `signals` does.
    #[wasm_bindgen(js_namespace = AbortSignal, js_name = any, catch)]
    fn any_signal(signals: &Array) -> Result<AbortSignal, JsValue>;
}

/// The real world for a batch: `fetch` with the API key, `Date.now`, `Math.random`, sleeps on
/// n8n-workflow's timer (the package may not use timer globals), and the execution's cancel
/// signal, which aborts requests and sleeps at once.
pub struct FetchExchange {
    /// The key sent as the `Token` header.
    pub api_key: ApiKey,
    /// n8n's cancel signal of the execution, if it gave one.
    pub cancel: Option<AbortSignal>,
}

impl FetchExchange {
    /// A signal that fires after `ms` milliseconds or when the execution is cancelled.
    fn deadline(&self, ms: u32) -> AbortSignal {
        let timeout = AbortSignal::timeout_with_u32(ms);
        match &self.cancel {
            Some(cancel) => any_signal(&Array::of2(&timeout, cancel))
                .ok()
                .unwrap_or(timeout),
            None => timeout,
        }
    }
}

impl Io for FetchExchange {
    async fn send(
        &self,
        plan: &RequestPlan,
        budget_ms: u32,
    ) -> Result<HttpReply, TransportFailure> {
        let signal = self.deadline(budget_ms);
        let outcome = send(plan, &self.api_key, &signal).await;
        match outcome {
            Err(_) if self.cancelled() => Err(TransportFailure::Cancelled),
            other => other,
        }
    }

    async fn sleep(&self, ms: u64) {
        // n8n-workflow's timer keeps the event loop alive while it runs (an AbortSignal.timeout
        // would not: a bare process could exit in the middle of a pause), and the cancel signal
        // clears it. Its rejection on cancellation only ends the sleep early.
        let _ = JsFuture::from(sleep_with_abort(ms as f64, self.cancel.as_ref())).await;
    }

    fn cancelled(&self) -> bool {
        self.cancel.as_ref().is_some_and(AbortSignal::aborted)
    }

    fn now_ms(&self) -> f64 {
        Date::now()
    }

    fn random(&self) -> f64 {
        Math::random()
    }
}

impl JsonReader for FetchExchange {
    type Object = JsValue;

    fn parse(&self, text: &str) -> Result<Value, String> {
        js::to_json(&js::parse(text)?)
    }

    fn parse_body(&self, text: &str) -> Result<(JsonType, JsValue), String> {
        js::parse(text).map(|value| (js::json_type(&value), value))
    }

    fn parse_list(&self, text: &str) -> Result<Vec<(Value, JsValue)>, Result<JsonType, String>> {
        let parsed = js::parse(text).map_err(Err)?;
        let Some(list) = parsed.dyn_ref::<Array>() else {
            return Err(Ok(js::json_type(&parsed)));
        };
        list.iter()
            .map(|item| Ok((js::to_json(&item).map_err(Err)?, item)))
            .collect()
    }
}

/// Sends `plan` and reads the whole answer. `signal` (the time budget, and the execution's
/// cancellation) covers connecting, waiting for the headers and reading the body; when it fires
/// the request is aborted, not abandoned.
pub async fn send(
    plan: &RequestPlan,
    api_key: &ApiKey,
    signal: &AbortSignal,
) -> Result<HttpReply, TransportFailure> {
    let started = Date::now();
    let failure =
        |error: JsValue, during_body: bool| classify(&error, signal, started, during_body);

    // The key was checked to be visible ASCII, so no header value can be refused.
    let headers = Headers::new();
    headers.append("Token", api_key.expose());
    headers.append("Accept", "application/json");
    let init = RequestInit::new();
    init.set_method(plan.method.as_str());
    init.set_signal(Some(signal));
    if let Some(body) = &plan.body {
        headers.append("Content-Type", "application/json");
        init.set_body(&JsValue::from_str(body));
    }
    init.set_headers(&headers.into_raw());

    let promise = global_fetch(&plan.url, &init).map_err(|e| failure(e, false))?;
    let response: web_sys::Response = JsFuture::from(promise)
        .await
        .map_err(|e| failure(e, false))?
        .dyn_into()
        .map_err(|_| TransportFailure::Network {
            code: None,
            detail: "fetch resolved to something that is not a Response".to_string(),
            during_body: false,
        })?;
    // The headers matter only for errors (an HTML page, Retry-After) and for list pages (the
    // total); a successful reboot or reset skips them.
    let failed = !response.ok();
    let header = |wanted: bool, name: &str| {
        wanted
            .then(|| response.headers().get(name).ok().flatten())
            .flatten()
    };
    let content_type = header(failed, "content-type");
    let retry_after = header(failed, "retry-after");
    let total_count = header(plan.method == Method::Get, "x-total-count");

    // A declared length within the cap is read in one go; a longer one is not read at all; a
    // body without a length (chunked) is read piece by piece and abandoned past the cap.
    let length = response.headers().get("content-length").ok().flatten();
    let body = match length.map(|value| value.trim().parse::<u64>()) {
        Some(Ok(length)) if length > MAX_BODY_BYTES as u64 => {
            if let Some(stream) = response.body() {
                let _ = stream.cancel();
            }
            return Err(TransportFailure::TooLarge);
        }
        Some(Ok(_)) => {
            let text = response.text().map_err(|e| failure(e, true))?;
            let body = JsFuture::from(text).await.map_err(|e| failure(e, true))?;
            body.as_string().unwrap_or_default()
        }
        _ => read_capped(&response).await.map_err(|e| match e {
            Some(error) => failure(error, true),
            None => TransportFailure::TooLarge,
        })?,
    };
    Ok(HttpReply {
        status: response.status(),
        content_type,
        retry_after,
        total_count,
        body,
        elapsed_ms: elapsed_ms(started),
    })
}

/// Reads a body of unknown length chunk by chunk, at most [`MAX_BODY_BYTES`]; invalid UTF-8 is
/// replaced. `Err(None)` means it was longer (and the rest was cancelled), `Err(Some(_))` that
/// reading failed.
async fn read_capped(response: &web_sys::Response) -> Result<String, Option<JsValue>> {
    let Some(stream) = response.body() else {
        return Ok(String::new());
    };
    let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut bytes = Vec::new();
    loop {
        let chunk = JsFuture::from(reader.read()).await.map_err(Some)?;
        if Reflect::get(&chunk, &JsValue::from_str("done"))
            .map_err(Some)?
            .is_truthy()
        {
            break;
        }
        let value = Reflect::get(&chunk, &JsValue::from_str("value")).map_err(Some)?;
        let Some(piece) = value.dyn_ref::<Uint8Array>() else {
            return Err(Some(JsValue::from_str(
                "the body stream gave something not bytes",
            )));
        };
        if bytes.len() + piece.length() as usize > MAX_BODY_BYTES {
            let _ = reader.cancel();
            return Err(None);
        }
        let start = bytes.len();
        bytes.resize(start + piece.length() as usize, 0);
        if let Some(target) = bytes.get_mut(start..) {
            piece.copy_to(target);
        }
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn elapsed_ms(started: f64) -> u64 {
    (Date::now() - started).max(0.0) as u64
}

/// Turns a rejection of `fetch` or of reading the body into a [`TransportFailure`] (the caller
/// tells cancellation apart).
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
    let mut messages = String::new();
    let mut current = error.clone();
    for _ in 0..4 {
        if !current.is_object() {
            if let Some(text) = current.as_string() {
                push_message(&mut messages, &text);
            }
            break;
        }
        if code.is_none() {
            code = string_property(&current, "code");
        }
        if let Some(message) = string_property(&current, "message") {
            push_message(&mut messages, &message);
        }
        match Reflect::get(&current, &JsValue::from_str("cause")) {
            Ok(cause) if !cause.is_undefined() && !cause.is_null() => current = cause,
            _ => break,
        }
    }
    TransportFailure::Network {
        code,
        detail: messages,
        during_body,
    }
}

/// Appends `message` to the `: `-separated chain, unless it is empty or already there.
fn push_message(messages: &mut String, message: &str) {
    if message.is_empty() || find_text(messages, message).is_some() {
        return;
    }
    if !messages.is_empty() {
        messages.push_str(": ");
    }
    messages.push_str(message);
}

fn string_property(object: &JsValue, name: &str) -> Option<String> {
    Reflect::get(object, &JsValue::from_str(name))
        .ok()
        .and_then(|value| value.as_string())
}
