//! Runs the requests of one node execution: at most `concurrency` at a time, results in input
//! order, a `429`/`503` pause that every request waits out, and never two requests for the same
//! number at once.
//!
//! The scheduling is pure Rust over [`Io`] (HTTP, clock, sleep, randomness, cancellation) and a
//! [`JsonReader`], so it is tested natively with a fake; the wasm build plugs in
//! `sparkbot_wasm`'s `HostExchange`.

use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Waker};

use crate::error::Error;
use crate::exchange::{HttpReply, TransportFailure};
use crate::io::Io;
use crate::json::{JsonReader, JsonType};
use crate::plan::{Expect, RequestPlan};
use crate::qr::read_scan;
use crate::retry::{requested_pause_ms, retry_delay_ms};
use crate::status::{expect_object, interpret_action};

/// The final outcome of one request, and how many attempts it took.
#[derive(Debug)]
pub struct Sent {
    /// The last attempt's outcome.
    pub outcome: Result<HttpReply, TransportFailure>,
    /// Requests made, the first one included (0 when none could be made).
    pub attempts: u32,
    /// Whether a retry the answer allowed was not made because it would have ended after the
    /// request's time budget.
    pub retry_past_budget: bool,
    /// Whether the batch was halted before the request was done: it did not run (any answer it
    /// got said SparkBot did not act, or it was never sent).
    pub halted: bool,
}

/// One item's result and the number of requests it took (0 when nothing was sent).
#[derive(Debug)]
pub struct ItemResult<T> {
    /// The response object, or the error.
    pub result: Result<T, Error>,
    /// Requests made for the item.
    pub attempts: u32,
}

/// Interprets the final outcome of a request about one number: the response object (reboot,
/// reset, get) or the QR code the node makes of the answer (Get QR Code), or the error.
pub fn action_result<J: JsonReader>(
    json: &J,
    plan: &RequestPlan,
    sent: Sent,
) -> Result<J::Object, Error> {
    let body = interpret_action(&plan.context, sent.outcome, &|text| json.parse(text))
        .map_err(|error| note_budget(error, plan, sent.retry_past_budget))?;
    match &plan.expect {
        Expect::Object => expect_object(json.parse_body(&body), &body),
        Expect::QrCode { field, names } => {
            let answer = expect_object(json.parse(&body).map(|v| (JsonType::of(&v), v)), &body)?;
            let device = plan.context.device.as_deref().unwrap_or_default();
            let code = read_scan(device, &answer, names, field)?;
            Ok(json.to_object(&code.to_value()))
        }
    }
}

/// Says in a rate-limit error that no retry was made because of the time budget.
pub fn note_budget(error: Error, plan: &RequestPlan, retry_past_budget: bool) -> Error {
    match error {
        Error::RateLimited {
            retry_after_secs,
            service_message,
            ..
        } if retry_past_budget => Error::RateLimited {
            retry_after_secs,
            service_message,
            beyond_timeout_ms: Some(plan.timeout_ms),
        },
        other => other,
    }
}

/// How a batch runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchSettings {
    /// How many requests may be in flight at once (1 = one after another).
    pub concurrency: usize,
    /// Stop starting requests after the first failed item (n8n without continue-on-fail): the
    /// run fails with that item's error, so later items must not act on SparkBot.
    pub stop_on_error: bool,
}

/// What the requests of a batch share: a pause that every request waits out before it is sent
/// (set when SparkBot answers one of them `429` or `503` with a time to come back, and for the
/// backoff of a retry), and whether the batch was halted (an item failed and the run stops: no
/// request starts any more, retries included).
#[derive(Debug, Default)]
pub struct BatchState {
    until_ms: Cell<f64>,
    halted: Cell<bool>,
    /// Requests sleeping through the pause, woken when the batch is halted.
    sleepers: RefCell<Vec<Waker>>,
}

impl BatchState {
    /// Waits until the pause is over. A pause that ends at or after `deadline` is not waited
    /// out: the milliseconds it has left are returned at once.
    async fn wait_out<E: Io>(&self, io: &E, deadline: f64) -> Result<(), u64> {
        while !io.cancelled() && !self.halted.get() {
            let now = io.now_ms();
            let left = self.until_ms.get() - now;
            if left <= 0.0 {
                return Ok(());
            }
            if self.until_ms.get() >= deadline {
                return Err(left.ceil() as u64);
            }
            self.sleep_unless_halted(io, left.ceil() as u64).await;
        }
        Ok(())
    }

