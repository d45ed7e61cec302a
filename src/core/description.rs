//! The node and credential descriptions (`INodeTypeDescription`, `ICredentialType`) as data.
//!
//! Generated from the same tables the planner reads ([`crate::operation`]), written to
//! `node-descriptor/` by `npm run descriptor`, and bundled into the shim at build time — so n8n
//! can list the node without compiling the wasm module. A test fails when the checked-in files
//! and this code drift apart.

use serde_json::{json, Value};

use crate::allowlist::{MODE_ALL, MODE_DOMAINS, MODE_NONE};
use crate::operation::{
    BooleanOption, Field, Operation, ReadOperation, ALLOWED_DOMAINS, ALLOWED_HTTP_REQUEST_DOMAINS,
    ALLOW_INSECURE_HTTP, API_KEY, BASE_URL, BINARY_PROPERTY, CONCURRENCY, CREDENTIAL_DISPLAY_NAME,
    CREDENTIAL_TYPE, DEFAULT_BASE_URL, DEFAULT_LIMIT, DEFAULT_TIMEOUT_SECS, DEVICE, FILTERS,
    GET_QR_CODE, GET_QR_CODE_NAME, INCLUDE_ATTEMPTS, LIMIT, MAX_CONCURRENCY, MAX_TIMEOUT_SECS,
    NUMBER_RESOURCE, NUMBER_STATUSES, OPERATION, OPTIONS, RESOURCE, RETRY, RETURN_ALL,
    SESSION_RESOURCE, SESSION_STATUSES, SESSION_STATUS_FILTER, STATUS_FILTER, TIMEOUT,
};
use crate::plan::DEVICE_ID_LEN;
use crate::retry::MAX_ATTEMPTS;
use crate::trigger::{DEVICES_FILTER, EVENT, SESSION_STATUS_CHANGED};

/// Path of the checked-in node description, relative to the crate root.
pub const DESCRIPTOR_PATH: &str = "node-descriptor/SparkBot.description.json";
/// Path of the checked-in trigger description, relative to the crate root.
pub const TRIGGER_DESCRIPTOR_PATH: &str = "node-descriptor/SparkBotTrigger.description.json";
/// Path of the checked-in credential description, relative to the crate root.
pub const CREDENTIAL_DESCRIPTOR_PATH: &str = "node-descriptor/SparkBotApi.credential.json";
/// Path of the checked-in description of SparkBot Webhook Trigger, relative to the crate root.
pub const WEBHOOK_TRIGGER_DESCRIPTOR_PATH: &str =
    "node-descriptor/SparkBotWebhookTrigger.description.json";
/// Name of the dynamic options method that fills the WhatsApp Number dropdown.
pub const LOAD_DEVICES_METHOD: &str = "getDevices";
/// Name of the node's credential test (`methods.credentialTest`), which runs in the core.
pub const CREDENTIAL_TEST_METHOD: &str = "sparkBotApiTest";

/// The node versions: 1 (a WhatsApp Number dropdown, session actions only) and 2 (a resource
/// locator, and the WhatsApp Number resource). One description serves both: properties that
/// differ show only for their version (`@version`).
pub const VERSIONS: [u8; 2] = [1, 2];
/// The version new nodes get.
pub const DEFAULT_VERSION: u8 = 2;

