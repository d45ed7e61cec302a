//! A scripted SparkBot on a virtual clock, for native tests of everything that runs over
//! [`Io`]: requests take simulated time in parallel, sleeps and time budgets are honoured, and
//! [`Fake::run`] drives a future to completion by jumping the clock to the next timer whenever
//! nothing can move. Tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use serde_json::Value;

use crate::credentials::{Credentials, RawCredentials};
use crate::exchange::{HttpReply, TransportFailure};
use crate::io::Io;
use crate::json::{JsonReader, JsonType, SerdeJson};
use crate::plan::{Method, RequestPlan};

/// Where the virtual clock starts, as the core sees it through `now_ms()`: 2025-11-24.
pub const EPOCH_MS: f64 = 1_764_000_000_000.0;

/// Valid credentials (API key `k`) for a SparkBot at `base_url`; `""` is the default Base URL.
pub fn credentials(base_url: &str) -> Credentials {
    Credentials::validate(&RawCredentials {
        api_key: Some(serde_json::json!("k")),
        base_url: Some(serde_json::json!(base_url)),
        ..RawCredentials::default()
    })
    .unwrap()
}

/// The `n`th test device's ID: `n` as 24 lowercase hex digits.
pub fn device_id(n: usize) -> String {
    format!("{n:024x}")
}

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Received {
    /// The URL.
    pub url: String,
    /// The method.
    pub method: Method,
    /// When it was sent, on the virtual clock (ms).
    pub at: f64,
    /// The time budget it was sent with (ms).
    pub budget_ms: u32,
}

/// What the fake answers to one request.
#[derive(Debug, Clone)]
pub enum Answer {
    /// A status with a contract-shaped body: `{"url": …}` for 200, the contract's JSON error
    /// otherwise; 429 carries `Retry-After: 2`.
    Status(u16),
    /// This exact reply.
    Reply(HttpReply),
    /// No HTTP answer: the given Node error code (connection refused, reset, …).
    Network(&'static str),
    /// Never answers: the request times out when its budget runs out.
    Hang,
    /// A [`Answer::Status`] that takes this many milliseconds instead of the usual latency.
    Slow(f64, u16),
}

type Script = Box<dyn Fn(&Received, usize) -> Answer>;

/// The fake SparkBot.
pub struct Fake {
    clock: Cell<f64>,
    timers: RefCell<Vec<f64>>,
    /// Every request received, in order.
    pub received: RefCell<Vec<Received>>,
    in_flight: Cell<usize>,
    /// The most requests that were in flight at once.
    pub most_in_flight: Cell<usize>,
    script: Script,
    /// The execution is cancelled once this many requests were sent.
    pub cancel_after: Cell<Option<usize>>,
    /// How long every request takes (ms), 10 unless set.
    pub latency_ms: Cell<f64>,
}

impl Fake {
    /// A fake whose `script` gives the answer to a request, given how many requests to the same
    /// URL came before it.
    pub fn new(script: impl Fn(&Received, usize) -> Answer + 'static) -> Fake {
        Fake {
            clock: Cell::new(0.0),
            timers: RefCell::new(Vec::new()),
            received: RefCell::new(Vec::new()),
            in_flight: Cell::new(0),
            most_in_flight: Cell::new(0),
            script: Box::new(script),
            cancel_after: Cell::new(None),
            latency_ms: Cell::new(10.0),
        }
    }

    /// A fake that answers each URL's n-th request (0-based) with a status; `0` stands for a
    /// refused connection, `1` for a connection reset after the request was sent.
    pub fn statuses(script: impl Fn(&str, usize) -> u16 + 'static) -> Fake {
        Fake::new(
            move |request, attempt| match script(&request.url, attempt) {
                0 => Answer::Network("ECONNREFUSED"),
                1 => Answer::Network("ECONNRESET"),
                status => Answer::Status(status),
            },
        )
    }

    /// The URLs received, in order.
    pub fn urls(&self) -> Vec<String> {
        self.received
            .borrow()
            .iter()
            .map(|r| r.url.clone())
            .collect()
    }

    /// The virtual time now (ms since the fake started; `now_ms()` adds [`EPOCH_MS`]).
    pub fn now(&self) -> f64 {
        self.clock.get()
    }

    /// Resolves once the virtual clock reaches `at`.
    async fn until(&self, at: f64) {
        poll_fn(|_| {
            if self.clock.get() >= at {
                Poll::Ready(())
            } else {
                self.timers.borrow_mut().push(at);
                Poll::Pending
            }
        })
        .await;
    }