    /// Sleeps `ms`, or until the batch is halted.
    async fn sleep_unless_halted<E: Io>(&self, io: &E, ms: u64) {
        let mut sleep = pin!(io.sleep(ms));
        poll_fn(|context| {
            if self.halted.get() || sleep.as_mut().poll(context).is_ready() {
                return Poll::Ready(());
            }
            self.sleepers.borrow_mut().push(context.waker().clone());
            Poll::Pending
        })
        .await;
    }

    fn extend_to(&self, until_ms: f64) {
        if until_ms > self.until_ms.get() {
            self.until_ms.set(until_ms);
        }
    }

    /// Stops the batch: no request starts from now on.
    pub fn halt(&self) {
        self.halted.set(true);
        self.sleepers.borrow_mut().drain(..).for_each(Waker::wake);
    }

    /// Whether the batch was halted.
    pub fn halted(&self) -> bool {
        self.halted.get()
    }
}

/// Sends `plan` and returns the final outcome: retried (when `plan.retry` allows) while SparkBot
/// says it did not act or the connection could not be made, within the plan's time budget,
/// which covers every attempt and pause. A pause SparkBot asks for (`Retry-After` on a 429 or
/// 503) holds every request of the batch, retried or not; a request whose budget ends before
/// the pause does is not sent. A cancelled execution sends nothing more, and neither does a
/// halted batch (the last answer stands; with none, `attempts` is 0 and the item did not run).
pub async fn send_with_retries<E: Io>(io: &E, plan: &RequestPlan, state: &BatchState) -> Sent {
    let started = io.now_ms();
    let deadline = started + f64::from(plan.timeout_ms);
    let elapsed = |now: f64| (now - started).max(0.0) as u64;
    let mut attempts = 0;
    let mut last = None;
    loop {
        let waited = state.wait_out(io, deadline).await;
        let now = io.now_ms();
        if state.halted() {
            return Sent {
                outcome: last.unwrap_or(Err(TransportFailure::Cancelled)),
                attempts,
                retry_past_budget: false,
                halted: true,
            };
        }
        let stop = if io.cancelled() {
            Some(TransportFailure::Cancelled)
        } else if let Err(left_ms) = waited {
            Some(TransportFailure::Paused { left_ms })
        } else if deadline - now < 1.0 {
            Some(TransportFailure::TimedOut {
                elapsed_ms: elapsed(now),
            })
        } else {
            None
        };
        if let Some(failure) = stop {
            return match last {
                // Out of time before a retry: the last answer stands.
                Some(outcome) if !matches!(failure, TransportFailure::Cancelled) => Sent {
                    outcome,
                    attempts,
                    retry_past_budget: true,
                    halted: false,
                },
                _ => Sent {
                    outcome: Err(failure),
                    attempts,
                    retry_past_budget: false,
                    halted: false,
                },
            };
        }
        attempts += 1;
        let outcome = match io.send(plan, (deadline - now) as u32).await {
            Err(TransportFailure::TimedOut { .. }) => Err(TransportFailure::TimedOut {
                elapsed_ms: elapsed(io.now_ms()),
            }),
            other => other,
        };
        if let Some(ms) = requested_pause_ms(&outcome) {
            state.extend_to(io.now_ms() + ms as f64);
        }
        let delay = if plan.retry {
            retry_delay_ms(plan.method, &outcome, attempts, io.random())
        } else {
            None
        };
        match delay {
            Some(delay) if io.now_ms() + (delay as f64) < deadline => {
                state.extend_to(io.now_ms() + delay as f64);
                last = Some(outcome);
            }
            Some(_) => {
                return Sent {
                    outcome,
                    attempts,
                    retry_past_budget: true,
                    halted: false,
                }
            }
            None => {
                return Sent {
                    outcome,
                    attempts,
                    retry_past_budget: false,
                    halted: false,
                }
            }
        }
    }
}

