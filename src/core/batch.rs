//! Runs the requests of one node execution: at most `concurrency` at a time, results in input
//! order, and a `429`/`503` slows every request of the batch down instead of failing items.
//!
//! The scheduling is pure Rust over [`Io`] (HTTP, clock, sleep, randomness, cancellation) and a
//! [`JsonReader`], so it is tested natively with a fake; the wasm build plugs in
//! `crate::wasm::transport::FetchExchange`.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::core::error::Error;
use crate::core::http::{HttpReply, TransportFailure};
use crate::core::io::Io;
use crate::core::json::JsonReader;
use crate::core::plan::RequestPlan;
use crate::core::retry::retry_delay_ms;
use crate::core::status::{expect_object, interpret_action};

/// The final outcome of one request, and how many attempts it took.
#[derive(Debug)]
pub struct Sent {
    /// The last attempt's outcome.
    pub outcome: Result<HttpReply, TransportFailure>,
    /// Requests made, the first one included (0 when none could be made).
    pub attempts: u32,
}

/// One item's result and the number of requests it took (0 when nothing was sent).
#[derive(Debug)]
pub struct ItemResult<T> {
    /// The response object, or the error.
    pub result: Result<T, Error>,
    /// Requests made for the item.
    pub attempts: u32,
}

/// Interprets the final outcome of a reboot or reset: the response object, or the error.
pub fn action_result<J: JsonReader>(
    json: &J,
    plan: &RequestPlan,
    outcome: Result<HttpReply, TransportFailure>,
) -> Result<J::Object, Error> {
    let body = interpret_action(&plan.context, outcome, &|text| json.parse(text))?;
    expect_object(json.parse_body(&body), &body)
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

/// A pause that every request of a batch waits out before it is sent: set when SparkBot answers
/// one of them `429` or `503` with a time to come back.
#[derive(Debug, Default)]
pub struct Pause {
    until_ms: Cell<f64>,
}

impl Pause {
    async fn wait_out<E: Io>(&self, exchange: &E) {
        while !exchange.cancelled() {
            let left = self.until_ms.get() - exchange.now_ms();
            if left <= 0.0 {
                return;
            }
            exchange.sleep(left.ceil() as u64).await;
        }
    }

    fn extend_to(&self, until_ms: f64) {
        if until_ms > self.until_ms.get() {
            self.until_ms.set(until_ms);
        }
    }
}

/// Sends `plan` and returns the final outcome: retried (when `plan.retry` allows) while SparkBot
/// says it did not act or the connection could not be made, within the plan's time budget,
/// which covers every attempt and pause. A cancelled execution sends nothing more.
pub async fn send_with_retries<E: Io>(exchange: &E, plan: &RequestPlan, pause: &Pause) -> Sent {
    let started = exchange.now_ms();
    let deadline = started + f64::from(plan.timeout_ms);
    let elapsed = |now: f64| (now - started).max(0.0) as u64;
    let mut attempts = 0;
    loop {
        pause.wait_out(exchange).await;
        let now = exchange.now_ms();
        let stop = if exchange.cancelled() {
            Some(TransportFailure::Cancelled)
        } else if deadline - now < 1.0 {
            Some(TransportFailure::TimedOut {
                elapsed_ms: elapsed(now),
            })
        } else {
            None
        };
        if let Some(failure) = stop {
            return Sent {
                outcome: Err(failure),
                attempts,
            };
        }
        attempts += 1;
        let outcome = match exchange.send(plan, (deadline - now) as u32).await {
            Err(TransportFailure::TimedOut { .. }) => Err(TransportFailure::TimedOut {
                elapsed_ms: elapsed(exchange.now_ms()),
            }),
            other => other,
        };
        if plan.retry {
            let delay = retry_delay_ms(plan.method, &outcome, attempts, exchange.random());
            if let Some(delay) = delay {
                let resume = exchange.now_ms() + delay as f64;
                if resume < deadline {
                    pause.extend_to(resume);
                    continue;
                }
            }
        }
        return Sent { outcome, attempts };
    }
}

/// Runs one reboot/reset per planned item and returns each item's result in input order: the
/// response object, or the error. An item whose plan failed keeps its error and sends nothing.
/// With `stop_on_error`, nothing is sent when any plan failed, and no request starts after an
/// item failed; items that did not run are `None`. Once the execution is cancelled no request
/// starts, and every item not yet done ends as [`Error::Cancelled`].
pub async fn run_batch<E: Io + JsonReader>(
    exchange: &E,
    plans: Vec<Result<RequestPlan, Error>>,
    settings: BatchSettings,
) -> Vec<Option<ItemResult<E::Object>>> {
    let mut results: Vec<Option<ItemResult<E::Object>>> = plans.iter().map(|_| None).collect();
    let mut runnable = Vec::with_capacity(plans.len());
    for (index, plan) in plans.into_iter().enumerate() {
        match plan {
            Ok(plan) => runnable.push((index, plan)),
            Err(error) => {
                if let Some(slot) = results.get_mut(index) {
                    *slot = Some(ItemResult {
                        result: Err(error),
                        attempts: 0,
                    });
                }
                if settings.stop_on_error {
                    return results;
                }
            }
        }
    }

    // `concurrency` workers take the next item in input order until none is left (or, with
    // `stop_on_error`, until an item failed); each writes its item's result into its own slot.
    let pause = Pause::default();
    let failed = Cell::new(false);
    let queue = RefCell::new(runnable.into_iter());
    let results = RefCell::new(results);
    let worker = || async {
        loop {
            if settings.stop_on_error && failed.get() {
                return;
            }
            let Some((index, plan)) = queue.borrow_mut().next() else {
                return;
            };
            let sent = send_with_retries(exchange, &plan, &pause).await;
            let result = action_result(exchange, &plan, sent.outcome);
            if result.is_err() {
                failed.set(true);
            }
            if let Some(slot) = results.borrow_mut().get_mut(index) {
                *slot = Some(ItemResult {
                    result,
                    attempts: sent.attempts,
                });
            }
        }
    };
    JoinAll(
        (0..settings.concurrency.max(1))
            .map(|_| Some(Box::pin(worker()) as _))
            .collect(),
    )
    .await;
    results.into_inner()
}

/// Polls every future until all are done (the batch's workers: at most 50).
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
    use std::pin::pin;
    use std::sync::Arc;
    use std::task::{Wake, Waker};

    use super::*;
    use crate::core::json::{JsonType, SerdeJson};
    use crate::core::plan::{Method, RequestContext};
    use serde_json::Value;

    /// Polls `future` to completion; the fake exchange's futures wake themselves.
    fn block_on<F: Future>(future: F) -> F::Output {
        struct Noop;
        impl Wake for Noop {
            fn wake(self: Arc<Self>) {}
        }
        let waker = Waker::from(Arc::new(Noop));
        let mut context = Context::from_waker(&waker);
        let mut future = pin!(future);
        loop {
            if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
                return output;
            }
        }
    }

    /// Pending on the first poll, ready on the second: lets other requests start meanwhile.
    struct YieldOnce(bool);
    impl Future for YieldOnce {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<()> {
            if self.0 {
                return Poll::Ready(());
            }
            self.0 = true;
            context.waker().wake_by_ref();
            Poll::Pending
        }
    }

    /// The status SparkBot answers for a URL on its n-th attempt (0-based); `0` stands for a
    /// refused connection, `1` for a connection reset after the request was sent.
    type Script = Box<dyn Fn(&str, usize) -> u16>;

    /// A scripted SparkBot on a virtual clock: each request takes 10 ms; `script` answers by URL.
    struct Fake {
        clock: Cell<f64>,
        in_flight: Cell<usize>,
        most_in_flight: Cell<usize>,
        sent: RefCell<Vec<(String, f64)>>,
        script: Script,
        /// The execution is cancelled once this many requests were sent.
        cancel_after: Cell<Option<usize>>,
    }

    impl Fake {
        fn new(script: impl Fn(&str, usize) -> u16 + 'static) -> Fake {
            Fake {
                clock: Cell::new(0.0),
                in_flight: Cell::new(0),
                most_in_flight: Cell::new(0),
                sent: RefCell::new(Vec::new()),
                script: Box::new(script),
                cancel_after: Cell::new(None),
            }
        }
        fn sent_urls(&self) -> Vec<String> {
            self.sent
                .borrow()
                .iter()
                .map(|(url, _)| url.clone())
                .collect()
        }
    }

    impl Io for Fake {
        async fn send(
            &self,
            plan: &RequestPlan,
            _budget_ms: u32,
        ) -> Result<HttpReply, TransportFailure> {
            let attempt = self
                .sent
                .borrow()
                .iter()
                .filter(|(url, _)| *url == plan.url)
                .count();
            self.sent
                .borrow_mut()
                .push((plan.url.clone(), self.clock.get()));
            self.in_flight.set(self.in_flight.get() + 1);
            self.most_in_flight
                .set(self.most_in_flight.get().max(self.in_flight.get()));
            YieldOnce(false).await;
            self.in_flight.set(self.in_flight.get() - 1);
            self.clock.set(self.clock.get() + 10.0);
            let status = (self.script)(&plan.url, attempt);
            if status < 2 {
                let code = if status == 0 {
                    "ECONNREFUSED"
                } else {
                    "ECONNRESET"
                };
                return Err(TransportFailure::Network {
                    code: Some(code.into()),
                    detail: String::new(),
                    during_body: false,
                });
            }
            Ok(HttpReply {
                status,
                content_type: Some("application/json".into()),
                retry_after: (status == 429).then(|| "2".to_string()),
                body: match status {
                    200 => format!("{{\"url\":\"{}\"}}", plan.url),
                    _ => format!("{{\"status\":{status},\"error\":\"x\",\"message\":\"m\"}}"),
                },
                elapsed_ms: 10,
            })
        }
        async fn sleep(&self, ms: u64) {
            self.clock.set(self.clock.get() + ms as f64);
        }
        fn now_ms(&self) -> f64 {
            self.clock.get()
        }
        fn random(&self) -> f64 {
            0.5
        }
        fn cancelled(&self) -> bool {
            self.cancel_after
                .get()
                .is_some_and(|n| self.sent.borrow().len() >= n)
        }
    }

    impl JsonReader for Fake {
        type Object = Value;
        fn parse(&self, text: &str) -> Result<Value, String> {
            SerdeJson.parse(text)
        }
        fn parse_body(&self, text: &str) -> Result<(JsonType, Value), String> {
            SerdeJson.parse_body(text)
        }
    }

    fn plan(n: usize) -> RequestPlan {
        RequestPlan {
            method: Method::Post,
            url: format!("u{n}"),
            body: Some("{}".into()),
            timeout_ms: 30_000,
            retry: true,
            report_attempts: false,
            context: RequestContext {
                device: Some(format!("d{n}")),
                ..RequestContext::default()
            },
        }
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

    fn attempts(results: &[Option<ItemResult<Value>>]) -> Vec<u32> {
        results.iter().flatten().map(|r| r.attempts).collect()
    }

    #[test]
    fn results_stay_in_input_order_and_concurrency_is_bounded() {
        for concurrency in [1, 3, 50] {
            let fake = Fake::new(|_, _| 200);
            let results = block_on(run_batch(&fake, plans(10), settings(concurrency, false)));
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
        }
    }

    #[test]
    fn errors_stay_with_their_items_and_the_others_run() {
        let fake = Fake::new(|url, _| if url == "u1" { 404 } else { 200 });
        let mut all = plans(3);
        all.insert(
            0,
            Err(Error::invalid_parameter("WhatsApp Number", "is empty")),
        );
        let results = block_on(run_batch(&fake, all, settings(2, false)));
        assert_eq!(
            statuses(&results),
            [Some(0), Some(200), Some(404), Some(200)]
        );
        assert_eq!(attempts(&results), [0, 1, 1, 1]);
        assert_eq!(fake.sent_urls(), ["u0", "u1", "u2"]);
    }

    #[test]
    fn stop_on_error_sends_nothing_when_a_plan_is_invalid() {
        let fake = Fake::new(|_, _| 200);
        let mut all = plans(3);
        all.insert(
            2,
            Err(Error::invalid_parameter("WhatsApp Number", "is empty")),
        );
        let results = block_on(run_batch(&fake, all, settings(1, true)));
        assert_eq!(statuses(&results), [None, None, Some(0), None]);
        assert!(fake.sent_urls().is_empty());
    }

    #[test]
    fn stop_on_error_starts_nothing_after_a_failed_item() {
        let fake = Fake::new(|url, _| if url == "u1" { 404 } else { 200 });
        let results = block_on(run_batch(&fake, plans(4), settings(1, true)));
        assert_eq!(statuses(&results), [Some(200), Some(404), None, None]);
        assert_eq!(fake.sent_urls(), ["u0", "u1"]);
    }

    #[test]
    fn a_rate_limit_pauses_every_request_and_the_item_is_retried() {
        // u0 is rate-limited once (Retry-After: 2 s); everything sent afterwards waits.
        let fake = Fake::new(|url, attempt| {
            if url == "u0" && attempt == 0 {
                429
            } else {
                200
            }
        });
        let results = block_on(run_batch(&fake, plans(3), settings(2, true)));
        assert_eq!(statuses(&results), [Some(200), Some(200), Some(200)]);
        assert_eq!(attempts(&results), [2, 1, 1]);
        let sent = fake.sent.borrow().clone();
        assert_eq!(sent.len(), 4, "u0 twice: {sent:?}");
        let (_, limited_at) = sent[0];
        for (url, at) in sent.iter().skip(2) {
            assert!(
                *at >= limited_at + 2_000.0,
                "{url} waited for the pause: {sent:?}"
            );
        }
    }

    #[test]
    fn retries_stop_after_three_attempts_or_when_turned_off() {
        let fake = Fake::new(|_, _| 429);
        let results = block_on(run_batch(&fake, plans(1), settings(1, false)));
        assert_eq!(statuses(&results), [Some(429)]);
        assert_eq!(fake.sent_urls().len(), 3);
        assert_eq!(attempts(&results), [3]);

        let fake = Fake::new(|_, _| 429);
        let mut no_retry = plan(0);
        no_retry.retry = false;
        let results = block_on(run_batch(&fake, vec![Ok(no_retry)], settings(1, false)));
        assert_eq!(statuses(&results), [Some(429)]);
        assert_eq!(fake.sent_urls().len(), 1);
    }

    #[test]
    fn retries_never_go_past_the_time_budget() {
        let fake = Fake::new(|_, _| 429);
        let mut short = plan(0);
        short.timeout_ms = 1_500; // a 2 s Retry-After does not fit
        let results = block_on(run_batch(&fake, vec![Ok(short)], settings(1, false)));
        assert_eq!(statuses(&results), [Some(429)]);
        assert_eq!(fake.sent_urls().len(), 1);
    }

    #[test]
    fn a_refused_connection_is_retried_but_a_reset_one_is_not() {
        let fake = Fake::new(|url, attempt| match (url, attempt) {
            ("u0", 0) => 0,
            ("u1", _) => 1,
            _ => 200,
        });
        let results = block_on(run_batch(&fake, plans(2), settings(1, false)));
        assert_eq!(statuses(&results), [Some(200), Some(0)]);
        assert_eq!(attempts(&results), [2, 1]);
        assert_eq!(fake.sent_urls(), ["u0", "u0", "u1"]);
    }

    #[test]
    fn after_cancellation_nothing_is_sent_and_every_item_says_so() {
        let fake = Fake::new(|_, _| 200);
        fake.cancel_after.set(Some(2));
        let results = block_on(run_batch(&fake, plans(5), settings(1, false)));
        let codes: Vec<&str> = results
            .iter()
            .flatten()
            .map(|r| r.result.as_ref().err().map_or("ok", Error::code))
            .collect();
        assert_eq!(
            codes,
            [
                "ok",
                "ok",
                "SPARKBOT_CANCELLED",
                "SPARKBOT_CANCELLED",
                "SPARKBOT_CANCELLED"
            ]
        );
        assert_eq!(fake.sent_urls().len(), 2);
    }

    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        /// Whatever SparkBot answers to whichever attempt, and however many at once: exactly one
        /// result per item, in input order, at most three requests per item.
        #[test]
        fn every_item_gets_exactly_one_result_in_order(
            answers in proptest::collection::vec(proptest::sample::select(vec![0u16, 1, 200, 200, 400, 404, 409, 429, 500, 503, 504]), 1..40),
            concurrency in 1usize..60,
            invalid in proptest::collection::vec(proptest::bool::weighted(0.1), 1..40),
        ) {
            let count = answers.len().min(invalid.len());
            let script = answers.clone();
            let fake = Fake::new(move |url, attempt| {
                let index: usize = url.get(1..).and_then(|n| n.parse().ok()).unwrap_or(0);
                let answer = script.get((index + attempt) % script.len()).copied().unwrap_or(200);
                answer
            });
            let all: Vec<_> = (0..count)
                .map(|i| match invalid.get(i) {
                    Some(true) => Err(Error::invalid_parameter("WhatsApp Number", "is empty")),
                    _ => Ok(plan(i)),
                })
                .collect();
            let results = block_on(run_batch(&fake, all, settings(concurrency, false)));
            proptest::prop_assert_eq!(results.len(), count);
            for (i, result) in results.iter().enumerate() {
                let result = result.as_ref().expect("every item has a result");
                proptest::prop_assert!(result.attempts <= 3);
                if let Ok(body) = &result.result {
                    proptest::prop_assert_eq!(&body["url"], &Value::from(format!("u{i}")));
                }
            }
            proptest::prop_assert!(fake.sent_urls().len() <= 3 * count);
        }
    }
}
