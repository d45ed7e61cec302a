//! Node parameters → a validated request plan.
//!
//! Everything here happens before a request is sent: a bad parameter becomes an
//! [`Error::InvalidParameter`] that names the field and quotes the value, and nothing goes on the
//! wire.

use serde_json::{Map, Value};

use crate::core::coerce;
use crate::core::credentials::Credentials;
use crate::core::error::Error;
use crate::core::operation::GET_QR_CODE;
use crate::core::operation::{
    Field, Operation, ReadOperation, CONCURRENCY, CUSTOM_API_CALL, DEFAULT_LIMIT,
    DEFAULT_TIMEOUT_SECS, DEVICE, FILTERS, INCLUDE_ATTEMPTS, LIMIT, MAX_CONCURRENCY,
    MAX_TIMEOUT_SECS, NUMBER_RESOURCE, NUMBER_STATUSES, OPERATION, OPTIONS, RESOURCE, RETRY,
    RETURN_ALL, SESSION_RESOURCE, SESSION_STATUSES, SESSION_STATUS_FILTER, STATUS_FILTER, TIMEOUT,
};
use crate::core::qr::{parse_binary_field, NumberNames};
use crate::core::text::{describe_value, float_text, number_text};

/// Length of a device ID.
pub const DEVICE_ID_LEN: usize = 24;
/// Page size used to list devices (the contract's maximum).
pub const DEVICE_PAGE_SIZE: usize = 100;

/// One item's parameters as the shim reads them with `getNodeParameter`, before validation.
/// Every field is loosely typed: expressions can put any JSON value anywhere.
#[derive(Debug, Default)]
pub struct RawItem {
    /// `resource` parameter.
    pub resource: Option<Value>,
    /// `operation` parameter.
    pub operation: Option<Value>,
    /// `device` parameter (the WhatsApp Number).
    pub device: Option<Value>,
    /// The operation's `options` collection.
    pub options: Option<Value>,
    /// Get Many's `returnAll`.
    pub return_all: Option<Value>,
    /// Get Many's `limit`.
    pub limit: Option<Value>,
    /// Get Many's `filters` collection.
    pub filters: Option<Value>,
    /// Get QR Code's `binaryPropertyName` (Put Output File in Field).
    pub binary_property: Option<Value>,
}

/// Which number an item is about: by ID (From List, By ID, or version 1's dropdown), or by phone
/// (By Phone: the core finds the ID in the account's list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A device ID.
    Id(String),
    /// An E.164 phone number.
    Phone(String),
}

/// What one item asks for, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemPlan {
    /// A request about one number (reboot, reset, get), made once its ID is known.
    Device {
        /// The number.
        target: Target,
        /// Everything else of the request.
        request: DeviceRequest,
    },
    /// Get Many.
    List(ListPlan),
}

/// What a request about one number does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceCall {
    /// Reboot or reset the session (`POST /devices/{id}/{operation}`).
    Act(Operation),
    /// Read the number (`GET /devices/{id}`).
    Get,
    /// Get QR Code (`GET /devices/{id}/scan`), the PNG into this binary field.
    Scan {
        /// Put Output File in Field.
        field: String,
    },
}

/// What a successful answer is read as.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Expect {
    /// A JSON object, handed on unchanged.
    #[default]
    Object,
    /// A QR code (`crate::core::qr`): its JSON and its PNG as a file.
    QrCode {
        /// The binary field the PNG goes into.
        field: String,
        /// The number's alias and phone, as far as the execution knows them.
        names: NumberNames,
    },
}

/// A request about one number, without the number: [`DeviceRequest::plan`] completes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRequest {
    /// What it does.
    pub call: DeviceCall,
    /// JSON body text, for the operations.
    pub body: Option<String>,
    /// Time budget, in milliseconds.
    pub timeout_ms: u32,
    /// Whether refused requests are retried.
    pub retry: bool,
    /// Whether the output says how many attempts it took.
    pub report_attempts: bool,
    /// Whether Wait For Session was on.
    pub wait: bool,
    /// Whether the budget came from the Timeout option.
    pub custom_timeout: bool,
}

impl DeviceRequest {
    /// A read of one number with the automatic budget and read retries: Get, Get QR Code.
    pub fn read(call: DeviceCall) -> DeviceRequest {
        DeviceRequest {
            call,
            body: None,
            timeout_ms: secs_to_ms(DEFAULT_TIMEOUT_SECS as f64),
            retry: true,
            report_attempts: false,
            wait: false,
            custom_timeout: false,
        }
    }

