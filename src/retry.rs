//! When to try a request again, and after how long.
//!
//! SparkBot says when it did not act: `429 rate_limited` and `503 unavailable`, usually with a
//! `Retry-After`. Only those answers are retried — any other answer, or a request that may have
//! reached the service, is final: a reboot or reset must not run twice.

use crate::response::{parse_retry_after, HttpReply, TransportFailure};

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
    outcome: &Result<HttpReply, TransportFailure>,
    attempt: u32,
    jitter: f64,
) -> Option<u64> {
    if attempt >= MAX_ATTEMPTS {
        return None;
    }
    let reply = outcome.as_ref().ok()?;
    if reply.status != 429 && reply.status != 503 {
        return None;
    }
    if let Some(secs) = reply.retry_after.as_deref().and_then(parse_retry_after) {
        return Some(secs.saturating_mul(1_000));
    }
    let step = BACKOFF_BASE_MS * f64::from(1u32 << (attempt - 1).min(8));
    Some((step * (0.5 + jitter.clamp(0.0, 1.0))) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, retry_after: Option<&str>) -> Result<HttpReply, TransportFailure> {
        Ok(HttpReply {
            status,
            content_type: None,
            retry_after: retry_after.map(str::to_string),
            body: String::new(),
            elapsed_ms: 1,
        })
    }

    #[test]
    fn rate_limits_and_unavailability_are_retried_after_retry_after() {
        assert_eq!(retry_delay_ms(&reply(429, Some("2")), 1, 0.3), Some(2_000));
        assert_eq!(retry_delay_ms(&reply(503, Some("0")), 1, 0.3), Some(0));
    }

    #[test]
    fn without_retry_after_the_backoff_doubles_with_jitter() {
        assert_eq!(retry_delay_ms(&reply(429, None), 1, 0.0), Some(500));
        assert_eq!(retry_delay_ms(&reply(429, None), 1, 0.5), Some(1_000));
        assert_eq!(retry_delay_ms(&reply(503, None), 2, 0.5), Some(2_000));
        assert_eq!(
            retry_delay_ms(&reply(503, Some("soon")), 2, 0.0),
            Some(1_000)
        );
    }

    #[test]
    fn at_most_three_attempts() {
        assert!(retry_delay_ms(&reply(429, Some("1")), 2, 0.5).is_some());
        assert_eq!(retry_delay_ms(&reply(429, Some("1")), 3, 0.5), None);
    }

    #[test]
    fn every_other_outcome_is_final() {
        for status in [200, 400, 401, 403, 404, 409, 500, 502, 504] {
            assert_eq!(
                retry_delay_ms(&reply(status, Some("1")), 1, 0.5),
                None,
                "{status}"
            );
        }
        let failures = [
            TransportFailure::TimedOut { elapsed_ms: 5 },
            TransportFailure::Network {
                code: Some("ECONNRESET".into()),
                detail: String::new(),
                during_body: false,
            },
        ];
        for failure in failures {
            assert_eq!(retry_delay_ms(&Err(failure), 1, 0.5), None);
        }
    }
}
