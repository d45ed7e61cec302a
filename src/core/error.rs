//! The one error type of the node.
//!
//! Every failure — bad input, an HTTP error from SparkBot, a network fault, a timeout — is one
//! [`Error`] variant. Each variant knows its stable [`Error::code`], whether n8n should see it as an
//! input problem or an API problem ([`ErrorKind`]), its HTTP status, and the message and
//! description a user reads. The wasm boundary turns it into a JS `Error` in exactly one place.

use std::fmt;

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
    /// `404`: no such device in the account.
    DeviceNotFound {
        /// The device ID that was asked for.
        device: String,
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
        /// Seconds that passed between sending the request and giving up.
        waited_secs: u64,
        /// Whether Wait For Session was on.
        wait_requested: bool,
        /// Whether the budget came from the user's Timeout option.
        custom_timeout: bool,
    },
    /// `429`: too many requests.
    RateLimited {
        /// Seconds to wait, from `Retry-After`.
        retry_after_secs: Option<u64>,
        /// The service's own message, sanitized.
        service_message: Option<String>,
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
    /// The request never got an HTTP answer: DNS, TCP, TLS or a dropped connection.
    Network {
        /// `host[:port]` of the base URL.
        host: String,
        /// A readable cause, e.g. "connection refused".
        cause: String,
        /// The low-level error as reported by the runtime, for the description.
        detail: Option<String>,
    },
    /// A `2xx` answer whose body is not what the contract promises, or an answer too large to
    /// read.
    InvalidResponse {
        /// What was wrong with it.
        problem: String,
    },
    /// The execution was stopped in n8n while the item's request was pending or in flight.
    Cancelled,
}