/// The whole node description.
pub fn node_description() -> Value {
    let mut properties = vec![
        json!({
            "displayName": RESOURCE.display_name,
            "name": RESOURCE.name,
            "type": "options",
            "noDataExpression": true,
            "displayOptions": { "show": { "@version": [1] } },
            "options": [{ "name": "WhatsApp Session", "value": SESSION_RESOURCE }],
            "default": SESSION_RESOURCE,
        }),
        json!({
            "displayName": RESOURCE.display_name,
            "name": RESOURCE.name,
            "type": "options",
            "noDataExpression": true,
            "displayOptions": { "show": { "@version": [{ "_cnd": { "gte": 2 } }] } },
            "options": [
                { "name": "WhatsApp Number", "value": NUMBER_RESOURCE },
                { "name": "WhatsApp Session", "value": SESSION_RESOURCE },
            ],
            "default": SESSION_RESOURCE,
        }),
        // Version 1 keeps its two operations; version 2 adds Get QR Code.
        session_operations(1),
        session_operations(2),
        json!({
            "displayName": OPERATION.display_name,
            "name": OPERATION.name,
            "type": "options",
            "noDataExpression": true,
            "displayOptions": { "show": { (RESOURCE.name): [NUMBER_RESOURCE] } },
            "options": ReadOperation::ALL.iter().map(|op| json!({
                "name": op.display_name(),
                "value": op.value(),
                "description": op.description(),
                "action": op.action(),
            })).collect::<Vec<_>>(),
            "default": ReadOperation::Get.value(),
        }),
        json!({
            "displayName": format!("{} Name or ID", DEVICE.display_name),
            "name": DEVICE.name,
            "type": "options",
            "typeOptions": { "loadOptionsMethod": LOAD_DEVICES_METHOD },
            "required": true,
            "default": "",
            "displayOptions": { "show": { (RESOURCE.name): [SESSION_RESOURCE], "@version": [1] } },
            "description": "The WhatsApp number whose session is acted on. Choose from the list, or specify an ID using an <a href=\"https://docs.n8n.io/code/expressions/\">expression</a>.",
        }),
        device_locator(),
    ];
    for op in Operation::ALL {
        properties.extend(destructive_notices(op));
    }
    properties.extend(qr_code_properties());
    properties.extend(Operation::ALL.iter().map(|op| options_collection(*op)));
    properties.extend(get_many_properties());

    json!({
        "displayName": "SparkBot",
        "name": "sparkBot",
        "icon": { "light": "file:sparkbot.svg", "dark": "file:sparkbot.dark.svg" },
        "group": ["output"],
        "version": VERSIONS,
        "defaultVersion": DEFAULT_VERSION,
        "subtitle": subtitle(),
        "description": "Interact with SparkBot WhatsApp API",
        "defaults": { "name": "SparkBot" },
        "inputs": ["main"],
        "outputs": ["main"],
        "usableAsTool": true,
        "credentials": [{
            "name": CREDENTIAL_TYPE,
            "required": true,
            "testedBy": CREDENTIAL_TEST_METHOD,
        }],
        "properties": properties,
    })
}

/// The canvas subtitle: the operation's name, or — while a destructive option is on — the
/// operation's verb and what it deletes, short enough for the canvas: "Reset · deletes data",
/// "Reset · deletes queue", "Reset · deletes data & queue".
fn subtitle() -> String {
    let names: Vec<String> = Operation::ALL
        .iter()
        .map(|op| (op.value(), op.display_name()))
        .chain([
            (GET_QR_CODE, GET_QR_CODE_NAME),
            (ReadOperation::Get.value(), "Get Number"),
            (ReadOperation::GetMany.value(), "Get Many Numbers"),
        ])
        .map(|(value, name)| format!("\"{value}\":\"{name}\""))
        .collect();
    let operation = format!("$parameter[\"{}\"]", OPERATION.name);
    let option = |name: &str| format!("($parameter[\"{}\"] || {{}})[\"{name}\"]", OPTIONS.name);
    let mut expression = String::from("={{ ");
    for op in Operation::ALL {
        let destructive: Vec<(String, &str)> = op
            .options()
            .iter()
            .filter_map(|o| Some((option(o.field.name), o.destructive?.subtitle)))
            .collect();
        if destructive.is_empty() {
            continue;
        }
        let any: Vec<&str> = destructive.iter().map(|(on, _)| on.as_str()).collect();
        let parts: Vec<String> = destructive
            .iter()
            .map(|(on, words)| format!("{on} ? \"{words}\" : \"\""))
            .collect();
        let verb = op.display_name().split(' ').next().unwrap_or_default();
        expression.push_str(&format!(
            "{operation} === \"{}\" && ({}) ? \"{verb} · deletes \" + [{}].filter(Boolean).join(\" & \") : ",
            op.value(),
            any.join(" || "),
            parts.join(", ")
        ));
    }
    expression.push_str(&format!("({{{}}})[{operation}]", names.join(",")));
    expression.push_str(" }}");
    expression
}