/// Runs one reboot/reset per planned item and returns each item's result in input order: the
/// response object, or the error. An item whose plan failed keeps its error and sends nothing.
/// Two items for the same number never run at the same time: the later one waits for the earlier
/// (the others go on meanwhile). With `stop_on_error`, nothing is sent when any plan failed, and
/// no request starts after an item failed; items that did not run are `None`, and
/// [`first_failure`] names the item the run fails with. Once the execution is cancelled no
/// request starts, and every item not yet done ends as [`Error::Cancelled`].
pub async fn run_batch<E: Io + JsonReader>(
    exchange: &E,
    plans: Vec<Result<RequestPlan, Error>>,
    settings: BatchSettings,
) -> Vec<Option<ItemResult<E::Object>>> {
    let mut results: Vec<Option<ItemResult<E::Object>>> = plans.iter().map(|_| None).collect();
    let mut runnable = Vec::with_capacity(plans.len());
    let mut invalid = false;
    for (index, plan) in plans.into_iter().enumerate() {
        match plan {
            Ok(plan) => runnable.push(Some((index, plan))),
            Err(error) => {
                invalid = true;
                if let Some(slot) = results.get_mut(index) {
                    *slot = Some(ItemResult {
                        result: Err(error),
                        attempts: 0,
                    });
                }
            }
        }
    }
    if invalid && settings.stop_on_error {
        return results;
    }

    // `concurrency` workers take the first waiting item whose number has no request in flight,
    // until none is left (or, with `stop_on_error`, until an item failed); each writes its
    // item's result into its own slot.
    let state = BatchState::default();
    // The items not started yet, in input order (`None` once taken), and where the first one is.
    let queue = RefCell::new(runnable);
    let first = Cell::new(0);
    let busy: RefCell<Vec<String>> = RefCell::new(Vec::new());
    let waiting: RefCell<Vec<Waker>> = RefCell::new(Vec::new());
    let results = RefCell::new(results);
    let next_item = || {
        poll_fn(|context| {
            let mut queue = queue.borrow_mut();
            let waiting_items = queue.get_mut(first.get()..).unwrap_or_default();
            let free = waiting_items.iter_mut().find(|item| {
                item.as_ref().is_some_and(|(_, plan)| {
                    plan.context
                        .device
                        .as_ref()
                        .is_none_or(|device| !busy.borrow().contains(device))
                })
            });
            if let Some(item) = free.and_then(Option::take) {
                while queue.get(first.get()).is_some_and(Option::is_none) {
                    first.set(first.get() + 1);
                }
                return Poll::Ready(Some(item));
            }
            if first.get() >= queue.len() {
                return Poll::Ready(None);
            }
            waiting.borrow_mut().push(context.waker().clone());
            Poll::Pending
        })
    };
    let worker = || async {
        loop {
            if state.halted() {
                return;
            }
            let Some((index, plan)) = next_item().await else {
                return;
            };
            if state.halted() {
                return;
            }
            let device = plan.context.device.clone();
            if let Some(device) = &device {
                busy.borrow_mut().push(device.clone());
            }
            let sent = send_with_retries(exchange, &plan, &state).await;
            if let Some(device) = &device {
                busy.borrow_mut().retain(|other| other != device);
                waiting.borrow_mut().drain(..).for_each(Waker::wake);
            }
            if sent.halted {
                continue; // the run stopped before this item was done: it did not run
            }
            let attempts = sent.attempts;
            let result = action_result(exchange, &plan, sent);
            if result.is_err() && settings.stop_on_error {
                state.halt();
            }
            if let Some(slot) = results.borrow_mut().get_mut(index) {
                *slot = Some(ItemResult { result, attempts });
            }
        }
    };
    join_workers(settings.concurrency.max(1), worker).await;
    results.into_inner()
}

/// The item a run without continue-on-fail fails with: the first failed one in input order.
pub fn first_failure<T>(results: &[Option<ItemResult<T>>]) -> Option<usize> {
    results
        .iter()
        .position(|item| matches!(item, Some(ItemResult { result: Err(_), .. })))
}

