//! wasm-bindgen tests, run in Node by `wasm-bindgen-test-runner`: the transport and the wasm
//! exports against the project's SparkBot simulator, whose URL `scripts/test.mjs` passes in
//! `SPARKBOT_SIM_URL` (with the key in `SPARKBOT_SIM_KEY`). Requests go through the package's
//! own host (`hostFor` of the built `shared.js`, `SPARKBOT_SHARED_JS`) over the package tests'
//! stand-in for n8n's `helpers.httpRequest` (`SPARKBOT_TEST_HELPERS`).
#![cfg(target_arch = "wasm32")]
// Test code: failing loudly is the point.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use js_sys::{Array, Reflect};
use serde_json::{json, Value};
use sparkbot_core::credentials::{Credentials, RawCredentials};
use sparkbot_core::exchange::TransportFailure;
use sparkbot_core::io::Io;
use sparkbot_core::plan::{plan_device_page, plan_item_request, RawItem};
use sparkbot_node::boundary::{execute_items as execute, load_devices};
use sparkbot_node::transport::{send, Host, HostExchange};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

#[wasm_bindgen(inline_js = r#"
export function env(name) { return process.env[name] ?? ''; }
export async function packageHost() {
    const { createRequire } = await import('node:module');
    const core = createRequire(process.env.SPARKBOT_SHARED_JS)(process.env.SPARKBOT_SHARED_JS);
    const { httpRequest } = await import(process.env.SPARKBOT_TEST_HELPERS);
    return core.hostFor(httpRequest);
}
"#)]
extern "C" {
    fn env(name: &str) -> String;
    #[wasm_bindgen(js_name = packageHost)]
    fn package_host() -> js_sys::Promise;
}

/// The host the shim hands to every call, over the tests' `httpRequest`.
async fn host() -> Host {
    wasm_bindgen_futures::JsFuture::from(package_host())
        .await
        .expect(
            "SPARKBOT_SHARED_JS and SPARKBOT_TEST_HELPERS name the built shared.js and the helpers",
        )
        .unchecked_into()
}

fn sim_url() -> String {
    let url = env("SPARKBOT_SIM_URL");
    assert!(
        !url.is_empty(),
        "SPARKBOT_SIM_URL is not set: run the wasm tests through `npm test`"
    );
    url
}

fn origin() -> String {
    sim_url().trim_end_matches("/v1").to_string()
}

fn credentials(key: &str, base: &str) -> Credentials {
    Credentials::validate(&RawCredentials {
        api_key: Some(json!(key)),
        base_url: Some(json!(base)),
        ..RawCredentials::default()
    })
    .unwrap()
}

fn sim_credentials() -> Credentials {
    credentials(&env("SPARKBOT_SIM_KEY"), &sim_url())
}

async fn control(method: &str, path: &str, body: Option<Value>) -> Value {
    let builder = gloo_net::http::RequestBuilder::new(&format!("{}{path}", origin()))
        .method(method.parse().unwrap());
    let response = match body {
        Some(body) => builder.json(&body).unwrap().send().await,
        None => builder.send().await,
    }
    .unwrap();
    let text = response.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

async fn first_device_id() -> String {
    let plan = plan_device_page(0, 100, &sim_credentials());
    let reply = send(
        &host().await,
        &plan,
        &sim_credentials().api_key,
        &signal(plan.timeout_ms),
        plan.timeout_ms,
    )
    .await
    .unwrap();
    let devices: Value = serde_json::from_str(&reply.body).unwrap();
    devices[0]["id"].as_str().unwrap().to_string()
}

fn item(operation: &str, device: &str, options: Value) -> RawItem {
    RawItem {
        resource: Some(json!("whatsappSession")),
        operation: Some(json!(operation)),
        device: Some(json!(device)),
        options: Some(options),
        ..RawItem::default()
    }
}

#[wasm_bindgen_test]
async fn transport_sends_the_contract_headers_and_body() {
    control("POST", "/__sim/reset", None).await;
    control("DELETE", "/__sim/requests", None).await;
    let device = first_device_id().await;
    let creds = sim_credentials();
    let plan = plan_item_request(
        &item("reboot", &device, json!({"forceReboot": true})),
        &creds,
    )
    .unwrap();
    let reply = send(
        &host().await,
        &plan,
        &creds.api_key,
        &signal(plan.timeout_ms),
        plan.timeout_ms,
    )
    .await
    .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    let body: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(body["operation"], "reboot");
    assert_eq!(body["id"], device.as_str());

    let requests = control("GET", "/__sim/requests", None).await;
    let post = requests
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["method"] == "POST")
        .expect("the simulator saw the POST");
    assert_eq!(post["path"], format!("/v1/devices/{device}/reboot"));
    assert_eq!(post["headers"]["accept"], "application/json");
    assert_eq!(post["headers"]["content-type"], "application/json");
    assert_eq!(
        post["body"],
        json!({"force": true, "sync": false, "wait": false})
    );
}