    /// The request for device `id` (`names`: what the execution knows of it).
    pub fn plan(&self, id: &str, names: NumberNames, credentials: &Credentials) -> RequestPlan {
        let (method, path, operation, expect) = match &self.call {
            DeviceCall::Act(operation) => (
                Method::Post,
                format!("/devices/{id}/{}", operation.value()),
                Some(*operation),
                Expect::Object,
            ),
            DeviceCall::Get => (Method::Get, format!("/devices/{id}"), None, Expect::Object),
            DeviceCall::Scan { field } => (
                Method::Get,
                format!("/devices/{id}/scan"),
                None,
                Expect::QrCode {
                    field: field.clone(),
                    names,
                },
            ),
        };
        RequestPlan {
            method,
            url: credentials.base_url.join(&path),
            body: self.body.clone(),
            timeout_ms: self.timeout_ms,
            retry: self.retry,
            report_attempts: self.report_attempts,
            expect,
            context: RequestContext {
                host: credentials.base_url.host().to_string(),
                device: Some(id.to_string()),
                operation,
                wait: self.wait,
                custom_timeout: self.custom_timeout,
                timeout_ms: self.timeout_ms,
            },
        }
    }
}

/// Get Many: how many numbers, and which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPlan {
    /// At most this many numbers (`None`: Return All).
    pub limit: Option<usize>,
    /// Only numbers with one of these `status` values (empty: any).
    pub statuses: Vec<String>,
    /// Only numbers whose `session.status` is one of these (empty: any).
    pub session_statuses: Vec<String>,
}

impl ListPlan {
    /// Whether the filters keep `device`.
    pub fn keeps(&self, device: &Value) -> bool {
        let one_of = |wanted: &[String], value: Option<&Value>| {
            wanted.is_empty()
                || value
                    .and_then(Value::as_str)
                    .is_some_and(|v| wanted.iter().any(|w| w == v))
        };
        one_of(&self.statuses, device.get("status"))
            && one_of(
                &self.session_statuses,
                device.get("session").and_then(|s| s.get("status")),
            )
    }

    /// Whether every page must be read: with a filter, the first `limit` matches can be anywhere.
    pub fn reads_everything(&self) -> bool {
        self.limit.is_none() || !self.statuses.is_empty() || !self.session_statuses.is_empty()
    }
}

/// HTTP method of a planned request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST` with a JSON body.
    Post,
    /// `DELETE` (a webhook of the Webhook Trigger's).
    Delete,
}

impl Method {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

/// What a request is about, for shaping its errors.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestContext {
    /// `host[:port]` of the base URL, for network errors.
    pub host: String,
    /// The device acted on, if any.
    pub device: Option<String>,
    /// The operation carried out, if the request changes something (`None` for reads).
    pub operation: Option<Operation>,
    /// Whether Wait For Session was on.
    pub wait: bool,
    /// Whether the time budget came from the Timeout option.
    pub custom_timeout: bool,
    /// The time budget, in milliseconds, for messages.
    pub timeout_ms: u32,
}

/// A fully validated request, ready for the transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestPlan {
    /// HTTP method.
    pub method: Method,
    /// Absolute URL.
    pub url: String,
    /// JSON body text, for `POST`.
    pub body: Option<String>,
    /// Time budget for the whole exchange (headers and body), in milliseconds; it covers every
    /// attempt and every pause when the request is retried.
    pub timeout_ms: u32,
    /// Whether answers in which SparkBot says it did not act (429, 503), and connections that
    /// could not be made, may be retried.
    pub retry: bool,
    /// Whether the item's output says how many attempts it took (Include Attempt Count).
    pub report_attempts: bool,
    /// What a successful answer is read as.
    pub expect: Expect,
    /// What the request is about.
    pub context: RequestContext,
}

