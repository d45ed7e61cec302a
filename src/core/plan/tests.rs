//! The planner's tests: every parameter, valid and not.

use super::*;
use crate::fake::credentials as creds;
use serde_json::json;

const ID: &str = "6523a1f0c2d4e5f60718293a";

fn item(operation: &str, device: &str, options: Value) -> RawItem {
    RawItem {
        resource: Some(json!(SESSION_RESOURCE)),
        operation: Some(json!(operation)),
        device: Some(json!(device)),
        options: Some(options),
        ..RawItem::default()
    }
}

fn plan(operation: &str, options: Value) -> RequestPlan {
    plan_item_request(
        &item(operation, ID, options),
        &creds("http://127.0.0.1:1/v1/"),
    )
    .unwrap()
}

fn body(plan: &RequestPlan) -> Value {
    serde_json::from_str(plan.body.as_deref().unwrap()).unwrap()
}

#[test]
fn methods_go_on_the_wire_by_their_names() {
    assert_eq!(Method::Get.as_str(), "GET");
    assert_eq!(Method::Post.as_str(), "POST");
}

#[test]
fn reboot_maps_every_option_combination() {
    for bits in 0..8u8 {
        let (force, sync, wait) = (bits & 1 != 0, bits & 2 != 0, bits & 4 != 0);
        let p = plan(
            "reboot",
            json!({"forceReboot": force, "forceSync": sync, "waitForSession": wait}),
        );
        assert_eq!(p.method, Method::Post);
        assert_eq!(p.url, format!("http://127.0.0.1:1/v1/devices/{ID}/reboot"));
        assert_eq!(
            body(&p),
            json!({"force": force, "sync": sync, "wait": wait})
        );
        assert_eq!(p.timeout_ms, if wait { 105_000 } else { 30_000 });
    }
}

#[test]
fn reset_maps_every_option_combination() {
    for bits in 0..8u8 {
        let (delete, empty, wait) = (bits & 1 != 0, bits & 2 != 0, bits & 4 != 0);
        let p = plan(
            "reset",
            json!({"deleteAllData": delete, "emptyQueue": empty, "waitForSession": wait}),
        );
        assert_eq!(p.url, format!("http://127.0.0.1:1/v1/devices/{ID}/reset"));
        assert_eq!(
            body(&p),
            json!({"deleteAllData": delete, "emptyQueue": empty, "wait": wait})
        );
        assert_eq!(p.timeout_ms, if wait { 135_000 } else { 30_000 });
    }
}

#[test]
fn absent_options_are_false() {
    let p = plan_item_request(
        &RawItem {
            operation: Some(json!("reboot")),
            device: Some(json!(ID)),
            ..RawItem::default()
        },
        &creds(""),
    )
    .unwrap();
    assert_eq!(
        p.url,
        format!("https://api.sparkbot.io/v1/devices/{ID}/reboot")
    );
    assert_eq!(
        body(&p),
        json!({"force": false, "sync": false, "wait": false})
    );
}

#[test]
fn options_of_the_other_operation_are_ignored() {
    let p = plan("reset", json!({"forceReboot": true}));
    assert_eq!(
        body(&p),
        json!({"deleteAllData": false, "emptyQueue": false, "wait": false})
    );
}

#[test]
fn timeout_overrides_the_automatic_budget() {
    assert_eq!(plan("reboot", json!({"timeout": 2.5})).timeout_ms, 2_500);
    assert!(plan("reboot", json!({"timeout": 2})).context.custom_timeout);
    let p = plan("reset", json!({"timeout": 0, "waitForSession": true}));
    assert_eq!(p.timeout_ms, 135_000);
    assert!(!p.context.custom_timeout);
}

fn error(raw: RawItem) -> String {
    let err = plan_item_request(&raw, &creds("")).unwrap_err();
    assert_eq!(err.kind(), crate::error::ErrorKind::Operation);
    err.message()
}

