//! The wasm boundary: every `#[wasm_bindgen]` export of the crate.
//!
//! Each export does the same three steps — decode the JS values, call the core (and the
//! transport), encode the result — and turns every [`Error`] into a JS `Error` in exactly one
//! function, `to_js_error`, which also removes the API key from everything it lets through.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;

use js_sys::{Array, Object, Promise, Reflect};
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use web_sys::AbortSignal;

use crate::core::batch::{first_failure, send_with_retries, BatchSettings, BatchState, ItemResult};
use crate::core::credentials::{Credentials, RawCredentials};
use crate::core::devices::{DeviceCollector, DeviceOption};
use crate::core::error::{Error, ErrorKind};
use crate::core::execute::{run_items, Output};
use crate::core::json::{JsonReader, JsonType};
use crate::core::listing::{list_devices, search_devices, test_credentials};
use crate::core::operation::{
    Field, ALLOWED_DOMAINS, ALLOWED_HTTP_REQUEST_DOMAINS, ALLOW_INSECURE_HTTP, API_KEY, BASE_URL,
    BINARY_PROPERTY, DEVICE, FILTERS, LIMIT, OPERATION, OPTIONS, RESOURCE, RETURN_ALL,
};
use crate::core::plan::{parse_concurrency, plan_item, ItemPlan, RawItem};
use crate::core::status::interpret_action;
use crate::core::text::redact;
use crate::core::trigger::{poll_account, starts_afresh, Watch, EVENT, PREVIOUS_STATUS};
use crate::core::webhook::{self, Delivery, DeliveryHeaders, Memory, Registration, Verdict};
use crate::wasm::js::{self, to_json};
use crate::wasm::transport::{Host, HostExchange};

/// Most items one execution may hand over; more would only exhaust the module's memory.
pub const MAX_ITEMS: u32 = 100_000;

