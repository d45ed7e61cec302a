//! The wasm boundary: every `#[wasm_bindgen]` export of the module.
//!
//! Each export does the same three things — read the JS values into the core's types, call the
//! core (with the transport), write the result back — and decides nothing. Every export resolves
//! with one shape, the contract of `node-descriptor/core-contract.ts`: `{ ok: value }`, or
//! `{ error: failure }` where a failure is a [`Report`] of the core's (`code`, `kind`,
//! `message`, `description`, `httpCode`, `attempts`, `itemIndex`), the API key removed from its
//! texts by the core. None rejects.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;

use js_sys::{Array, Object, Promise, Reflect};
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use web_sys::AbortSignal;

use sparkbot_core::credentials::{Credentials, RawCredentials};
use sparkbot_core::devices::DeviceOption;
use sparkbot_core::error::{Error, Report};
use sparkbot_core::execute::{execute, Execution, ItemOutcome};
use sparkbot_core::listing::{credential_test, dropdown, search_devices};
use sparkbot_core::operation::{
    Field, ALLOWED_DOMAINS, ALLOWED_HTTP_REQUEST_DOMAINS, ALLOW_INSECURE_HTTP, API_KEY, BASE_URL,
    BINARY_PROPERTY, DEVICE, FILTERS, LIMIT, OPERATION, OPTIONS, RESOURCE, RETURN_ALL,
};
use sparkbot_core::plan::RawItem;
use sparkbot_core::trigger::{poll_account, starts_afresh, Watch, EVENT, PREVIOUS_STATUS};
use sparkbot_core::webhook::{self, Delivery, DeliveryHeaders, Memory, Received, Registration};

use crate::js::{self, to_json};
use crate::transport::{Host, HostExchange};

/// Most items one execution may hand over; more would only exhaust the module's memory.
pub const MAX_ITEMS: u32 = 100_000;

/// Runs every item of a node execution, in one call.
///
/// `items` holds each item's parameters as the shim read them with `getNodeParameter`
/// (`{ resource, operation, device, options, … }`), or `{ unresolved: { message, description } }`
/// for an item whose parameters n8n could not resolve (its own error); `credentials` is the
/// credential's data; `host` what the module sends its requests through (see [`Host`]);
/// `cancel` n8n's cancel signal of the execution (or `undefined`).
///
/// Resolves with `{ ok: outcomes }`, one per item in input order — `{ ok: object }` (with
/// `attempts` when the item's Include Attempt Count is on), `{ ok: [objects] }` (Get Many) or
/// `{ error: failure }` — or, with `stopOnError`, `{ error: failure }` of the item the run fails
/// with (its `itemIndex` set).
#[wasm_bindgen(js_name = executeItems)]
pub fn execute_items(
    items: JsValue,
    credentials: JsValue,
    stop_on_error: bool,
    host: Host,
    cancel: JsValue,
) -> Promise {
    let Some(items) = items
        .dyn_into::<Array>()
        .ok()
        .filter(|items| items.length() <= MAX_ITEMS)
    else {
        let error = Error::invalid_parameter(
            "Items",
            format!("must be a list of at most {MAX_ITEMS} items' parameters"),
        );
        return Promise::resolve(&failure(&error.report(0, None)));
    };
    let raw: Vec<Result<RawItem, Error>> = items.iter().map(|item| decode_item(&item)).collect();
    let credentials = decode_credentials(&credentials);
    let exchange = exchange_of(host, credentials.as_ref().ok(), cancel.dyn_into().ok());
    spawn(async move {
        let secret = exchange.secret();
        match execute(&exchange, credentials, raw, stop_on_error).await {
            Execution::Failed {
                index,
                error,
                attempts,
            } => {
                let mut report = error.report(attempts, secret.as_deref());
                report.item_index = Some(index);
                failure(&report)
            }
            Execution::Items(outcomes) => ok(&outcomes
                .into_iter()
                .map(|outcome| match outcome {
                    ItemOutcome::One { object, attempts } => {
                        if let Some(attempts) = attempts {
                            // A fresh object from JSON.parse: setting a field cannot fail.
                            let _ = Reflect::set(&object, &"attempts".into(), &attempts.into());
                        }
                        ok(&object)
                    }
                    ItemOutcome::Many(objects) => ok(&objects.into_iter().collect::<Array>()),
                    ItemOutcome::Failed { error, attempts } => {
                        failure(&error.report(attempts, secret.as_deref()))
                    }
                    ItemOutcome::NotRun => ok(&Array::new()),
                })
                .collect::<Array>()),
        }
    })
}