impl Error {
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
            Error::InvalidParameter { .. } => "SPARKBOT_INVALID_PARAMETER",
            Error::InvalidCredential { .. } => "SPARKBOT_INVALID_CREDENTIAL",
            Error::Unauthorized => "SPARKBOT_UNAUTHORIZED",
            Error::Forbidden { .. } => "SPARKBOT_FORBIDDEN",
            Error::DeviceNotFound { .. } => "SPARKBOT_DEVICE_NOT_FOUND",
            Error::Conflict {
                reason: ConflictReason::Busy,
                ..
            } => "SPARKBOT_SESSION_BUSY",
            Error::Conflict {
                reason: ConflictReason::Stopped,
                ..
            } => "SPARKBOT_SESSION_STOPPED",
            Error::Conflict { .. } => "SPARKBOT_CONFLICT",
            Error::Timeout { .. } => "SPARKBOT_TIMEOUT",
            Error::RateLimited { .. } => "SPARKBOT_RATE_LIMITED",
            Error::BadRequest { .. } => "SPARKBOT_BAD_REQUEST",
            Error::Service { .. } => "SPARKBOT_SERVICE_ERROR",
            Error::Network { .. } => "SPARKBOT_NETWORK_ERROR",
            Error::InvalidResponse { .. } => "SPARKBOT_INVALID_RESPONSE",
            Error::Cancelled => "SPARKBOT_CANCELLED",
        }
    }

    /// Whether this is an input problem or an API problem.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidParameter { .. } | Error::InvalidCredential { .. } | Error::Cancelled => {
                ErrorKind::Operation
            }
            _ => ErrorKind::Api,
        }
    }

    /// The HTTP status behind the error, where there is one.
    pub fn http_code(&self) -> Option<u16> {
        match self {
            Error::Unauthorized => Some(401),
            Error::Forbidden { .. } => Some(403),
            Error::DeviceNotFound { .. } => Some(404),
            Error::Conflict { .. } => Some(409),
            Error::Timeout {
                source: TimeoutSource::Service,
                ..
            } => Some(504),
            Error::RateLimited { .. } => Some(429),
            Error::BadRequest { .. } => Some(400),
            Error::Service { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The one-line message: what went wrong.
    pub fn message(&self) -> String {
        match self {
            Error::InvalidParameter { field, problem } => format!("{field}: {problem}"),
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
            Error::Conflict {
                reason,
                device,
                service_message,
            } => match (service_message, reason) {
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
                waited_secs,
                ..
            } => match source {
                TimeoutSource::Service => format!(
                    "Timed out waiting for the WhatsApp session: SparkBot gave up after {waited_secs} s"
                ),
                TimeoutSource::Client => format!(
                    "Timed out waiting for the WhatsApp session: no answer from SparkBot after {waited_secs} s"
                ),
            },
            Error::RateLimited {
                service_message, ..
            } => match service_message {
                Some(text) => format!("Rate limited by SparkBot: {text}"),
                None => "Rate limited by SparkBot: too many requests".to_string(),
            },
            Error::BadRequest { service_message } => match service_message {
                Some(text) => format!("SparkBot rejected the request: {text}"),
                None => "SparkBot rejected the request as invalid".to_string(),
            },
            Error::Service { status, detail } => {
                format!("The SparkBot API answered {status}: {detail}")
            }
            Error::Network { host, cause, .. } => {
                format!("Could not reach the SparkBot API at {host}: {cause}")
            }
            Error::InvalidResponse { problem } => {
                format!("Invalid response from the SparkBot API: {problem}")
            }
            Error::Cancelled => "The execution was cancelled before SparkBot answered".to_string(),
        }
    }

    /// The longer hint: what to do about it.
    pub fn description(&self) -> String {
        match self {
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
                "SparkBot answered 404: no device with this ID exists in the account of the API key. Pick the number from the WhatsApp Number list, or check the ID your expression produces."
                    .to_string()
            }
            Error::Conflict { reason, .. } => match reason {
                ConflictReason::Stopped => {
                    "The session is stopped, so a plain reboot is refused (409 session_stopped). Turn on the Force Reboot option to reboot it anyway."
                        .to_string()
                }
                ConflictReason::Busy => {
                    "Another reboot or reset of this number is still running (409 session_busy). Wait until it has finished, then run the node again."
                        .to_string()
                }
                ConflictReason::Other => {
                    "SparkBot answered 409 Conflict. Check the number's state in SparkBot, then try again."
                        .to_string()
                }
            },
            Error::Timeout {
                wait_requested,
                custom_timeout,
                ..
            } => {
                let mut text = String::from(
                    "The WhatsApp session did not become available in time and the request was abandoned.",
                );
                if *wait_requested {
                    text.push_str(
                        " Turn off Wait For Session to get an answer as soon as the operation has started, and check the session's status later.",
                    );
                }
                if *custom_timeout {
                    text.push_str(" Or raise the Timeout option.");
                } else if !*wait_requested {
                    text.push_str(" Check that the SparkBot API is reachable, or raise the Timeout option.");
                }
                text
            }
            Error::RateLimited {
                retry_after_secs, ..
            } => match retry_after_secs {
                Some(secs) => format!(
                    "SparkBot answered 429 Too Many Requests. Wait {secs} s before trying again, or send fewer requests at once."
                ),
                None => "SparkBot answered 429 Too Many Requests. Wait a little before trying again, or send fewer requests at once."
                    .to_string(),
            },
            Error::BadRequest { .. } => {
                "SparkBot answered 400 invalid_request. Check the node's options; if they look right, the node and the API disagree: please report it."
                    .to_string()
            }
            Error::Service { status, .. } => format!(
                "SparkBot answered HTTP {status}, a fault on the service side or on a proxy in front of it. Try again later; if it persists, check the SparkBot status page or the Base URL of the credential."
            ),
            Error::Network { detail, .. } => {
                let mut text = String::from(
                    "No HTTP answer arrived. Check the Base URL of the SparkBot credential, your network, DNS and proxy settings, and that the service is up.",
                );
                if let Some(detail) = detail {
                    text.push_str(" Cause: ");
                    text.push_str(detail);
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
        }
    }
}

fn with_service_message(text: &str, service_message: &Option<String>) -> String {
    match service_message {
        Some(extra) => format!("{text} SparkBot said: {extra}"),
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
    }
}