/// Validates one item's parameters into what it asks for. Nothing here needs the network.
pub fn plan_item(item: &RawItem) -> Result<ItemPlan, Error> {
    match parse_resource(item.resource.as_ref())? {
        Resource::Session => {
            if item.operation.as_ref().and_then(Value::as_str) == Some(GET_QR_CODE) {
                return Ok(ItemPlan::Device {
                    target: parse_target(item.device.as_ref())?,
                    request: DeviceRequest::read(DeviceCall::Scan {
                        field: parse_binary_field(item.binary_property.as_ref())?,
                    }),
                });
            }
            let operation = parse_operation(item.operation.as_ref())?;
            let target = parse_target(item.device.as_ref())?;
            let options = parse_options(operation, item.options.as_ref())?;
            let wait = options.is_on("wait");
            let (timeout_secs, custom_timeout) = match options.timeout_secs {
                Some(secs) => (secs, true),
                None => (operation.automatic_timeout_secs(wait) as f64, false),
            };
            Ok(ItemPlan::Device {
                target,
                request: DeviceRequest {
                    call: DeviceCall::Act(operation),
                    body: Some(options.body()),
                    timeout_ms: secs_to_ms(timeout_secs),
                    retry: options.retry,
                    report_attempts: options.report_attempts,
                    wait,
                    custom_timeout,
                },
            })
        }
        Resource::Number => match parse_read_operation(item.operation.as_ref())? {
            ReadOperation::Get => Ok(ItemPlan::Device {
                target: parse_target(item.device.as_ref())?,
                request: DeviceRequest::read(DeviceCall::Get),
            }),
            ReadOperation::GetMany => Ok(ItemPlan::List(parse_list_plan(item)?)),
        },
    }
}

/// Plans the reboot or reset (or get) of one item whose number is given by ID — the plan of
/// version 1 (tests and the fuzzer use it).
pub fn plan_item_request(item: &RawItem, credentials: &Credentials) -> Result<RequestPlan, Error> {
    match plan_item(item)? {
        ItemPlan::Device {
            target: Target::Id(id),
            request,
        } => Ok(request.plan(&id, NumberNames::default(), credentials)),
        _ => Err(Error::invalid_parameter(
            DEVICE.display_name,
            "is not a device ID".to_string(),
        )),
    }
}

/// Plans the request for one page of the device list (`size` devices a page, 1 to 100).
pub fn plan_device_page(page: usize, size: usize, credentials: &Credentials) -> RequestPlan {
    let timeout_ms = secs_to_ms(DEFAULT_TIMEOUT_SECS as f64);
    RequestPlan {
        method: Method::Get,
        url: credentials
            .base_url
            .join(&format!("/devices?page={page}&size={size}")),
        body: None,
        timeout_ms,
        retry: true,
        report_attempts: false,
        expect: Expect::Object,
        context: RequestContext {
            host: credentials.base_url.host().to_string(),
            timeout_ms,
            ..RequestContext::default()
        },
    }
}

fn secs_to_ms(secs: f64) -> u32 {
    // Bounded by MAX_TIMEOUT_SECS, so this never saturates in practice.
    (secs * 1000.0).ceil().clamp(1.0, u32::MAX as f64) as u32
}

fn invalid(field: Field, problem: String) -> Error {
    Error::invalid_parameter(field.display_name, problem)
}

/// The two resources.
enum Resource {
    Session,
    Number,
}

fn parse_resource(resource: Option<&Value>) -> Result<Resource, Error> {
    match resource {
        None | Some(Value::Null) => Ok(Resource::Session),
        Some(Value::String(value)) if value == SESSION_RESOURCE => Ok(Resource::Session),
        Some(Value::String(value)) if value == NUMBER_RESOURCE => Ok(Resource::Number),
        Some(other) => Err(invalid(
            RESOURCE,
            format!(
                "{} is not a known resource; use {SESSION_RESOURCE} or {NUMBER_RESOURCE}",
                describe_value(other)
            ),
        )),
    }
}

fn parse_read_operation(operation: Option<&Value>) -> Result<ReadOperation, Error> {
    let known = ReadOperation::KNOWN_VALUES;
    match operation {
        None | Some(Value::Null) => Err(invalid(OPERATION, format!("is missing; use {known}"))),
        Some(value) => value
            .as_str()
            .and_then(ReadOperation::from_value)
            .ok_or_else(|| {
                invalid(
                    OPERATION,
                    format!(
                        "{} is not an operation of the WhatsApp Number resource; use {known}",
                        describe_value(value)
                    ),
                )
            }),
    }
}