#[test]
fn bad_device_ids_are_refused_naming_the_field_and_value() {
    let long = "a".repeat(10_000);
    for bad in [
        "",
        "6523a1f0c2d4e5f60718293",
        "6523a1f0c2d4e5f60718293a0",
        "6523A1F0C2D4E5F60718293A",
        "6523a1f0c2d4e5f6071829/a",
        "../../../../admin/delete",
        "6523a1f0c2d4e5f6071829?a",
        "6523a1f0c2d4e5f6071829#a",
        "6523a1f0c2d4e5f6071829%a",
        "6523a1f0c2d4e5f6071829 a",
        "6523a1f0c2d4e5f6071829\na",
        "6523a1f0c2d4e5f607182ä",
        long.as_str(),
    ] {
        let message = error(item("reboot", bad, json!({})));
        assert!(message.starts_with("WhatsApp Number: "), "{message}");
        assert!(message.len() < 300, "message too long: {message}");
    }
    let message = error(item("reboot", "not-an-id", json!({})));
    assert!(message.contains("\"not-an-id\""), "{message}");
    let message = error(RawItem {
        operation: Some(json!("reboot")),
        device: Some(json!(42)),
        ..RawItem::default()
    });
    assert!(message.contains("the number 42"), "{message}");
}

#[test]
fn options_of_the_wrong_type_are_refused() {
    for (options, field) in [
        (json!({"forceReboot": "yes"}), "Force Reboot"),
        (json!({"waitForSession": 2}), "Wait For Session"),
        (json!({"forceSync": [true]}), "Force Sync"),
        (json!({"timeout": "ten"}), "Timeout (Seconds)"),
        (json!({"timeout": -1}), "Timeout (Seconds)"),
        (json!({"timeout": "301"}), "Timeout (Seconds)"),
        (json!({"retry": "no"}), "Retry Refused Requests"),
        (json!("fast"), "Options"),
    ] {
        let message = error(item("reboot", ID, options));
        assert!(message.starts_with(&format!("{field}: ")), "{message}");
    }
    let message = error(item("reset", ID, json!({"deleteAllData": "on"})));
    assert_eq!(
        message,
        "Delete All Data: must be true or false, got \"on\""
    );
}

#[test]
fn numbers_and_booleans_given_as_text_are_read_as_n8n_reads_them() {
    let p = plan(
        "reboot",
        json!({"forceReboot": "true", "forceSync": "1", "waitForSession": "FALSE", "timeout": " 30 "}),
    );
    assert_eq!(
        body(&p),
        json!({"force": true, "sync": true, "wait": false})
    );
    assert_eq!(p.timeout_ms, 30_000);
    assert!(!plan("reboot", json!({"retry": "false"})).retry);
    assert!(plan("reboot", json!({"includeAttempts": 1})).report_attempts);
    assert_eq!(
        parse_concurrency(Some(&json!({"concurrency": "4"}))).unwrap(),
        4
    );
    assert!(parse_concurrency(Some(&json!({"concurrency": "4.5"}))).is_err());
}

fn list(return_all: Value, limit: Option<Value>) -> Result<ListPlan, Error> {
    parse_list_plan(&RawItem {
        resource: Some(json!("whatsappNumber")),
        operation: Some(json!("getAll")),
        return_all: Some(return_all),
        limit,
        ..RawItem::default()
    })
}

#[test]
fn get_manys_limit_from_text_and_a_null_limit_refused() {
    assert_eq!(list(json!(false), Some(json!("3"))).unwrap().limit, Some(3));
    assert_eq!(list(json!("false"), None).unwrap().limit, Some(50));
    assert_eq!(list(json!("true"), Some(json!(null))).unwrap().limit, None);
    let message = list(json!(false), Some(json!(null))).unwrap_err().message();
    assert_eq!(
        message,
        "Limit: the expression gave no value (null); give a whole number of at least 1, or turn on Return All"
    );
    let message = list(json!(false), Some(json!("three")))
        .unwrap_err()
        .message();
    assert_eq!(
        message,
        "Limit: must be a whole number of at least 1, got \"three\""
    );
    assert!(list(json!(false), Some(json!("0"))).is_err());
}

#[test]
fn retry_is_on_unless_turned_off() {
    assert!(plan("reboot", json!({})).retry);
    assert!(!plan("reset", json!({"retry": false})).retry);
}

