//! Property-based fuzzing of the pure core: whatever n8n, an expression or the service hands
//! it — parameter values of any JSON type and size, credentials, status codes, headers, response
//! bodies of any bytes — the core answers with a value or one of its own errors, and never panics
//! (a panic in the wasm build is a trap).
//!
//! `npm test` runs 256 cases per property; `npm run fuzz` runs 20,000 (`PROPTEST_CASES`).
//! proptest keeps every failing input it finds in `tests/core_fuzz.proptest-regressions` and runs
//! those first from then on: the file is committed. Its first entry is the one crash found so far:
//! a backoff computed for attempt 0 underflowed (`attempt - 1`), fixed in `retry_delay_ms`.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::expect_used)]

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use sparkbot_core::credentials::{Credentials, RawCredentials};
use sparkbot_core::exchange::{HttpReply, TransportFailure};
use sparkbot_core::json::{nesting_depth, JsonType, SerdeJson};
use sparkbot_core::operation::Operation;
use sparkbot_core::plan::{
    parse_concurrency, plan_item, ItemPlan, Method, RawItem, RequestContext, Target,
};
use sparkbot_core::qr::NumberNames;
use sparkbot_core::retry::{retry_delay_ms, MAX_ATTEMPTS};
use sparkbot_core::status::{
    expect_object, interpret_action, interpret_device_page, parse_retry_after,
};
use sparkbot_core::text::{redact, sanitize};

/// Text that looks like what users and services produce: device IDs, near misses, URLs, any
/// Unicode (controls included), and now and then something long.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9a-f]{20,28}".prop_map(|s| s),
        Just("6523a1f0c2d4e5f60718293a".to_string()),
        "(https?|ftp|HTTP)://[a-z0-9.:@\\[\\]/?#%-]{0,40}".prop_map(|s| s),
        Just("reboot".to_string()),
        Just("reset".to_string()),
        Just("whatsappSession".to_string()),
        (0usize..200_000).prop_map(|n| "x".repeat(n)),
    ]
}

/// Any JSON value, nested up to 40 levels (the walker in the wasm build stops at 32).
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(40, 200, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((text(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// An options collection: the real option names with values of any type, plus strangers.
fn options() -> impl Strategy<Value = Value> {
    let name = prop_oneof![
        Just("forceReboot"),
        Just("forceSync"),
        Just("waitForSession"),
        Just("deleteAllData"),
        Just("emptyQueue"),
        Just("timeout"),
        Just("retry"),
        Just("concurrency"),
        Just("includeAttempts"),
        Just("unknown"),
    ];
    prop_oneof![
        json_value(),
        prop::collection::vec((name, json_value()), 0..6).prop_map(|entries| {
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect(),
            )
        }),
    ]
}

fn maybe(strategy: impl Strategy<Value = Value>) -> impl Strategy<Value = Option<Value>> {
    prop::option::weighted(0.9, strategy)
}

fn credentials() -> Credentials {
    Credentials::validate(&RawCredentials {
        api_key: Some(json!("k-123")),
        base_url: Some(json!("http://127.0.0.1:8787/v1")),
        ..RawCredentials::default()
    })
    .expect("valid credentials")
}

/// An answer as the transport could report it: any status, headers and body bytes.
fn outcome() -> impl Strategy<Value = Result<HttpReply, TransportFailure>> {
    let reply = (
        0u16..1000,
        prop::option::of(text()),
        prop::option::of(text()),
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..300)
                .prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
            json_value().prop_map(|value| value.to_string()),
            text(),
        ],
        any::<u64>(),
    )
        .prop_map(|(status, content_type, retry_after, body, elapsed_ms)| {
            Ok(HttpReply {
                status,
                content_type,
                total_count: retry_after.clone(),
                retry_after,
                body,
                elapsed_ms,
                ..Default::default()
            })
        });
    let failure = prop_oneof![
        any::<u64>().prop_map(|elapsed_ms| TransportFailure::TimedOut { elapsed_ms }),
        (prop::option::of(text()), text(), any::<bool>()).prop_map(
            |(code, detail, during_body)| TransportFailure::Network {
                code,
                detail,
                during_body
            }
        ),
        Just(TransportFailure::Cancelled),
        Just(TransportFailure::TooLarge),
        any::<u64>().prop_map(|left_ms| TransportFailure::Paused { left_ms }),
    ];
    prop_oneof![4 => reply, 1 => failure.prop_map(Err)]
}

fn parse(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| e.to_string())
}