/// Get Many's Return All, Limit and Filters.
fn parse_list_plan(item: &RawItem) -> Result<ListPlan, Error> {
    let return_all = match item.return_all.as_ref().map(coerce::boolean).as_deref() {
        None | Some(Value::Null) => false,
        Some(Value::Bool(flag)) => *flag,
        Some(_) => {
            let other = item.return_all.as_ref().unwrap_or(&Value::Null);
            return Err(invalid(
                RETURN_ALL,
                format!("must be true or false, got {}", describe_value(other)),
            ));
        }
    };
    let limit = if return_all {
        None
    } else {
        Some(match item.limit.as_ref().map(coerce::number).as_deref() {
            None => DEFAULT_LIMIT as usize,
            // n8n gives the default when the field is left alone: null is an expression's.
            Some(Value::Null) => {
                return Err(invalid(
                    LIMIT,
                    "the expression gave no value (null); give a whole number of at least 1, or turn on Return All".into(),
                ))
            }
            Some(Value::Number(number)) => match number.as_u64() {
                Some(n) if n >= 1 => usize::try_from(n).unwrap_or(usize::MAX),
                _ => {
                    return Err(invalid(
                        LIMIT,
                        format!(
                            "{} is not a whole number of at least 1",
                            number_text(number)
                        ),
                    ))
                }
            },
            Some(_) => {
                return Err(invalid(
                    LIMIT,
                    format!(
                        "must be a whole number of at least 1, got {}",
                        describe_value(item.limit.as_ref().unwrap_or(&Value::Null))
                    ),
                ))
            }
        })
    };
    let empty = Map::new();
    let filters = match item.filters.as_ref() {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(map)) => map,
        Some(other) => {
            return Err(invalid(
                FILTERS,
                format!(
                    "must be a collection of filters, got {}",
                    describe_value(other)
                ),
            ))
        }
    };
    Ok(ListPlan {
        limit,
        statuses: parse_choices(
            filters.get(STATUS_FILTER.name),
            STATUS_FILTER,
            &NUMBER_STATUSES,
        )?,
        session_statuses: parse_choices(
            filters.get(SESSION_STATUS_FILTER.name),
            SESSION_STATUS_FILTER,
            &SESSION_STATUSES,
        )?,
    })
}

/// A multi-choice filter: a list of known values (or one value, from an expression).
pub fn parse_choices(
    value: Option<&Value>,
    field: Field,
    known: &[&str],
) -> Result<Vec<String>, Error> {
    let items: Vec<&Value> = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one) => vec![one],
    };
    items
        .into_iter()
        .map(|item| match item.as_str() {
            Some(choice) if known.contains(&choice) => Ok(choice.to_string()),
            _ => Err(invalid(
                field,
                format!("{} is not one of {}", describe_value(item), join_or(known)),
            )),
        })
        .collect()
}

/// `a, b or c`.
fn join_or(words: &[&str]) -> String {
    let mut text = String::new();
    for (index, word) in words.iter().enumerate() {
        if index > 0 {
            text.push_str(if index + 1 == words.len() {
                " or "
            } else {
                ", "
            });
        }
        text.push_str(word);
    }
    text
}

fn parse_operation(operation: Option<&Value>) -> Result<Operation, Error> {
    let known = Operation::KNOWN_VALUES;
    let value = match operation {
        None | Some(Value::Null) => {
            return Err(invalid(OPERATION, format!("is missing; use {known}")))
        }
        Some(Value::String(value)) if value == CUSTOM_API_CALL => {
            return Err(invalid(
                OPERATION,
                "Custom API Call is not run by this node; for a call the node does not offer, use an HTTP Request node with Authentication: Predefined Credential Type and Credential Type: SparkBot API"
                    .to_string(),
            ))
        }
        Some(value) => value,
    };
    value
        .as_str()
        .and_then(Operation::from_value)
        .ok_or_else(|| {
            invalid(
                OPERATION,
                format!(
                    "{} is not a known operation; use {known}",
                    describe_value(value)
                ),
            )
        })
}

/// Checks that `value` is a device ID: exactly 24 lowercase hexadecimal characters. This also
/// keeps anything that could change the URL (`/`, `..`, `?`, `#`, `%`, white space, control
/// characters) out of the request path.
pub fn is_device_id(value: &str) -> bool {
    value.len() == DEVICE_ID_LEN
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Whether `value` looks like a phone number someone typed: an optional `+`, then 7 to 15
/// digits, with the spaces, dots, dashes and parentheses people write between them.
fn looks_like_phone(value: &str) -> bool {
    let rest = value.strip_prefix('+').unwrap_or(value);
    let digits = rest.bytes().filter(u8::is_ascii_digit).count();
    (7..=15).contains(&digits)
        && rest
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b' ' | b'-' | b'.' | b'(' | b')'))
}