/// Runs the reboot or reset of every item of a node execution, in one call.
///
/// `items` holds each item's parameters as read with `getNodeParameter` (`{ resource,
/// operation, device, options }`; `null` for an item whose parameters the shim could not read),
/// `credentials` is the credential's data (`{ apiKey, baseUrl, allowInsecureHttp, … }`), `host`
/// what the module sends its requests through (see [`Host`]), `cancel` n8n's cancel signal of
/// the execution (or `undefined`). Every item is read and planned (validated) at once, before
/// anything is sent; the first item's Concurrency option sets how many requests are in flight at
/// once.
///
/// Without `stopOnError` (continue-on-fail) the promise resolves with one entry per item, in
/// input order: the response object, unchanged (with `attempts` when the item's Include Attempt
/// Count option is on), or an `Error` carrying `code`, `kind` (`"operation"` or `"api"`),
/// `httpCode`, `description` and `attempts`. With `stopOnError` it resolves with every item's
/// response when all succeeded; otherwise it rejects with the error of the first failed item in
/// input order, carrying that item's `itemIndex` (nothing is sent when any item is invalid, and
/// nothing starts after a failure). Throws only when `items` is not a list of at most
/// [`MAX_ITEMS`].
#[wasm_bindgen(js_name = executeItems)]
pub fn execute_items(
    items: JsValue,
    credentials: JsValue,
    stop_on_error: bool,
    host: Host,
    cancel: JsValue,
) -> Result<Promise, JsValue> {
    let items: Array = match items.dyn_into::<Array>() {
        Ok(items) if items.length() <= MAX_ITEMS => items,
        _ => {
            let error = Error::invalid_parameter(
                "Items",
                format!("must be a list of at most {MAX_ITEMS} items' parameters"),
            );
            return Err(to_js_error(&error, None, 0));
        }
    };
    let count = items.length() as usize;
    let all_failed = |error: &Error, secret: Option<&str>| {
        if stop_on_error {
            return Ok(Promise::reject(&item_error(error, secret, 0, 0)));
        }
        let errors: Array = (0..count).map(|_| to_js_error(error, secret, 0)).collect();
        Ok(Promise::resolve(&JsValue::from(errors)))
    };
    let credentials = match decode_credentials(&credentials) {
        Ok(credentials) => credentials,
        Err(error) => return all_failed(&error, None),
    };
    let raw: Vec<Result<RawItem, Error>> = (0..items.length())
        .map(|index| decode_item(&Reflect::get_u32(&items, index).unwrap_or_default()))
        .collect();
    let first_options = raw
        .first()
        .and_then(|item| item.as_ref().ok()?.options.as_ref());
    let concurrency = match parse_concurrency(first_options) {
        Ok(concurrency) => concurrency,
        Err(error) => return all_failed(&error, Some(credentials.api_key.expose())),
    };
    let plans: Vec<Result<ItemPlan, Error>> =
        raw.into_iter().map(|item| plan_item(&item?)).collect();
    let settings = BatchSettings {
        concurrency,
        stop_on_error,
    };
    let exchange = HostExchange {
        host,
        api_key: credentials.api_key.clone(),
        cancel: cancel.dyn_into::<AbortSignal>().ok(),
    };
    Ok(spawn(async move {
        let secret = Some(exchange.api_key.expose());
        let reports: Vec<bool> = plans
            .iter()
            .map(|plan| matches!(plan, Ok(ItemPlan::Device { request, .. }) if request.report_attempts))
            .collect();
        let mut results = run_items(&exchange, &credentials, plans, settings).await;
        if stop_on_error {
            if let Some(index) = first_failure(&results) {
                if let Some(Some(ItemResult {
                    result: Err(error),
                    attempts,
                })) = results.get(index)
                {
                    return Err(item_error(error, secret, *attempts, index));
                }
            }
        }
        Ok(results
            .iter_mut()
            .zip(reports)
            .map(|(item, report)| match item.take() {
                None => JsValue::UNDEFINED,
                Some(ItemResult {
                    result: Ok(Output::One(object)),
                    attempts,
                }) => {
                    if report {
                        // The output is a fresh object from JSON.parse: setting a field cannot fail.
                        let _ = Reflect::set(&object, &"attempts".into(), &attempts.into());
                    }
                    object
                }
                Some(ItemResult {
                    result: Ok(Output::Many(objects)),
                    ..
                }) => objects.into_iter().collect::<Array>().into(),
                Some(ItemResult {
                    result: Err(error),
                    attempts,
                }) => to_js_error(&error, secret, attempts),
            })
            .collect::<Array>()
            .into())
    }))
}

/// Lists every device of the account (all pages) as n8n dropdown options
/// (`{ name, value, description }`), for the `getDevices` load-options method.
#[wasm_bindgen(js_name = loadDevices)]
pub fn load_devices(credentials: JsValue, host: Host) -> Promise {
    spawn(async move {
        let credentials = decode_credentials(&credentials).map_err(|e| to_js_error(&e, None, 0))?;
        let exchange = HostExchange {
            host,
            api_key: credentials.api_key.clone(),
            cancel: None,
        };
        let listed = list_devices(&exchange, &credentials, None).await;
        let secret = Some(credentials.api_key.expose());
        let devices = listed
            .result
            .map_err(|e| to_js_error(&e, secret, listed.attempts))?;
        let mut collector = DeviceCollector::default();
        collector.add_page(devices.iter().map(|(value, _)| value));
        Ok(options_to_js(collector.into_options()))
    })
}