#[wasm_bindgen_test]
async fn transport_reports_http_errors_as_replies() {
    let plan = plan_device_page(0, 100, &credentials("wrong-key", &sim_url()));
    let reply = send(
        &host().await,
        &plan,
        &credentials("wrong-key", &sim_url()).api_key,
        &signal(plan.timeout_ms),
        plan.timeout_ms,
    )
    .await
    .unwrap();
    assert_eq!(reply.status, 401);
}

#[wasm_bindgen_test]
async fn transport_gives_up_when_the_budget_runs_out() {
    let device = first_device_id().await;
    control(
        "POST",
        "/__sim/faults",
        Some(json!({"route": "reboot", "deviceId": device, "fault": "hang", "times": 1})),
    )
    .await;
    let creds = sim_credentials();
    let plan =
        plan_item_request(&item("reboot", &device, json!({"timeout": 0.3})), &creds).unwrap();
    match send(
        &host().await,
        &plan,
        &creds.api_key,
        &signal(plan.timeout_ms),
        plan.timeout_ms,
    )
    .await
    {
        Err(TransportFailure::TimedOut { elapsed_ms }) => {
            assert!((250..2_000).contains(&elapsed_ms), "{elapsed_ms} ms")
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    control("DELETE", "/__sim/faults", None).await;
}

#[wasm_bindgen_test]
async fn transport_names_the_cause_of_a_refused_connection() {
    // Port 1 is on fetch's list of bad ports, so use an unprivileged port nobody listens on.
    let creds = credentials("k", "http://127.0.0.1:45999/v1");
    let plan = plan_device_page(0, 100, &creds);
    match send(
        &host().await,
        &plan,
        &creds.api_key,
        &signal(plan.timeout_ms),
        plan.timeout_ms,
    )
    .await
    {
        Err(TransportFailure::Network { code, detail, .. }) => {
            assert_eq!(code.as_deref(), Some("ECONNREFUSED"), "{detail}");
            assert!(detail.contains("127.0.0.1:45999"), "{detail}");
        }
        other => panic!("expected a network failure, got {other:?}"),
    }
}

/// A plain JS object, as n8n hands over (the default serializer would make a `Map`).
fn js(value: Value) -> JsValue {
    use serde::Serialize;
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap()
}

fn sim_credentials_js() -> JsValue {
    js(json!({"apiKey": env("SPARKBOT_SIM_KEY"), "baseUrl": sim_url()}))
}

/// The time budget of a request alone, as `HostExchange` builds it without a cancel signal.
fn signal(ms: u32) -> web_sys::AbortSignal {
    web_sys::AbortSignal::timeout_with_u32(ms)
}

/// An export's result awaited: `Ok(value)` for `{ ok: value }`, `Err(failure)` for
/// `{ error: failure }` (every export resolves with one of the two, never rejects).
async fn settled(promise: js_sys::Promise) -> Result<JsValue, JsValue> {
    let result = wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .expect("the exports never reject");
    let error = prop(&result, "error");
    if error.is_undefined() {
        Ok(prop(&result, "ok"))
    } else {
        Err(error)
    }
}

/// `executeItems` awaited: one entry per item (`{ ok }` or `{ error }`).
async fn execute_items(items: Array, credentials: JsValue, stop_on_error: bool) -> Array {
    let promise = execute(
        items.into(),
        credentials,
        stop_on_error,
        host().await,
        JsValue::UNDEFINED,
    );
    settled(promise).await.unwrap().unchecked_into()
}

fn prop(error: &JsValue, name: &str) -> JsValue {
    Reflect::get(error, &JsValue::from_str(name)).unwrap()
}

/// `executeItems` with one item: the response object, or its failure.
async fn execute_item(item: JsValue, credentials: JsValue) -> Result<JsValue, JsValue> {
    let results = execute_items(Array::of1(&item), credentials, false).await;
    assert_eq!(results.length(), 1);
    let result = results.get(0);
    let error = prop(&result, "error");
    if error.is_undefined() {
        Ok(prop(&result, "ok"))
    } else {
        Err(error)
    }
}

#[wasm_bindgen_test]
async fn execute_item_resolves_to_the_response_object() {
    control("POST", "/__sim/reset", None).await;
    let device = first_device_id().await;
    let result = execute_item(
        js(
            json!({"resource": "whatsappSession", "operation": "reset", "device": device,
                  "options": {"waitForSession": true}}),
        ),
        sim_credentials_js(),
    )
    .await
    .unwrap();
    let result: Value = serde_wasm_bindgen::from_value(result).unwrap();
    assert_eq!(result["operation"], "reset");
    assert_eq!(result["waited"], true);
}

#[wasm_bindgen_test]
async fn execute_item_fails_with_a_coded_failure_and_never_the_key() {
    let secret = "wasm-test-secret-key";
    let error = execute_item(
        js(json!({"operation": "reboot", "device": "aaaaaaaaaaaaaaaaaaaaaaaa"})),
        js(json!({"apiKey": secret, "baseUrl": sim_url()})),
    )
    .await
    .unwrap_err();
    assert_eq!(prop(&error, "code"), "SPARKBOT_UNAUTHORIZED");
    assert_eq!(prop(&error, "kind"), "api");
    assert_eq!(prop(&error, "httpCode"), 401);
    let message = prop(&error, "message").as_string().unwrap();
    assert!(message.contains("API key"), "{message}");
    assert!(!message.contains(secret));

    let error = execute_item(
        js(json!({"operation": "reboot", "device": "x/../y"})),
        sim_credentials_js(),
    )
    .await
    .unwrap_err();
    assert_eq!(prop(&error, "code"), "SPARKBOT_INVALID_PARAMETER");
    assert_eq!(prop(&error, "kind"), "operation");
    assert!(prop(&error, "httpCode").is_null());
}

#[wasm_bindgen_test]
async fn execute_item_survives_any_js_input() {
    let inputs = [
        JsValue::UNDEFINED,
        JsValue::NULL,
        JsValue::from(42),
        JsValue::from_str("reboot"),
        Array::new().into(),
        js(json!({"operation": {"deep": [1, 2, {"x": null}]}, "device": [], "options": 7})),
    ];
    for input in inputs {
        let error = execute_item(input, sim_credentials_js()).await.unwrap_err();
        assert_eq!(prop(&error, "code"), "SPARKBOT_INVALID_PARAMETER");
    }
    for credentials in [JsValue::UNDEFINED, JsValue::NULL, js(json!({"apiKey": 5}))] {
        let error = execute_item(JsValue::UNDEFINED, credentials)
            .await
            .unwrap_err();
        assert_eq!(prop(&error, "code"), "SPARKBOT_INVALID_CREDENTIAL");
    }
}

#[wasm_bindgen_test]
async fn load_devices_lists_every_device_as_options() {
    let options = settled(load_devices(sim_credentials_js(), host().await))
        .await
        .unwrap();
    let options: Vec<Value> = serde_wasm_bindgen::from_value(options).unwrap();
    assert!(!options.is_empty());
    for option in &options {
        assert_eq!(option["value"].as_str().unwrap().len(), 24);
        assert!(option["name"].as_str().is_some_and(|n| !n.is_empty()));
        assert!(option["description"]
            .as_str()
            .unwrap()
            .starts_with("Session: "));
    }
}

#[wasm_bindgen_test]
async fn execute_items_answers_per_item_in_order_and_stops_after_a_failure() {
    control("POST", "/__sim/reset", None).await;
    let device = first_device_id().await;
    let reboot = |device: &str, concurrency: u32| {
        js(
            json!({"resource": "whatsappSession", "operation": "reboot", "device": device,
                  "options": {"concurrency": concurrency}}),
        )
    };
    let unknown = "ffffffffffffffffffffffff";
    let results = execute_items(
        Array::of3(
            &reboot(&device, 3),
            &reboot(unknown, 3),
            &reboot(&device, 3),
        ),
        sim_credentials_js(),
        false,
    )
    .await;
    assert_eq!(results.length(), 3);
    assert_eq!(prop(&prop(&results.get(0), "ok"), "id"), device.as_str());
    assert_eq!(
        prop(&prop(&results.get(1), "error"), "code"),
        "SPARKBOT_DEVICE_NOT_FOUND"
    );
    // The first reboot may still be in progress: a reboot or a 409, never a missing entry.
    assert!(!results.get(2).is_undefined());

    // Without continue-on-fail it is the first failed item's failure, naming it.
    control("POST", "/__sim/reset", None).await;
    let promise = execute(
        Array::of3(
            &reboot(&device, 1),
            &reboot(unknown, 1),
            &reboot(&device, 1),
        )
        .into(),
        sim_credentials_js(),
        true,
        host().await,
        JsValue::UNDEFINED,
    );
    let error = settled(promise).await.unwrap_err();
    assert_eq!(prop(&error, "code"), "SPARKBOT_DEVICE_NOT_FOUND");
    assert_eq!(prop(&error, "itemIndex"), 1);
    let sent = control("GET", "/__sim/requests", None).await;
    let reboots = sent
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["method"] == "POST")
        .count();
    assert_eq!(reboots, 2, "nothing sent after the failure");
}

#[wasm_bindgen_test]
async fn host_exchange_sleeps_without_timer_globals() {
    // The sleep is the host's pause (AbortSignal.timeout with an open MessageChannel port: the
    // package may not use timer globals); a request the simulator holds for 400 ms runs meanwhile.
    control(
        "POST",
        "/__sim/faults",
        Some(json!({"route": "list", "fault": "delay", "delayMs": 400, "times": 1})),
    )
    .await;
    wasm_bindgen_futures::spawn_local(async {
        let creds = sim_credentials();
        let plan = plan_device_page(0, 100, &creds);
        let reply = send(
            &host().await,
            &plan,
            &creds.api_key,
            &signal(plan.timeout_ms),
            plan.timeout_ms,
        )
        .await;
        assert_eq!(reply.map(|r| r.status).ok(), Some(200));
    });
    let creds = sim_credentials();
    let exchange = HostExchange {
        host: host().await,
        api_key: creds.api_key.clone(),
        cancel: None,
    };
    let started = exchange.now_ms();
    exchange.sleep(120).await;
    let slept = exchange.now_ms() - started;
    assert!((110.0..390.0).contains(&slept), "slept {slept} ms");
    let r = exchange.random();
    assert!((0.0..1.0).contains(&r));
}