/// Runs `count` workers made by `worker` side by side until all are done.
pub async fn join_workers<'a, F: Future<Output = ()> + 'a>(count: usize, worker: impl Fn() -> F) {
    JoinAll(
        (0..count)
            .map(|_| Some(Box::pin(worker()) as Pin<Box<dyn Future<Output = ()> + 'a>>))
            .collect(),
    )
    .await;
}

/// Polls every future until all are done (the workers of a batch or a listing).
struct JoinAll<'a>(Vec<Option<Pin<Box<dyn Future<Output = ()> + 'a>>>>);

impl Future for JoinAll<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<()> {
        let mut done = true;
        for slot in self.get_mut().0.iter_mut() {
            if let Some(future) = slot {
                if future.as_mut().poll(context).is_ready() {
                    *slot = None;
                } else {
                    done = false;
                }
            }
        }
        if done {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::fake::{Answer, Fake};
    use crate::operation::Operation;
    use crate::plan::{Method, RequestContext};
    use serde_json::Value;

    fn plan_for(n: usize, device: &str) -> RequestPlan {
        RequestPlan {
            method: Method::Post,
            url: format!("u{n}"),
            body: Some("{}".into()),
            timeout_ms: 30_000,
            retry: true,
            report_attempts: false,
            expect: Expect::Object,
            context: RequestContext {
                device: Some(device.to_string()),
                operation: Some(Operation::Reboot),
                timeout_ms: 30_000,
                ..RequestContext::default()
            },
        }
    }

    fn plan(n: usize) -> RequestPlan {
        plan_for(n, &format!("d{n}"))
    }

    fn plans(n: usize) -> Vec<Result<RequestPlan, Error>> {
        (0..n).map(|i| Ok(plan(i))).collect()
    }

    fn settings(concurrency: usize, stop_on_error: bool) -> BatchSettings {
        BatchSettings {
            concurrency,
            stop_on_error,
        }
    }

    fn invalid() -> Result<RequestPlan, Error> {
        Err(Error::invalid_parameter("WhatsApp Number", "is empty"))
    }

    fn statuses(results: &[Option<ItemResult<Value>>]) -> Vec<Option<u16>> {
        results
            .iter()
            .map(|r| {
                r.as_ref().map(|r| match &r.result {
                    Ok(_) => 200,
                    Err(e) => e.http_code().unwrap_or(0),
                })
            })
            .collect()
    }

    fn codes(results: &[Option<ItemResult<Value>>]) -> Vec<&'static str> {
        results
            .iter()
            .map(|r| match r {
                None => "not run",
                Some(ItemResult { result: Ok(_), .. }) => "ok",
                Some(ItemResult { result: Err(e), .. }) => e.code(),
            })
            .collect()
    }

    fn attempts(results: &[Option<ItemResult<Value>>]) -> Vec<u32> {
        results.iter().flatten().map(|r| r.attempts).collect()
    }

    #[test]
    fn results_stay_in_input_order_and_concurrency_is_bounded() {
        for concurrency in [1, 3, 50] {
            let fake = Fake::statuses(|_, _| 200);
            let results = fake.run(run_batch(&fake, plans(10), settings(concurrency, false)));
            let bodies: Vec<Value> = results
                .into_iter()
                .flatten()
                .filter_map(|r| r.result.ok())
                .collect();
            let expected: Vec<Value> = (0..10)
                .map(|i| serde_json::json!({ "url": format!("u{i}") }))
                .collect();
            assert_eq!(bodies, expected);
            assert_eq!(fake.most_in_flight.get(), concurrency.min(10));
            // Requests of 10 ms each: in rounds of `concurrency`.
            let rounds = 10usize.div_ceil(concurrency);
            assert_eq!(
                fake.now(),
                10.0 * rounds as f64,
                "concurrency {concurrency}"
            );
        }
    }

    #[test]
    fn errors_stay_with_their_items_and_the_others_run() {
        let fake = Fake::statuses(|url, _| if url == "u1" { 404 } else { 200 });
        let mut all = plans(3);
        all.insert(0, invalid());
        let results = fake.run(run_batch(&fake, all, settings(2, false)));
        assert_eq!(
            statuses(&results),
            [Some(0), Some(200), Some(404), Some(200)]
        );
        assert_eq!(attempts(&results), [0, 1, 1, 1]);
        assert_eq!(fake.urls(), ["u0", "u1", "u2"]);
        assert_eq!(first_failure(&results), Some(0));
    }

    #[test]
    fn stop_on_error_sends_nothing_when_any_plan_is_invalid_wherever_it_is() {
        for position in [0, 1, 2, 4] {
            let fake = Fake::statuses(|_, _| 200);
            let mut all = plans(4);
            all.insert(position, invalid());
            let results = fake.run(run_batch(&fake, all, settings(1, true)));
            assert!(fake.urls().is_empty(), "position {position}");
            assert_eq!(first_failure(&results), Some(position));
            let code = &codes(&results)[position];
            assert_eq!(*code, "SPARKBOT_INVALID_PARAMETER");
        }
    }

    #[test]
    fn stop_on_error_starts_nothing_after_a_failed_item() {
        for failing in [0, 1, 3] {
            let name = format!("u{failing}");
            let fake = Fake::statuses(move |url, _| if url == name { 404 } else { 200 });
            let results = fake.run(run_batch(&fake, plans(4), settings(1, true)));
            let sent: Vec<String> = (0..=failing).map(|i| format!("u{i}")).collect();
            assert_eq!(fake.urls(), sent);
            assert_eq!(first_failure(&results), Some(failing));
            assert!(results.iter().skip(failing + 1).all(Option::is_none));
        }
    }

    #[test]
    fn stop_on_error_with_concurrency_names_the_first_failure_in_input_order() {
        // u2 fails first in time, u1 later, but u1 comes first in input order.
        let fake = Fake::new(|request, _| match request.url.as_str() {
            "u0" => Answer::Slow(50.0, 200),
            "u1" => Answer::Slow(30.0, 403),
            "u2" => Answer::Slow(10.0, 404),
            _ => Answer::Status(200),
        });
        let results = fake.run(run_batch(&fake, plans(6), settings(3, true)));
        assert_eq!(first_failure(&results), Some(1));
        assert_eq!(
            codes(&results)[..3],
            ["ok", "SPARKBOT_FORBIDDEN", "SPARKBOT_DEVICE_NOT_FOUND"][..],
            "{:?}",
            codes(&results)
        );
        assert_eq!(
            fake.urls(),
            ["u0", "u1", "u2"],
            "nothing started after the failures"
        );
    }

    #[test]
    fn after_a_failure_no_retry_is_sent_and_the_cut_item_did_not_run() {
        // u0 is rate-limited (Retry-After 2 s) while u1 fails: u0 is not tried again.
        let fake = Fake::statuses(|url, _| if url == "u0" { 429 } else { 404 });
        let results = fake.run(run_batch(&fake, plans(3), settings(2, true)));
        assert_eq!(fake.urls(), ["u0", "u1"]);
        assert_eq!(
            codes(&results),
            ["not run", "SPARKBOT_DEVICE_NOT_FOUND", "not run"]
        );
        assert_eq!(first_failure(&results), Some(1));
        assert!(
            fake.now() < 100.0,
            "nobody waited for the pause: {}",
            fake.now()
        );
    }

    #[test]
    fn a_rate_limit_pauses_every_request_and_the_item_is_retried() {
        // u0 is rate-limited once (Retry-After: 2 s); everything sent afterwards waits.
        let fake = Fake::statuses(|url, attempt| {
            if url == "u0" && attempt == 0 {
                429
            } else {
                200
            }
        });
        let results = fake.run(run_batch(&fake, plans(3), settings(2, true)));
        assert_eq!(statuses(&results), [Some(200), Some(200), Some(200)]);
        assert_eq!(attempts(&results), [2, 1, 1]);
        let sent = fake.received.borrow().clone();
        assert_eq!(sent.len(), 4, "u0 twice: {sent:?}");
        let limited_at = sent[0].at + 10.0;
        for request in sent.iter().skip(2) {
            assert!(
                request.at >= limited_at + 2_000.0,
                "{} waited for the pause: {sent:?}",
                request.url
            );
        }
    }

    #[test]
    fn a_pause_longer_than_the_timeout_fails_the_waiting_items_without_sending_them() {
        // u0 gets 429 with Retry-After 60 s; every item has a 30 s budget.
        let limited = |url: &str| url == "u0";
        let fake = Fake::new(move |request, _| {
            if limited(&request.url) {
                Answer::Reply(HttpReply {
                    status: 429,
                    content_type: Some("application/json".into()),
                    retry_after: Some("60".into()),
                    total_count: None,
                    body: r#"{"status":429,"error":"rate_limited","message":"Too many requests; retry after 60 s"}"#.into(),
                    elapsed_ms: 10,
                    ..Default::default()
                })
            } else {
                Answer::Status(200)
            }
        });
        for retry in [true, false] {
            fake.received.borrow_mut().clear();
            let all = (0..20)
                .map(|i| {
                    let mut p = plan(i);
                    p.retry = retry;
                    Ok(p)
                })
                .collect();
            let results = fake.run(run_batch(&fake, all, settings(5, false)));
            // u0..u4 went out together; everything after waited, and could not wait 60 s.
            assert_eq!(fake.urls().len(), 5, "retry {retry}: {:?}", fake.urls());
            let first = results[0].as_ref().unwrap();
            let message = first.result.as_ref().unwrap_err().message();
            if retry {
                assert!(
                    message.ends_with(
                        "(no retry: Retry-After 60 s is longer than the Timeout of 30 s allows)"
                    ),
                    "{message}"
                );
            }
            for item in results.iter().skip(5) {
                let item = item.as_ref().unwrap();
                let error = item.result.as_ref().unwrap_err();
                assert_eq!(item.attempts, 0);
                assert_eq!(error.http_code(), Some(429));
                assert!(error.message().contains("not sent"), "{}", error.message());
                assert!(error.message().contains("60 s"), "{}", error.message());
            }
        }
    }

    #[test]
    fn the_budget_running_out_while_waiting_for_a_pause_sends_nothing() {
        // u0's 429 asks for 2 s at t = 10 ms. u2 (budget 1.5 s) starts waiting then and is not
        // sent; u3 (budget 5 s) waits the pause out and goes.
        let fake = Fake::statuses(|url, attempt| {
            if url == "u0" && attempt == 0 {
                429
            } else {
                200
            }
        });
        let mut short = plan(2);
        short.timeout_ms = 1_500;
        short.context.timeout_ms = 1_500;
        let mut long = plan(3);
        long.timeout_ms = 5_000;
        let results = fake.run(run_batch(
            &fake,
            vec![Ok(plan(0)), Ok(plan(1)), Ok(short), Ok(long)],
            settings(2, false),
        ));
        assert_eq!(codes(&results), ["ok", "ok", "SPARKBOT_RATE_LIMITED", "ok"]);
        assert_eq!(attempts(&results), [2, 1, 0, 1]);
        let error = results[2].as_ref().unwrap().result.as_ref().unwrap_err();
        assert!(error.message().contains("wait 2 s"), "{}", error.message());
        assert!(
            error.message().contains("Timeout of 1.5 s"),
            "{}",
            error.message()
        );
        let mut urls = fake.urls();
        urls.sort();
        assert_eq!(urls, ["u0", "u0", "u1", "u3"]);
        let u3 = fake
            .received
            .borrow()
            .iter()
            .find(|r| r.url == "u3")
            .unwrap()
            .at;
        assert!(u3 >= 2_010.0, "u3 waited out the pause: {u3}");
    }

    #[test]
    fn retries_stop_after_three_attempts_or_when_turned_off() {
        let fake = Fake::statuses(|_, _| 429);
        let results = fake.run(run_batch(&fake, plans(1), settings(1, false)));
        assert_eq!(statuses(&results), [Some(429)]);
        assert_eq!(fake.urls().len(), 3);
        assert_eq!(attempts(&results), [3]);
        // Out of attempts, not out of time: the message does not blame the Timeout.
        let message = |results: &[Option<ItemResult<Value>>]| {
            results[0]
                .as_ref()
                .unwrap()
                .result
                .as_ref()
                .unwrap_err()
                .message()
        };
        assert!(
            !message(&results).contains("no retry"),
            "{}",
            message(&results)
        );

        let fake = Fake::statuses(|_, _| 429);
        let mut no_retry = plan(0);
        no_retry.retry = false;
        let results = fake.run(run_batch(&fake, vec![Ok(no_retry)], settings(1, false)));
        assert_eq!(statuses(&results), [Some(429)]);
        assert_eq!(fake.urls().len(), 1);
        assert!(
            !message(&results).contains("no retry"),
            "{}",
            message(&results)
        );
    }

    #[test]
    fn a_retry_with_under_a_millisecond_left_is_not_sent_one_with_a_millisecond_is() {
        // The 429 arrives at 0.5 ms and asks for 2 s: the retry would start at 2,000.5 ms.
        let run = |latency_ms: f64, timeout_ms: u32| {
            let fake = Fake::statuses(|_, _| 429);
            fake.latency_ms.set(latency_ms);
            let mut tight = plan(0);
            tight.timeout_ms = timeout_ms;
            let results = fake.run(run_batch(&fake, vec![Ok(tight)], settings(1, false)));
            let budgets: Vec<u32> = fake.received.borrow().iter().map(|r| r.budget_ms).collect();
            (results, budgets)
        };
        let (results, budgets) = run(0.5, 2_001);
        assert_eq!(budgets.len(), 1, "half a millisecond left: not sent");
        assert_eq!(statuses(&results), [Some(429)], "the last answer stands");
        assert_eq!(attempts(&results), [1]);
        let (results, budgets) = run(0.0, 2_001);
        assert_eq!(budgets[1..], [1], "one millisecond left: sent with it");
        assert_eq!(attempts(&results), [2]);
    }

    #[test]
    fn a_cancelled_execution_ends_a_retry_pause_as_cancelled_not_with_the_last_answer() {
        let fake = Fake::statuses(|_, _| 429);
        fake.cancel_after.set(Some(1));
        let results = fake.run(run_batch(&fake, plans(1), settings(1, false)));
        assert_eq!(codes(&results), ["SPARKBOT_CANCELLED"]);
        assert_eq!(fake.urls().len(), 1);
    }

    #[test]
    fn a_backoff_past_the_budget_does_not_hold_the_other_items() {
        // Item 0 is refused at 10 ms; its backoff (1 s) would end at 1,010 ms, at or past its
        // budget, so it is not retried — and item 1 must not wait for that backoff either.
        for timeout_ms in [300, 1_010] {
            let fake = Fake::statuses(|url, _| if url == "u0" { 0 } else { 200 });
            let mut short = plan(0);
            short.timeout_ms = timeout_ms;
            let results = fake.run(run_batch(
                &fake,
                vec![Ok(short), Ok(plan(1))],
                settings(1, false),
            ));
            assert_eq!(statuses(&results), [Some(0), Some(200)], "{timeout_ms}");
            assert_eq!(fake.urls().len(), 2, "{timeout_ms}: no retry");
            let u1 = fake
                .received
                .borrow()
                .iter()
                .find(|r| r.url == "u1")
                .unwrap()
                .at;
            assert!(
                u1 < 100.0,
                "{timeout_ms}: item 1 sent at once, not after: {u1}"
            );
        }
    }

    #[test]
    fn retries_never_go_past_the_time_budget() {
        let fake = Fake::statuses(|_, _| 429);
        let mut short = plan(0);
        short.timeout_ms = 1_500; // a 2 s Retry-After does not fit
        let results = fake.run(run_batch(&fake, vec![Ok(short)], settings(1, false)));
        assert_eq!(statuses(&results), [Some(429)]);
        assert_eq!(fake.urls().len(), 1);
        let error = results[0].as_ref().unwrap().result.as_ref().unwrap_err();
        assert!(error.message().contains("no retry"), "{}", error.message());
    }

    #[test]
    fn every_attempt_gets_what_is_left_of_the_budget_and_a_hang_ends_with_it() {
        let fake = Fake::new(|_, attempt| {
            if attempt == 0 {
                Answer::Network("ECONNREFUSED")
            } else {
                Answer::Hang
            }
        });
        let mut p = plan(0);
        p.timeout_ms = 3_000;
        let results = fake.run(run_batch(&fake, vec![Ok(p)], settings(1, false)));
        let sent = fake.received.borrow().clone();
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[0].budget_ms, 3_000);
        // The refused attempt took 10 ms and the backoff 1 s: 1,990 ms were left.
        assert_eq!(sent[1].budget_ms, 1_990);
        assert_eq!(
            fake.now(),
            3_000.0,
            "gave up exactly when the budget ran out"
        );
        let error = results[0].as_ref().unwrap().result.as_ref().unwrap_err();
        assert_eq!(error.code(), "SPARKBOT_TIMEOUT");
        assert!(
            error.message().ends_with("after 3 s"),
            "{}",
            error.message()
        );
    }

    #[test]
    fn a_refused_connection_is_retried_but_a_reset_one_is_not() {
        let fake = Fake::statuses(|url, attempt| match (url, attempt) {
            ("u0", 0) => 0,
            ("u1", _) => 1,
            _ => 200,
        });
        let results = fake.run(run_batch(&fake, plans(2), settings(1, false)));
        assert_eq!(statuses(&results), [Some(200), Some(0)]);
        assert_eq!(attempts(&results), [2, 1]);
        assert_eq!(fake.urls(), ["u0", "u0", "u1"]);
    }

    #[test]
    fn items_for_the_same_number_never_overlap_and_keep_their_order() {
        let fake = Fake::statuses(|_, _| 200);
        let all = ["a", "a", "b", "a", "c", "b"]
            .iter()
            .enumerate()
            .map(|(i, device)| Ok(plan_for(i, device)))
            .collect();
        let results = fake.run(run_batch(&fake, all, settings(5, false)));
        assert!(results.iter().flatten().all(|r| r.result.is_ok()));
        let sent = fake.received.borrow().clone();
        let at = |url: &str| sent.iter().find(|r| r.url == url).unwrap().at;
        // a: u0, u1, u3 one after another; b: u2 then u5; c meanwhile.
        assert_eq!([at("u0"), at("u1"), at("u3")], [0.0, 10.0, 20.0]);
        assert_eq!([at("u2"), at("u5")], [0.0, 10.0]);
        assert_eq!(at("u4"), 0.0);
    }

    #[test]
    fn after_cancellation_nothing_is_sent_and_every_item_says_so() {
        let fake = Fake::statuses(|_, _| 200);
        fake.cancel_after.set(Some(2));
        let results = fake.run(run_batch(&fake, plans(5), settings(1, false)));
        assert_eq!(
            codes(&results),
            [
                "ok",
                "ok",
                "SPARKBOT_CANCELLED",
                "SPARKBOT_CANCELLED",
                "SPARKBOT_CANCELLED"
            ]
        );
        assert_eq!(fake.urls().len(), 2);
    }

    proptest::proptest! {
        /// Whatever SparkBot answers to whichever attempt, and however many at once: exactly one
        /// result per item, in input order, at most three requests per item.
        #[test]
        fn every_item_gets_exactly_one_result_in_order(
            answers in proptest::collection::vec(proptest::sample::select(vec![0u16, 1, 200, 200, 400, 404, 409, 429, 500, 503, 504]), 1..40),
            concurrency in 1usize..60,
            invalid_at in proptest::collection::vec(proptest::bool::weighted(0.1), 1..40),
            devices in proptest::collection::vec(0usize..8, 1..40),
        ) {
            let count = answers.len().min(invalid_at.len()).min(devices.len());
            let script = answers.clone();
            let fake = Fake::statuses(move |url, attempt| {
                let index: usize = url.get(1..).and_then(|n| n.parse().ok()).unwrap_or(0);
                script.get((index + attempt) % script.len()).copied().unwrap_or(200)
            });
            let all: Vec<_> = (0..count)
                .map(|i| match invalid_at.get(i) {
                    Some(true) => invalid(),
                    _ => Ok(plan_for(i, &format!("d{}", devices[i]))),
                })
                .collect();
            let results = fake.run(run_batch(&fake, all, settings(concurrency, false)));
            proptest::prop_assert_eq!(results.len(), count);
            for (i, result) in results.iter().enumerate() {
                let result = result.as_ref().expect("every item has a result");
                proptest::prop_assert!(result.attempts <= 3);
                if let Ok(body) = &result.result {
                    proptest::prop_assert_eq!(&body["url"], &Value::from(format!("u{i}")));
                }
            }
            proptest::prop_assert!(fake.urls().len() <= 3 * count);
        }
    }
}