proptest! {
    #[test]
    fn any_parameters_give_a_plan_or_an_error_that_names_a_field(
        resource in maybe(prop_oneof![json_value(), Just(json!("whatsappSession")), Just(json!("whatsappNumber"))]),
        operation in maybe(prop_oneof![json_value(), Just(json!("reboot")), Just(json!("get")), Just(json!("getAll")), Just(json!("getQrCode"))]),
        device in maybe(prop_oneof![
            json_value(),
            (prop_oneof![Just("list"), Just("id"), Just("phone"), Just("url")], json_value())
                .prop_map(|(mode, value)| json!({ "__rl": true, "mode": mode, "value": value })),
        ]),
        options in maybe(options()),
        return_all in maybe(json_value()),
        limit in maybe(json_value()),
        filters in maybe(json_value()),
        binary_property in maybe(prop_oneof![json_value(), text().prop_map(Value::String)]),
    ) {
        let item = RawItem { resource, operation, device, options, return_all, limit, filters, binary_property };
        match plan_item(&item) {
            Ok(ItemPlan::Device { target, request }) => {
                let id = match target {
                    Target::Id(id) => id,
                    Target::Phone(phone) => {
                        prop_assert!(phone.starts_with('+') && phone.len() <= 16, "{phone}");
                        "6523a1f0c2d4e5f60718293a".to_string()
                    }
                };
                let plan = request.plan(&id, NumberNames::default(), &credentials());
                prop_assert!(plan.url.starts_with("http://127.0.0.1:8787/v1/devices/"));
                if let Some(body) = plan.body.as_deref() {
                    let body: Value = serde_json::from_str(body).expect("body is JSON");
                    prop_assert!(body.is_object());
                }
                prop_assert!(plan.timeout_ms >= 1 && plan.timeout_ms <= 300_000);
            }
            Ok(ItemPlan::List(list)) => {
                prop_assert!(list.limit.is_none_or(|limit| limit >= 1));
            }
            Err(error) => {
                let message = error.message();
                let field = message.split(':').next().unwrap_or("");
                prop_assert!(
                    ["Resource", "Operation", "WhatsApp Number", "Options", "Timeout (Seconds)", "Retry Refused Requests", "Include Attempt Count",
                     "Force Reboot", "Force Sync", "Wait For Session", "Delete All Data", "Empty Queue", "Return All", "Limit", "Filters",
                     "Number Status", "Session Status", "Put Output File in Field"].contains(&field),
                    "{message}"
                );
                prop_assert!(message.chars().count() < 400, "{message}");
            }
        }
        let _ = parse_concurrency(item.options.as_ref());
    }

    #[test]
    fn any_credential_is_validated_and_its_key_never_shows(
        key in "[A-Za-z0-9_-]{8,40}",
        base_url in maybe(prop_oneof![text().prop_map(Value::String), json_value()]),
        allow in maybe(json_value()),
        wrap in any::<bool>(),
    ) {
        let api_key = if wrap { format!("  {key}\n") } else { key.clone() };
        let raw = RawCredentials {
            api_key: Some(Value::String(api_key)),
            base_url: base_url.clone(),
            allow_insecure_http: allow,
            ..RawCredentials::default()
        };
        match Credentials::validate(&raw) {
            Ok(valid) => {
                prop_assert_eq!(valid.api_key.expose(), key.as_str());
                prop_assert!(!valid.base_url.as_str().ends_with('/'));
                prop_assert!(!valid.base_url.is_insecure_remote() || raw.allow_insecure_http == Some(Value::Bool(true)));
            }
            Err(error) => {
                let shown = format!("{} {}", error.message(), error.description());
                if !base_url.as_ref().and_then(Value::as_str).is_some_and(|url| url.contains(&key)) {
                    prop_assert!(!shown.contains(&key), "{shown}");
                }
            }
        }
    }

    #[test]
    fn the_allowed_domains_follow_n8ns_rules(
        labels in prop::collection::vec("[ab]{1,2}", 1..4),
        entries in prop::collection::vec(("(\\*\\.)?", prop::collection::vec("[abA]{1,2}", 1..4), "\\.?", " ?"), 0..4),
        port in prop::option::of(1u16..),
    ) {
        let host = labels.join(".");
        let list = entries
            .iter()
            .map(|(star, labels, dot, space)| format!("{space}{star}{}{dot}{space}", labels.join(".")))
            .collect::<Vec<_>>()
            .join(",");
        let authority = match port {
            Some(port) => format!("{host}:{port}"),
            None => host.clone(),
        };
        // The model: n8n's isDomainAllowed, written plainly.
        let model = list.split(',').any(|entry| {
            let entry = entry.trim().to_lowercase();
            let entry = entry.strip_suffix('.').unwrap_or(&entry);
            match entry.strip_prefix("*.") {
                Some(suffix) => !suffix.is_empty() && host.ends_with(&format!(".{suffix}")),
                None => !entry.is_empty() && host == entry,
            }
        });
        let raw = RawCredentials {
            api_key: Some(json!("k")),
            base_url: Some(json!(format!("https://{authority}/v1"))),
            allowed_http_request_domains: Some(json!("domains")),
            allowed_domains: Some(json!(list)),
            ..RawCredentials::default()
        };
        let outcome = Credentials::validate(&raw);
        prop_assert_eq!(outcome.is_ok(), model, "{} against {:?}", authority, list);
        if let Err(error) = outcome {
            prop_assert_eq!(error.code(), "SPARKBOT_DOMAIN_NOT_ALLOWED");
        }
    }

    #[test]
    fn any_answer_gives_the_object_or_an_error(outcome in outcome(), wait in any::<bool>()) {
        let context = RequestContext {
            host: "127.0.0.1:8787".into(),
            device: Some("6523a1f0c2d4e5f60718293a".into()),
            operation: Some(Operation::Reboot),
            wait,
            custom_timeout: false,
            timeout_ms: 30_000,
        };
        let success = matches!(&outcome, Ok(reply) if (200..300).contains(&reply.status));
        let result = interpret_action(&context, outcome.clone(), &parse).and_then(|body| {
            let parsed = parse(&body).map(|value| (JsonType::of(&value), value));
            expect_object(parsed, &body)
        });
        match result {
            Ok(object) => prop_assert!(success && object.is_object()),
            Err(error) => {
                prop_assert!(error.code().starts_with("SPARKBOT_"));
                prop_assert!(!error.message().is_empty() && !error.message().contains('\n'));
            }
        }
        let list = RequestContext { device: None, ..context };
        if let Ok(page) = interpret_device_page(&list, outcome, &SerdeJson) {
            prop_assert!(success, "a device list only from a 2xx: {:?}", page.devices);
        }
    }

    #[test]
    fn nesting_is_measured_without_parsing(value in json_value(), noise in any::<String>()) {
        fn depth(value: &Value) -> usize {
            match value {
                Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
                Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
                _ => 0,
            }
        }
        prop_assert_eq!(nesting_depth(&value.to_string()), depth(&value));
        let _ = nesting_depth(&noise);
    }

    #[test]
    fn retry_decisions_are_bounded(
        outcome in outcome(),
        attempt in 0u32..10,
        jitter in any::<f64>(),
        get in any::<bool>(),
        header in any::<String>(),
    ) {
        let method = if get { Method::Get } else { Method::Post };
        if let Some(delay) = retry_delay_ms(method, &outcome, attempt, jitter) {
            prop_assert!(attempt < MAX_ATTEMPTS);
            prop_assert!(delay <= 3_600_000, "{delay}");
        }
        if let Some(secs) = parse_retry_after(&header) {
            prop_assert!(secs <= 3_600);
        }
    }

    #[test]
    fn shown_text_is_clean_and_never_holds_the_secret(
        text in any::<String>(),
        secret in "[A-Za-z0-9_-]{1,20}",
        max in 0usize..400,
    ) {
        let clean = sanitize(&text, max);
        prop_assert!(clean.chars().count() <= max + 1);
        prop_assert!(!clean.chars().any(char::is_control));
        let with_secret = format!("{text}{secret}{text}");
        prop_assert!(!redact(&with_secret, &secret).contains(&secret));
    }
}
