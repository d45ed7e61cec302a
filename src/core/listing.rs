//! Reading the account's device list: the one loop over `GET /devices` pages that every caller
//! uses (the WhatsApp Number dropdown, the credential test), over [`Io`].

use serde_json::Value;

use crate::core::batch::{send_with_retries, BatchState};
use crate::core::credentials::Credentials;
use crate::core::error::Error;
use crate::core::io::Io;
use crate::core::json::JsonReader;
use crate::core::plan::{plan_device_page, DEVICE_PAGE_SIZE};
use crate::core::status::interpret_device_page;

/// Upper bound on pages read (100,000 devices), so a misbehaving service cannot loop us forever.
pub const MAX_DEVICE_PAGES: usize = 1_000;

/// A listing's outcome and the requests its last page took (for the error's wording).
#[derive(Debug)]
pub struct Listed<T> {
    /// What was read, or the error.
    pub result: Result<T, Error>,
    /// Requests made for the page that decided the outcome.
    pub attempts: u32,
}

/// Reads every device of the account: page after page of 100, until a short page.
pub async fn list_devices<E: Io + JsonReader>(
    io: &E,
    credentials: &Credentials,
) -> Listed<Vec<Value>> {
    let state = BatchState::default();
    let mut devices = Vec::new();
    let mut attempts = 0;
    for page in 0..MAX_DEVICE_PAGES {
        let plan = plan_device_page(page, DEVICE_PAGE_SIZE, credentials);
        let sent = send_with_retries(io, &plan, &state).await;
        attempts = sent.attempts;
        let result = interpret_device_page(&plan.context, sent.outcome, &|text| io.parse(text));
        match result {
            Ok(found) => {
                let last = found.len() < DEVICE_PAGE_SIZE;
                devices.extend(found);
                if last {
                    break;
                }
            }
            Err(error) => {
                return Listed {
                    result: Err(error),
                    attempts,
                }
            }
        }
    }
    Listed {
        result: Ok(devices),
        attempts,
    }
}

/// The credential test: one request for one device (`GET /devices?page=0&size=1`), with the
/// node's own validation of the credential before it. Returns how many numbers the account
/// holds, when SparkBot says (`X-Total-Count`).
pub async fn test_credentials<E: Io + JsonReader>(
    io: &E,
    credentials: &Credentials,
) -> Listed<Option<u64>> {
    let plan = plan_device_page(0, 1, credentials);
    let sent = send_with_retries(io, &plan, &BatchState::default()).await;
    let attempts = sent.attempts;
    let total = match &sent.outcome {
        Ok(reply) => reply
            .total_count
            .as_deref()
            .and_then(|text| text.trim().parse::<u64>().ok()),
        Err(_) => None,
    };
    let result =
        interpret_device_page(&plan.context, sent.outcome, &|text| io.parse(text)).map(|_| total);
    Listed { result, attempts }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::core::credentials::RawCredentials;
    use crate::core::fake::{Answer, Fake};
    use crate::core::http::HttpReply;
    use serde_json::json;

    fn credentials() -> Credentials {
        Credentials::validate(&RawCredentials {
            api_key: Some(json!("k")),
            base_url: Some(json!("http://127.0.0.1:1/v1")),
            allow_insecure_http: None,
        })
        .unwrap()
    }

    /// An account of `total` devices, served page by page.
    fn account(total: usize) -> Fake {
        Fake::new(move |request, _| {
            let query = request.url.split('?').nth(1).unwrap_or_default();
            let param = |name: &str| {
                query
                    .split('&')
                    .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
                    .and_then(|v| v.parse::<usize>().ok())
                    .unwrap()
            };
            let (page, size) = (param("page"), param("size"));
            let devices: Vec<Value> = (page * size..((page + 1) * size).min(total))
                .map(|i| json!({ "id": format!("{i:024x}"), "alias": format!("N{i}") }))
                .collect();
            Answer::Reply(HttpReply {
                status: 200,
                content_type: Some("application/json".into()),
                retry_after: None,
                total_count: Some(total.to_string()),
                body: Value::Array(devices).to_string(),
                elapsed_ms: 10,
            })
        })
    }

    #[test]
    fn every_page_is_read_until_a_short_one() {
        for (total, pages) in [(0, 1), (99, 1), (100, 2), (230, 3)] {
            let fake = account(total);
            let listed = fake.run(list_devices(&fake, &credentials()));
            assert_eq!(listed.result.unwrap().len(), total);
            assert_eq!(fake.urls().len(), pages, "{total} devices");
            assert!(fake.urls()[0].ends_with("/devices?page=0&size=100"));
        }
    }

    #[test]
    fn a_failing_page_fails_the_listing_with_its_attempts() {
        let fake = Fake::statuses(|url, _| if url.contains("page=1") { 503 } else { 429 });
        let listed = fake.run(list_devices(&fake, &credentials()));
        assert_eq!(listed.result.unwrap_err().http_code(), Some(429));
        assert_eq!(listed.attempts, 3);
    }

    #[test]
    fn the_credential_test_reads_one_device_and_the_total() {
        let fake = account(42);
        let tested = fake.run(test_credentials(&fake, &credentials()));
        assert_eq!(tested.result.unwrap(), Some(42));
        assert_eq!(fake.urls(), ["http://127.0.0.1:1/v1/devices?page=0&size=1"]);
        let fake = Fake::statuses(|_, _| 401);
        let tested = fake.run(test_credentials(&fake, &credentials()));
        assert_eq!(tested.result.unwrap_err().code(), "SPARKBOT_UNAUTHORIZED");
    }
}
