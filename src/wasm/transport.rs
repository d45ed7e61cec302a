//! The one place that performs HTTP: a [`RequestPlan`] in, an [`HttpReply`] or a
//! [`TransportFailure`] out. [`HostExchange`] also gives the batch its clock, sleep, randomness
//! and cancellation (see [`sparkbot_core::io::Io`]) and its JSON reading.
//!
//! The module performs no I/O of its own and imports nothing but the runtime's standard globals
//! (`AbortSignal`, `JSON`, `Date`, `Math`): every request and every pause goes through the
//! [`Host`] the shim hands to each export (`pkg-template/nodes/SparkBot/host.ts`). The shim sends
//! requests with n8n's own request helper, so n8n's outbound policy — `HTTP_PROXY`,
//! `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`, SSRF protection — applies exactly as it does to n8n's
//! own nodes, in every n8n version, without the package reading the environment (which n8n does
//! not allow community nodes to do).
//!
//! The host reads the body at most once and never past [`MAX_BODY_BYTES`].

use js_sys::{Array, Date, Math, Object, Promise, Reflect};
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::AbortSignal;

use crate::js;
use sparkbot_core::credentials::ApiKey;
use sparkbot_core::exchange::{HttpReply, TransportFailure, MAX_BODY_BYTES};
use sparkbot_core::io::Io;
use sparkbot_core::json::JsonReader;
use sparkbot_core::json::JsonType;
use sparkbot_core::plan::{Method, RequestPlan};
use sparkbot_core::text::find_text;

#[wasm_bindgen]
extern "C" {
    /// What the module needs from outside, as the shim provides it (`CoreHost` in
    /// `pkg-template/nodes/SparkBot/host.ts`).
    pub type Host;

    /// Sends one request; resolves with `{ status, headers, body, bodyError }` (`headers`:
    /// lower-case names to text; `body`: the text, or `undefined` when it was longer than
    /// `maxBodyBytes` and was not read, or when reading it failed with `bodyError`) or rejects
    /// with the runtime's network error. `signal` aborts it.
    #[wasm_bindgen(method, catch)]
    fn send(
        this: &Host,
        method: &str,
        url: &str,
        headers: &Object,
        body: Option<String>,
        signal: &AbortSignal,
        timeout_ms: u32,
        max_body_bytes: u32,
    ) -> Result<Promise, JsValue>;

    /// Resolves after `ms` milliseconds, or at once when `signal` aborts; keeps the process alive
    /// meanwhile.
    #[wasm_bindgen(method, catch)]
    fn sleep(this: &Host, ms: f64, signal: Option<&AbortSignal>) -> Result<Promise, JsValue>;

    /// `AbortSignal.any`: aborts when any of `signals` does.
    #[wasm_bindgen(js_namespace = AbortSignal, js_name = any, catch)]
    fn any_signal(signals: &Array) -> Result<AbortSignal, JsValue>;
}

/// The real world for a batch: the host's `send` with the API key, `Date.now`, `Math.random`,
/// the host's pauses, and the execution's cancel signal, which aborts requests and pauses at once.
pub struct HostExchange {
    /// Where requests and pauses go.
    pub host: Host,
    /// The key sent as the `Token` header.
    pub api_key: ApiKey,
    /// n8n's cancel signal of the execution, if it gave one.
    pub cancel: Option<AbortSignal>,
}

impl HostExchange {
    /// The key to remove from every text that leaves the module (none when there is no key).
    pub fn secret(&self) -> Option<String> {
        Some(self.api_key.expose())
            .filter(|key| !key.is_empty())
            .map(str::to_string)
    }

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

impl Io for HostExchange {
    async fn send(
        &self,
        plan: &RequestPlan,
        budget_ms: u32,
    ) -> Result<HttpReply, TransportFailure> {
        let signal = self.deadline(budget_ms);
        let outcome = send(&self.host, plan, &self.api_key, &signal, budget_ms).await;
        match outcome {
            Err(_) if self.cancelled() => Err(TransportFailure::Cancelled),
            other => other,
        }
    }

