//! The one error type of the node.
//!
//! Every failure — bad input, an HTTP error from SparkBot, a network fault, a timeout — is one
//! [`Error`] variant. Each variant knows its stable [`Error::code`], whether n8n should see it as an
//! input problem or an API problem ([`ErrorKind`]), its HTTP status, and the message and
//! description a user reads. The wasm boundary turns it into a JS `Error` in exactly one place.

use std::fmt;

use crate::operation::Operation;
use crate::text::{redact, seconds_text, sentence};

/// Which n8n error class an [`Error`] becomes in the shim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A problem with the node's input or credential, found before any request is sent
    /// (`NodeOperationError`).
    Operation,
    /// A problem reported by, or met while talking to, the SparkBot API (`NodeApiError`).
    Api,
}

/// What a `409 Conflict` from SparkBot meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictReason {
    /// `session_busy`: another reboot or reset of the device is in progress.
    Busy,
    /// `session_stopped`: a reboot without Force Reboot on a stopped session.
    Stopped,
    /// `scan_not_needed`: Get QR Code on a session that does not wait for a scan.
    ScanNotNeeded,
    /// Any other 409.
    Other,
}

/// Who gave up waiting: SparkBot (`504 session_timeout`) or this node (its time budget ran out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutSource {
    /// SparkBot answered `504 session_timeout`.
    Service,
    /// The node aborted the request when its time budget ran out.
    Client,
}

/// Why the credential's Allowed HTTP Request Domains refuse a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotAllowed {
    /// Specific Domains, and the Base URL's host is not among them.
    Domain {
        /// `host[:port]` of the Base URL.
        host: String,
        /// The list, as written in the credential.
        allowed: String,
    },
    /// Specific Domains with an empty list.
    NoDomains,
    /// None: the credential may not send requests from this node.
    Blocked,
}

/// What went wrong in a TLS handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsProblem {
    /// The certificate chain ends at a CA this n8n does not trust (an internal CA, a
    /// self-signed certificate).
    Untrusted,
    /// The certificate has expired or is not valid yet.
    Expired,
    /// The certificate is for another host name.
    WrongHost,
    /// The handshake itself failed (e.g. `https://` to a server that speaks plain HTTP).
    Handshake,
}

/// Every way a node run can fail.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// A node parameter is missing or has a wrong value or type.
    InvalidParameter {
        /// The parameter's display name, as the user sees it in the node.
        field: String,
        /// What is wrong, naming the bad value where that is safe.
        problem: String,
    },
    /// The SparkBot credential is incomplete or malformed.
    InvalidCredential {
        /// The credential field's display name.
        field: &'static str,
        /// What is wrong (never the secret itself).
        problem: String,
    },
    /// `401`: the API key was refused.
    Unauthorized,
    /// `403`: the key may not manage the device.
    Forbidden {
        /// The device acted on, if any.
        device: Option<String>,
        /// The service's own message, sanitized.
        service_message: Option<String>,
    },
    /// `404 device_not_found`: no such device in the account.
    DeviceNotFound {
        /// The device ID that was asked for.
        device: String,
    },
    /// By Phone: no number of the account has this phone. Nothing was sent for the item.
    PhoneNotFound {
        /// The phone number asked for.
        phone: String,
    },
    /// A `404` that is not SparkBot's `device_not_found`: nothing answers at that address, so the
    /// Base URL is most likely wrong (no `/v1`, a path too many, a web page).
    EndpointNotFound {
        /// The service's message, or a description of the body.
        detail: String,
    },
    /// `409`: the session cannot be acted on right now.
    Conflict {
        /// Why.
        reason: ConflictReason,
        /// The device acted on.
        device: String,
        /// The service's own message, sanitized.
        service_message: Option<String>,
    },
    /// `504 session_timeout`, or the node's time budget ran out.
    Timeout {
        /// Who gave up.
        source: TimeoutSource,
        /// Milliseconds that passed between sending the request and giving up.
        waited_ms: u64,
        /// Whether Wait For Session was on.
        wait_requested: bool,
        /// Whether the budget came from the user's Timeout option.
        custom_timeout: bool,
        /// The operation the request carried (`None` for a read).
        operation: Option<Operation>,
    },
    /// `429`: too many requests.
    RateLimited {
        /// Seconds to wait, from `Retry-After`.
        retry_after_secs: Option<u64>,
        /// The service's own message, sanitized.
        service_message: Option<String>,
        /// Set when no (further) retry was made because `Retry-After` ends after the item's
        /// time budget: that budget, in milliseconds.
        beyond_timeout_ms: Option<u32>,
    },
    /// The item was never sent: SparkBot had asked every request of the run to pause (a `429` or
    /// `503` with `Retry-After` to another item) for longer than this item's time budget.
    PausedPastTimeout {
        /// The seconds of pause that were left.
        pause_secs: u64,
        /// The item's time budget, in milliseconds.
        timeout_ms: u32,
    },
    /// `400`: SparkBot rejected the request as malformed.
    BadRequest {
        /// The service's own message, sanitized.
        service_message: Option<String>,
    },
    /// `5xx` or any other unexpected status.
    Service {
        /// The HTTP status.
        status: u16,
        /// The service's message, or a description of the body when it was not the contract's
        /// JSON error (HTML page, empty body).
        detail: String,
    },
    /// The request got no HTTP answer: DNS, TCP, TLS or a dropped connection.
    Network {
        /// `host[:port]` of the base URL.
        host: String,
        /// A readable cause, e.g. "connection refused".
        cause: String,
        /// The low-level error as reported by the runtime, for the description.
        detail: Option<String>,
        /// Set when the connection failed after the request may have reached SparkBot: the
        /// operation it carried, which SparkBot may still carry out.
        maybe_carried_out: Option<Operation>,
        /// Whether SparkBot had begun to answer: the connection broke while its answer was read.
        during_body: bool,
    },
    /// A `2xx` answer whose body is not what the contract promises, or an answer too large to
    /// read.
    InvalidResponse {
        /// What was wrong with it.
        problem: String,
    },
    /// The execution was stopped in n8n while the item's request was pending or in flight.
    Cancelled,
    /// The credential's Allowed HTTP Request Domains refuse the Base URL. Nothing was sent.
    NotAllowed(NotAllowed),
    /// The TLS connection to SparkBot could not be set up. Nothing was sent.
    Tls {
        /// `host[:port]` of the base URL.
        host: String,
        /// What went wrong.
        problem: TlsProblem,
        /// The runtime's code, e.g. `UNABLE_TO_VERIFY_LEAF_SIGNATURE`.
        code: String,
    },
    /// SparkBot Trigger's test run found nothing to show: no pending change, and no watched
    /// number in a watched status (it makes none up: the next nodes would act on it).
    NoTestEvent {
        /// The Session Status filter (empty: every status).
        statuses: Vec<String>,
        /// How many numbers the Numbers filter names (0: every number).
        numbers: usize,
    },
    /// The HTTP proxy n8n sends requests through (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`)
    /// refused the request or could not pass it on.
    Proxy {
        /// `host[:port]` of the base URL.
        host: String,
        /// The proxy's HTTP status.
        status: u16,
        /// The proxy's `Proxy-Authenticate` challenge (on `407`).
        challenge: Option<String>,
        /// The proxy's own name, from its `Via` header.
        via: Option<String>,
        /// The operation the request carried, when the proxy may have passed it on before it
        /// failed (any status but `407`).
        maybe_carried_out: Option<Operation>,
    },
    /// n8n could not resolve the item's parameters (an expression failed): its own message and
    /// description, passed on unchanged. Nothing was sent for the item.
    Unresolved {
        /// n8n's message.
        message: String,
        /// n8n's description, if it gave one.
        description: Option<String>,
    },
}

