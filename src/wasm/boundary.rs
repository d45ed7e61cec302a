//! The wasm boundary: every `#[wasm_bindgen]` export of the crate.
//!
//! Each export does the same three steps — decode the JS values, call the core (and the
//! transport), encode the result — and turns every [`Error`] into a JS `Error` in exactly one
//! function, `to_js_error`, which also removes the API key from everything it lets through.

use js_sys::{Array, Object, Promise, Reflect};
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::future_to_promise;
use web_sys::AbortSignal;

use crate::core::batch::{run_batch, send_with_retries, BatchSettings, ItemResult, Pause};
use crate::core::credentials::{Credentials, RawCredentials};
use crate::core::devices::{is_last_page, DeviceCollector, DeviceOption, MAX_DEVICE_PAGES};
use crate::core::error::{Error, ErrorKind};
use crate::core::json::JsonReader;
use crate::core::plan::{
    parse_concurrency, plan_device_page, plan_item, RawItem, RequestPlan, DEVICE_FIELD,
};
use crate::core::status::interpret_device_page;
use crate::core::text::redact;
use crate::wasm::js::to_json;
use crate::wasm::transport::FetchExchange;

/// Most items one execution may hand over; more would only exhaust the module's memory.
pub const MAX_ITEMS: u32 = 100_000;

/// Runs the reboot or reset of every item of a node execution, in one call.
///
/// `items` holds each item's parameters as read with `getNodeParameter` (`{ resource,
/// operation, device, options }`), `credentials` is `{ apiKey, baseUrl, allowInsecureHttp }`,
/// `cancel` n8n's cancel signal of the execution (or `undefined`). Returns a promise of one entry
/// per item, in input order: the response object, unchanged (with `attempts` when the item's
/// Include Attempt Count option is on); or an `Error` carrying `code`, `kind` (`"operation"` or
/// `"api"`), `httpCode`, `description` and `attempts`; or `undefined` for an item that was not run
/// because `stopOnError` was set and an earlier item failed. Every item is read and planned
/// (validated) at once, before anything is sent; the first item's Concurrency option sets how
/// many requests are in flight at once. Throws only when `items` is not a list of at most
/// [`MAX_ITEMS`].
#[wasm_bindgen(js_name = executeItems)]
pub fn execute_items(
    items: JsValue,
    credentials: JsValue,
    stop_on_error: bool,
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
    let plans: Vec<Result<RequestPlan, Error>> = raw
        .into_iter()
        .map(|item| plan_item(&item?, &credentials))
        .collect();
    let settings = BatchSettings {
        concurrency,
        stop_on_error,
    };
    let exchange = FetchExchange {
        api_key: credentials.api_key,
        cancel: cancel.dyn_into::<AbortSignal>().ok(),
    };
    Ok(future_to_promise(async move {
        let secret = Some(exchange.api_key.expose());
        let reports: Vec<bool> = plans
            .iter()
            .map(|plan| plan.as_ref().is_ok_and(|plan| plan.report_attempts))
            .collect();
        let results = run_batch(&exchange, plans, settings).await;
        Ok(results
            .into_iter()
            .zip(reports)
            .map(|(item, report)| match item {
                None => JsValue::UNDEFINED,
                Some(ItemResult {
                    result: Ok(object),
                    attempts,
                }) => {
                    if report {
                        // The output is a fresh object from JSON.parse: setting a field cannot fail.
                        let _ = Reflect::set(&object, &"attempts".into(), &attempts.into());
                    }
                    object
                }
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
pub async fn load_devices(credentials: JsValue) -> Result<JsValue, JsValue> {
    let credentials = decode_credentials(&credentials).map_err(|e| to_js_error(&e, None, 0))?;
    let fetch = FetchExchange {
        api_key: credentials.api_key.clone(),
        cancel: None,
    };
    let secret = Some(credentials.api_key.expose());
    let mut attempts = 0;
    let run = async {
        let pause = Pause::default();
        let mut collector = DeviceCollector::default();
        for page in 0..MAX_DEVICE_PAGES {
            let plan = plan_device_page(page, &credentials);
            let sent = send_with_retries(&fetch, &plan, &pause).await;
            attempts = sent.attempts;
            let devices =
                interpret_device_page(&plan.context, sent.outcome, &|text| fetch.parse(text))?;
            collector.add_page(&devices);
            if is_last_page(devices.len()) {
                break;
            }
        }
        Ok(options_to_js(collector.into_options()))
    };
    let result = run.await;
    result.map_err(|e| to_js_error(&e, secret, attempts))
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
        allow_insecure_http: read("allowInsecureHttp", "Allow Insecure HTTP")?,
    })
}

/// The one conversion of an [`Error`] into a JS `Error`: `message`, `description`, `code`,
/// `kind`, `httpCode` and `attempts` (requests made), with the API key removed from every
/// string. The message says how many attempts were made when there were several; the
/// description always does once a request was made.
fn to_js_error(error: &Error, secret: Option<&str>, attempts: u32) -> JsValue {
    let clean = |text: String| match secret {
        Some(secret) => redact(&text, secret),
        None => text,
    };
    let mut message = error.message();
    let mut description = error.description();
    if attempts > 1 {
        message.push_str(&format!(" (after {attempts} attempts)"));
    }
    if attempts > 0 {
        let plural = if attempts == 1 { "" } else { "s" };
        description.push_str(&format!(" {attempts} request{plural} made."));
    }
    let js_error = js_sys::Error::new(&clean(message));
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
        ("description", JsValue::from_str(&clean(description))),
    ] {
        // Setting a property on a fresh Error object cannot fail.
        let _ = Reflect::set(&js_error, &JsValue::from_str(key), &value);
    }
    js_error.into()
}