/// The search of version 2's WhatsApp Number list (n8n's `methods.listSearch.getDevices`):
/// `{ results: [{ name, value, description }], paginationToken }`. Without a filter one page of
/// the account (the token is the next page), with one every match.
#[wasm_bindgen(js_name = searchDevices)]
pub fn search_devices_js(
    credentials: JsValue,
    filter: Option<String>,
    token: Option<String>,
    host: Host,
) -> Promise {
    spawn(async move {
        let credentials = decode_credentials(&credentials).map_err(|e| to_js_error(&e, None, 0))?;
        let exchange = HostExchange {
            host,
            api_key: credentials.api_key.clone(),
            cancel: None,
        };
        let searched =
            search_devices(&exchange, &credentials, filter.as_deref(), token.as_deref()).await;
        let secret = Some(credentials.api_key.expose());
        let page = searched
            .result
            .map_err(|e| to_js_error(&e, secret, searched.attempts))?;
        let result = Object::new();
        // Defining properties on a fresh plain object cannot fail.
        let _ = Reflect::set(&result, &"results".into(), &options_to_js(page.results));
        if let Some(next) = page.next {
            let _ = Reflect::set(&result, &"paginationToken".into(), &JsValue::from(next));
        }
        Ok(result.into())
    })
}

/// One poll of SparkBot Trigger: `state` is what the node's static data holds (or `undefined`),
/// `event` and `filters` its parameters, `manual` whether it is the editor's test run,
/// `activation` n8n's activation mode on the first poll of an activation (`undefined` on the
/// others): a user's publish (`activate`, `create`, `update`) starts from a new baseline.
/// Resolves with `{ items, state }`: the reported devices, each as SparkBot sent it plus
/// `previousSessionStatus`, and the state to remember (absent for a test run). A failed read
/// rejects with the node's error; the caller then keeps its state.
#[wasm_bindgen(js_name = pollSessions)]
pub fn poll_sessions(
    credentials: JsValue,
    state: JsValue,
    event: JsValue,
    filters: JsValue,
    manual: bool,
    activation: Option<String>,
    host: Host,
) -> Promise {
    spawn(async move {
        let credentials = decode_credentials(&credentials).map_err(|e| to_js_error(&e, None, 0))?;
        let secret = Some(credentials.api_key.expose());
        let read = |value: &JsValue, field: &str| {
            to_json(value).map_err(|problem| {
                to_js_error(&Error::invalid_parameter(field, problem), secret, 0)
            })
        };
        let (event, filters) = (
            read(&event, EVENT.display_name)?,
            read(&filters, "Filters")?,
        );
        let watch =
            Watch::parse(Some(&event), Some(&filters)).map_err(|e| to_js_error(&e, secret, 0))?;
        // A state that cannot be read is no state: the poll sets a new baseline; so does a
        // user's publish.
        let state = to_json(&state)
            .ok()
            .filter(|_| !starts_afresh(activation.as_deref()));
        let exchange = HostExchange {
            host,
            api_key: credentials.api_key.clone(),
            cancel: None,
        };
        let polled = poll_account(&exchange, &credentials, state.as_ref(), &watch, manual).await;
        let fired = polled
            .result
            .map_err(|e| to_js_error(&e, secret, polled.attempts))?;
        let items: Array = fired
            .items
            .into_iter()
            .map(|(object, previous)| {
                // The device is a fresh object from JSON.parse: setting a field cannot fail.
                let _ = Reflect::set(&object, &PREVIOUS_STATUS.into(), &JsValue::from(previous));
                object
            })
            .collect();
        let result = Object::new();
        let _ = Reflect::set(&result, &"items".into(), &items);
        if let Some(text) = fired.state {
            let state = js::parse(&text)
                .map_err(|e| to_js_error(&Error::InvalidResponse { problem: e }, secret, 0))?;
            let _ = Reflect::set(&result, &"state".into(), &state);
        }
        Ok(result.into())
    })
}

/// The credential's Test (n8n's `methods.credentialTest`): the node's own validation of the
/// credential — plain `http://` to another machine is refused before anything is sent — then
/// `GET /devices?page=0&size=1`. Resolves with n8n's `{ status: "OK" | "Error", message }`.
#[wasm_bindgen(js_name = testCredential)]
pub fn test_credential(credentials: JsValue, host: Host) -> Promise {
    spawn(async move { Ok(credential_test_result(&credentials, host).await) })
}

