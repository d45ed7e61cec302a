//! The wasm boundary: every `#[wasm_bindgen]` export of the crate.
//!
//! Each export does the same three steps — decode the JS values, call the core (and the
//! transport), encode the result — and turns every [`Error`] into a JS `Error` in exactly one
//! function, `to_js_error`, which also removes the API key from everything it lets through.

use js_sys::{Array, Object, Reflect};
use serde_json::Value;
use wasm_bindgen::prelude::*;

use crate::batch::{run_batch, send_with_retries, BatchSettings, Exchange, Pause};
use crate::credentials::{Credentials, RawCredentials};
use crate::devices::{is_last_page, DeviceCollector, DeviceOption, MAX_DEVICE_PAGES};
use crate::error::{redact, Error, ErrorKind};
use crate::js::to_json;
use crate::plan::{parse_concurrency, plan_device_page, plan_item, RawItem, DEVICE_FIELD};
use crate::response::interpret_device_page;
use crate::transport::FetchExchange;

/// Runs the reboot or reset of every item of a node execution, in one call.
///
/// `items` holds each item's parameters as read with `getNodeParameter` (`{ resource,
/// operation, device, options }`), `credentials` is `{ apiKey, baseUrl }`. Resolves to one entry
/// per item, in input order: the response object, unchanged; or an `Error` carrying `code`,
/// `kind` (`"operation"` or `"api"`), `httpCode` and `description`; or `undefined` for an item
/// that was not run because `stopOnError` was set and an earlier item failed. Every item is
/// planned (validated) before anything is sent; the first item's Concurrency option sets how
/// many requests are in flight at once.
#[wasm_bindgen(js_name = executeItems)]
pub async fn execute_items(items: Array, credentials: JsValue, stop_on_error: bool) -> Array {
    let credentials = match decode_credentials(&credentials) {
        Ok(credentials) => credentials,
        Err(error) => return items.iter().map(|_| to_js_error(&error, None)).collect(),
    };
    let secret = Some(credentials.api_key.expose());
    let raw: Vec<Result<RawItem, Error>> = items.iter().map(|item| decode_item(&item)).collect();
    let first_options = raw
        .first()
        .and_then(|item| item.as_ref().ok()?.options.as_ref());
    let concurrency = match parse_concurrency(first_options) {
        Ok(concurrency) => concurrency,
        Err(error) => return items.iter().map(|_| to_js_error(&error, secret)).collect(),
    };
    let plans = raw
        .into_iter()
        .map(|item| plan_item(&item?, &credentials))
        .collect();
    let settings = BatchSettings {
        concurrency,
        stop_on_error,
    };
    let exchange = FetchExchange {
        api_key: &credentials.api_key,
    };
    run_batch(&exchange, plans, settings)
        .await
        .into_iter()
        .map(|result| match result {
            None => JsValue::UNDEFINED,
            Some(Ok(object)) => object,
            Some(Err(error)) => to_js_error(&error, secret),
        })
        .collect()
}

/// Lists every device of the account (all pages) as n8n dropdown options
/// (`{ name, value, description }`), for the `getDevices` load-options method.
#[wasm_bindgen(js_name = loadDevices)]
pub async fn load_devices(credentials: JsValue) -> Result<JsValue, JsValue> {
    let credentials = decode_credentials(&credentials).map_err(|e| to_js_error(&e, None))?;
    let secret = Some(credentials.api_key.expose());
    let run = async {
        let fetch = FetchExchange {
            api_key: &credentials.api_key,
        };
        let pause = Pause::default();
        let mut collector = DeviceCollector::default();
        for page in 0..MAX_DEVICE_PAGES {
            let plan = plan_device_page(page, &credentials);
            let outcome = send_with_retries(&fetch, &plan, &pause).await;
            let devices = interpret_device_page(&plan.context, outcome, &|text| fetch.parse(text))?;
            collector.add_page(&devices);
            if is_last_page(devices.len()) {
                break;
            }
        }
        Ok(options_to_js(collector.into_options()))
    };
    run.await.map_err(|e| to_js_error(&e, secret))
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
    let read = |name, display_name: &str| {
        field(item, name).map_err(|problem| Error::invalid_parameter(display_name, problem))
    };
    Ok(RawItem {
        resource: read("resource", "Resource")?,
        operation: read("operation", "Operation")?,
        device: read("device", DEVICE_FIELD)?,
        options: read("options", "Options")?,
    })
}

fn decode_credentials(credentials: &JsValue) -> Result<Credentials, Error> {
    let read = |name, display_name| {
        field(credentials, name).map_err(|problem| Error::InvalidCredential {
            field: display_name,
            problem,
        })
    };
    Credentials::validate(&RawCredentials {
        api_key: read("apiKey", "API Key")?,
        base_url: read("baseUrl", "Base URL")?,
    })
}

/// The one conversion of an [`Error`] into a JS `Error`: `message`, `description`, `code`,
/// `kind` and `httpCode`, with the API key removed from every string.
fn to_js_error(error: &Error, secret: Option<&str>) -> JsValue {
    let clean = |text: String| match secret {
        Some(secret) => redact(&text, secret),
        None => text,
    };
    let js_error = js_sys::Error::new(&clean(error.message()));
    let kind = match error.kind() {
        ErrorKind::Operation => "operation",
        ErrorKind::Api => "api",
    };
    let http_code = error.http_code().map_or(JsValue::NULL, JsValue::from);
    for (key, value) in [
        ("code", JsValue::from_str(error.code())),
        ("kind", JsValue::from_str(kind)),
        ("httpCode", http_code),
        (
            "description",
            JsValue::from_str(&clean(error.description())),
        ),
    ] {
        // Setting a property on a fresh Error object cannot fail.
        let _ = Reflect::set(&js_error, &JsValue::from_str(key), &value);
    }
    js_error.into()
}
