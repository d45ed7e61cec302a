//! Reading the account's device list: the one piece of code every listing uses (the WhatsApp
//! Number dropdown and its search, By Phone, Get Many, the trigger, the credential test).
//!
//! Page 0 comes first and tells the total (`X-Total-Count`); the remaining pages are then read
//! concurrently, at most [`PAGES_IN_FLIGHT`] at a time (the contract: a key that sends too many
//! requests at once may be answered 429), each with the read retry policy and its own time
//! budget. Without a usable total, pages are read one after another until a short one. A device
//! that shows up twice (the list moved while it was read) is kept once.

use std::cell::{Cell, RefCell};

use serde_json::Value;

use crate::batch::{join_workers, send_with_retries, BatchState};
use crate::credentials::Credentials;
use crate::devices::{device_option, matches_search, DeviceCollector, DeviceOption};
use crate::error::Error;
use crate::io::Io;
use crate::json::JsonReader;
use crate::order::FirstByKey;
use crate::plan::{plan_device_page, DEVICE_PAGE_SIZE};
use crate::status::{interpret_device_page, DevicePage};
use crate::text::redact;

/// Upper bound on pages read (100,000 devices), so a misbehaving service cannot loop us forever.
pub const MAX_DEVICE_PAGES: usize = 1_000;
/// Most page requests in flight at once.
pub const PAGES_IN_FLIGHT: usize = 8;

/// A listing's outcome and how many requests it made.
#[derive(Debug)]
pub struct Listed<T> {
    /// What was read, or the error.
    pub result: Result<T, Error>,
    /// Requests made for the page that decided the outcome (for the error's wording).
    pub attempts: u32,
    /// Page requests made in all, retries included.
    pub requests: u32,
}

/// The devices of a listing, each as a [`Value`] and in the caller's form.
pub type Devices<T> = Vec<(Value, T)>;

/// Reads the account's devices: all of them (`want` = `None`), or the first `want` in the
/// service's order (then with pages of `want` when that is less than 100).
pub async fn list_devices<E: Io + JsonReader>(
    io: &E,
    credentials: &Credentials,
    want: Option<usize>,
) -> Listed<Devices<E::Object>> {
    let size = want.map_or(DEVICE_PAGE_SIZE, |w| w.clamp(1, DEVICE_PAGE_SIZE));
    let state = BatchState::default();
    let reader = PageReader {
        io,
        credentials,
        size,
        state: &state,
        requests: Cell::new(0),
    };
    let first = match reader.read(0).await {
        Ok(page) => page,
        Err((error, attempts)) => return reader.failed(error, attempts),
    };
    let mut list = Collected::default();
    let first_full = first.devices.len() >= size;
    let total = first.total.filter(|&total| total >= first.devices.len());
    list.add(first.devices);
    let enough = |list: &Collected<E::Object>| want.is_some_and(|w| list.devices.len() >= w);
    if !first_full || enough(&list) {
        return reader.done(list, want);
    }

    // The pages the total promises, concurrently — and again if a later page announces a larger
    // total (the account grew meanwhile); without a total, one by one until a short page.
    let mut next = 1;
    if let Some(mut total) = total {
        loop {
            let needed = want.map_or(total, |w| w.min(total));
            let pages = needed.div_ceil(size).min(MAX_DEVICE_PAGES);
            if pages <= next {
                return reader.done(list, want);
            }
            match reader.read_concurrently(next..pages).await {
                Ok(pages_read) => {
                    for page in pages_read {
                        total = total.max(page.total.unwrap_or(0));
                        list.add(page.devices);
                    }
                    next = pages;
                }
                Err((error, attempts)) => return reader.failed(error, attempts),
            }
        }
    }
    while next < MAX_DEVICE_PAGES && !enough(&list) {
        match reader.read(next).await {
            Ok(page) => {
                let full = page.devices.len() >= size;
                list.add(page.devices);
                if !full {
                    break;
                }
            }
            Err((error, attempts)) => return reader.failed(error, attempts),
        }
        next += 1;
    }
    reader.done(list, want)
}

/// One page of the WhatsApp Number list's search (n8n's `listSearch`): the numbers to show and
/// the token of the next page, if any.
#[derive(Debug)]
pub struct SearchPage {
    /// The entries, labelled as the dropdown labels them.
    pub results: Vec<DeviceOption>,
    /// What n8n hands back to get the next page (a page number).
    pub next: Option<String>,
}

