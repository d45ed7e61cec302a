//! Status → error: what came back from SparkBot (an [`HttpReply`] of any status, or a
//! [`TransportFailure`]) becomes the item's body or a typed [`Error`]. This module alone decides
//! what an answer means for the user.

use serde_json::Value;

use crate::error::{ConflictReason, Error, TimeoutSource};
use crate::exchange::{HttpReply, TransportFailure, MAX_BODY_BYTES};
use crate::json::{nesting_depth, JsonReader, JsonType, MAX_NESTING};
use crate::network_errors::{network_cause, reach, tls_problem, Reach};
use crate::plan::RequestContext;
use crate::text::{find_text, sanitize};

/// Reads JSON text into a [`Value`], or says why it could not (see
/// [`crate::json::JsonReader::parse`]).
pub type ParseJson<'a> = &'a dyn Fn(&str) -> Result<Value, String>;

/// Longest service message shown to a user.
const MAX_SERVICE_MESSAGE_CHARS: usize = 300;

/// Interprets the answer to a reboot or reset: on success its body text, which the caller parses
/// once and checks with [`expect_object`], so that every field (unknown and nested ones too)
/// reaches the output unchanged and in order.
pub fn interpret_action(
    context: &RequestContext,
    outcome: Result<HttpReply, TransportFailure>,
    parse: ParseJson,
) -> Result<String, Error> {
    check_status(context, outcome, parse).map(|reply| reply.body)
}

/// Accepts a parsed 2xx body only if it is one JSON object. `parsed` is the kind of value the
/// runtime's parser found and the value in the caller's form, or the parser's complaint.
pub fn expect_object<T>(parsed: Result<(JsonType, T), String>, body: &str) -> Result<T, Error> {
    let problem = match parsed {
        Ok((JsonType::Object, object)) => return Ok(object),
        Ok((other, _)) => format!("expected a JSON object, got {}", other.name()),
        Err(_) if body.trim().is_empty() => "the body is empty, expected a JSON object".to_string(),
        Err(reason) => format!(
            "the body is not valid JSON ({})",
            sanitize(&reason, MAX_SERVICE_MESSAGE_CHARS)
        ),
    };
    Err(Error::InvalidResponse { problem })
}

/// One page of `GET /devices`: its devices (each as a [`Value`] and in the caller's form) and
/// the total SparkBot announced in `X-Total-Count`.
#[derive(Debug)]
pub struct DevicePage<T> {
    /// The page's devices, in the service's order.
    pub devices: Vec<(Value, T)>,
    /// `X-Total-Count`, when it is a number.
    pub total: Option<usize>,
}

/// Interprets one page of `GET /devices`: a JSON array of device objects.
pub fn interpret_device_page<J: JsonReader>(
    context: &RequestContext,
    outcome: Result<HttpReply, TransportFailure>,
    json: &J,
) -> Result<DevicePage<J::Object>, Error> {
    let reply = check_status(context, outcome, &|text| json.parse(text))?;
    let total = reply
        .total_count
        .as_deref()
        .and_then(|text| text.trim().parse::<usize>().ok());
    match json.parse_list(&reply.body) {
        Ok(devices) => Ok(DevicePage { devices, total }),
        Err(Ok(kind)) => Err(Error::InvalidResponse {
            problem: format!("expected a list of devices, got {}", kind.name()),
        }),
        Err(Err(e)) => Err(Error::InvalidResponse {
            problem: format!(
                "the device list is not valid JSON ({})",
                sanitize(&e, MAX_SERVICE_MESSAGE_CHARS)
            ),
        }),
    }
}