/// The WhatsApp Session resource's operations in `version` (2 and later: Get QR Code too).
fn session_operations(version: u8) -> Value {
    let mut options: Vec<Value> = Operation::ALL
        .iter()
        .map(|op| {
            json!({
                "name": op.display_name(),
                "value": op.value(),
                "description": op.description(),
                "action": op.action(),
            })
        })
        .collect();
    let versions = if version == 1 {
        json!([1])
    } else {
        options.insert(
            0,
            json!({
                "name": GET_QR_CODE_NAME,
                "value": GET_QR_CODE,
                "description": "Get the QR code a person scans with the number's phone to link it again, while its session waits for a scan (authorize). The PNG comes as a file the next node can send.",
                "action": "Get the QR code of a WhatsApp session",
            }),
        );
        json!([{ "_cnd": { "gte": 2 } }])
    };
    json!({
        "displayName": OPERATION.display_name,
        "name": OPERATION.name,
        "type": "options",
        "noDataExpression": true,
        "displayOptions": { "show": { (RESOURCE.name): [SESSION_RESOURCE], "@version": versions } },
        "options": options,
        "default": Operation::Reboot.value(),
    })
}

/// Get QR Code's own parameters (version 2): a notice that a code lasts about a minute, and
/// n8n's usual Put Output File in Field.
fn qr_code_properties() -> Vec<Value> {
    let shown = || {
        json!({ "show": {
            (RESOURCE.name): [SESSION_RESOURCE],
            (OPERATION.name): [GET_QR_CODE],
            "@version": [{ "_cnd": { "gte": 2 } }],
        } })
    };
    vec![
        json!({
            "displayName": "A QR code works for about a minute (SparkBot renews it every 20 to 60 seconds): send it on to the person right away, e.g. by e-mail or chat in the next node. They scan it in WhatsApp on the number's phone: Settings → Linked devices → Link a device.",
            "name": "qrCodeNotice",
            "type": "notice",
            "default": "",
            "displayOptions": shown(),
        }),
        json!({
            "displayName": BINARY_PROPERTY.display_name,
            "name": BINARY_PROPERTY.name,
            "type": "string",
            "default": "data",
            "required": true,
            "hint": "The name of the output binary field to put the QR code's PNG in",
            "displayOptions": shown(),
        }),
    ]
}

/// Version 2's WhatsApp Number: a resource locator, From List (searchable), By ID or Phone
/// Number; for the session actions and Get.
fn device_locator() -> Value {
    json!({
        "displayName": DEVICE.display_name,
        "name": DEVICE.name,
        "type": "resourceLocator",
        "default": { "mode": "list", "value": "" },
        "required": true,
        "displayOptions": {
            "show": { (RESOURCE.name): [SESSION_RESOURCE, NUMBER_RESOURCE], "@version": [{ "_cnd": { "gte": 2 } }] },
            "hide": { (OPERATION.name): [ReadOperation::GetMany.value()] },
        },
        "description": "The WhatsApp number: pick it from the list (search by alias, phone or ID), or give its ID or its phone number",
        "modes": [
            {
                "displayName": "From List",
                "name": "list",
                "type": "list",
                "placeholder": "Select a number…",
                "typeOptions": { "searchListMethod": LOAD_DEVICES_METHOD, "searchable": true },
            },
            {
                "displayName": "By ID",
                "name": "id",
                "type": "string",
                "placeholder": "e.g. 6523a1f0c2d4e5f60718293a",
                "validation": [{
                    "type": "regex",
                    "properties": {
                        "regex": format!("^\\s*[0-9a-f]{{{DEVICE_ID_LEN}}}\\s*$"),
                        "errorMessage": "Not a device ID: 24 lowercase hexadecimal characters",
                    },
                }],
            },
            {
                // n8n's mode selector is as wide as "From list": it cut "By Phone Number" and
                // "By Phone" alike ("By Phon"), so it is "Phone".
                "displayName": "Phone",
                "name": "phone",
                "type": "string",
                "placeholder": "e.g. +1 415 555 0100",
                "validation": [{
                    "type": "regex",
                    "properties": {
                        // A + and 8 to 15 digits, spaces, hyphens, dots, parentheses or slashes
                        // between them (the core reads them the same way).
                        "regex": "^\\s*\\+(?:[\\s().\\/-]*[0-9]){8,15}[\\s().\\/-]*$",
                        "errorMessage": "Not a phone number in international format: a + and 8 to 15 digits",
                    },
                }],
            },
        ],
    })
}