async fn credential_test_result(credentials: &JsValue, host: Host) -> JsValue {
    let outcome = match decode_credentials(credentials) {
        Err(error) => Err(error.message()),
        Ok(credentials) => {
            let exchange = HostExchange {
                host,
                api_key: credentials.api_key.clone(),
                cancel: None,
            };
            let tested = test_credentials(&exchange, &credentials).await;
            tested
                .result
                .map(|total| match total {
                    Some(1) => "Connection successful: the API key works (1 WhatsApp number in the account)".to_string(),
                    Some(n) => format!("Connection successful: the API key works ({n} WhatsApp numbers in the account)"),
                    None => "Connection successful: the API key works".to_string(),
                })
                .map_err(|error| {
                    redact(&error.message_after(tested.attempts), credentials.api_key.expose())
                })
        }
    };
    let (status, message) = match outcome {
        Ok(message) => ("OK", message),
        Err(message) => ("Error", message),
    };
    let result = Object::new();
    for (key, value) in [("status", status), ("message", message.as_str())] {
        // Defining a property on a fresh plain object cannot fail.
        let _ = Reflect::set(&result, &JsValue::from_str(key), &JsValue::from_str(value));
    }
    result.into()
}

/// Runs a call of the core as a JS promise. Every export goes through this one function, so
/// the module holds one instance of the future-to-promise machinery, not one per export.
fn spawn(call: impl Future<Output = Result<JsValue, JsValue>> + 'static) -> Promise {
    let call: Pin<Box<dyn Future<Output = Result<JsValue, JsValue>>>> = Box::pin(call);
    future_to_promise(call)
}

/// Dropdown options as the plain objects n8n expects: `[{ name, value, description }]`. Built
/// directly: serde-wasm-bindgen's serializer cost 4 KB of the module for these three fields.
fn options_to_js(options: Vec<DeviceOption>) -> JsValue {
    let list = Array::new_with_length(options.len() as u32);
    for (index, option) in options.into_iter().enumerate() {
        let object = Object::new();
        for (key, value) in [
            ("name", option.name),
            ("value", option.value),
            ("description", option.description),
        ] {
            // Defining a property on a fresh plain object cannot fail.
            let _ = Reflect::set(&object, &JsValue::from_str(key), &JsValue::from(value));
        }
        list.set(index as u32, object.into());
    }
    list.into()
}

/// Reads one property of a JS object as loosely typed JSON; `undefined` becomes `None`.
/// The error is the problem only; the caller names the field.
fn field(object: &JsValue, name: &str) -> Result<Option<Value>, String> {
    if object.is_undefined() || object.is_null() {
        return Ok(None);
    }
    let value = Reflect::get(object, &JsValue::from_str(name))
        .map_err(|_| "could not be read".to_string())?;
    if value.is_undefined() {
        return Ok(None);
    }
    to_json(&value).map(Some)
}

fn decode_item(item: &JsValue) -> Result<RawItem, Error> {
    if !item.is_object() {
        return Err(Error::invalid_parameter(
            "Parameters",
            "could not be read for this item",
        ));
    }
    let read = |field_: Field| {
        field(item, field_.name)
            .map_err(|problem| Error::invalid_parameter(field_.display_name, problem))
    };
    Ok(RawItem {
        resource: read(RESOURCE)?,
        operation: read(OPERATION)?,
        device: read(DEVICE)?,
        options: read(OPTIONS)?,
        return_all: read(RETURN_ALL)?,
        limit: read(LIMIT)?,
        filters: read(FILTERS)?,
        binary_property: read(BINARY_PROPERTY)?,
    })
}

fn decode_credentials(credentials: &JsValue) -> Result<Credentials, Error> {
    let read = |field_: Field| {
        field(credentials, field_.name).map_err(|problem| Error::InvalidCredential {
            field: field_.display_name,
            problem,
        })
    };
    Credentials::validate(&RawCredentials {
        api_key: read(API_KEY)?,
        base_url: read(BASE_URL)?,
        allow_insecure_http: read(ALLOW_INSECURE_HTTP)?,
        allowed_http_request_domains: read(ALLOWED_HTTP_REQUEST_DOMAINS)?,
        allowed_domains: read(ALLOWED_DOMAINS)?,
    })
}