/// Reads the WhatsApp Number: version 1's text (a device ID), or version 2's resource locator
/// (`{ __rl, mode, value }`: From List and By ID give a device ID, By Phone a phone).
fn parse_target(device: Option<&Value>) -> Result<Target, Error> {
    match device {
        Some(Value::Object(locator)) => {
            let value = locator.get("value");
            match locator.get("mode").and_then(Value::as_str) {
                Some("phone") => parse_phone(value).map(Target::Phone),
                Some("list") | Some("id") | None => parse_device(value, true).map(Target::Id),
                Some(other) => Err(invalid(
                    DEVICE,
                    format!(
                        "{} is not a way to pick a number; use From List, By ID or Phone",
                        describe_value(&Value::String(other.to_string()))
                    ),
                )),
            }
        }
        other => parse_device(other, false).map(Target::Id),
    }
}

/// The separators people write inside phone numbers: spaces, hyphens, dots, parentheses, slashes.
const PHONE_SEPARATORS: [char; 6] = [' ', '-', '.', '(', ')', '/'];

/// Reads a phone number for By Phone: E.164, a `+` and 8 to 15 digits, written with or
/// without the usual separators (`+1 (415) 555-0100` is `+14155550100`).
fn parse_phone(value: Option<&Value>) -> Result<String, Error> {
    let bad = |problem: String| Err(invalid(DEVICE, problem));
    let given = match value {
        None | Some(Value::Null) => {
            return bad("is empty; give a phone number such as +14155550100".into())
        }
        Some(Value::String(text)) => text,
        Some(other) => {
            return bad(format!(
                "must be a phone number (text), got {}",
                describe_value(other)
            ))
        }
    };
    let written = given.trim();
    if written.is_empty() {
        return bad("is empty; give a phone number such as +14155550100".into());
    }
    let phone: String = written
        .chars()
        .filter(|c| !c.is_whitespace() && !PHONE_SEPARATORS.contains(c))
        .collect();
    let digits = phone.strip_prefix('+').unwrap_or_default();
    if (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(phone);
    }
    let quoted = describe_value(&Value::String(given.clone()));
    if is_device_id(written) {
        return bad(format!(
            "{quoted} is a device ID, not a phone number; switch the WhatsApp Number to By ID"
        ));
    }
    let hint = if !phone.starts_with('+') && phone.bytes().all(|b| b.is_ascii_digit()) {
        " — add + and the country code"
    } else {
        ""
    };
    bad(format!(
        "{quoted} is not a phone number in international format: a + and 8 to 15 digits, e.g. +14155550100 or +1 415 555 0100{hint}"
    ))
}

/// Reads a device ID, with white space around it ignored (as an expression easily adds). The
/// message quotes the value exactly as given; `by_locator`: it came from version 2's picker,
/// whose By Phone mode a phone number belongs in.
fn parse_device(device: Option<&Value>, by_locator: bool) -> Result<String, Error> {
    const EMPTY: &str = "is empty; choose a number from the list, or give its device ID";
    const ID_SHAPE: &str =
        "a device ID is 24 lowercase hexadecimal characters, e.g. 6523a1f0c2d4e5f60718293a";
    let bad = |problem: String| Err(invalid(DEVICE, problem));
    let given = match device {
        None | Some(Value::Null) => return bad(EMPTY.into()),
        Some(Value::String(text)) => text,
        Some(other) => {
            return bad(format!(
                "must be a device ID (text), got {}",
                describe_value(other)
            ))
        }
    };
    let id = given.trim();
    if is_device_id(id) {
        return Ok(id.to_string());
    }
    let shown = describe_value(&Value::String(given.clone()));
    if id.is_empty() {
        bad(EMPTY.into())
    } else if looks_like_phone(id) && by_locator {
        bad(format!(
            "{shown} looks like a phone number, not a device ID; pick the number in the Phone mode instead, or give its device ID ({ID_SHAPE})"
        ))
    } else if looks_like_phone(id) {
        bad(format!(
            "{shown} looks like a phone number, not a device ID; {ID_SHAPE}. Pick the number from the list, or map the id field of a device object (e.g. {{{{ $json.id }}}})"
        ))
    } else if is_device_id(&id.to_ascii_lowercase()) {
        bad(format!(
            "{shown} is not a device ID: device IDs are lower case; {ID_SHAPE}"
        ))
    } else {
        bad(format!("{shown} is not a device ID; {ID_SHAPE}"))
    }
}