/// Turns transport failures, non-2xx statuses and 2xx bodies nested deeper than
/// [`MAX_NESTING`] into errors; passes the other 2xx replies on.
fn check_status(
    context: &RequestContext,
    outcome: Result<HttpReply, TransportFailure>,
    parse: ParseJson,
) -> Result<HttpReply, Error> {
    let reply = match outcome {
        Ok(reply) => reply,
        Err(TransportFailure::TimedOut { elapsed_ms }) => {
            return Err(Error::Timeout {
                source: TimeoutSource::Client,
                waited_ms: elapsed_ms,
                wait_requested: context.wait,
                custom_timeout: context.custom_timeout,
                operation: context.operation,
            })
        }
        Err(TransportFailure::Network {
            code,
            detail,
            during_body,
        }) => {
            if let (Some(problem), false) = (tls_problem(code.as_deref()), during_body) {
                return Err(Error::Tls {
                    host: context.host.clone(),
                    problem,
                    code: code.unwrap_or_default(),
                });
            }
            let maybe_sent = during_body || reach(code.as_deref()) == Reach::MaybeSent;
            return Err(Error::Network {
                host: context.host.clone(),
                cause: network_cause(code.as_deref(), during_body),
                detail: Some(sanitize(&detail, MAX_SERVICE_MESSAGE_CHARS))
                    .filter(|d| !d.is_empty()),
                maybe_carried_out: context.operation.filter(|_| maybe_sent),
                during_body,
            });
        }
        Err(TransportFailure::Paused { left_ms }) => {
            return Err(Error::PausedPastTimeout {
                pause_secs: left_ms.div_ceil(1000),
                timeout_ms: context.timeout_ms,
            })
        }
        Err(TransportFailure::Cancelled) => return Err(Error::Cancelled),
        Err(TransportFailure::TooLarge) => {
            return Err(Error::InvalidResponse {
                problem: format!(
                    "the body is larger than {} MB and was not read",
                    MAX_BODY_BYTES >> 20
                ),
            })
        }
    };
    if (200..300).contains(&reply.status) {
        // Checked here, before any caller parses the body: nothing deeper reaches a parser.
        if nesting_depth(&reply.body) > MAX_NESTING {
            return Err(Error::InvalidResponse {
                problem: format!("the body nests more than {MAX_NESTING} levels deep"),
            });
        }
        return Ok(reply);
    }
    let body = ErrorBody::parse(&reply, parse);
    let device = context.device.clone();
    // The proxy n8n sends through answered itself: it asks for credentials (407, which only a
    // proxy sends), or it passed on no answer of SparkBot's (its own page, with its Via).
    if reply.status == 407 || (reply.via.is_some() && body.code.is_none() && reply.status >= 500) {
        return Err(Error::Proxy {
            host: context.host.clone(),
            status: reply.status,
            challenge: reply
                .proxy_authenticate
                .as_deref()
                .map(|text| sanitize(text, 100)),
            via: reply.via.as_deref().map(|text| sanitize(text, 100)),
            maybe_carried_out: context.operation.filter(|_| reply.status != 407),
        });
    }
    Err(match reply.status {
        400 => Error::BadRequest {
            service_message: body.message,
        },
        401 => Error::Unauthorized,
        403 => Error::Forbidden {
            device,
            service_message: body.message,
        },
        // Only SparkBot's own answer means the device is unknown; any other 404 (a proxy's
        // page, a path without /v1) means the address is wrong.
        404 => match (device, body.code.as_deref()) {
            (Some(device), Some("device_not_found")) => Error::DeviceNotFound { device },
            _ => Error::EndpointNotFound {
                detail: body.detail(),
            },
        },
        409 => Error::Conflict {
            reason: match body.code.as_deref() {
                Some("session_busy") => ConflictReason::Busy,
                Some("scan_not_needed") => ConflictReason::ScanNotNeeded,
                Some("session_stopped") => ConflictReason::Stopped,
                _ => ConflictReason::Other,
            },
            device: device.unwrap_or_default(),
            service_message: body.message,
        },
        429 => Error::RateLimited {
            retry_after_secs: reply.retry_after.as_deref().and_then(parse_retry_after),
            service_message: body.message,
            beyond_timeout_ms: None,
        },
        504 if body.code.as_deref() == Some("session_timeout") => Error::Timeout {
            source: TimeoutSource::Service,
            waited_ms: reply.elapsed_ms,
            wait_requested: context.wait,
            custom_timeout: context.custom_timeout,
            operation: context.operation,
        },
        status @ 300..=399 => Error::Service {
            status,
            detail: match reply.location.as_deref() {
                Some(location) => format!(
                    "a redirect to {}, which the node does not follow (it would carry the API key there); if the API has moved, put that address in the Base URL",
                    sanitize(location, 200)
                ),
                None => "a redirect without a Location, which the node does not follow".to_string(),
            },
        },
        status => Error::Service {
            status,
            detail: body.detail(),
        },
    })
}