/// The search of the WhatsApp Number list. Without a filter: the account's page `token` (0
/// first), one request, in the service's order. With one: every page read, the matches
/// ([`matches_search`]) in the dropdown's order, all at once.
pub async fn search_devices<E: Io + JsonReader>(
    io: &E,
    credentials: &Credentials,
    filter: Option<&str>,
    token: Option<&str>,
) -> Listed<SearchPage> {
    let filter = filter.map(str::trim).filter(|f| !f.is_empty());
    if let Some(filter) = filter {
        let listed = list_devices(io, credentials, None).await;
        let result = listed.result.map(|devices| {
            let mut collector = DeviceCollector::default();
            collector.add_page(
                devices
                    .iter()
                    .map(|(value, _)| value)
                    .filter(|d| matches_search(d, filter)),
            );
            SearchPage {
                results: collector.into_options(),
                next: None,
            }
        });
        return Listed {
            result,
            attempts: listed.attempts,
            requests: listed.requests,
        };
    }
    let page = token
        .and_then(|t| t.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let state = BatchState::default();
    let reader = PageReader {
        io,
        credentials,
        size: DEVICE_PAGE_SIZE,
        state: &state,
        requests: Cell::new(0),
    };
    match reader.read(page).await {
        Ok(read) => {
            let full = read.devices.len() >= DEVICE_PAGE_SIZE;
            let more = read
                .total
                .map_or(full, |total| (page + 1) * DEVICE_PAGE_SIZE < total);
            let results = read
                .devices
                .iter()
                .filter_map(|(value, _)| device_option(value))
                .collect();
            Listed {
                result: Ok(SearchPage {
                    results,
                    next: (more && page + 1 < MAX_DEVICE_PAGES).then(|| (page + 1).to_string()),
                }),
                attempts: reader.requests.get(),
                requests: reader.requests.get(),
            }
        }
        Err((error, attempts)) => reader.failed(error, attempts),
    }
}

/// The credential test: one request for one device (`GET /devices?page=0&size=1`), after the
/// node's own validation of the credential. Returns how many numbers the account holds, when
/// SparkBot says (`X-Total-Count`).
pub async fn test_credentials<E: Io + JsonReader>(
    io: &E,
    credentials: &Credentials,
) -> Listed<Option<usize>> {
    let state = BatchState::default();
    let reader = PageReader {
        io,
        credentials,
        size: 1,
        state: &state,
        requests: Cell::new(0),
    };
    match reader.read(0).await {
        Ok(page) => Listed {
            result: Ok(page.total),
            attempts: reader.requests.get(),
            requests: reader.requests.get(),
        },
        Err((error, attempts)) => reader.failed(error, attempts),
    }
}

/// Version 1's WhatsApp Number dropdown: every device of the account as n8n options, labelled
/// and in natural order.
pub async fn dropdown<E: Io + JsonReader>(
    io: &E,
    credentials: &Credentials,
) -> Listed<Vec<DeviceOption>> {
    let listed = list_devices(io, credentials, None).await;
    Listed {
        result: listed.result.map(|devices| {
            let mut collector = DeviceCollector::default();
            collector.add_page(devices.iter().map(|(value, _)| value));
            collector.into_options()
        }),
        attempts: listed.attempts,
        requests: listed.requests,
    }
}

/// The credential's Test as n8n shows it (n8n's `{ status: "OK" | "Error", message }`): the
/// node's own validation of the credential (`credentials` as the boundary read them), then the
/// one request. `Ok` with the sentence for a key that works, `Err` with what failed — never the
/// key.
pub async fn credential_test<E: Io + JsonReader>(
    io: &E,
    credentials: Result<Credentials, Error>,
) -> Result<String, String> {
    let credentials = credentials.map_err(|error| error.message())?;
    let tested = test_credentials(io, &credentials).await;
    match tested.result {
        Ok(Some(1)) => Ok(
            "Connection successful: the API key works (1 WhatsApp number in the account)".into(),
        ),
        Ok(Some(n)) => Ok(format!(
            "Connection successful: the API key works ({n} WhatsApp numbers in the account)"
        )),
        Ok(None) => Ok("Connection successful: the API key works".into()),
        Err(error) => Err(redact(
            &error.message_after(tested.attempts),
            credentials.api_key.expose(),
        )),
    }
}

/// Reads pages of one size, counting requests; they share one pause (a 429 slows them all).
struct PageReader<'a, E> {
    io: &'a E,
    credentials: &'a Credentials,
    size: usize,
    state: &'a BatchState,
    requests: Cell<u32>,
}