/// The one conversion of an [`Error`] into a JS `Error`: `message`, `description`, `code`,
/// `kind`, `httpCode` and `attempts` (requests made), with the API key removed from every
/// string. The message says how many attempts were made when there were several; the
/// description says how many requests were made.
fn to_js_error(error: &Error, secret: Option<&str>, attempts: u32) -> JsValue {
    let clean = |text: String| match secret {
        Some(secret) => redact(&text, secret),
        None => text,
    };
    let js_error = js_sys::Error::new(&clean(error.message_after(attempts)));
    let kind = match error.kind() {
        ErrorKind::Operation => "operation",
        ErrorKind::Api => "api",
    };
    let http_code = error.http_code().map_or(JsValue::NULL, JsValue::from);
    for (key, value) in [
        ("code", JsValue::from_str(error.code())),
        ("kind", JsValue::from_str(kind)),
        ("httpCode", http_code),
        ("attempts", JsValue::from(attempts)),
        (
            "description",
            JsValue::from_str(&clean(error.description_after(attempts))),
        ),
    ] {
        // Setting a property on a fresh Error object cannot fail.
        let _ = Reflect::set(&js_error, &JsValue::from_str(key), &value);
    }
    js_error.into()
}

/// [`to_js_error`] for the item a run fails with: also carries its `itemIndex`.
fn item_error(error: &Error, secret: Option<&str>, attempts: u32, index: usize) -> JsValue {
    let js_error = to_js_error(error, secret, attempts);
    // Setting a property on a fresh Error object cannot fail.
    let _ = Reflect::set(&js_error, &"itemIndex".into(), &JsValue::from(index as u32));
    js_error
}

// ─── SparkBot Webhook Trigger ─────────────────────────────────────────────────────────────────

/// n8n's `checkExists` of SparkBot Webhook Trigger: whether the webhook in `stored` (the node's
/// static data) still exists at SparkBot for `url`, n8n's current webhook URL. Resolves with a
/// boolean; a failed request rejects with the node's error.
#[wasm_bindgen(js_name = webhookExists)]
pub fn webhook_exists(credentials: JsValue, stored: JsValue, url: String, host: Host) -> Promise {
    spawn(async move {
        let credentials = decode_credentials(&credentials).map_err(|e| to_js_error(&e, None, 0))?;
        let stored = Registration::from_static(to_json(&stored).ok().as_ref());
        let exchange = exchange_of(host, &credentials);
        webhook::exists(&exchange, &credentials, stored.as_ref(), &url)
            .await
            .map(JsValue::from_bool)
            .map_err(|e| to_js_error(&e, Some(credentials.api_key.expose()), 0))
    })
}

/// n8n's `create`: registers a webhook for `url` whose deliveries are signed with a secret made
/// from `random` (at least 32 bytes from the runtime's cryptographic generator); the webhook in
/// `stored` and any other one for `url` are deleted first. Resolves with the registration to
/// keep in static data (`{ webhookId, url, secret }`).
#[wasm_bindgen(js_name = webhookCreate)]
pub fn webhook_create(
    credentials: JsValue,
    stored: JsValue,
    url: String,
    random: Vec<u8>,
    host: Host,
) -> Promise {
    spawn(async move {
        let credentials = decode_credentials(&credentials).map_err(|e| to_js_error(&e, None, 0))?;
        let secret_key = Some(credentials.api_key.expose());
        let secret = webhook::new_secret(&random).map_err(|e| to_js_error(&e, secret_key, 0))?;
        let stored = Registration::from_static(to_json(&stored).ok().as_ref());
        let exchange = exchange_of(host, &credentials);
        let registration =
            webhook::find_or_replace(&exchange, &credentials, stored.as_ref(), &url, secret)
                .await
                .map_err(|e| to_js_error(&e, secret_key, 0))?;
        Ok(js::from_json(&registration.to_static()))
    })
}