    async fn sleep(&self, ms: u64) {
        // The host's pause keeps the event loop alive while it runs and ends at once when the
        // execution is cancelled; a host that fails to pause is not waited for.
        if let Ok(pause) = self.host.sleep(ms as f64, self.cancel.as_ref()) {
            let _ = JsFuture::from(pause).await;
        }
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

impl JsonReader for HostExchange {
    type Object = JsValue;

    fn parse(&self, text: &str) -> Result<Value, String> {
        js::to_json(&js::parse(text)?)
    }

    fn parse_body(&self, text: &str) -> Result<(JsonType, JsValue), String> {
        js::parse(text).map(|value| (js::json_type(&value), value))
    }

    fn to_object(&self, value: &Value) -> JsValue {
        js::from_json(value)
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

/// Sends `plan` through `host` and reads the whole answer. `signal` (the time budget, and the
/// execution's cancellation) covers connecting, waiting for the headers and reading the body;
/// when it fires the request is aborted, not abandoned.
pub async fn send(
    host: &Host,
    plan: &RequestPlan,
    api_key: &ApiKey,
    signal: &AbortSignal,
    budget_ms: u32,
) -> Result<HttpReply, TransportFailure> {
    let started = Date::now();
    let failure = |error: JsValue| classify(&error, signal, started, false);

    // The key was checked to be visible ASCII, so no header value can be refused.
    let headers = Object::new();
    let mut names = vec![("token", api_key.expose()), ("accept", "application/json")];
    if plan.body.is_some() {
        names.push(("content-type", "application/json"));
    }
    for (name, value) in names {
        // Setting a property on a fresh plain object cannot fail.
        let _ = Reflect::set(&headers, &name.into(), &value.into());
    }
    let promise = host
        .send(
            plan.method.as_str(),
            &plan.url,
            &headers,
            plan.body.clone(),
            signal,
            budget_ms,
            MAX_BODY_BYTES as u32,
        )
        .map_err(failure)?;
    let reply = JsFuture::from(promise).await.map_err(failure)?;
    let status = Reflect::get(&reply, &"status".into())
        .ok()
        .and_then(|status| status.as_f64())
        .filter(|status| (100.0..=999.0).contains(status))
        .ok_or_else(|| TransportFailure::Network {
            code: None,
            detail: "the HTTP client answered without an HTTP status".to_string(),
            during_body: false,
        })? as u16;
    let response_headers = Reflect::get(&reply, &"headers".into()).unwrap_or_default();
    let header = |wanted: bool, name: &str| {
        wanted
            .then(|| {
                Reflect::get(&response_headers, &name.into())
                    .ok()?
                    .as_string()
            })
            .flatten()
    };
    // The headers matter only for errors (an HTML page, Retry-After, a proxy) and for list pages
    // (the total); a successful reboot or reset skips them.
    let failed = !(200..300).contains(&status);
    let content_type = header(failed, "content-type");
    let retry_after = header(failed, "retry-after");
    let location = header(failed, "location");
    let proxy_authenticate = header(status == 407, "proxy-authenticate");
    let via = header(failed, "via");
    let total_count = header(plan.method == Method::Get, "x-total-count");
    let body_error = Reflect::get(&reply, &"bodyError".into()).unwrap_or_default();
    if !body_error.is_undefined() {
        // The connection broke after the headers: SparkBot may have acted already.
        return Err(classify(&body_error, signal, started, true));
    }
    let body = match Reflect::get(&reply, &"body".into()) {
        Ok(body) if body.is_string() => body.as_string().unwrap_or_default(),
        _ => return Err(TransportFailure::TooLarge),
    };
    Ok(HttpReply {
        status,
        content_type,
        retry_after,
        total_count,
        location,
        proxy_authenticate,
        via,
        body,
        elapsed_ms: elapsed_ms(started),
    })
}

fn elapsed_ms(started: f64) -> u64 {
    (Date::now() - started).max(0.0) as u64
}

/// Turns a failure of the host's `send` into a [`TransportFailure`] (the caller tells
/// cancellation apart); `during_body`: it came while the answer was read.
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
    // n8n's HTTP client reports network faults with the runtime's code at the top
    // (`ECONNREFUSED`, `CERT_HAS_EXPIRED`, …) or in a `cause` chain (possibly nested), with the
    // useful text, e.g. `connect ECONNREFUSED 127.0.0.1:9`.
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
            // n8n's own refusals (its SSRF protection) carry no code: their class name is one.
            code = string_property(&current, "code").or_else(|| {
                string_property(&current, "name").filter(|name| name.starts_with("Ssrf"))
            });
        }
        if let Some(message) = string_property(&current, "message") {
            push_message(&mut messages, &message);
        }
        if let Some(description) = string_property(&current, "description") {
            push_message(&mut messages, &description);
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
