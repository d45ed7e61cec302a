//! Node parameters → a validated request plan.
//!
//! Everything here happens before a request is sent: a bad parameter becomes an
//! [`Error::InvalidParameter`] that names the field and quotes the value, and nothing goes on the
//! wire.

use serde_json::{Map, Value};

use crate::coerce;
use crate::credentials::Credentials;
use crate::error::Error;
use crate::operation::GET_QR_CODE;
use crate::operation::{
    Field, Operation, ReadOperation, CONCURRENCY, CUSTOM_API_CALL, DEFAULT_LIMIT,
    DEFAULT_TIMEOUT_SECS, DEVICE, FILTERS, INCLUDE_ATTEMPTS, LIMIT, MAX_CONCURRENCY,
    MAX_TIMEOUT_SECS, NUMBER_RESOURCE, NUMBER_STATUSES, OPERATION, OPTIONS, RESOURCE, RETRY,
    RETURN_ALL, SESSION_RESOURCE, SESSION_STATUSES, SESSION_STATUS_FILTER, STATUS_FILTER, TIMEOUT,
};
use crate::qr::{parse_binary_field, NumberNames};
use crate::text::{describe_value, float_text, number_text};

mod list;
mod options;
mod request;
mod resource;
mod target;
#[cfg(test)]
mod tests;

pub use list::parse_choices;
pub use options::parse_concurrency;
pub use request::{plan_device_page, Method, RequestContext, RequestPlan, DEVICE_PAGE_SIZE};
pub use target::{is_device_id, DEVICE_ID_LEN};

use list::parse_list_plan;
use options::parse_options;
use request::secs_to_ms;
use resource::{parse_operation, parse_read_operation, parse_resource, Resource};
use target::parse_target;

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
    /// A QR code (`crate::qr`): its JSON and its PNG as a file.
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

fn invalid(field: Field, problem: String) -> Error {
    Error::invalid_parameter(field.display_name, problem)
}