/// Get Many's Return All, Limit and Filters.
fn get_many_properties() -> Vec<Value> {
    let get_many = || json!({ (RESOURCE.name): [NUMBER_RESOURCE], (OPERATION.name): [ReadOperation::GetMany.value()] });
    let choices = |values: &[&str]| {
        values
            .iter()
            .map(|value| json!({ "name": title_case(value), "value": value }))
            .collect::<Vec<_>>()
    };
    vec![
        json!({
            "displayName": RETURN_ALL.display_name,
            "name": RETURN_ALL.name,
            "type": "boolean",
            "default": false,
            "displayOptions": { "show": get_many() },
            "description": "Whether to return all results or only up to a given limit",
        }),
        json!({
            "displayName": LIMIT.display_name,
            "name": LIMIT.name,
            "type": "number",
            "default": DEFAULT_LIMIT,
            "typeOptions": { "minValue": 1 },
            "displayOptions": { "show": { (RESOURCE.name): [NUMBER_RESOURCE], (OPERATION.name): [ReadOperation::GetMany.value()], (RETURN_ALL.name): [false] } },
            "description": "Max number of results to return",
        }),
        json!({
            "displayName": FILTERS.display_name,
            "name": FILTERS.name,
            "type": "collection",
            "placeholder": "Add Filter",
            "default": {},
            "displayOptions": { "show": get_many() },
            "options": [
                {
                    "displayName": STATUS_FILTER.display_name,
                    "name": STATUS_FILTER.name,
                    "type": "multiOptions",
                    "default": [],
                    "options": choices(&NUMBER_STATUSES),
                    "description": "Only numbers with one of these statuses",
                },
                {
                    "displayName": SESSION_STATUS_FILTER.display_name,
                    "name": SESSION_STATUS_FILTER.name,
                    "type": "multiOptions",
                    "default": [],
                    "options": choices(&SESSION_STATUSES),
                    "description": "Only numbers whose WhatsApp session has one of these statuses",
                },
            ],
        }),
    ]
}

