//! The node description (`INodeTypeDescription`) as data.
//!
//! Generated from the same tables the planner reads ([`crate::core::operation`]), written to
//! `node-descriptor/SparkBot.description.json` by `npm run descriptor`, and bundled into the shim
//! at build time — so n8n can list the node without compiling the wasm module. A test fails when
//! the checked-in file and this code drift apart.

use serde_json::{json, Value};

use crate::core::operation::{
    BooleanOption, Operation, ATTEMPTS_OPTION, CONCURRENCY_OPTION, DEFAULT_TIMEOUT_SECS,
    MAX_CONCURRENCY, MAX_TIMEOUT_SECS, RETRY_OPTION, TIMEOUT_OPTION,
};
use crate::core::plan::RESOURCE;
use crate::core::retry::MAX_ATTEMPTS;

/// Path of the checked-in description, relative to the crate root.
pub const DESCRIPTOR_PATH: &str = "node-descriptor/SparkBot.description.json";
/// Name of the credential type.
pub const CREDENTIAL_NAME: &str = "sparkBotApi";
/// Name of the dynamic options method that fills the WhatsApp Number dropdown.
pub const LOAD_DEVICES_METHOD: &str = "getDevices";

/// The whole node description.
pub fn node_description() -> Value {
    let mut properties = vec![
        json!({
            "displayName": "Resource",
            "name": "resource",
            "type": "options",
            "noDataExpression": true,
            "options": [{ "name": "WhatsApp Session", "value": RESOURCE }],
            "default": RESOURCE,
        }),
        json!({
            "displayName": "Operation",
            "name": "operation",
            "type": "options",
            "noDataExpression": true,
            "displayOptions": { "show": { "resource": [RESOURCE] } },
            "options": Operation::ALL.iter().map(|op| json!({
                "name": op.display_name(),
                "value": op.value(),
                "description": op.description(),
                "action": op.action(),
            })).collect::<Vec<_>>(),
            "default": Operation::Reboot.value(),
        }),
        json!({
            "displayName": "WhatsApp Number Name or ID",
            "name": "device",
            "type": "options",
            "typeOptions": { "loadOptionsMethod": LOAD_DEVICES_METHOD },
            "required": true,
            "default": "",
            "displayOptions": { "show": { "resource": [RESOURCE] } },
            "description": "The WhatsApp number whose session is acted on. Choose from the list, or specify an ID using an <a href=\"https://docs.n8n.io/code/expressions/\">expression</a>.",
        }),
    ];
    properties.extend(Operation::ALL.iter().map(|op| options_collection(*op)));

    json!({
        "displayName": "SparkBot",
        "name": "sparkBot",
        "icon": { "light": "file:sparkbot.svg", "dark": "file:sparkbot.dark.svg" },
        "group": ["output"],
        "version": 1,
        "subtitle": "={{$parameter[\"operation\"] + \": \" + $parameter[\"resource\"]}}",
        "description": "Interact with SparkBot WhatsApp API",
        "defaults": { "name": "SparkBot" },
        "inputs": ["main"],
        "outputs": ["main"],
        "usableAsTool": true,
        "credentials": [{ "name": CREDENTIAL_NAME, "required": true }],
        "properties": properties,
    })
}

/// The `options` collection of one operation: its booleans, then the settings both operations
/// share (Concurrency, Include Attempt Count, Retry, Timeout), sorted by display name.
fn options_collection(op: Operation) -> Value {
    let mut options: Vec<(&str, Value)> = op
        .options()
        .iter()
        .map(|option| (option.display_name, boolean_option(option)))
        .collect();
    options.push(("Concurrency", concurrency_option()));
    options.push(("Include Attempt Count", attempts_option()));
    options.push(("Retry", retry_option()));
    options.push(("Timeout", timeout_option(op)));
    options.sort_by(|a, b| a.0.cmp(b.0));
    json!({
        "displayName": "Options",
        "name": "options",
        "type": "collection",
        "placeholder": "Add Option",
        "default": {},
        "displayOptions": { "show": { "resource": [RESOURCE], "operation": [op.value()] } },
        "options": options.into_iter().map(|(_, value)| value).collect::<Vec<_>>(),
    })
}

fn boolean_option(option: &BooleanOption) -> Value {
    json!({
        "displayName": option.display_name,
        "name": option.name,
        "type": "boolean",
        "default": false,
        "description": option.description,
    })
}

fn concurrency_option() -> Value {
    json!({
        "displayName": "Concurrency",
        "name": CONCURRENCY_OPTION,
        "type": "number",
        "default": 1,
        "typeOptions": { "minValue": 1, "maxValue": MAX_CONCURRENCY, "numberPrecision": 0 },
        "description": format!(
            "How many items are sent to SparkBot at once, 1 to {MAX_CONCURRENCY}. Outputs keep the order of the input items. A setting of the node: the first item's value applies.",
        ),
    })
}

fn attempts_option() -> Value {
    json!({
        "displayName": "Include Attempt Count",
        "name": ATTEMPTS_OPTION,
        "type": "boolean",
        "default": false,
        "description": "Whether to add an attempts field to each output item: how many requests it took, retries included",
    })
}

fn retry_option() -> Value {
    json!({
        "displayName": "Retry",
        "name": RETRY_OPTION,
        "type": "boolean",
        "default": true,
        "description": format!(
            "Whether to try again, up to {MAX_ATTEMPTS} attempts within the timeout, when SparkBot answers that it did not act (429 rate limited, 503 unavailable) or the connection could not be made. Every item then waits as long as SparkBot asks. A request that may have reached SparkBot is never repeated, so a reboot or reset is not sent twice.",
        ),
    })
}

fn timeout_option(op: Operation) -> Value {
    json!({
        "displayName": "Timeout",
        "name": TIMEOUT_OPTION,
        "type": "number",
        "default": 0,
        "typeOptions": { "minValue": 0, "maxValue": MAX_TIMEOUT_SECS, "numberPrecision": 0 },
        "description": format!(
            "How many seconds to wait for SparkBot before giving up. 0 means automatic: {} s, or {} s with Wait For Session. At most {} s.",
            DEFAULT_TIMEOUT_SECS,
            op.automatic_timeout_secs(true),
            MAX_TIMEOUT_SECS
        ),
    })
}

/// The description as the checked-in file holds it: pretty JSON with a final newline.
pub fn node_description_file() -> String {
    let mut text = serde_json::to_string_pretty(&node_description()).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checked_in_descriptor_matches_the_code() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(DESCRIPTOR_PATH);
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == node_description_file(),
            "{DESCRIPTOR_PATH} is out of date with src/description.rs: run `npm run descriptor` and commit the result"
        );
    }

    #[test]
    fn names_fixed_by_the_issue() {
        let d = node_description();
        assert_eq!(d["name"], "sparkBot");
        assert_eq!(d["credentials"][0]["name"], "sparkBotApi");
        let props = d["properties"].as_array().unwrap();
        let device = props.iter().find(|p| p["name"] == "device").unwrap();
        assert_eq!(device["typeOptions"]["loadOptionsMethod"], "getDevices");
        assert_eq!(device["required"], true);
        let reset = props
            .iter()
            .find(|p| {
                p["name"] == "options" && p["displayOptions"]["show"]["operation"][0] == "reset"
            })
            .unwrap();
        let names: Vec<_> = reset["options"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "concurrency",
                "deleteAllData",
                "emptyQueue",
                "includeAttempts",
                "retry",
                "timeout",
                "waitForSession"
            ]
        );
        let text = node_description_file();
        assert!(text.contains("up to 2 minutes") && text.contains("up to 90 seconds"));
    }
}