/// Every code an error carries across the boundary, with its kind: the core's, and the two the
/// shim's loader gives itself (the module could not start; it trapped). Written into
/// `node-descriptor/core-contract.ts` as the shim's type of a code.
pub const CODES: [(&str, ErrorKind); 24] = [
    ("SPARKBOT_INVALID_PARAMETER", ErrorKind::Operation),
    ("SPARKBOT_INVALID_CREDENTIAL", ErrorKind::Operation),
    ("SPARKBOT_PHONE_NOT_FOUND", ErrorKind::Operation),
    ("SPARKBOT_DOMAIN_NOT_ALLOWED", ErrorKind::Operation),
    ("SPARKBOT_NO_TEST_EVENT", ErrorKind::Operation),
    ("SPARKBOT_CANCELLED", ErrorKind::Operation),
    ("SPARKBOT_UNAUTHORIZED", ErrorKind::Api),
    ("SPARKBOT_FORBIDDEN", ErrorKind::Api),
    ("SPARKBOT_DEVICE_NOT_FOUND", ErrorKind::Api),
    ("SPARKBOT_ENDPOINT_NOT_FOUND", ErrorKind::Api),
    ("SPARKBOT_SESSION_BUSY", ErrorKind::Api),
    ("SPARKBOT_SESSION_STOPPED", ErrorKind::Api),
    ("SPARKBOT_SCAN_NOT_NEEDED", ErrorKind::Api),
    ("SPARKBOT_CONFLICT", ErrorKind::Api),
    ("SPARKBOT_TIMEOUT", ErrorKind::Api),
    ("SPARKBOT_RATE_LIMITED", ErrorKind::Api),
    ("SPARKBOT_BAD_REQUEST", ErrorKind::Api),
    ("SPARKBOT_SERVICE_ERROR", ErrorKind::Api),
    ("SPARKBOT_NETWORK_ERROR", ErrorKind::Api),
    ("SPARKBOT_INVALID_RESPONSE", ErrorKind::Api),
    ("SPARKBOT_TLS_ERROR", ErrorKind::Api),
    ("SPARKBOT_PROXY_ERROR", ErrorKind::Api),
    ("SPARKBOT_CORE_UNAVAILABLE", ErrorKind::Operation),
    ("SPARKBOT_CORE_CRASHED", ErrorKind::Operation),
];

