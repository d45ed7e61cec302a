//! When to try a request again, and after how long.
//!
//! SparkBot says when it did not act: `429 rate_limited` and `503 unavailable`, usually with a
//! `Retry-After`. Those answers are retried, and so is a connection that could not be made at all
//! (refused, DNS, unreachable): that request never left. Any other answer, or a request that may
//! have reached the service, is final: a reboot or reset must not run twice. Reading the device
//! list changes nothing, so its requests are also retried after any network failure.

use crate::exchange::{HttpReply, TransportFailure};
use crate::network_errors::{reach, tls_problem, Reach};
use crate::plan::Method;
use crate::status::parse_retry_after;

/// Most attempts per request, the first one included.
pub const MAX_ATTEMPTS: u32 = 3;
/// First backoff step when SparkBot gave no `Retry-After`; it doubles on each attempt.
const BACKOFF_BASE_MS: f64 = 1_000.0;

/// How long to wait before attempt `attempt + 1`, or `None` when `outcome` is final.
///
/// `attempt` counts the attempts made so far (1 after the first). `jitter` is a random number
/// in `[0, 1)`; it spreads the backoff (50 % to 150 % of the step) so that items that were slowed
/// down together do not come back together.
pub fn retry_delay_ms(
    method: Method,
    outcome: &Result<HttpReply, TransportFailure>,
    attempt: u32,
    jitter: f64,
) -> Option<u64> {
    if attempt >= MAX_ATTEMPTS {
        return None;
    }
    match outcome {
        Ok(reply) if reply.status == 429 || reply.status == 503 => {
            if let Some(ms) = requested_pause_ms(outcome) {
                return Some(ms);
            }
        }
        // A TLS failure, or n8n's refusal, comes back the same on every attempt.
        Err(TransportFailure::Network { code, .. })
            if tls_problem(code.as_deref()).is_some()
                || reach(code.as_deref()) == Reach::Blocked =>
        {
            return None
        }
        Err(TransportFailure::Network { code, .. })
            if method != Method::Post || reach(code.as_deref()) == Reach::NotSent => {}
        _ => return None,
    }
    let step = BACKOFF_BASE_MS * f64::from(1u32 << attempt.saturating_sub(1).min(8));
    Some((step * (0.5 + jitter.clamp(0.0, 1.0))) as u64)
}

/// The pause SparkBot asks for, in milliseconds: `Retry-After` on a `429` or `503`. Every request
/// of the batch waits it out, whether or not the request that got it is retried.
pub fn requested_pause_ms(outcome: &Result<HttpReply, TransportFailure>) -> Option<u64> {
    match outcome {
        Ok(reply) if reply.status == 429 || reply.status == 503 => reply
            .retry_after
            .as_deref()
            .and_then(parse_retry_after)
            .map(|secs| secs.saturating_mul(1_000)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, retry_after: Option<&str>) -> Result<HttpReply, TransportFailure> {
        Ok(HttpReply {
            status,
            content_type: None,
            retry_after: retry_after.map(str::to_string),
            total_count: None,
            body: String::new(),
            elapsed_ms: 1,
            ..Default::default()
        })
    }

    #[test]
    fn rate_limits_and_unavailability_are_retried_after_retry_after() {
        assert_eq!(
            retry_delay_ms(Method::Post, &reply(429, Some("2")), 1, 0.3),
            Some(2_000)
        );
        assert_eq!(
            retry_delay_ms(Method::Post, &reply(503, Some("0")), 1, 0.3),
            Some(0)
        );
    }

    #[test]
    fn without_retry_after_the_backoff_doubles_with_jitter() {
        assert_eq!(
            retry_delay_ms(Method::Post, &reply(429, None), 1, 0.0),
            Some(500)
        );
        assert_eq!(
            retry_delay_ms(Method::Post, &reply(429, None), 1, 0.5),
            Some(1_000)
        );
        assert_eq!(
            retry_delay_ms(Method::Post, &reply(503, None), 2, 0.5),
            Some(2_000)
        );
        assert_eq!(
            retry_delay_ms(Method::Post, &reply(503, Some("soon")), 2, 0.0),
            Some(1_000)
        );
    }

    #[test]
    fn a_requested_pause_is_read_from_429_and_503_only() {
        assert_eq!(requested_pause_ms(&reply(429, Some("45"))), Some(45_000));
        assert_eq!(requested_pause_ms(&reply(503, Some("2"))), Some(2_000));
        assert_eq!(requested_pause_ms(&reply(503, None)), None);
        assert_eq!(requested_pause_ms(&reply(500, Some("2"))), None);
        assert_eq!(requested_pause_ms(&reply(200, Some("2"))), None);
    }

    #[test]
    fn at_most_three_attempts() {
        assert!(retry_delay_ms(Method::Post, &reply(429, Some("1")), 2, 0.5).is_some());
        assert_eq!(
            retry_delay_ms(Method::Post, &reply(429, Some("1")), 3, 0.5),
            None
        );
    }

    #[test]
    fn every_other_outcome_is_final() {
        for status in [200, 400, 401, 403, 404, 409, 500, 502, 504] {
            assert_eq!(
                retry_delay_ms(Method::Post, &reply(status, Some("1")), 1, 0.5),
                None,
                "{status}"
            );
        }
        let failures = [
            TransportFailure::TimedOut { elapsed_ms: 5 },
            TransportFailure::Cancelled,
            TransportFailure::TooLarge,
            network("ECONNRESET"),
            network("UND_ERR_SOCKET"),
        ];
        for failure in failures {
            assert_eq!(retry_delay_ms(Method::Post, &Err(failure), 1, 0.5), None);
        }
    }

    fn network(code: &str) -> TransportFailure {
        TransportFailure::Network {
            code: Some(code.into()),
            detail: String::new(),
            during_body: false,
        }
    }

    #[test]
    fn a_connection_that_was_never_made_is_retried_with_backoff() {
        let not_sent = crate::network_errors::NODE_CODES
            .iter()
            .filter(|(_, _, reach)| *reach == Reach::NotSent);
        for (code, _, _) in not_sent {
            assert_eq!(
                retry_delay_ms(Method::Post, &Err(network(code)), 1, 0.5),
                Some(1_000),
                "{code}"
            );
        }
        assert_eq!(
            retry_delay_ms(Method::Post, &Err(network("ECONNREFUSED")), 3, 0.5),
            None
        );
        // Found by tests/core_fuzz.rs: attempt 0 once underflowed.
        assert_eq!(
            retry_delay_ms(Method::Get, &Err(network("ECONNRESET")), 0, 0.0),
            Some(500)
        );
    }

    #[test]
    fn tls_failures_and_n8ns_refusals_are_not_retried_even_for_a_read() {
        for code in [
            "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
            "CERT_HAS_EXPIRED",
            "ERR_TLS_CERT_ALTNAME_INVALID",
            "EPROTO",
            "SsrfBlockedIpError",
            "SsrfBlockedHostnameError",
        ] {
            for method in [Method::Get, Method::Post] {
                assert_eq!(
                    retry_delay_ms(method, &Err(network(code)), 1, 0.5),
                    None,
                    "{code}"
                );
            }
        }
    }

    #[test]
    fn reading_the_device_list_is_retried_after_any_network_failure() {
        assert_eq!(
            retry_delay_ms(Method::Get, &Err(network("ECONNRESET")), 1, 0.5),
            Some(1_000)
        );
        assert_eq!(
            retry_delay_ms(
                Method::Get,
                &Err(TransportFailure::TimedOut { elapsed_ms: 1 }),
                1,
                0.5
            ),
            None
        );
    }
}