/// What could be read from an error body.
struct ErrorBody {
    /// The contract's `error` code.
    code: Option<String>,
    /// The contract's `message`, sanitized.
    message: Option<String>,
    /// How the body looked when it was not the contract's JSON.
    shape: BodyShape,
}

enum BodyShape {
    Json,
    Empty,
    Html { title: Option<String> },
    Text,
}

impl ErrorBody {
    fn parse(reply: &HttpReply, parse: ParseJson) -> ErrorBody {
        let trimmed = reply.body.trim();
        if trimmed.is_empty() {
            return ErrorBody {
                code: None,
                message: None,
                shape: BodyShape::Empty,
            };
        }
        let parsed = match nesting_depth(trimmed) {
            0..=MAX_NESTING => parse(trimmed),
            _ => Err(String::new()),
        };
        if let Ok(Value::Object(map)) = parsed {
            let text = |key: &str| {
                map.get(key)
                    .and_then(Value::as_str)
                    .map(|s| sanitize(s, MAX_SERVICE_MESSAGE_CHARS))
                    .filter(|s| !s.is_empty())
            };
            return ErrorBody {
                code: text("error"),
                message: text("message"),
                shape: BodyShape::Json,
            };
        }
        let is_html = reply
            .content_type
            .as_deref()
            .is_some_and(|ct| find_text(&ct.to_ascii_lowercase(), "html").is_some())
            || trimmed.starts_with('<');
        ErrorBody {
            code: None,
            message: None,
            shape: if is_html {
                BodyShape::Html {
                    title: html_title(trimmed),
                }
            } else {
                BodyShape::Text
            },
        }
    }

    fn detail(&self) -> String {
        if let Some(message) = &self.message {
            return message.clone();
        }
        match &self.shape {
            BodyShape::Json => match &self.code {
                Some(code) => code.clone(),
                None => "an error without a message".to_string(),
            },
            BodyShape::Empty => "an empty response body".to_string(),
            BodyShape::Html { title: Some(title) } => {
                format!("{title} (an HTML error page, probably from a proxy)")
            }
            BodyShape::Html { title: None } => {
                "an HTML error page instead of JSON, probably from a proxy".to_string()
            }
            BodyShape::Text => "a response body that is not JSON".to_string(),
        }
    }
}

/// The text of the first `<title>` element, if any.
fn html_title(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let start = find_text(&lower, "<title>")? + "<title>".len();
    let end = start + find_text(lower.get(start..)?, "</title>")?;
    let title = sanitize(html.get(start..end)?, 100);
    (!title.is_empty()).then_some(title)
}