/// Version 1's WhatsApp Number dropdown (the `getDevices` load-options method): every device of
/// the account as n8n options (`{ name, value, description }`).
#[wasm_bindgen(js_name = loadDevices)]
pub fn load_devices(credentials: JsValue, host: Host) -> Promise {
    with_credentials(credentials, host, move |exchange, credentials| async move {
        let listed = dropdown(&exchange, &credentials).await;
        listed
            .result
            .map(options_to_js)
            .map_err(|error| (error, listed.attempts))
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
    with_credentials(credentials, host, move |exchange, credentials| async move {
        let searched =
            search_devices(&exchange, &credentials, filter.as_deref(), token.as_deref()).await;
        let page = searched
            .result
            .map_err(|error| (error, searched.attempts))?;
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
/// others). `{ ok: { items, state } }`: the reported devices, each as SparkBot sent it plus
/// `previousSessionStatus`, and the state to remember (absent for a test run; on a failed poll
/// the caller keeps its own).
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
    let parameters = read_trigger_parameters(&event, &filters);
    // A state that cannot be read is no state: the poll sets a new baseline.
    let state = to_json(&state)
        .ok()
        .filter(|_| !starts_afresh(activation.as_deref()));
    with_credentials(credentials, host, move |exchange, credentials| async move {
        let watch = parameters.map_err(|error| (error, 0))?;
        let polled = poll_account(&exchange, &credentials, state.as_ref(), &watch, manual).await;
        let fired = polled.result.map_err(|error| (error, polled.attempts))?;
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
            let state =
                js::parse(&text).map_err(|problem| (Error::InvalidResponse { problem }, 0))?;
            let _ = Reflect::set(&result, &"state".into(), &state);
        }
        Ok(result.into())
    })
}

/// The credential's Test (n8n's `methods.credentialTest`): `{ ok: { status: "OK" | "Error",
/// message } }`, n8n's own shape, with the core's sentences.
#[wasm_bindgen(js_name = testCredential)]
pub fn test_credential(credentials: JsValue, host: Host) -> Promise {
    let credentials = decode_credentials(&credentials);
    let exchange = exchange_of(host, credentials.as_ref().ok(), None);
    spawn(async move {
        let (status, message) = match credential_test(&exchange, credentials).await {
            Ok(message) => ("OK", message),
            Err(message) => ("Error", message),
        };
        let result = Object::new();
        for (key, value) in [("status", status), ("message", message.as_str())] {
            // Defining a property on a fresh plain object cannot fail.
            let _ = Reflect::set(&result, &JsValue::from_str(key), &JsValue::from_str(value));
        }
        ok(&result)
    })
}

// ─── SparkBot Webhook Trigger ─────────────────────────────────────────────────────────────────

/// n8n's `checkExists`: whether the webhook in `stored` (the node's static data) still exists
/// at SparkBot for `url`, n8n's current webhook URL. `{ ok: boolean }`.
#[wasm_bindgen(js_name = webhookExists)]
pub fn webhook_exists(credentials: JsValue, stored: JsValue, url: String, host: Host) -> Promise {
    let stored = Registration::from_static(to_json(&stored).ok().as_ref());
    with_credentials(credentials, host, move |exchange, credentials| async move {
        webhook::exists(&exchange, &credentials, stored.as_ref(), &url)
            .await
            .map(JsValue::from_bool)
            .map_err(|error| (error, 0))
    })
}

/// n8n's `create`: registers a webhook for `url` whose deliveries are signed with a secret made
/// from `random` (32 bytes of the runtime's cryptographic generator); the webhook in `stored`
/// and any other one for `url` are deleted first. `{ ok: registration }` to keep in static
/// data (`{ webhookId, url, secret }`).
#[wasm_bindgen(js_name = webhookCreate)]
pub fn webhook_create(
    credentials: JsValue,
    stored: JsValue,
    url: String,
    random: Vec<u8>,
    host: Host,
) -> Promise {
    let stored = Registration::from_static(to_json(&stored).ok().as_ref());
    with_credentials(credentials, host, move |exchange, credentials| async move {
        let registration =
            webhook::register(&exchange, &credentials, stored.as_ref(), &url, &random)
                .await
                .map_err(|error| (error, 0))?;
        Ok(js::from_json(&registration.to_static()))
    })
}

/// n8n's `delete`: deletes the webhook in `stored`, if any. `{ ok: true }`.
#[wasm_bindgen(js_name = webhookDelete)]
pub fn webhook_delete(credentials: JsValue, stored: JsValue, host: Host) -> Promise {
    let stored = Registration::from_static(to_json(&stored).ok().as_ref());
    with_credentials(credentials, host, move |exchange, credentials| async move {
        if let Some(stored) = stored {
            webhook::unregister(&exchange, &credentials, &stored)
                .await
                .map_err(|error| (error, 0))?;
        }
        Ok(JsValue::TRUE)
    })
}

thread_local! {
    /// What this process remembers of each trigger node's deliveries (`key`: workflow, node and
    /// mode), besides its static data: two deliveries handled at the same moment load the same
    /// static data, and the one saved last would otherwise forget the other.
    static RECENT: RefCell<webhook::Recent> = const { RefCell::new(webhook::Recent::new()) };
}

/// One delivery to SparkBot Webhook Trigger, checked by the core before anything runs. `key`
/// names the trigger node in this process (workflow, node, mode); `credentials` reads the node's
/// credential (a function returning a promise), called only for a delivery that runs — SparkBot
/// delivers every number's changes, and one the node does not watch, a forged one or a
/// duplicate must cost n8n nothing, not even a read of its database; `stored` and `memory` are
/// its static data; `timestamp` and `signature` the `X-SparkBot-Timestamp` and
/// `X-SparkBot-Signature` headers; `body` the raw body, exactly as received; `event` and
/// `filters` the node's parameters; `now_ms` the clock.
///
/// `{ ok: { status, item?, memory? } }`: `401` for a delivery that is not signed with the
/// secret or whose timestamp is more than 5 minutes away (nothing runs), `400` for a signed body
/// that is not a delivery, `200` otherwise — with `item` (the device as `GET /devices/{id}`
/// shows it, its session as delivered, `previousSessionStatus`) when the workflow is to run, and
/// the `memory` to keep. `{ error }` only for parameters that are wrong: a credential that
/// cannot be read (a database that does not answer in time) is a device read that failed — the
/// item comes from the delivery — never a failure of the webhook, which n8n would record as a
/// failed execution.
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
    let registration = Registration::from_static(to_json(&stored).ok().as_ref());
    let remembered = Memory::from_static(to_json(&memory).ok().as_ref());
    let parameters = read_trigger_parameters(&event, &filters);
    // The runtime's JSON.parse reads the body (serde_json's parser would add tens of KB).
    let parsed = std::str::from_utf8(&body)
        .ok()
        .and_then(|text| js::parse(text).ok())
        .and_then(|value| to_json(&value).ok());
    spawn(async move {
        let watch = match parameters {
            Ok(watch) => watch,
            Err(error) => return failure(&error.report(0, None)),
        };
        let headers = DeliveryHeaders {
            timestamp: timestamp.as_deref(),
            signature: signature.as_deref(),
        };
        let now_secs = (now_ms / 1000.0).floor() as i64;
        let received = RECENT.with(|recent| {
            // Nothing else borrows it (the call is synchronous); were it borrowed, this
            // delivery would be decided on its static data alone, never with a panic.
            let mut spare = webhook::Recent::new();
            let mut borrowed = recent.try_borrow_mut();
            webhook::receive(
                borrowed.as_deref_mut().unwrap_or(&mut spare),
                &key,
                registration.as_ref(),
                remembered,
                headers,
                &body,
                parsed.as_ref(),
                &watch,
                now_secs,
            )
        });
        let result = Object::new();
        let _ = Reflect::set(&result, &"status".into(), &received.status().into());
        if let Received::Checked { memory, run } = received {
            let _ = Reflect::set(
                &result,
                &"memory".into(),
                &js::from_json(&memory.to_static()),
            );
            if let Some(delivery) = run {
                let credentials = read_credential(&credentials).await;
                let exchange = exchange_of(host, credentials.as_ref(), None);
                let item = reported_device(&exchange, credentials.as_ref(), &delivery).await;
                let _ = Reflect::set(&result, &"item".into(), &item);
            }
        }
        ok(&result)
    })
}

/// The credential `read` resolves with, when it does and is one.
async fn read_credential(read: &js_sys::Function) -> Option<Credentials> {
    let pending = read.call0(&JsValue::NULL).ok()?;
    let credentials = JsFuture::from(Promise::resolve(&pending)).await.ok()?;
    decode_credentials(&credentials).ok()
}

/// The device a delivery reports: as `GET /devices/{id}` shows it (or, when that read fails or
/// there is no credential, the delivery's `{ id, alias, phone }`), with the session's status and
/// time from the delivery and `previousSessionStatus`.
async fn reported_device(
    exchange: &HostExchange,
    credentials: Option<&Credentials>,
    delivery: &Delivery,
) -> JsValue {
    let read = match credentials {
        Some(credentials) => webhook::read_device(exchange, credentials, delivery).await,
        None => None,
    };
    let device = read.unwrap_or_else(|| js::from_json(&Value::Object(delivery.device.clone())));
    let session = Reflect::get(&device, &"session".into())
        .ok()
        .filter(|session| js::json_type(session) == sparkbot_core::json::JsonType::Object)
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

// ─── conversions ──────────────────────────────────────────────────────────────────────────────

/// Runs `call` with the credential read from `credentials` and an exchange through `host`;
/// resolves with `{ ok }` or the failure (a credential that cannot be read fails at once).
fn with_credentials<F, Fut>(credentials: JsValue, host: Host, call: F) -> Promise
where
    F: FnOnce(HostExchange, Credentials) -> Fut + 'static,
    Fut: Future<Output = Result<JsValue, (Error, u32)>> + 'static,
{
    let credentials = decode_credentials(&credentials);
    spawn(async move {
        let credentials = match credentials {
            Ok(credentials) => credentials,
            Err(error) => return failure(&error.report(0, None)),
        };
        let secret = credentials.api_key.expose().to_string();
        let exchange = exchange_of(host, Some(&credentials), None);
        match call(exchange, credentials).await {
            Ok(value) => ok(&value),
            Err((error, attempts)) => failure(&error.report(attempts, Some(&secret))),
        }
    })
}

/// The exchange the core sends through: the host, the key it sends (none when the credential
/// could not be read: then nothing is sent) and n8n's cancel signal.
fn exchange_of(
    host: Host,
    credentials: Option<&Credentials>,
    cancel: Option<AbortSignal>,
) -> HostExchange {
    HostExchange {
        host,
        api_key: credentials.map(|c| c.api_key.clone()).unwrap_or_default(),
        cancel,
    }
}

/// Runs a call of the core as a JS promise that resolves with its result. Every export goes
/// through this one function, so the module holds one instance of the future-to-promise
/// machinery, not one per export.
fn spawn(call: impl Future<Output = JsValue> + 'static) -> Promise {
    let call: Pin<Box<dyn Future<Output = Result<JsValue, JsValue>>>> =
        Box::pin(async move { Ok(call.await) });
    future_to_promise(call)
}

/// `{ ok: value }`.
fn ok(value: &JsValue) -> JsValue {
    let result = Object::new();
    // Defining a property on a fresh plain object cannot fail.
    let _ = Reflect::set(&result, &"ok".into(), value);
    result.into()
}

/// `{ error: { code, kind, message, description, httpCode, attempts, itemIndex? } }`.
fn failure(report: &Report) -> JsValue {
    let error = Object::new();
    let http_code = report.http_code.map_or(JsValue::NULL, JsValue::from);
    for (key, value) in [
        ("code", JsValue::from_str(report.code)),
        ("kind", JsValue::from_str(report.kind.as_str())),
        ("message", JsValue::from_str(&report.message)),
        ("description", JsValue::from_str(&report.description)),
        ("httpCode", http_code),
        ("attempts", JsValue::from(report.attempts)),
    ] {
        // Defining a property on a fresh plain object cannot fail.
        let _ = Reflect::set(&error, &JsValue::from_str(key), &value);
    }
    if let Some(index) = report.item_index {
        let _ = Reflect::set(&error, &"itemIndex".into(), &JsValue::from(index as u32));
    }
    let result = Object::new();
    let _ = Reflect::set(&result, &"error".into(), &error);
    result.into()
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

/// One item's parameters, or n8n's error for an item it could not resolve
/// (`{ unresolved: { message, description } }`).
fn decode_item(item: &JsValue) -> Result<RawItem, Error> {
    if !item.is_object() {
        return Err(Error::invalid_parameter(
            "Parameters",
            "could not be read for this item",
        ));
    }
    if let Ok(Some(unresolved)) = field(item, "unresolved") {
        let text = |name: &str| unresolved.get(name)?.as_str().map(str::to_string);
        return Err(Error::Unresolved {
            message: text("message").unwrap_or_else(|| "n8n could not resolve a parameter".into()),
            description: text("description"),
        });
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

/// A trigger's Event and Filters parameters.
fn read_trigger_parameters(event: &JsValue, filters: &JsValue) -> Result<Watch, Error> {
    let read = |value: &JsValue, name: &str| {
        to_json(value).map_err(|problem| Error::invalid_parameter(name, problem))
    };
    let (event, filters) = (read(event, EVENT.display_name)?, read(filters, "Filters")?);
    Watch::parse(Some(&event), Some(&filters))
}