type PageResult<T> = Result<DevicePage<T>, (Error, u32)>;

impl<E: Io + JsonReader> PageReader<'_, E> {
    async fn read(&self, page: usize) -> PageResult<E::Object> {
        let plan = plan_device_page(page, self.size, self.credentials);
        let sent = send_with_retries(self.io, &plan, self.state).await;
        self.requests.set(self.requests.get() + sent.attempts);
        let attempts = sent.attempts;
        interpret_device_page(&plan.context, sent.outcome, self.io).map_err(|e| (e, attempts))
    }

    /// Reads `pages` with at most [`PAGES_IN_FLIGHT`] in flight; the first failure stops the
    /// others from starting and is the result.
    async fn read_concurrently(
        &self,
        pages: std::ops::Range<usize>,
    ) -> Result<Vec<DevicePage<E::Object>>, (Error, u32)> {
        let count = pages.len();
        let first = pages.start;
        let next = Cell::new(first);
        let slots: RefCell<Vec<Option<PageResult<E::Object>>>> =
            RefCell::new((0..count).map(|_| None).collect());
        let worker = || async {
            while !self.state.halted() {
                let page = next.get();
                if page >= pages.end {
                    return;
                }
                next.set(page + 1);
                let result = self.read(page).await;
                if result.is_err() {
                    self.state.halt();
                }
                if let Some(slot) = slots.borrow_mut().get_mut(page - first) {
                    *slot = Some(result);
                }
            }
        };
        join_workers(PAGES_IN_FLIGHT.min(count.max(1)), worker).await;
        let mut read = Vec::with_capacity(count);
        for slot in slots.into_inner() {
            match slot {
                Some(Ok(page)) => read.push(page),
                Some(Err(failure)) => return Err(failure),
                None => {} // not started: an earlier failure halted the reading
            }
        }
        Ok(read)
    }

    fn done<T>(&self, list: Collected<T>, want: Option<usize>) -> Listed<Devices<T>> {
        let mut devices = list.devices;
        if let Some(want) = want {
            devices.truncate(want);
        }
        Listed {
            result: Ok(devices),
            attempts: 0,
            requests: self.requests.get(),
        }
    }

    fn failed<T>(&self, error: Error, attempts: u32) -> Listed<T> {
        Listed {
            result: Err(error),
            attempts,
            requests: self.requests.get(),
        }
    }
}

/// Devices in the service's order, each ID once.
struct Collected<T> {
    devices: Devices<T>,
    ids: FirstByKey<()>,
}

impl<T> Default for Collected<T> {
    fn default() -> Self {
        Collected {
            devices: Vec::new(),
            ids: FirstByKey::default(),
        }
    }
}