/// `Retry-After` in seconds; HTTP dates are not used by SparkBot and are ignored.
pub fn parse_retry_after(value: &str) -> Option<u64> {
    value.trim().parse::<u64>().ok().map(|secs| secs.min(3600))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    const ID: &str = "6523a1f0c2d4e5f60718293a";

    fn ctx() -> RequestContext {
        RequestContext {
            host: "127.0.0.1:9".into(),
            device: Some(ID.into()),
            operation: Some(crate::operation::Operation::Reboot),
            wait: true,
            custom_timeout: false,
            timeout_ms: 105_000,
        }
    }

    fn reply(status: u16, body: &str) -> Result<HttpReply, TransportFailure> {
        Ok(HttpReply {
            status,
            content_type: Some("application/json".into()),
            retry_after: None,
            total_count: None,
            body: body.into(),
            elapsed_ms: 1_200,
            ..Default::default()
        })
    }

    /// serde_json as the JSON reader, as native callers use it.
    fn parse(text: &str) -> Result<Value, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

    /// What the batch does with an answer: interpret it, then parse a success as an object.
    fn action(outcome: Result<HttpReply, TransportFailure>) -> Result<Value, Error> {
        interpret_action(&ctx(), outcome, &parse).and_then(|body| {
            let parsed = parse(&body).map(|value| (JsonType::of(&value), value));
            expect_object(parsed, &body)
        })
    }

    fn fail(status: u16, body: &str) -> Error {
        action(reply(status, body)).unwrap_err()
    }

    fn json_error(status: u16, code: &str, message: &str) -> String {
        format!(r#"{{"status":{status},"error":"{code}","message":"{message}"}}"#)
    }

    #[test]
    fn a_2xx_body_that_is_not_one_object_says_what_it_was() {
        let problem = |parsed: Result<(JsonType, ()), String>, body: &str| match expect_object(
            parsed, body,
        ) {
            Err(Error::InvalidResponse { problem }) => problem,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            problem(Err("Unexpected end of JSON input".into()), " \n"),
            "the body is empty, expected a JSON object"
        );
        assert_eq!(
            problem(Err("Unexpected token <".into()), "<html>"),
            "the body is not valid JSON (Unexpected token <)"
        );
        assert_eq!(
            problem(Ok((JsonType::Array, ())), "[]"),
            "expected a JSON object, got a list"
        );
        assert!(expect_object(Ok((JsonType::Object, 7)), "{}").is_ok_and(|v| v == 7));
    }

    #[test]
    fn success_passes_the_body_through_unchanged() {
        let body = r#"{"z":1,"id":"x","extra":{"nested":[1,{"deep":true}]},"a":null}"#;
        assert_eq!(
            interpret_action(&ctx(), reply(200, body), &parse).unwrap(),
            body
        );
        assert!(action(reply(200, body)).is_ok());
    }

    #[test]
    fn success_that_is_not_an_object_is_invalid() {
        for body in [
            "",
            "   ",
            "[]",
            "null",
            "\"ok\"",
            "42",
            "{\"a\":",
            "<html></html>",
            "{} {}",
        ] {
            let err = fail(200, body);
            assert_eq!(err.code(), "SPARKBOT_INVALID_RESPONSE", "{body}");
            assert!(err
                .message()
                .starts_with("Invalid response from the SparkBot API"));
        }
    }

    #[test]
    fn deeply_nested_bodies_are_refused_before_they_are_parsed() {
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(1_000), "]".repeat(1_000));
        let err = fail(200, &deep);
        assert!(
            err.message().contains("nests more than 64 levels"),
            "{}",
            err.message()
        );
        // Brackets inside strings do not count; 64 levels are fine.
        let ok = format!(
            "{{\"a\":{}\"[[[{{\\\"\"{}}}",
            "[".repeat(63),
            "]".repeat(63)
        );
        assert_eq!(nesting_depth(&ok), 64);
        assert!(action(reply(200, &ok)).is_ok(), "{ok}");
    }

    #[test]
    fn an_error_body_that_cannot_be_parsed_is_described_not_trusted() {
        let deep = format!(
            "{{\"message\":{}1{}}}",
            "[".repeat(1_000),
            "]".repeat(1_000)
        );
        let err = fail(500, &deep);
        assert_eq!(err.http_code(), Some(500));
        assert!(err.message().contains("not JSON"), "{}", err.message());
    }

    #[test]
    fn status_table() {
        let err = fail(401, &json_error(401, "unauthorized", "bad key"));
        assert_eq!(
            (err.http_code(), err.code()),
            (Some(401), "SPARKBOT_UNAUTHORIZED")
        );
        assert!(err
            .message()
            .contains("check the API key of the SparkBot credential"));

        let err = fail(403, &json_error(403, "forbidden", "plan"));
        assert_eq!(err.http_code(), Some(403));
        assert!(err.message().contains(ID));

        let err = fail(404, &json_error(404, "device_not_found", "nope"));
        assert_eq!(err.http_code(), Some(404));
        assert!(err.message().contains(ID) && err.message().contains("not found"));

        let err = fail(
            409,
            &json_error(409, "session_stopped", "Session is stopped"),
        );
        assert_eq!(err.code(), "SPARKBOT_SESSION_STOPPED");
        assert_eq!(err.message(), "Session is stopped");
        assert!(err.description().contains("Force Reboot"));

        let err = fail(409, &json_error(409, "session_busy", "Busy now"));
        assert_eq!(err.code(), "SPARKBOT_SESSION_BUSY");
        assert_eq!(err.message(), "Busy now");

        let err = fail(504, &json_error(504, "session_timeout", "gave up"));
        assert_eq!(
            (err.http_code(), err.code()),
            (Some(504), "SPARKBOT_TIMEOUT")
        );
        assert!(err.message().ends_with("after 1.2 s"), "{}", err.message());
        assert!(err.description().contains("Wait For Session"));

        let err = fail(500, &json_error(500, "internal_error", "Boom"));
        assert_eq!(err.message(), "The SparkBot API answered 500: Boom");
        assert_eq!(err.kind(), ErrorKind::Api);

        let err = fail(400, &json_error(400, "invalid_request", "field x"));
        assert_eq!(err.http_code(), Some(400));
        assert!(err.message().contains("field x"));
    }

    #[test]
    fn rate_limit_reads_retry_after() {
        let mut r = reply(429, &json_error(429, "rate_limited", "Slow down")).unwrap();
        r.retry_after = Some("7".into());
        let err = action(Ok(r)).unwrap_err();
        assert_eq!(err.http_code(), Some(429));
        assert!(err.message().contains("Slow down"));
        assert!(err.description().contains("Wait 7 s"));
    }

    #[test]
    fn html_and_empty_error_bodies_still_read_clearly() {
        let mut r = reply(
            502,
            "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
        )
        .unwrap();
        r.content_type = Some("text/html".into());
        let err = action(Ok(r)).unwrap_err();
        assert_eq!(err.http_code(), Some(502));
        assert_eq!(
            err.message(),
            "The SparkBot API answered 502: 502 Bad Gateway (an HTML error page, probably from a proxy)"
        );
        let err = fail(503, "");
        assert_eq!(
            err.message(),
            "The SparkBot API answered 503: an empty response body"
        );
        let err = fail(504, "gateway timeout");
        assert_eq!(err.code(), "SPARKBOT_SERVICE_ERROR");
    }

    #[test]
    fn service_messages_are_sanitized() {
        let long = "x".repeat(5_000);
        let err = fail(
            500,
            &json_error(500, "internal_error", &format!("a\\nb{long}")),
        );
        assert!(err.message().len() < 400);
        assert!(!err.message().contains('\n'));
    }

    #[test]
    fn transport_failures() {
        let err = action(Err(TransportFailure::TimedOut {
            elapsed_ms: 105_010,
        }))
        .unwrap_err();
        assert_eq!(err.code(), "SPARKBOT_TIMEOUT");
        assert!(err.message().contains("105 s"));
        assert!(err.description().contains("Turn off Wait For Session"));

        let err = action(Err(TransportFailure::Network {
            code: Some("ECONNREFUSED".into()),
            detail: "connect ECONNREFUSED 127.0.0.1:9".into(),
            during_body: false,
        }))
        .unwrap_err();
        assert_eq!(
            err.message(),
            "Could not reach the SparkBot API at 127.0.0.1:9: connection refused"
        );
        assert!(err
            .description()
            .contains("connect ECONNREFUSED 127.0.0.1:9"));
        assert_eq!(
            network_cause(Some("ENOTFOUND"), false),
            "host name not found (DNS lookup failed)"
        );
        assert_eq!(
            network_cause(Some("DEPTH_ZERO_SELF_SIGNED_CERT"), false),
            "TLS failure (certificate or handshake)"
        );
        assert_eq!(
            network_cause(Some("UND_ERR_SOCKET"), true),
            "the connection closed before the whole response arrived"
        );
    }

    #[test]
    fn device_list_404_points_at_the_base_url() {
        let context = RequestContext {
            host: "h".into(),
            ..RequestContext::default()
        };
        let json = crate::json::SerdeJson;
        let err = interpret_device_page(&context, reply(404, ""), &json).unwrap_err();
        assert!(err.message().contains("Base URL"));
        let err = interpret_device_page(&context, reply(200, "{}"), &json).unwrap_err();
        assert_eq!(err.code(), "SPARKBOT_INVALID_RESPONSE");
        assert!(err
            .message()
            .ends_with("expected a list of devices, got an object"));
        let err = interpret_device_page(&context, reply(200, "[1,"), &json).unwrap_err();
        assert!(
            err.message().contains("not valid JSON"),
            "{}",
            err.message()
        );
        let mut page = reply(200, r#"[{"id":"a"},{"id":"b"}]"#).unwrap();
        page.total_count = Some(" 42 ".into());
        let page = interpret_device_page(&context, Ok(page), &json).unwrap();
        assert_eq!((page.devices.len(), page.total), (2, Some(42)));
    }

    #[test]
    fn only_sparkbots_own_404_means_an_unknown_device() {
        let err = fail(404, &json_error(404, "device_not_found", "nope"));
        assert_eq!(err.code(), "SPARKBOT_DEVICE_NOT_FOUND");
        for body in [
            json_error(404, "not_found", "No such endpoint: POST /devices/x/reboot"),
            "<html><head><title>404 Not Found</title></head></html>".to_string(),
            String::new(),
            "Cannot POST /api/devices".to_string(),
        ] {
            let err = fail(404, &body);
            assert_eq!(err.code(), "SPARKBOT_ENDPOINT_NOT_FOUND", "{body}");
            assert_eq!(err.http_code(), Some(404));
            assert!(
                err.message().contains("check the Base URL"),
                "{}",
                err.message()
            );
            assert!(!err.message().contains(ID), "{}", err.message());
            assert!(err.description().contains("/v1"), "{}", err.description());
        }
    }

    #[test]
    fn every_conflict_keeps_its_http_code() {
        for code in ["session_busy", "session_stopped", "other"] {
            let err = fail(409, &json_error(409, code, "m"));
            assert_eq!(err.http_code(), Some(409), "{code}");
        }
        let err = fail(409, "");
        assert_eq!(
            (err.http_code(), err.code()),
            (Some(409), "SPARKBOT_CONFLICT")
        );
        assert!(err.message().contains(ID));
    }

    #[test]
    fn a_scan_not_needed_conflict_is_its_own_error() {
        let err = fail(409, &json_error(409, "scan_not_needed", "online"));
        assert_eq!(err.code(), "SPARKBOT_SCAN_NOT_NEEDED");
        assert_eq!(err.http_code(), Some(409));
    }

    #[test]
    fn the_proxy_answering_itself_is_told_apart_from_sparkbots_answers() {
        let via = |status: u16, body: &str, challenge: Option<&str>| {
            action(Ok(HttpReply {
                status,
                content_type: Some("text/html".into()),
                via: Some("1.1 squid".into()),
                proxy_authenticate: challenge.map(str::to_string),
                body: body.into(),
                elapsed_ms: 5,
                ..Default::default()
            }))
            .unwrap_err()
        };
        // 407: only a proxy sends it; nothing reached SparkBot.
        match via(407, "", Some("Basic realm=\"corp\"")) {
            Error::Proxy {
                status,
                challenge,
                maybe_carried_out,
                ..
            } => {
                assert_eq!(status, 407);
                assert_eq!(challenge.as_deref(), Some("Basic realm=\"corp\""));
                assert_eq!(maybe_carried_out, None);
            }
            other => panic!("{other:?}"),
        }
        // The proxy's own 502 page: it may have passed the reboot on.
        match via(502, "<html><title>Bad Gateway</title></html>", None) {
            Error::Proxy {
                status,
                maybe_carried_out,
                ..
            } => {
                assert_eq!(status, 502);
                assert_eq!(maybe_carried_out, Some(crate::operation::Operation::Reboot));
            }
            other => panic!("{other:?}"),
        }
        // Through the proxy, SparkBot's own answers stay SparkBot's.
        let own = via(503, &json_error(503, "unavailable", "later"), None);
        assert_ne!(own.code(), "SPARKBOT_PROXY_ERROR", "{own:?}");
        let not_found = via(404, "<html>not here</html>", None);
        assert_eq!(
            not_found.code(),
            "SPARKBOT_ENDPOINT_NOT_FOUND",
            "{not_found:?}"
        );
    }

    #[test]
    fn a_proxy_html_page_is_named_as_such_not_as_bad_json() {
        let err = fail(503, "<!DOCTYPE html><html><body>Maintenance</body></html>");
        assert!(
            err.message().contains("HTML error page"),
            "{}",
            err.message()
        );
        assert!(!err.message().contains("not JSON"), "{}", err.message());
    }

    #[test]
    fn a_connection_lost_after_sending_a_reboot_says_it_may_still_happen() {
        let err = action(Err(TransportFailure::Network {
            code: Some("ECONNRESET".into()),
            detail: "read ECONNRESET".into(),
            during_body: false,
        }))
        .unwrap_err();
        assert!(err.description().contains("may still carry out the reboot"));
        let err = action(Err(TransportFailure::Network {
            code: Some("ECONNREFUSED".into()),
            detail: String::new(),
            during_body: false,
        }))
        .unwrap_err();
        assert!(!err.description().contains("may still carry out"));
        let err = action(Err(TransportFailure::Paused { left_ms: 44_001 })).unwrap_err();
        assert_eq!(
            err,
            Error::PausedPastTimeout {
                pause_secs: 45,
                timeout_ms: 105_000
            }
        );
    }
}