#[test]
fn concurrency_is_a_whole_number_from_1_to_50() {
    assert_eq!(parse_concurrency(None).ok(), Some(1));
    assert_eq!(parse_concurrency(Some(&json!({}))).ok(), Some(1));
    assert_eq!(
        parse_concurrency(Some(&json!({"concurrency": 50}))).ok(),
        Some(50)
    );
    for bad in [
        json!(0),
        json!(51),
        json!(2.5),
        json!(-3),
        json!("ten"),
        json!("51"),
        json!(true),
    ] {
        match parse_concurrency(Some(&json!({ "concurrency": bad }))) {
            Err(error) => assert!(error.message().starts_with("Concurrency: "), "{bad}"),
            Ok(n) => panic!("{bad} was accepted as {n}"),
        }
    }
}

#[test]
fn unknown_operations_and_resources_are_refused() {
    assert!(error(item("delete", ID, json!({}))).starts_with("Operation: \"delete\""));
    assert!(error(RawItem {
        device: Some(json!(ID)),
        ..RawItem::default()
    })
    .starts_with("Operation: is missing"));
    let mut raw = item("reboot", ID, json!({}));
    raw.resource = Some(json!("contact"));
    assert!(error(raw).starts_with("Resource: "));
}

#[test]
fn device_page_plan() {
    let p = plan_device_page(3, DEVICE_PAGE_SIZE, &creds("https://h/v1/"));
    assert_eq!(p.method, Method::Get);
    assert_eq!(p.url, "https://h/v1/devices?page=3&size=100");
    assert_eq!(p.body, None);
}

#[test]
fn white_space_around_an_id_is_ignored_and_messages_quote_values_exactly() {
    let p = plan_item_request(
        &item("reboot", &format!("  {ID} \n"), json!({})),
        &creds(""),
    )
    .unwrap();
    assert!(p.url.ends_with(&format!("/devices/{ID}/reboot")));
    let message = error(item("reboot", "6523a2b4c2d4e5f60718293 ", json!({})));
    assert!(
        message.starts_with("WhatsApp Number: \"6523a2b4c2d4e5f60718293 \" is not a device ID"),
        "{message}"
    );
    let message = error(item("reboot", "  ", json!({})));
    assert!(
        message.starts_with("WhatsApp Number: is empty"),
        "{message}"
    );
}

#[test]
fn upper_case_ids_and_phone_numbers_get_their_own_hint() {
    let message = error(item("reboot", "6523A1F0C2D4E5F60718293A", json!({})));
    assert!(message.contains("device IDs are lower case"), "{message}");
    for phone in ["+14155550100", "+1 (415) 555-0100", "004915112345678"] {
        let message = error(item("reboot", phone, json!({})));
        assert!(
            message.contains("looks like a phone number"),
            "{phone}: {message}"
        );
        assert!(message.contains("{{ $json.id }}"), "{message}");
    }
    let message = error(item("reboot", "12345", json!({})));
    assert!(!message.contains("phone"), "{message}");
}

#[test]
fn custom_api_call_says_what_to_use_instead() {
    let message = error(item("__CUSTOM_API_CALL__", "", json!({})));
    assert!(
        message.starts_with("Operation: Custom API Call"),
        "{message}"
    );
    assert!(message.contains("HTTP Request node"), "{message}");
}

#[test]
fn values_just_past_a_bound_are_shown_as_given() {
    let message = error(item("reboot", ID, json!({"timeout": 300.0004})));
    assert!(
        message.starts_with("Timeout (Seconds): 300.0004 is out of range"),
        "{message}"
    );
    let err = parse_concurrency(Some(&json!({"concurrency": 50.0001}))).unwrap_err();
    assert_eq!(
        err.message(),
        "Concurrency: 50.0001 is not a whole number; use a whole number from 1 to 50"
    );
    let err = parse_concurrency(Some(&json!({"concurrency": 2.5}))).unwrap_err();
    assert_eq!(
        err.message(),
        "Concurrency: 2.5 is not a whole number; use a whole number from 1 to 50"
    );
    let err = parse_concurrency(Some(&json!({"concurrency": 51}))).unwrap_err();
    assert_eq!(
        err.message(),
        "Concurrency: 51 is out of range; use a whole number from 1 to 50"
    );
    // Whole but negative (or a float with no fraction): out of range, not "not whole".
    for (value, shown) in [(json!(-5), "-5"), (json!(-5.0), "-5")] {
        let err = parse_concurrency(Some(&json!({ "concurrency": value }))).unwrap_err();
        assert_eq!(
            err.message(),
            format!("Concurrency: {shown} is out of range; use a whole number from 1 to 50")
        );
    }
}