/// How many items a node execution sends at once: the Concurrency option of the first item (it
/// applies to the whole run, not to an item). Absent means 1, one after another.
pub fn parse_concurrency(options: Option<&Value>) -> Result<usize, Error> {
    let value = match options {
        Some(Value::Object(map)) => map.get(CONCURRENCY.name),
        _ => None,
    };
    let expected = format!("a whole number from 1 to {MAX_CONCURRENCY}");
    match value.map(coerce::number).as_deref() {
        None | Some(Value::Null) => Ok(1),
        Some(Value::Number(number)) => match (number.as_u64(), number.as_f64()) {
            (Some(n @ 1..=MAX_CONCURRENCY), _) => Ok(n as usize),
            (None, Some(n)) if n.fract() != 0.0 => Err(invalid(
                CONCURRENCY,
                format!("{} is not a whole number; use {expected}", float_text(n)),
            )),
            _ => Err(invalid(
                CONCURRENCY,
                format!("{} is out of range; use {expected}", number_text(number)),
            )),
        },
        Some(_) => Err(invalid(
            CONCURRENCY,
            format!(
                "must be {expected}, got {}",
                describe_value(value.unwrap_or(&Value::Null))
            ),
        )),
    }
}

/// The operation's options, mapped onto the request body.
struct ParsedOptions {
    /// Every body field of the operation (wire name, value), in the operation's order.
    fields: Vec<(&'static str, bool)>,
    timeout_secs: Option<f64>,
    retry: bool,
    report_attempts: bool,
}

impl ParsedOptions {
    fn is_on(&self, wire_field: &str) -> bool {
        self.fields
            .iter()
            .any(|&(field, on)| field == wire_field && on)
    }

    /// The request body: every field of the operation, e.g. `{"force":false,"sync":true,"wait":false}`.
    /// The names are fixed identifiers and the values booleans, so nothing needs escaping.
    fn body(&self) -> String {
        let mut body = String::from("{");
        for (index, (field, on)) in self.fields.iter().enumerate() {
            if index > 0 {
                body.push(',');
            }
            body.push_str(&format!("\"{field}\":{on}"));
        }
        body.push('}');
        body
    }
}

fn parse_options(operation: Operation, options: Option<&Value>) -> Result<ParsedOptions, Error> {
    let empty = Map::new();
    let given = match options {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(map)) => map,
        Some(other) => {
            return Err(invalid(
                OPTIONS,
                format!(
                    "must be a collection of options, got {}",
                    describe_value(other)
                ),
            ))
        }
    };
    let flag = |name: &str, display_name: &str, default: bool| match given
        .get(name)
        .map(coerce::boolean)
        .as_deref()
    {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(value)) => Ok(*value),
        Some(_) => Err(Error::invalid_parameter(
            display_name,
            format!(
                "must be true or false, got {}",
                describe_value(given.get(name).unwrap_or(&Value::Null))
            ),
        )),
    };
    let mut fields = Vec::with_capacity(operation.options().len());
    for option in operation.options() {
        fields.push((
            option.wire_field,
            flag(option.field.name, option.field.display_name, false)?,
        ));
    }
    let retry = flag(RETRY.name, RETRY.display_name, true)?;
    let report_attempts = flag(INCLUDE_ATTEMPTS.name, INCLUDE_ATTEMPTS.display_name, false)?;
    let timeout_secs = match given.get(TIMEOUT.name).map(coerce::number).as_deref() {
        None | Some(Value::Null) => None,
        Some(Value::Number(number)) => match number.as_f64() {
            Some(0.0) => None,
            Some(secs) if secs > 0.0 && secs <= MAX_TIMEOUT_SECS as f64 => Some(secs),
            _ => {
                return Err(invalid(
                    TIMEOUT,
                    format!(
                        "{} is out of range; use 0 (automatic) or a number of seconds up to {MAX_TIMEOUT_SECS}",
                        number_text(number)
                    ),
                ))
            }
        },
        Some(_) => {
            return Err(invalid(
                TIMEOUT,
                format!(
                    "must be a number of seconds, got {}",
                    describe_value(given.get(TIMEOUT.name).unwrap_or(&Value::Null))
                ),
            ))
        }
    };
    Ok(ParsedOptions {
        fields,
        timeout_secs,
        retry,
        report_attempts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::fake::credentials as creds;
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
        assert_eq!(err.kind(), crate::core::error::ErrorKind::Operation);
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
}
