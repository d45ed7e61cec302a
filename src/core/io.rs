//! What the core needs from the outside world to run requests: HTTP, a clock, sleeps,
//! randomness and the execution's cancellation. The wasm build implements it with the
//! shim's host, which sends through n8n's request helper (`sparkbot_wasm`'s `HostExchange`); native tests with a scripted fake on a virtual
//! clock, so scheduling, retries and pagination are tested without a network.

use std::future::Future;

use crate::exchange::{HttpReply, TransportFailure};
use crate::plan::RequestPlan;

/// The outside world of a node execution.
pub trait Io {
    /// Sends `plan`, giving up (and aborting the request) after `budget_ms`.
    fn send(
        &self,
        plan: &RequestPlan,
        budget_ms: u32,
    ) -> impl Future<Output = Result<HttpReply, TransportFailure>>;
    /// Resolves after `ms` milliseconds, or earlier when the execution is cancelled.
    fn sleep(&self, ms: u64) -> impl Future<Output = ()>;
    /// A monotonic-enough clock, in milliseconds.
    fn now_ms(&self) -> f64;
    /// A random number in `[0, 1)`, for backoff jitter.
    fn random(&self) -> f64;
    /// Whether the execution was cancelled: nothing more may be sent.
    fn cancelled(&self) -> bool;
}