impl<T> Collected<T> {
    fn add(&mut self, devices: Devices<T>) {
        for (value, object) in devices {
            let fresh = match value.get("id").and_then(Value::as_str) {
                Some(id) => self.ids.insert(id, ()),
                None => true,
            };
            if fresh {
                self.devices.push((value, object));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::exchange::HttpReply;
    use crate::fake::{self, Answer, Fake, Received};
    use serde_json::json;
    use std::rc::Rc;

    fn credentials() -> Credentials {
        fake::credentials("http://127.0.0.1:1/v1")
    }

    fn param(url: &str, name: &str) -> usize {
        let query = url.split('?').nth(1).unwrap_or_default();
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
            .and_then(|v| v.parse().ok())
            .unwrap()
    }

    /// Answers page requests for an account of `total.get()` devices, with `X-Total-Count`.
    fn fake_answer(total: &Rc<Cell<usize>>) -> impl Fn(&Received, usize) -> Answer + 'static {
        let total = total.clone();
        move |request, _| page_of(&request.url, total.get(), true)
    }

    fn page_of(url: &str, all: usize, announce: bool) -> Answer {
        let (page, size) = (param(url, "page"), param(url, "size"));
        let devices: Vec<Value> = (page * size..((page + 1) * size).min(all))
            .map(|i| json!({ "id": format!("{i:024x}"), "alias": format!("N{i}") }))
            .collect();
        Answer::Reply(HttpReply {
            status: 200,
            content_type: Some("application/json".into()),
            retry_after: None,
            total_count: announce.then(|| all.to_string()),
            body: Value::Array(devices).to_string(),
            elapsed_ms: 100,
            ..Default::default()
        })
    }

    /// An account of `total.get()` devices served page by page, `X-Total-Count` when `announce`.
    fn account(total: Rc<Cell<usize>>, announce: bool) -> Fake {
        Fake::new(move |request, _| page_of(&request.url, total.get(), announce))
    }

    fn ids(listed: &Listed<Devices<Value>>) -> Vec<usize> {
        listed
            .result
            .as_ref()
            .unwrap()
            .iter()
            .map(|(v, _)| usize::from_str_radix(v["id"].as_str().unwrap(), 16).unwrap())
            .collect()
    }

    #[test]
    fn every_device_once_in_the_services_order_whatever_the_size() {
        for total in [0, 1, 99, 100, 101, 230, 1_012] {
            for announce in [true, false] {
                let fake = account(Rc::new(Cell::new(total)), announce);
                let listed = fake.run(list_devices(&fake, &credentials(), None));
                assert_eq!(
                    ids(&listed),
                    (0..total).collect::<Vec<_>>(),
                    "{total}, {announce}"
                );
                let requests = fake.urls().len();
                let expected = if announce {
                    total.div_ceil(100).max(1) // at most ceil(numbers / 100)
                } else {
                    total / 100 + 1 // until a short page
                };
                assert_eq!(
                    requests, expected,
                    "{total} devices, total announced: {announce}"
                );
                assert_eq!(listed.requests as usize, requests);
            }
        }
    }

    #[test]
    fn with_a_total_the_pages_are_read_concurrently_and_no_more_than_needed() {
        let fake = account(Rc::new(Cell::new(1_012)), true);
        fake.latency_ms.set(100.0);
        let listed = fake.run(list_devices(&fake, &credentials(), None));
        assert_eq!(ids(&listed).len(), 1_012);
        assert_eq!(fake.urls().len(), 11, "ceil(1012 / 100) page requests");
        assert_eq!(fake.most_in_flight.get(), PAGES_IN_FLIGHT);
        // Page 0, then pages 1-8 together, then 9-10: three rounds of 100 ms.
        assert_eq!(fake.now(), 300.0);
        let sequential = account(Rc::new(Cell::new(1_012)), false);
        sequential.latency_ms.set(100.0);
        sequential.run(list_devices(&sequential, &credentials(), None));
        assert_eq!(
            sequential.now(),
            1_100.0,
            "without a total: one page after another"
        );
    }

    #[test]
    fn an_account_that_grows_while_it_is_read_is_read_to_its_end() {
        // 250 devices when page 0 is read, 320 from then on.
        let total = Rc::new(Cell::new(250));
        let grown = Fake::new(move |request, _| {
            let answer = page_of(&request.url, total.get(), true);
            total.set(320);
            answer
        });
        let listed = grown.run(list_devices(&grown, &credentials(), None));
        assert_eq!(ids(&listed), (0..320).collect::<Vec<_>>());
        assert_eq!(
            grown.urls().len(),
            4,
            "pages 0-2 as announced, then page 3 after a full page 2"
        );
    }

    #[test]
    fn a_device_seen_twice_is_kept_once() {
        let fake = Fake::new(|request, _| {
            let page = param(&request.url, "page");
            let devices: Vec<Value> = match page {
                0 => (0..100)
                    .map(|i| json!({ "id": format!("{i:024x}") }))
                    .collect(),
                // The list moved: device 99 shows up again on page 1.
                _ => (99..150)
                    .map(|i| json!({ "id": format!("{i:024x}") }))
                    .collect(),
            };
            Answer::Reply(HttpReply {
                status: 200,
                content_type: None,
                retry_after: None,
                total_count: Some("150".into()),
                body: Value::Array(devices).to_string(),
                elapsed_ms: 10,
                ..Default::default()
            })
        });
        let listed = fake.run(list_devices(&fake, &credentials(), None));
        assert_eq!(ids(&listed), (0..150).collect::<Vec<_>>());
    }

    #[test]
    fn the_first_n_need_only_the_pages_that_hold_them() {
        let fake = account(Rc::new(Cell::new(1_012)), true);
        let listed = fake.run(list_devices(&fake, &credentials(), Some(50)));
        assert_eq!(ids(&listed), (0..50).collect::<Vec<_>>());
        assert_eq!(
            fake.urls(),
            ["http://127.0.0.1:1/v1/devices?page=0&size=50"]
        );
        let fake = account(Rc::new(Cell::new(1_012)), true);
        let listed = fake.run(list_devices(&fake, &credentials(), Some(250)));
        assert_eq!(ids(&listed), (0..250).collect::<Vec<_>>());
        assert_eq!(fake.urls().len(), 3);
    }

    #[test]
    fn a_failing_page_fails_the_listing_and_stops_the_others() {
        let pages = fake_answer(&Rc::new(Cell::new(1_000)));
        let fake = Fake::new(move |request, attempt| {
            if param(&request.url, "page") == 3 {
                Answer::Slow(50.0, 403)
            } else {
                pages(request, attempt)
            }
        });
        fake.latency_ms.set(100.0);
        let listed = fake.run(list_devices(&fake, &credentials(), None));
        assert_eq!(listed.result.unwrap_err().http_code(), Some(403));
        assert_eq!(listed.attempts, 1);
        assert_eq!(
            fake.urls().len(),
            1 + PAGES_IN_FLIGHT,
            "nothing started after the failure"
        );
    }

    #[test]
    fn a_listing_that_cannot_reach_sparkbot_names_the_host_and_one_that_hangs_its_timeout() {
        let fake = Fake::new(|_, _| Answer::Network("ECONNREFUSED"));
        let error = fake
            .run(list_devices(&fake, &credentials(), None))
            .result
            .unwrap_err();
        assert!(
            error.message().contains("at 127.0.0.1:1"),
            "{}",
            error.message()
        );
        let fake = Fake::new(|_, _| Answer::Hang);
        let error = fake
            .run(list_devices(&fake, &credentials(), None))
            .result
            .unwrap_err();
        assert!(
            error.message().contains("after 30 s"),
            "{}",
            error.message()
        );
    }

    #[test]
    fn a_page_that_is_not_a_list_fails_the_listing() {
        let fake = Fake::statuses(|_, _| 200);
        let listed = fake.run(list_devices(&fake, &credentials(), None));
        assert_eq!(
            listed.result.unwrap_err().code(),
            "SPARKBOT_INVALID_RESPONSE"
        );
    }

    #[test]
    fn a_rate_limited_page_is_retried_and_pauses_the_others() {
        let fake = Fake::new(|request, attempt| {
            let page = param(&request.url, "page");
            if page == 2 && attempt == 0 {
                return Answer::Status(429);
            }
            let devices: Vec<Value> = (page * 100..((page + 1) * 100).min(350))
                .map(|i| json!({ "id": format!("{i:024x}") }))
                .collect();
            Answer::Reply(HttpReply {
                status: 200,
                content_type: None,
                retry_after: None,
                total_count: Some("350".into()),
                body: Value::Array(devices).to_string(),
                elapsed_ms: 10,
                ..Default::default()
            })
        });
        let listed = fake.run(list_devices(&fake, &credentials(), None));
        assert_eq!(ids(&listed).len(), 350);
        assert_eq!(listed.requests, 5);
    }

    #[test]
    fn the_search_without_a_filter_is_one_page_request_with_a_token_for_the_next() {
        let fake = account(Rc::new(Cell::new(230)), true);
        let first = fake
            .run(search_devices(&fake, &credentials(), None, None))
            .result
            .unwrap();
        assert_eq!(first.results.len(), 100);
        assert_eq!(first.results[0].name, "N0 (no phone yet)");
        assert_eq!(first.next.as_deref(), Some("1"));
        assert_eq!(
            fake.urls(),
            ["http://127.0.0.1:1/v1/devices?page=0&size=100"]
        );
        let last = fake
            .run(search_devices(&fake, &credentials(), Some("  "), Some("2")))
            .result
            .unwrap();
        assert_eq!(last.results.len(), 30);
        assert_eq!(last.next, None);
    }

    #[test]
    fn the_search_pages_without_a_total_by_whether_a_page_is_full_and_stops_at_the_last_page() {
        let next = |total: usize, announce: bool, token: &str| {
            let fake = account(Rc::new(Cell::new(total)), announce);
            fake.run(search_devices(&fake, &credentials(), None, Some(token)))
                .result
                .unwrap()
                .next
        };
        assert_eq!(next(230, false, "1"), Some("2".into()), "a full page: more");
        assert_eq!(next(230, false, "2"), None, "a short page: the last");
        assert_eq!(
            next(200, false, "1"),
            Some("2".into()),
            "full, and no total"
        );
        assert_eq!(
            next(200, true, "1"),
            None,
            "full, but the total says it is the last"
        );
        assert_eq!(next(201, true, "1"), Some("2".into()));
        // Page 999 is the last one ever read, whatever the account says.
        let huge = MAX_DEVICE_PAGES * DEVICE_PAGE_SIZE + 500;
        assert_eq!(next(huge, true, "998"), Some("999".into()));
        assert_eq!(next(huge, true, "999"), None);
    }

    #[test]
    fn an_endless_account_without_a_total_is_read_to_the_page_limit_and_no_further() {
        let fake = account(Rc::new(Cell::new(usize::MAX / 2)), false);
        let listed = fake.run(list_devices(&fake, &credentials(), None));
        assert_eq!(fake.urls().len(), MAX_DEVICE_PAGES);
        assert_eq!(ids(&listed).len(), MAX_DEVICE_PAGES * DEVICE_PAGE_SIZE);
    }

    #[test]
    fn the_search_with_a_filter_reads_every_page_and_keeps_the_matches() {
        let fake = account(Rc::new(Cell::new(230)), true);
        let found = fake
            .run(search_devices(&fake, &credentials(), Some("n22"), None))
            .result
            .unwrap();
        let names: Vec<&str> = found.results.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names.len(), 11, "{names:?}"); // N22, N220-N229
        assert_eq!(names[0], "N22 (no phone yet)");
        assert_eq!(names[1], "N220 (no phone yet)");
        assert_eq!(found.next, None);
        assert_eq!(fake.urls().len(), 3);
    }

    #[test]
    fn the_credential_test_reads_one_device_and_the_total() {
        let fake = account(Rc::new(Cell::new(42)), true);
        let tested = fake.run(test_credentials(&fake, &credentials()));
        assert_eq!(tested.result.unwrap(), Some(42));
        assert_eq!(fake.urls(), ["http://127.0.0.1:1/v1/devices?page=0&size=1"]);
        let fake = Fake::statuses(|_, _| 401);
        let tested = fake.run(test_credentials(&fake, &credentials()));
        assert_eq!(tested.result.unwrap_err().code(), "SPARKBOT_UNAUTHORIZED");
    }

    #[test]
    fn the_credential_tests_sentences_and_failures_never_carry_the_key() {
        let sentence = |fake: &Fake| fake.run(credential_test(fake, Ok(credentials())));
        assert_eq!(
            sentence(&account(Rc::new(Cell::new(1)), true)),
            Ok(
                "Connection successful: the API key works (1 WhatsApp number in the account)"
                    .into()
            )
        );
        assert_eq!(
            sentence(&account(Rc::new(Cell::new(42)), true)),
            Ok(
                "Connection successful: the API key works (42 WhatsApp numbers in the account)"
                    .into()
            )
        );
        assert_eq!(
            sentence(&account(Rc::new(Cell::new(42)), false)),
            Ok("Connection successful: the API key works".into())
        );

        // A key the service echoes back in its error is removed from what n8n shows.
        let key = "sb-live-0123456789abcdef";
        let keyed = Credentials::validate(&crate::credentials::RawCredentials {
            api_key: Some(json!(key)),
            base_url: Some(json!("http://127.0.0.1:1/v1")),
            ..crate::credentials::RawCredentials::default()
        })
        .unwrap();
        let fake = Fake::new(move |_, _| {
            Answer::Reply(HttpReply {
                status: 401,
                content_type: Some("application/json".into()),
                body: json!({ "status": 401, "error": "unauthorized", "message": format!("bad token {key}") })
                    .to_string(),
                ..Default::default()
            })
        });
        let failed = fake.run(credential_test(&fake, Ok(keyed))).unwrap_err();
        assert!(!failed.contains(key), "{failed}");
        assert!(
            failed.contains("401") || failed.to_lowercase().contains("key"),
            "{failed}"
        );

        // Retried failures say how many attempts they took.
        let fake = Fake::statuses(|_, _| 503);
        let failed = fake
            .run(credential_test(&fake, Ok(credentials())))
            .unwrap_err();
        assert!(failed.ends_with("(after 3 attempts)"), "{failed}");

        // The node's own validation of the credential comes first: nothing is sent.
        let fake = Fake::statuses(|_, _| 200);
        let invalid = Error::invalid_parameter("Base URL", "must start with https://");
        let failed = fake.run(credential_test(&fake, Err(invalid))).unwrap_err();
        assert!(failed.contains("Base URL"), "{failed}");
        assert!(fake.urls().is_empty());
    }
}