/// An error as the node reports it across the boundary: plain data, the one contract the shim
/// reads (`CoreFailure` in `node-descriptor/core-contract.ts`), with the API key removed from
/// every text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The stable code, one of [`CODES`].
    pub code: &'static str,
    /// Whether it is a problem of the input (`NodeOperationError`) or of the API
    /// (`NodeApiError`).
    pub kind: ErrorKind,
    /// The one-line message, with how many attempts it took when there were several.
    pub message: String,
    /// What it means and what to do, with how many requests were made.
    pub description: String,
    /// The HTTP status behind it, where there is one.
    pub http_code: Option<u16>,
    /// Requests made for the item (0 when none was sent).
    pub attempts: u32,
    /// The item a run without continue-on-fail fails with.
    pub item_index: Option<usize>,
}

impl ErrorKind {
    /// The kind as the contract spells it: `operation` or `api`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Operation => "operation",
            ErrorKind::Api => "api",
        }
    }
}

impl Error {
    /// The error as the boundary reports it, after `attempts` requests, with `secret` removed
    /// from its texts.
    pub fn report(&self, attempts: u32, secret: Option<&str>) -> Report {
        let clean = |text: String| match secret {
            Some(secret) => redact(&text, secret),
            None => text,
        };
        Report {
            code: self.code(),
            kind: self.kind(),
            message: clean(self.message_after(attempts)),
            description: clean(self.description_after(attempts)),
            http_code: self.http_code(),
            attempts,
            item_index: None,
        }
    }

    /// Shorthand for [`Error::InvalidParameter`].
    pub fn invalid_parameter(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Error::InvalidParameter {
            field: field.into(),
            problem: problem.into(),
        }
    }