/// n8n's `delete`: deletes the webhook in `stored`, if any (one SparkBot no longer has is gone
/// already). Resolves with `true`.
#[wasm_bindgen(js_name = webhookDelete)]
pub fn webhook_delete(credentials: JsValue, stored: JsValue, host: Host) -> Promise {
    spawn(async move {
        let credentials = decode_credentials(&credentials).map_err(|e| to_js_error(&e, None, 0))?;
        if let Some(stored) = Registration::from_static(to_json(&stored).ok().as_ref()) {
            let exchange = exchange_of(host, &credentials);
            webhook::unregister(&exchange, &credentials, &stored)
                .await
                .map_err(|e| to_js_error(&e, Some(credentials.api_key.expose()), 0))?;
        }
        Ok(JsValue::TRUE)
    })
}

thread_local! {
    /// What this process remembers of each trigger node's deliveries (`key`: workflow and
    /// node), besides its static data: two deliveries handled at the same moment load the same
    /// static data, and the one saved last would otherwise forget the other.
    static RECENT: RefCell<Vec<(String, Memory)>> = const { RefCell::new(Vec::new()) };
}

/// Most trigger nodes whose deliveries the process remembers.
const MAX_RECENT_NODES: usize = 64;

/// One delivery to SparkBot Webhook Trigger, checked before anything runs. `key` names the
/// trigger node in this process (workflow and node IDs); `credentials` reads the node's
/// credential (a function returning a promise), called only for a delivery that runs — SparkBot
/// delivers every number's changes, and one the node does not watch, a forged one or a
/// duplicate must cost n8n nothing, not even a read of its database; `stored` and `memory` are its static
/// data (the registration, what it remembers of deliveries); `timestamp` and `signature` the
/// `X-SparkBot-Timestamp` and `X-SparkBot-Signature` headers; `body` the raw body, exactly as
/// received; `event` and `filters` the node's parameters; `now_ms` the clock.
///
/// Resolves with `{ status, item?, memory? }`: `401` for a delivery that is not signed with the
/// secret or whose timestamp is more than 5 minutes away (nothing runs; nothing else is said),
/// `400` for a signed body that is not a delivery, `200` otherwise — with `item` (the device as
/// `GET /devices/{id}` shows it, its session as the delivery says, `previousSessionStatus`) when
/// the workflow is to run, and the `memory` to keep. Rejects only on parameters that are wrong:
/// a credential that cannot be read (a database that does not answer in time) is a device read
/// that failed — the item comes from the delivery — never a failure of the webhook, which n8n
/// would record as a failed execution.
#[wasm_bindgen(js_name = receiveDelivery)]
#[allow(clippy::too_many_arguments)]
pub fn receive_delivery(
    key: String,
    credentials: js_sys::Function,
    stored: JsValue,
    memory: JsValue,
    timestamp: Option<String>,
    signature: Option<String>,
    body: Vec<u8>,
    event: JsValue,
    filters: JsValue,
    now_ms: f64,
    host: Host,
) -> Promise {
    spawn(async move {
        let answer = |status: u16| {
            let result = Object::new();
            let _ = Reflect::set(&result, &"status".into(), &JsValue::from(status));
            result
        };
        let now_secs = (now_ms / 1000.0).floor() as i64;
        let secret = Registration::from_static(to_json(&stored).ok().as_ref())
            .map(|r| r.secret)
            .unwrap_or_default();
        let headers = DeliveryHeaders {
            timestamp: timestamp.as_deref(),
            signature: signature.as_deref(),
        };
        if body.len() > webhook::MAX_DELIVERY_BYTES
            || webhook::verify(&secret, headers, &body, now_secs).is_err()
        {
            return Ok(answer(401).into());
        }
        // The runtime's JSON.parse, as for every answer of SparkBot's (serde_json's parser would
        // add tens of kilobytes to the module).
        let Some(delivery) = std::str::from_utf8(&body)
            .ok()
            .and_then(|text| js::parse(text).ok())
            .and_then(|value| to_json(&value).ok())
            .and_then(|value| webhook::parse_delivery(&value).ok())
        else {
            return Ok(answer(400).into());
        };
        let watch = Watch::parse(
            to_json(&event).ok().as_ref(),
            to_json(&filters).ok().as_ref(),
        )
        .map_err(|e| to_js_error(&e, None, 0))?;
        let mut remembered = Memory::from_static(to_json(&memory).ok().as_ref());
        // The process's memory, when it can be had (it always can: nothing else borrows it).
        let verdict = RECENT
            .try_with(|recent| {
                let mut recent = recent.try_borrow_mut().ok()?;
                if let Some(at) = recent.iter().position(|(known, _)| *known == key) {
                    remembered.merge(&recent.remove(at).1);
                }
                let verdict = remembered.decide(&delivery, &watch, now_secs);
                recent.push((key.clone(), remembered.clone()));
                if recent.len() > MAX_RECENT_NODES {
                    recent.remove(0);
                }
                Some(verdict)
            })
            .ok()
            .flatten()
            .unwrap_or_else(|| remembered.decide(&delivery, &watch, now_secs));
        let result = answer(200);
        let _ = Reflect::set(
            &result,
            &"memory".into(),
            &js::from_json(&remembered.to_static()),
        );
        if verdict == Verdict::Run {
            let item = reported_device(&delivery, &credentials, host).await;
            let _ = Reflect::set(&result, &"item".into(), &item);
        }
        Ok(result.into())
    })
}