/// `online` → `Online`.
fn title_case(value: &str) -> String {
    let mut chars = value.chars();
    chars
        .next()
        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// A warning above the options for each destructive option of `op`, shown while it is on.
fn destructive_notices(op: Operation) -> Vec<Value> {
    op.options()
        .iter()
        .filter_map(|option| {
            let destructive = option.destructive?;
            Some(json!({
                "displayName": destructive.warning,
                "name": format!("{}Notice", option.field.name),
                "type": "notice",
                "default": "",
                "displayOptions": { "show": {
                    (RESOURCE.name): [SESSION_RESOURCE],
                    (OPERATION.name): [op.value()],
                    // A path from the root ("/"): n8n resolves top-level parameters in the
                    // order their conditions need, and takes a root path as resolved.
                    (format!("/{}.{}", OPTIONS.name, option.field.name)): [true],
                } },
            }))
        })
        .collect()
}

/// The `options` collection of one operation: its booleans, then the settings both operations
/// share (Concurrency, Include Attempt Count, Retry, Timeout), sorted by display name.
fn options_collection(op: Operation) -> Value {
    let mut options: Vec<(&str, Value)> = op
        .options()
        .iter()
        .map(|option| (option.field.display_name, boolean_option(option)))
        .collect();
    options.push((CONCURRENCY.display_name, concurrency_option()));
    options.push((INCLUDE_ATTEMPTS.display_name, attempts_option()));
    options.push((RETRY.display_name, retry_option()));
    options.push((TIMEOUT.display_name, timeout_option(op)));
    options.sort_by(|a, b| a.0.cmp(b.0));
    json!({
        "displayName": OPTIONS.display_name,
        "name": OPTIONS.name,
        "type": "collection",
        "placeholder": "Add Option",
        "default": {},
        "displayOptions": { "show": { (RESOURCE.name): [SESSION_RESOURCE], (OPERATION.name): [op.value()] } },
        "options": options.into_iter().map(|(_, value)| value).collect::<Vec<_>>(),
    })
}

fn boolean_option(option: &BooleanOption) -> Value {
    json!({
        "displayName": option.field.display_name,
        "name": option.field.name,
        "type": "boolean",
        "default": false,
        "description": option.description,
    })
}

fn concurrency_option() -> Value {
    json!({
        "displayName": CONCURRENCY.display_name,
        "name": CONCURRENCY.name,
        "type": "number",
        "default": 1,
        "typeOptions": { "minValue": 1, "maxValue": MAX_CONCURRENCY, "numberPrecision": 0 },
        "description": format!(
            "How many items to send to SparkBot at the same time, 1 to {MAX_CONCURRENCY}. Outputs stay in the order of the input items, and items for the same number still go one after another. One value for the whole run: the first item's is used.",
        ),
    })
}

fn attempts_option() -> Value {
    json!({
        "displayName": INCLUDE_ATTEMPTS.display_name,
        "name": INCLUDE_ATTEMPTS.name,
        "type": "boolean",
        "default": false,
        "description": "Whether to add an attempts field to each output item: how many requests it took, retries included",
    })
}

fn retry_option() -> Value {
    json!({
        "displayName": RETRY.display_name,
        "name": RETRY.name,
        "type": "boolean",
        "default": true,
        "description": format!(
            "Whether to send a request again, up to {MAX_ATTEMPTS} attempts within the timeout, when SparkBot refused it without acting (429 rate limited, 503 unavailable) or the connection could not be made. On by default. Unlike n8n's Retry On Fail setting, which runs the whole node again for every item, this repeats only the refused request, and never one SparkBot may have carried out.",
        ),
    })
}

fn timeout_option(op: Operation) -> Value {
    json!({
        "displayName": TIMEOUT.display_name,
        "name": TIMEOUT.name,
        "type": "number",
        "default": 0,
        "typeOptions": { "minValue": 0, "maxValue": MAX_TIMEOUT_SECS, "numberPrecision": 0 },
        "hint": format!(
            "0 = automatic: {} s, or {} s with Wait For Session",
            DEFAULT_TIMEOUT_SECS,
            op.automatic_timeout_secs(true),
        ),
        "description": format!(
            "How many seconds to wait for SparkBot before giving up, at most {MAX_TIMEOUT_SECS}. 0 means automatic: {} s, or {} s with Wait For Session.",
            DEFAULT_TIMEOUT_SECS,
            op.automatic_timeout_secs(true),
        ),
    })
}

/// SparkBot Trigger: a polling trigger (n8n adds its standard Poll Times) with one event and
/// its filters.
pub fn trigger_description() -> Value {
    json!({
        "displayName": "SparkBot Trigger",
        "name": "sparkBotTrigger",
        "icon": { "light": "file:../SparkBot/sparkbot.svg", "dark": "file:../SparkBot/sparkbot.dark.svg" },
        "group": ["trigger"],
        "version": 1,
        "subtitle": "={{\"Session status changed\"}}",
        "description": "Starts the workflow when the WhatsApp session of a SparkBot number changes (polls SparkBot; no public URL needed)",
        "defaults": { "name": "SparkBot Trigger" },
        "polling": true,
        "inputs": [],
        "outputs": ["main"],
        "credentials": [{ "name": CREDENTIAL_TYPE, "required": true, "testedBy": CREDENTIAL_TEST_METHOD }],
        "properties": [event_property(), trigger_filters()],
    })
}

/// Name of SparkBot Webhook Trigger's webhook path (n8n's URL ends with it).
pub const WEBHOOK_PATH: &str = "sparkbot";

/// SparkBot Webhook Trigger: the same event and filters as SparkBot Trigger, delivered by
/// SparkBot the moment a session changes (n8n's webhook lifecycle registers and deletes the
/// webhook).
pub fn webhook_trigger_description() -> Value {
    json!({
        "displayName": "SparkBot Webhook Trigger",
        "name": "sparkBotWebhookTrigger",
        "icon": { "light": "file:../SparkBot/sparkbot.svg", "dark": "file:../SparkBot/sparkbot.dark.svg" },
        "group": ["trigger"],
        "version": 1,
        "subtitle": "={{\"Session status changed (instant)\"}}",
        "description": "Starts the workflow the moment the WhatsApp session of a SparkBot number changes (SparkBot calls n8n; needs an n8n URL SparkBot can reach)",
        "defaults": { "name": "SparkBot Webhook Trigger" },
        "inputs": [],
        "outputs": ["main"],
        "credentials": [{ "name": CREDENTIAL_TYPE, "required": true, "testedBy": CREDENTIAL_TEST_METHOD }],
        "webhooks": [{
            "name": "default",
            "httpMethod": "POST",
            "responseMode": "onReceived",
            "path": WEBHOOK_PATH,
        }],
        "properties": [
            {
                "displayName": "SparkBot calls this workflow's webhook URL the moment a session changes, so SparkBot must be able to reach your n8n (its public URL, n8n's WEBHOOK_URL). Publishing the workflow registers the webhook with SparkBot, unpublishing deletes it. Without a URL SparkBot can reach, use SparkBot Trigger, which polls.",
                "name": "webhookNotice",
                "type": "notice",
                "default": "",
            },
            event_property(),
            trigger_filters(),
        ],
    })
}

fn event_property() -> Value {
    json!({
        "displayName": EVENT.display_name,
        "name": EVENT.name,
        "type": "options",
        "noDataExpression": true,
        "options": [{
            "name": "Session Status Changed",
            "value": SESSION_STATUS_CHANGED,
            "description": "A number's WhatsApp session went to another status (online, offline, timeout, authorize, …)",
        }],
        "default": SESSION_STATUS_CHANGED,
    })
}

fn trigger_filters() -> Value {
    let statuses: Vec<Value> = SESSION_STATUSES
        .iter()
        .map(|value| json!({ "name": title_case(value), "value": value }))
        .collect();
    json!({
        "displayName": FILTERS.display_name,
        "name": FILTERS.name,
        "type": "collection",
        "placeholder": "Add Filter",
        "default": {},
        "options": [
            {
                "displayName": format!("{} Names or IDs", DEVICES_FILTER.display_name),
                "name": DEVICES_FILTER.name,
                "type": "multiOptions",
                "typeOptions": { "loadOptionsMethod": LOAD_DEVICES_METHOD },
                "default": [],
                "description": "Only these numbers (none: every number of the account). Choose from the list, or specify IDs using an <a href=\"https://docs.n8n.io/code/expressions/\">expression</a>.",
            },
            {
                "displayName": SESSION_STATUS_FILTER.display_name,
                "name": SESSION_STATUS_FILTER.name,
                "type": "multiOptions",
                "options": statuses,
                "default": [],
                "description": "Only changes to these statuses (none: any change)",
            },
        ],
    })
}

/// The credential's fields (`ICredentialType.properties`), bundled into the credential class.
pub fn credential_description() -> Value {
    let property = |field: Field, rest: Value| {
        let mut property = json!({ "displayName": field.display_name, "name": field.name });
        if let (Some(target), Value::Object(rest)) = (property.as_object_mut(), rest) {
            target.extend(rest);
        }
        property
    };
    json!({
        "name": CREDENTIAL_TYPE,
        "displayName": CREDENTIAL_DISPLAY_NAME,
        "properties": [
            property(API_KEY, json!({
                "type": "string",
                "typeOptions": { "password": true },
                "default": "",
                "required": true,
                "description": "The API key of your SparkBot account, sent in the Token header",
            })),
            property(BASE_URL, json!({
                "type": "string",
                "default": DEFAULT_BASE_URL,
                "description": "Where the SparkBot API lives. Change it only for a regional or self-hosted deployment, or a local simulator (http://127.0.0.1:PORT/v1).",
            })),
            property(ALLOW_INSECURE_HTTP, json!({
                "type": "boolean",
                "default": false,
                "description": "Whether to send the API key over plain http:// to a host other than this machine. Without it the node refuses such a Base URL; http:// to localhost or 127.0.0.1 always works.",
            })),
            // n8n's own restriction fields (n8n adds them to every credential that authenticates
            // requests): declared here so that every n8n version shows them, worded for what
            // they do in the SparkBot nodes too.
            property(ALLOWED_HTTP_REQUEST_DOMAINS, json!({
                "type": "options",
                "options": [
                    {
                        "name": "All",
                        "value": MODE_ALL,
                        "description": "Allow requests to any domain, from the SparkBot nodes and the HTTP Request or GraphQL node",
                    },
                    {
                        "name": "Specific Domains",
                        "value": MODE_DOMAINS,
                        "description": "Restrict requests to specific domains, from the SparkBot nodes and the HTTP Request or GraphQL node",
                    },
                    {
                        "name": "None",
                        "value": MODE_NONE,
                        "description": "Block all requests with this credential, from the SparkBot nodes and the HTTP Request or GraphQL node",
                    },
                ],
                "default": MODE_ALL,
                "description": "Control which domains this credential can be used with: the host of the Base URL must be allowed for the SparkBot nodes to send anything",
            })),
            property(ALLOWED_DOMAINS, json!({
                "type": "string",
                "default": "",
                "placeholder": "api.sparkbot.io, *.example.com",
                "description": "Comma-separated list of allowed domains (supports wildcards with *: *.example.com allows every subdomain of example.com)",
                "displayOptions": { "show": { ALLOWED_HTTP_REQUEST_DOMAINS.name: [MODE_DOMAINS] } },
            })),
        ],
    })
}

/// A description as its checked-in file holds it: pretty JSON with a final newline. Fails only
/// if serde_json cannot write a `Value`, which the build then reports.
pub fn description_file(description: &Value) -> Result<String, serde_json::Error> {
    let mut text = serde_json::to_string_pretty(description)?;
    text.push('\n');
    Ok(text)
}

/// Path of the generated contract of the core's results (TypeScript), relative to the root.
pub const CONTRACT_PATH: &str = "node-descriptor/core-contract.ts";

/// The TypeScript the shim reads the core's results with: every error code (from
/// [`crate::error::CODES`]), the shape of a failure ([`crate::error::Report`]) and of a result.
pub fn contract_file() -> String {
    let codes: Vec<String> = crate::error::CODES
        .iter()
        .map(|(code, _)| format!("\t| '{code}'"))
        .collect();
    let operation: Vec<String> = crate::error::CODES
        .iter()
        .filter(|(_, kind)| *kind == crate::error::ErrorKind::Operation)
        .map(|(code, _)| format!("\t'{code}',"))
        .collect();
    format!(
        "// Generated by `npm run descriptor` from src/core/error.rs (the write-descriptor binary):\n\
         // do not edit. What every export of the Rust core resolves with; the shim reads it in one\n\
         // place (pkg-template/nodes/SparkBot/shared.ts).\n\
         \n\
         /** Every code a failure carries. */\n\
         export type CoreErrorCode =\n{codes};\n\
         \n\
         /** The codes of failures of the input (n8n's NodeOperationError); the others are the API's. */\n\
         export const OPERATION_CODES: readonly CoreErrorCode[] = [\n{operation}\n];\n\
         \n\
         /** A failure, as the core reports it (the API key is in none of its texts). */\n\
         export interface CoreFailure {{\n\
         \tcode: CoreErrorCode;\n\
         \t/** `operation`: the input (NodeOperationError); `api`: SparkBot or the way there (NodeApiError). */\n\
         \tkind: 'operation' | 'api';\n\
         \tmessage: string;\n\
         \tdescription: string;\n\
         \t/** The HTTP status behind it, where there is one. */\n\
         \thttpCode: number | null;\n\
         \t/** Requests made for the item (0 when none was sent). */\n\
         \tattempts: number;\n\
         \t/** The item a run without continue-on-fail fails with. */\n\
         \titemIndex?: number;\n\
         }}\n\
         \n\
         /** What every export of the core resolves with: the value, or the failure. */\n\
         export type CoreResult<T> = {{ ok: T }} | {{ error: CoreFailure }};\n",
        codes = codes.join("\n"),
        operation = operation.join("\n"),
    )
}

/// Every generated file: (path relative to the crate root, contents).
pub fn descriptor_files() -> Result<Vec<(&'static str, String)>, serde_json::Error> {
    Ok(vec![
        (DESCRIPTOR_PATH, description_file(&node_description())?),
        (
            TRIGGER_DESCRIPTOR_PATH,
            description_file(&trigger_description())?,
        ),
        (
            WEBHOOK_TRIGGER_DESCRIPTOR_PATH,
            description_file(&webhook_trigger_description())?,
        ),
        (
            CREDENTIAL_DESCRIPTOR_PATH,
            description_file(&credential_description())?,
        ),
        (CONTRACT_PATH, contract_file()),
    ])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn checked_in_descriptors_match_the_code() {
        for (path, generated) in descriptor_files().unwrap() {
            let on_disk = std::fs::read_to_string(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .ancestors()
                    .nth(2)
                    .unwrap()
                    .join(path),
            )
            .unwrap_or_default();
            assert!(
                on_disk == generated,
                "{path} is out of date with src/core/description.rs: run `npm run descriptor` and commit the result"
            );
        }
    }

    #[test]
    fn names_fixed_by_the_issue() {
        let d = node_description();
        assert_eq!(d["name"], "sparkBot");
        assert_eq!(d["credentials"][0]["name"], "sparkBotApi");
        assert_eq!(d["credentials"][0]["testedBy"], CREDENTIAL_TEST_METHOD);
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
        let text = description_file(&d).unwrap();
        assert!(text.contains("up to 2 minutes") && text.contains("up to 90 seconds"));
    }

    #[test]
    fn version_2_picks_the_number_with_a_resource_locator_and_reads_numbers() {
        let d = node_description();
        assert_eq!(d["version"], json!([1, 2]));
        assert_eq!(d["defaultVersion"], 2);
        let props = d["properties"].as_array().unwrap();
        let locator = props
            .iter()
            .find(|p| p["type"] == "resourceLocator")
            .unwrap();
        assert_eq!(locator["name"], "device");
        assert_eq!(locator["default"], json!({ "mode": "list", "value": "" }));
        let modes: Vec<_> = locator["modes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["name"].as_str().unwrap())
            .collect();
        assert_eq!(modes, ["list", "id", "phone"]);
        assert_eq!(
            locator["modes"][0]["typeOptions"],
            json!({ "searchListMethod": "getDevices", "searchable": true })
        );
        let version_1 = props
            .iter()
            .find(|p| p["name"] == "device" && p["type"] == "options")
            .unwrap();
        assert_eq!(version_1["displayOptions"]["show"]["@version"], json!([1]));
        let reads = props
            .iter()
            .find(|p| {
                p["name"] == "operation"
                    && p["displayOptions"]["show"]["resource"][0] == "whatsappNumber"
            })
            .unwrap();
        let values: Vec<_> = reads["options"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["value"].as_str().unwrap())
            .collect();
        assert_eq!(values, ["get", "getAll"]);
        // Actions name the nodes added from the panel: short, as n8n's own ("Get many contacts").
        let session = d["properties"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| {
                p["name"] == "operation"
                    && p["displayOptions"]["show"]["resource"][0] == "whatsappSession"
            })
            .unwrap();
        let actions: Vec<&str> = [reads, session]
            .iter()
            .flat_map(|p| p["options"].as_array().unwrap())
            .map(|o| o["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            actions,
            [
                "Get a WhatsApp number",
                "Get many WhatsApp numbers",
                "Reboot a WhatsApp session",
                "Reset a WhatsApp session"
            ]
        );
    }

    #[test]
    fn destructive_options_get_a_notice_shown_only_while_on() {
        let d = node_description();
        let notices: Vec<_> = d["properties"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["type"] == "notice" && p["name"] != "qrCodeNotice")
            .collect();
        assert_eq!(notices.len(), 2);
        assert_eq!(
            notices[0]["displayOptions"]["show"]["/options.deleteAllData"],
            json!([true])
        );
        assert_eq!(
            notices[1]["displayOptions"]["show"]["/options.emptyQueue"],
            json!([true])
        );
        assert!(notices
            .iter()
            .all(|n| n["displayOptions"]["show"]["operation"] == json!(["reset"])));
    }

    #[test]
    fn the_subtitle_names_the_operation_and_what_it_deletes() {
        // The package tests evaluate it for every combination (tests/dist/node.test.mjs).
        let subtitle = subtitle();
        assert_eq!(
            subtitle,
            "={{ $parameter[\"operation\"] === \"reset\" && (($parameter[\"options\"] || {})[\"deleteAllData\"] || ($parameter[\"options\"] || {})[\"emptyQueue\"]) ? \"Reset · deletes \" + [($parameter[\"options\"] || {})[\"deleteAllData\"] ? \"data\" : \"\", ($parameter[\"options\"] || {})[\"emptyQueue\"] ? \"queue\" : \"\"].filter(Boolean).join(\" & \") : ({\"reboot\":\"Reboot Session\",\"reset\":\"Reset Session\",\"getQrCode\":\"Get QR Code\",\"get\":\"Get Number\",\"getAll\":\"Get Many Numbers\"})[$parameter[\"operation\"]] }}"
        );
    }
}