    /// Drives `future` to completion: whenever it cannot move (nothing woke it), the clock jumps
    /// to the next timer. Panics if it waits on nothing (a test bug: it would never finish).
    pub fn run<F: Future>(&self, future: F) -> F::Output {
        struct Woken(AtomicBool);
        impl Wake for Woken {
            fn wake(self: Arc<Self>) {
                self.0.store(true, Ordering::Relaxed);
            }
        }
        let woken = Arc::new(Woken(AtomicBool::new(false)));
        let waker = Waker::from(woken.clone());
        let mut context = Context::from_waker(&waker);
        let mut future = pin!(future);
        loop {
            if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
                return output;
            }
            if woken.0.swap(false, Ordering::Relaxed) {
                continue;
            }
            let now = self.clock.get();
            let mut timers = self.timers.borrow_mut();
            if timers.iter().any(|&at| at <= now) {
                timers.retain(|&at| at > now);
                continue;
            }
            let next = timers.iter().copied().fold(f64::INFINITY, f64::min);
            assert!(next.is_finite(), "the future waits on nothing");
            self.clock.set(next);
            timers.retain(|&at| at > next);
        }
    }
}

impl Io for Fake {
    async fn send(
        &self,
        plan: &RequestPlan,
        budget_ms: u32,
    ) -> Result<HttpReply, TransportFailure> {
        let request = Received {
            url: plan.url.clone(),
            method: plan.method,
            at: self.clock.get(),
            budget_ms,
        };
        let attempt = self
            .received
            .borrow()
            .iter()
            .filter(|r| r.url == plan.url)
            .count();
        self.received.borrow_mut().push(request.clone());
        let answer = (self.script)(&request, attempt);
        let (latency, answer) = match answer {
            Answer::Hang => (f64::INFINITY, Answer::Hang),
            Answer::Slow(ms, status) => (ms, Answer::Status(status)),
            other => (self.latency_ms.get(), other),
        };
        self.in_flight.set(self.in_flight.get() + 1);
        self.most_in_flight
            .set(self.most_in_flight.get().max(self.in_flight.get()));
        let budget = f64::from(budget_ms);
        self.until(request.at + latency.min(budget)).await;
        self.in_flight.set(self.in_flight.get() - 1);
        if latency > budget {
            return Err(TransportFailure::TimedOut {
                elapsed_ms: budget_ms.into(),
            });
        }
        match answer {
            Answer::Status(status) => Ok(HttpReply {
                status,
                content_type: Some("application/json".into()),
                retry_after: (status == 429).then(|| "2".to_string()),
                total_count: None,
                body: match status {
                    200 => format!("{{\"url\":\"{}\"}}", plan.url),
                    _ => format!(
                        "{{\"status\":{status},\"error\":\"{}\",\"message\":\"m\"}}",
                        contract_code(status)
                    ),
                },
                elapsed_ms: latency as u64,
                ..Default::default()
            }),
            Answer::Reply(reply) => Ok(reply),
            Answer::Network(code) => Err(TransportFailure::Network {
                code: Some(code.into()),
                detail: String::new(),
                during_body: false,
            }),
            Answer::Hang | Answer::Slow(..) => Err(TransportFailure::TimedOut {
                elapsed_ms: budget_ms.into(),
            }),
        }
    }

    async fn sleep(&self, ms: u64) {
        self.until(self.clock.get() + ms as f64).await;
    }

    fn now_ms(&self) -> f64 {
        // A wall-clock reading, as `Date.now()` gives: code that mixes up a time and a duration
        // gets numbers far off, not the same ones by luck of a clock that starts at 0.
        EPOCH_MS + self.clock.get()
    }

    fn random(&self) -> f64 {
        0.5
    }

    fn cancelled(&self) -> bool {
        self.cancel_after
            .get()
            .is_some_and(|n| self.received.borrow().len() >= n)
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

    fn to_object(&self, value: &Value) -> Value {
        SerdeJson.to_object(value)
    }

    fn parse_list(&self, text: &str) -> Result<Vec<(Value, Value)>, Result<JsonType, String>> {
        SerdeJson.parse_list(text)
    }
}

/// The contract's `error` code for a status.
fn contract_code(status: u16) -> &'static str {
    match status {
        400 => "invalid_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "device_not_found",
        409 => "session_busy",
        429 => "rate_limited",
        503 => "unavailable",
        504 => "session_timeout",
        _ => "internal_error",
    }
}