    /// The stable machine-readable code, for `err.code` on the JS side.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidParameter { .. } | Error::Unresolved { .. } => {
                "SPARKBOT_INVALID_PARAMETER"
            }
            Error::InvalidCredential { .. } => "SPARKBOT_INVALID_CREDENTIAL",
            Error::Unauthorized => "SPARKBOT_UNAUTHORIZED",
            Error::Forbidden { .. } => "SPARKBOT_FORBIDDEN",
            Error::DeviceNotFound { .. } => "SPARKBOT_DEVICE_NOT_FOUND",
            Error::PhoneNotFound { .. } => "SPARKBOT_PHONE_NOT_FOUND",
            Error::EndpointNotFound { .. } => "SPARKBOT_ENDPOINT_NOT_FOUND",
            Error::Conflict {
                reason: ConflictReason::Busy,
                ..
            } => "SPARKBOT_SESSION_BUSY",
            Error::Conflict {
                reason: ConflictReason::Stopped,
                ..
            } => "SPARKBOT_SESSION_STOPPED",
            Error::Conflict {
                reason: ConflictReason::ScanNotNeeded,
                ..
            } => "SPARKBOT_SCAN_NOT_NEEDED",
            Error::Conflict { .. } => "SPARKBOT_CONFLICT",
            Error::Timeout { .. } => "SPARKBOT_TIMEOUT",
            Error::RateLimited { .. } | Error::PausedPastTimeout { .. } => "SPARKBOT_RATE_LIMITED",
            Error::BadRequest { .. } => "SPARKBOT_BAD_REQUEST",
            Error::Service { .. } => "SPARKBOT_SERVICE_ERROR",
            Error::Network { .. } => "SPARKBOT_NETWORK_ERROR",
            Error::InvalidResponse { .. } => "SPARKBOT_INVALID_RESPONSE",
            Error::Cancelled => "SPARKBOT_CANCELLED",
            Error::NotAllowed(_) => "SPARKBOT_DOMAIN_NOT_ALLOWED",
            Error::Tls { .. } => "SPARKBOT_TLS_ERROR",
            Error::Proxy { .. } => "SPARKBOT_PROXY_ERROR",
            Error::NoTestEvent { .. } => "SPARKBOT_NO_TEST_EVENT",
        }
    }

    /// Whether this is an input problem or an API problem.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidParameter { .. }
            | Error::Unresolved { .. }
            | Error::InvalidCredential { .. }
            | Error::PhoneNotFound { .. }
            | Error::NotAllowed(_)
            | Error::NoTestEvent { .. }
            | Error::Cancelled => ErrorKind::Operation,
            _ => ErrorKind::Api,
        }
    }

    /// The HTTP status behind the error, where there is one.
    pub fn http_code(&self) -> Option<u16> {
        match self {
            Error::Unauthorized => Some(401),
            Error::Forbidden { .. } => Some(403),
            Error::DeviceNotFound { .. } | Error::EndpointNotFound { .. } => Some(404),
            Error::Conflict { .. } => Some(409),
            Error::Timeout {
                source: TimeoutSource::Service,
                ..
            } => Some(504),
            Error::RateLimited { .. } | Error::PausedPastTimeout { .. } => Some(429),
            Error::BadRequest { .. } => Some(400),
            Error::Service { status, .. } | Error::Proxy { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The one-line message: what went wrong.
    pub fn message(&self) -> String {
        match self {
            Error::InvalidParameter { field, problem } => format!("{field}: {problem}"),
            Error::Unresolved { message, .. } => message.clone(),
            Error::InvalidCredential { field, problem } => {
                format!("SparkBot credential, {field}: {problem}")
            }
            Error::Unauthorized => {
                "Authentication failed: check the API key of the SparkBot credential".to_string()
            }
            Error::Forbidden { device, .. } => match device {
                Some(device) => format!("The API key may not manage the WhatsApp number {device}"),
                None => "The API key may not perform this request".to_string(),
            },
            Error::DeviceNotFound { device } => {
                format!("Device {device} not found in this SparkBot account")
            }
            Error::PhoneNotFound { phone } => {
                format!("WhatsApp Number: no number of this SparkBot account has the phone {phone}")
            }
            Error::EndpointNotFound { detail } => format!(
                "The SparkBot API answered 404 at this address: {detail}; check the Base URL of the credential"
            ),
            Error::Conflict {
                reason,
                device,
                service_message,
            } => match (service_message, reason) {
                (Some(text), ConflictReason::ScanNotNeeded) => {
                    format!("Nothing to scan for WhatsApp number {device}: {text}")
                }
                (None, ConflictReason::ScanNotNeeded) => format!(
                    "Nothing to scan for WhatsApp number {device}: its session is not waiting for a QR scan"
                ),
                (Some(text), _) => text.clone(),
                (None, ConflictReason::Busy) => {
                    format!("Another reboot or reset of device {device} is in progress")
                }
                (None, ConflictReason::Stopped) => {
                    format!("The WhatsApp session of device {device} is stopped")
                }
                (None, ConflictReason::Other) => {
                    format!("SparkBot refused to act on device {device} (conflict)")
                }
            },
            Error::Timeout {
                source,
                waited_ms,
                wait_requested,
                ..
            } => {
                let waited = seconds_text(*waited_ms);
                match (source, wait_requested) {
                    (TimeoutSource::Service, _) => format!(
                        "Timed out waiting for the WhatsApp session: SparkBot gave up after {waited}"
                    ),
                    (TimeoutSource::Client, true) => format!(
                        "Timed out waiting for the WhatsApp session: no answer from SparkBot after {waited}"
                    ),
                    (TimeoutSource::Client, false) => {
                        format!("Timed out: no answer from SparkBot after {waited}")
                    }
                }
            }
            Error::RateLimited {
                service_message,
                retry_after_secs,
                beyond_timeout_ms,
            } => {
                let mut text = match service_message {
                    Some(text) => format!("Rate limited by SparkBot: {text}"),
                    None => "Rate limited by SparkBot: too many requests".to_string(),
                };
                if let (Some(secs), Some(timeout_ms)) = (retry_after_secs, beyond_timeout_ms) {
                    text.push_str(&format!(
                        " (no retry: Retry-After {secs} s is longer than the Timeout of {} allows)",
                        seconds_text(u64::from(*timeout_ms))
                    ));
                }
                text
            }
            Error::PausedPastTimeout {
                pause_secs,
                timeout_ms,
            } => format!(
                "Rate limited by SparkBot: not sent, because SparkBot asked every request to wait {pause_secs} s (Retry-After), longer than the Timeout of {} allows",
                seconds_text(u64::from(*timeout_ms))
            ),
            Error::BadRequest { service_message } => match service_message {
                Some(text) => format!("SparkBot rejected the request: {text}"),
                None => "SparkBot rejected the request as invalid".to_string(),
            },
            Error::Service { status, detail } => {
                format!("The SparkBot API answered {status}: {detail}")
            }
            Error::Network {
                host,
                cause,
                during_body: true,
                ..
            } => format!("The answer of the SparkBot API at {host} broke off: {cause}"),
            Error::Network { host, cause, .. } => {
                format!("Could not reach the SparkBot API at {host}: {cause}")
            }
            Error::InvalidResponse { problem } => {
                format!("Invalid response from the SparkBot API: {problem}")
            }
            Error::Cancelled => "The execution was cancelled before SparkBot answered".to_string(),
            // n8n's own words (n8n-workflow's credential domain restrictions).
            Error::NotAllowed(NotAllowed::Domain { host, allowed }) => format!(
                "Domain not allowed: This credential is restricted from accessing {host}. Only the following domains are allowed: {allowed}"
            ),
            Error::NotAllowed(NotAllowed::NoDomains) => {
                "No allowed domains specified. Configure allowed domains or change restriction setting."
                    .to_string()
            }
            Error::NotAllowed(NotAllowed::Blocked) => {
                "This credential is configured to prevent use within a SparkBot node".to_string()
            }
            Error::NoTestEvent { statuses, numbers } => {
                let which = match numbers {
                    0 => "no number",
                    1 => "the watched number is not",
                    _ => "none of the watched numbers",
                };
                let verb = if *numbers == 1 { "" } else { " is" };
                match statuses.as_slice() {
                    [] => format!(
                        "No test event: {which}{verb} in the account, and no session changed since the last poll"
                    ),
                    statuses => format!(
                        "No test event: {which}{verb} {} right now, and no session changed since the last poll",
                        or_list(statuses)
                    ),
                }
            }
            Error::Tls { host, problem, code } => {
                let what = match problem {
                    TlsProblem::Untrusted => "its TLS certificate is not trusted",
                    TlsProblem::Expired => "its TLS certificate has expired or is not valid yet",
                    TlsProblem::WrongHost => "its TLS certificate is for another host name",
                    TlsProblem::Handshake => "the TLS handshake failed",
                };
                format!("Could not reach the SparkBot API at {host}: {what} ({code})")
            }
            Error::Proxy {
                host, status, via, ..
            } => {
                let proxy = match via {
                    Some(via) => format!("The proxy between n8n and SparkBot ({via})"),
                    None => "The proxy between n8n and SparkBot".to_string(),
                };
                match status {
                    407 => format!(
                        "{proxy} refused the request to {host}: 407 Proxy Authentication Required"
                    ),
                    status => format!("{proxy} could not pass the request on to {host}: it answered {status}"),
                }
            }
        }
    }

    /// The longer hint: what to do about it.
    pub fn description(&self) -> String {
        match self {
            Error::Unresolved { description, .. } => description.clone().unwrap_or_default(),
            Error::InvalidParameter { .. } => {
                "Fix the parameter in the node (or the expression that fills it). No request was sent."
                    .to_string()
            }
            Error::InvalidCredential { .. } => {
                "Open the SparkBot API credential and correct it. No request was sent.".to_string()
            }
            Error::Unauthorized => {
                "SparkBot answered 401 Unauthorized. Copy the API key again from your SparkBot account into the credential, and make sure its Base URL points at the right deployment."
                    .to_string()
            }
            Error::Forbidden {
                service_message, ..
            } => with_service_message(
                "SparkBot answered 403 Forbidden: the API key is valid but its plan or permissions do not cover this number. Use a key of the account that owns the number, or upgrade its permissions.",
                service_message,
            ),
            Error::DeviceNotFound { .. } => {
                "SparkBot answered 404 device_not_found: no device with this ID exists in the account of the API key. Pick the number from the WhatsApp Number list, or check the ID your expression produces."
                    .to_string()
            }
            Error::PhoneNotFound { .. } => {
                "The account's numbers were read and none has this phone. Check the phone number (international format, e.g. +14155550100), or pick the number From List. Nothing was sent for this item."
                    .to_string()
            }
            Error::EndpointNotFound { .. } => {
                "Whatever answers at the Base URL has no such endpoint, so the Base URL of the SparkBot credential is probably wrong: it must be the API's address ending with the version, e.g. https://api.sparkbot.io/v1 (not …/v1/devices, not the web app's address)."
                    .to_string()
            }
            Error::Conflict { reason, .. } => match reason {
                ConflictReason::Stopped => {
                    "The session is stopped, so a plain reboot is refused (409 session_stopped). Turn on the Force Reboot option to reboot it anyway."
                        .to_string()
                }
                ConflictReason::Busy => {
                    "Another reboot or reset of this number is still running (409 session_busy), e.g. one started moments ago without Wait For Session. Wait until it has finished, then run the node again; or turn on Wait For Session so that each run returns only once the number is available."
                        .to_string()
                }
                ConflictReason::ScanNotNeeded => {
                    "SparkBot answered 409 scan_not_needed: a QR code exists only while the session waits for a scan (session status authorize), and this one is in another status. Check it with Get; a session that is offline or timed out comes back with Reboot Session."
                        .to_string()
                }
                ConflictReason::Other => {
                    "SparkBot answered 409 Conflict. Check the number's state in SparkBot, then try again."
                        .to_string()
                }
            },
            Error::Timeout {
                source,
                waited_ms,
                wait_requested,
                custom_timeout,
                operation,
            } => timeout_description(
                *source,
                *waited_ms,
                *wait_requested,
                *custom_timeout,
                *operation,
            ),
            Error::RateLimited {
                retry_after_secs, ..
            } => match retry_after_secs {
                Some(secs) => format!(
                    "SparkBot answered 429 Too Many Requests. Wait {secs} s before trying again, or send fewer requests at once."
                ),
                None => "SparkBot answered 429 Too Many Requests. Wait a little before trying again, or send fewer requests at once."
                    .to_string(),
            },
            Error::PausedPastTimeout { pause_secs, .. } => format!(
                "Another request of this run was answered with a pause of {pause_secs} s (429 or 503 with Retry-After); every request waits such a pause out, and this one could not be sent within its Timeout. Nothing was sent for this item: run it again later, raise the Timeout option, or send fewer requests at once."
            ),
            Error::BadRequest { .. } => {
                "SparkBot answered 400 invalid_request. Check the node's options; if they look right, the node and the API disagree: please report it."
                    .to_string()
            }
            Error::Service { status, .. } => format!(
                "SparkBot answered HTTP {status}, a fault on the service side or on a proxy in front of it. Try again later; if it persists, check the SparkBot status page or the Base URL of the credential."
            ),
            Error::Network {
                detail,
                maybe_carried_out,
                ..
            } => {
                let mut text = match maybe_carried_out {
                    Some(operation) => format!(
                        "The connection failed after the request may have reached SparkBot, so SparkBot may still carry out the {}: check the number's session before running it again. Check your network and proxy settings, and that the service is up.",
                        operation.value()
                    ),
                    None => "No HTTP answer arrived. Check the Base URL of the SparkBot credential, your network, DNS and proxy settings, and that the service is up.".to_string(),
                };
                if let Some(detail) = detail {
                    text.push_str(" Cause: ");
                    text.push_str(&sentence(detail));
                }
                text
            }
            Error::InvalidResponse { .. } => {
                "The answer was not the JSON object the SparkBot API promises. Check that the Base URL of the credential points at the SparkBot API (for example https://api.sparkbot.io/v1)."
                    .to_string()
            }
            Error::Cancelled => {
                "The execution was stopped, so the request was aborted (or never sent). A reboot or reset that had already reached SparkBot may still be carried out: check the number's session before running it again."
                    .to_string()
            }
            Error::NoTestEvent { .. } => {
                "SparkBot Trigger shows only real sessions as test events: a made-up one (a healthy number, say) would make the next nodes act on it — reboot it, for example. Fetch the test event again once a watched session has changed, or widen the Session Status filter. Nothing was changed."
                    .to_string()
            }
            Error::NotAllowed(NotAllowed::Blocked) => {
                "The SparkBot API credential's Allowed HTTP Request Domains is set to None. Set it to All, or to Specific Domains listing the host of its Base URL (e.g. api.sparkbot.io). No request was sent."
                    .to_string()
            }
            Error::NotAllowed(_) => {
                "The SparkBot API credential may only send requests to the domains listed in its Allowed HTTP Request Domains, and the host of its Base URL is not one of them. Add that host to Allowed Domains (*.example.com allows every subdomain of example.com), or correct the Base URL. No request was sent."
                    .to_string()
            }
            Error::Tls { problem, .. } => match problem {
                TlsProblem::Untrusted => {
                    "n8n does not trust the certificate authority that signed the certificate SparkBot presented. If SparkBot runs behind your own (internal) CA, give n8n that CA's certificate: set NODE_EXTRA_CA_CERTS to the path of its PEM file in the environment n8n starts with, and restart n8n. Nothing reached SparkBot."
                        .to_string()
                }
                TlsProblem::Expired => {
                    "The certificate SparkBot presented is outside its validity period: it must be renewed on the server (or this machine's clock is wrong). Nothing reached SparkBot."
                        .to_string()
                }
                TlsProblem::WrongHost => {
                    "The certificate SparkBot presented does not name the host of the Base URL. Use the host name the certificate was issued for in the credential's Base URL. Nothing reached SparkBot."
                        .to_string()
                }
                TlsProblem::Handshake => {
                    "No TLS connection could be set up. If the server speaks plain HTTP, the Base URL must start with http://; otherwise check the server's TLS setup, and any proxy that intercepts TLS. Nothing reached SparkBot."
                        .to_string()
                }
            },
            Error::Proxy {
                status,
                challenge,
                maybe_carried_out,
                host,
                ..
            } => {
                let route = "n8n sends its requests through the proxy named in HTTPS_PROXY (for https://) or HTTP_PROXY (for http://), or ALL_PROXY when those are unset, unless NO_PROXY lists the host";
                if *status == 407 {
                    let asks = match challenge {
                        Some(challenge) => format!(" ({challenge})"),
                        None => String::new(),
                    };
                    return format!(
                        "{route}. That proxy asks for credentials{asks}: put them in the proxy's URL (e.g. HTTPS_PROXY=http://user:password@proxy.example:3128) and restart n8n, or add {} to NO_PROXY if n8n should reach SparkBot directly. Nothing reached SparkBot.",
                        host_name(host)
                    );
                }
                let mut text = format!(
                    "{route}. The proxy could not reach {host}, or does not allow it: check the proxy's rules and that the Base URL is right, or add {} to NO_PROXY if n8n should reach SparkBot directly.",
                    host_name(host)
                );
                if let Some(operation) = maybe_carried_out {
                    text.push_str(&format!(
                        " If the proxy had passed the request on, SparkBot may still carry out the {}: check the number's session before running it again.",
                        operation.value()
                    ));
                }
                text
            }
        }
    }

    /// [`Error::message`] for an item that took `attempts` requests: it says so when there were
    /// several.
    pub fn message_after(&self, attempts: u32) -> String {
        let message = self.message();
        if attempts > 1 {
            format!("{message} (after {attempts} attempts)")
        } else {
            message
        }
    }

    /// [`Error::description`] ending with how many requests were made for the item, once any
    /// was (or, for an API error, that none was).
    pub fn description_after(&self, attempts: u32) -> String {
        let description = self.description();
        match attempts {
            0 if self.kind() == ErrorKind::Api
                && !matches!(self, Error::PausedPastTimeout { .. }) =>
            {
                format!(
                    "{} No request was sent for this item.",
                    sentence(&description)
                )
            }
            0 => description,
            1 => format!("{} 1 request made.", sentence(&description)),
            n => format!("{} {n} requests made.", sentence(&description)),
        }
    }
}

fn timeout_description(
    source: TimeoutSource,
    waited_ms: u64,
    wait_requested: bool,
    custom_timeout: bool,
    operation: Option<Operation>,
) -> String {
    let turn_off_wait = "Turn off Wait For Session to get an answer as soon as the operation has started, and check the session's status later";
    if source == TimeoutSource::Service {
        return format!(
            "SparkBot answered 504 session_timeout: it started the operation, but the session did not become available within its wait window. {turn_off_wait}."
        );
    }
    let waited = seconds_text(waited_ms);
    let Some(operation) = operation else {
        return format!(
            "SparkBot did not answer within {waited}, so the node aborted the request. Check that the SparkBot API is reachable, or try again later."
        );
    };
    let mut text = format!(
        "The node stopped waiting after {waited} and aborted the request. The request may have reached SparkBot, which may still carry out the {}: check the number's session before running it again.",
        operation.value()
    );
    match (wait_requested, custom_timeout) {
        (true, true) => text.push_str(&format!(" {turn_off_wait}, or raise the Timeout option.")),
        (true, false) => text.push_str(&format!(" {turn_off_wait}.")),
        (false, _) => text.push_str(
            " If SparkBot is only slow, raise the Timeout option; otherwise check that the SparkBot API is reachable.",
        ),
    }
    text
}

/// `a`, `a or b`, `a, b or c`.
fn or_list(items: &[String]) -> String {
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// `host` of a `host[:port]`.
fn host_name(authority: &str) -> &str {
    if authority.starts_with('[') {
        return authority.split_inclusive(']').next().unwrap_or(authority);
    }
    authority.split(':').next().unwrap_or(authority)
}

fn with_service_message(text: &str, service_message: &Option<String>) -> String {
    match service_message {
        Some(extra) => format!("{text} SparkBot said: {}", sentence(extra)),
        None => text.to_string(),
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_and_api_kinds() {
        assert_eq!(
            Error::invalid_parameter("X", "y").kind(),
            ErrorKind::Operation
        );
        assert_eq!(Error::Unauthorized.kind(), ErrorKind::Api);
        assert_eq!(Error::Unauthorized.http_code(), Some(401));
        assert_eq!(Error::Cancelled.kind(), ErrorKind::Operation);
    }

    #[test]
    fn kinds_are_spelled_as_the_contract_spells_them() {
        assert_eq!(ErrorKind::Operation.as_str(), "operation");
        assert_eq!(ErrorKind::Api.as_str(), "api");
    }

    #[test]
    fn no_test_event_says_which_numbers_and_statuses_were_looked_for() {
        let message = |statuses: &[&str], numbers| {
            Error::NoTestEvent {
                statuses: statuses.iter().map(|s| s.to_string()).collect(),
                numbers,
            }
            .message()
        };
        assert_eq!(
            message(&[], 0),
            "No test event: no number is in the account, and no session changed since the last poll"
        );
        assert_eq!(
            message(&["offline"], 1),
            "No test event: the watched number is not offline right now, and no session changed since the last poll"
        );
        assert_eq!(
            message(&["offline", "timeout"], 2),
            "No test event: none of the watched numbers is offline or timeout right now, and no session changed since the last poll"
        );
        assert_eq!(
            message(&["offline", "timeout", "authorize"], 0),
            "No test event: no number is offline, timeout or authorize right now, and no session changed since the last poll"
        );
    }

    #[test]
    fn a_proxy_asking_for_credentials_is_told_apart_from_one_that_refused() {
        let proxy = |status, challenge: Option<&str>, host: &str| Error::Proxy {
            host: host.to_string(),
            status,
            challenge: challenge.map(str::to_string),
            via: None,
            maybe_carried_out: (status != 407).then_some(Operation::Reboot),
        };
        let asks = proxy(407, Some("Basic realm=\"corp\""), "api.sparkbot.io:8443").description();
        assert!(
            asks.contains("That proxy asks for credentials (Basic realm=\"corp\"): put them in the proxy's URL"),
            "{asks}"
        );
        assert!(
            asks.contains("or add api.sparkbot.io to NO_PROXY"),
            "{asks}"
        );
        assert!(asks.ends_with("Nothing reached SparkBot."), "{asks}");
        let bare = proxy(407, None, "api.sparkbot.io").description();
        assert!(bare.contains("asks for credentials: put them"), "{bare}");
        let refused = proxy(403, None, "[2001:db8::1]:8443").description();
        assert!(
            refused.contains("The proxy could not reach [2001:db8::1]:8443, or does not allow it"),
            "{refused}"
        );
        assert!(
            refused.contains("or add [2001:db8::1] to NO_PROXY"),
            "{refused}"
        );
        assert!(
            refused.ends_with("SparkBot may still carry out the reboot: check the number's session before running it again."),
            "{refused}"
        );
    }

    #[test]
    fn an_error_displays_as_its_message() {
        let error = Error::invalid_parameter("Timeout", "is out of range");
        assert_eq!(error.to_string(), error.message());
        assert_eq!(error.to_string(), "Timeout: is out of range");
    }

    #[test]
    fn attempts_are_counted_in_their_own_sentence() {
        let forbidden = Error::Forbidden {
            device: Some("6523a704c2d4e5f60718293f".into()),
            service_message: Some("This API key may not act on device 6523a704".into()),
        };
        assert!(forbidden.description_after(1).ends_with(
            "SparkBot said: This API key may not act on device 6523a704. 1 request made."
        ));
        assert_eq!(forbidden.message_after(1), forbidden.message());
        assert!(Error::Unauthorized
            .description_after(3)
            .ends_with(" 3 requests made."));
        assert!(Error::Unauthorized
            .message_after(3)
            .ends_with(" (after 3 attempts)"));
        let invalid = Error::invalid_parameter("WhatsApp Number", "is empty");
        assert_eq!(invalid.description_after(0), invalid.description());
        assert!(Error::Unauthorized
            .description_after(0)
            .ends_with("No request was sent for this item."));
    }

    fn timeout(source: TimeoutSource, waited_ms: u64, wait: bool, custom: bool) -> Error {
        Error::Timeout {
            source,
            waited_ms,
            wait_requested: wait,
            custom_timeout: custom,
            operation: Some(Operation::Reset),
        }
    }

    #[test]
    fn a_timeout_says_the_operation_may_still_happen_and_blames_no_wait_nobody_asked_for() {
        let hung = timeout(TimeoutSource::Client, 30_004, false, false);
        assert_eq!(
            hung.message(),
            "Timed out: no answer from SparkBot after 30 s"
        );
        let text = hung.description();
        assert!(text.contains("may still carry out the reset"), "{text}");
        assert!(!text.contains("Wait For Session"), "{text}");
        assert!(!text.contains(" Or "), "{text}");
        assert!(text.contains("raise the Timeout option"), "{text}");

        let waited = timeout(TimeoutSource::Client, 135_010, true, false);
        assert_eq!(
            waited.message(),
            "Timed out waiting for the WhatsApp session: no answer from SparkBot after 135 s"
        );
        assert!(waited
            .description()
            .contains("may still carry out the reset"));
        assert!(waited.description().contains("Turn off Wait For Session"));
        assert!(!waited.description().contains("raise the Timeout"));
        assert!(timeout(TimeoutSource::Client, 1_000, true, true)
            .description()
            .ends_with("or raise the Timeout option."));

        let short = timeout(TimeoutSource::Client, 505, false, true);
        assert_eq!(
            short.message(),
            "Timed out: no answer from SparkBot after 0.5 s"
        );

        let service = timeout(TimeoutSource::Service, 90_000, true, false);
        assert_eq!(service.http_code(), Some(504));
        assert!(service.description().contains("Turn off Wait For Session"));
    }

    #[test]
    fn rate_limits_say_why_no_retry_was_made() {
        let limited = Error::RateLimited {
            retry_after_secs: Some(45),
            service_message: Some("Too many requests; retry after 45 s".into()),
            beyond_timeout_ms: Some(30_000),
        };
        assert_eq!(
            limited.message(),
            "Rate limited by SparkBot: Too many requests; retry after 45 s (no retry: Retry-After 45 s is longer than the Timeout of 30 s allows)"
        );
        let unsent = Error::PausedPastTimeout {
            pause_secs: 60,
            timeout_ms: 30_000,
        };
        assert_eq!(unsent.http_code(), Some(429));
        assert_eq!(unsent.code(), "SPARKBOT_RATE_LIMITED");
        assert!(unsent.message().contains("not sent"));
        assert!(unsent.message().contains("60 s"));
        assert!(unsent
            .description_after(0)
            .ends_with("send fewer requests at once."));
    }

    #[test]
    fn a_dropped_connection_after_sending_says_the_operation_may_still_happen() {
        let dropped = Error::Network {
            host: "h".into(),
            cause: "connection reset by the server".into(),
            detail: Some("read ECONNRESET".into()),
            maybe_carried_out: Some(Operation::Reboot),
            during_body: false,
        };
        let text = dropped.description();
        assert!(text.contains("may still carry out the reboot"), "{text}");
        assert!(!text.contains("No HTTP answer arrived"), "{text}");
        assert!(text.ends_with("Cause: read ECONNRESET."), "{text}");
        let refused = Error::Network {
            host: "h".into(),
            cause: "connection refused".into(),
            detail: None,
            maybe_carried_out: None,
            during_body: false,
        };
        assert!(refused.description().starts_with("No HTTP answer arrived."));
        assert_eq!(
            refused.message(),
            "Could not reach the SparkBot API at h: connection refused"
        );
        // The request reached SparkBot, which began to answer: the message says what happened.
        let cut = Error::Network {
            host: "h".into(),
            cause: "the connection closed before the whole response arrived".into(),
            detail: None,
            maybe_carried_out: Some(Operation::Reset),
            during_body: true,
        };
        assert_eq!(
            cut.message(),
            "The answer of the SparkBot API at h broke off: the connection closed before the whole response arrived"
        );
        assert!(cut.description().contains("may still carry out the reset"));
    }
}