/// The credential `read` resolves with, when it does and is one.
async fn read_credential(read: &js_sys::Function) -> Option<Credentials> {
    let pending = read.call0(&JsValue::NULL).ok()?;
    let credentials = JsFuture::from(Promise::resolve(&pending)).await.ok()?;
    decode_credentials(&credentials).ok()
}

/// The device a delivery reports: as `GET /devices/{id}` shows it (or, when that read fails,
/// the delivery's `{ id, alias, phone }`), with the session's status and time from the delivery
/// and `previousSessionStatus` — the item the polling trigger gives for the same change.
async fn reported_device(
    delivery: &Delivery,
    credentials: &js_sys::Function,
    host: Host,
) -> JsValue {
    let read = match read_credential(credentials).await {
        Some(credentials) => {
            let exchange = exchange_of(host, &credentials);
            let plan = webhook::device_read(&delivery.device_id, &credentials);
            let sent = send_with_retries(&exchange, &plan, &BatchState::default()).await;
            interpret_action(&plan.context, sent.outcome, &|text| exchange.parse(text))
                .ok()
                .and_then(|body| js::parse(&body).ok())
                .filter(|device| {
                    js::json_type(device) == JsonType::Object
                        && Reflect::get(device, &"id".into())
                            .ok()
                            .and_then(|id| id.as_string())
                            == Some(delivery.device_id.clone())
                })
        }
        None => None,
    };
    let device = read.unwrap_or_else(|| js::from_json(&Value::Object(delivery.device.clone())));
    let session = Reflect::get(&device, &"session".into())
        .ok()
        .filter(|session| js::json_type(session) == JsonType::Object)
        .unwrap_or_else(|| Object::new().into());
    // Plain objects from JSON.parse or from_json: setting a field cannot fail.
    let _ = Reflect::set(
        &session,
        &"status".into(),
        &JsValue::from_str(&delivery.status),
    );
    let _ = Reflect::set(
        &session,
        &"updatedAt".into(),
        &JsValue::from_str(&delivery.updated_at),
    );
    let _ = Reflect::set(&device, &"session".into(), &session);
    let previous = delivery
        .previous_status
        .as_deref()
        .map_or(JsValue::NULL, JsValue::from_str);
    let _ = Reflect::set(&device, &PREVIOUS_STATUS.into(), &previous);
    device
}

fn exchange_of(host: Host, credentials: &Credentials) -> HostExchange {
    HostExchange {
        host,
        api_key: credentials.api_key.clone(),
        cancel: None,
    }
}
