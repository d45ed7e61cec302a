//! `sparkbot-core`, the pure core of `n8n-nodes-sparkbot`: everything the node decides, with no
//! JavaScript in sight. The crate depends on nothing of wasm or JS (serde_json, and RustCrypto's
//! `hmac` and `sha2`), so the compiler keeps it pure; all of it builds and is tested natively with
//! `cargo test`. The wasm boundary (`sparkbot-wasm`) converts and calls it.
//!
//! Features: `descriptions` — the node descriptions and the options' help texts, for the
//! descriptor writer only; `test-support` — `fake`, the scripted outside world the tests run
//! the batch and the listing on.
//!
//! - [`operation`]: the operations, their options and every label, as data.
//! - [`credentials`], [`plan`]: node parameters and credential → a validated request plan;
//!   [`allowlist`]: the credential's Allowed HTTP Request Domains, by n8n's rules; [`coerce`]:
//!   numbers and booleans that arrive as text, read as n8n reads them.
//! - [`io`], [`exchange`], [`json`]: what the core needs from outside (HTTP, clock, sleep,
//!   randomness, cancellation; JSON reading) and what an exchange produces.
//! - [`status`], [`network_errors`]: what came back → the item's output or a typed [`error::Error`].
//! - [`retry`], [`batch`], [`execute`]: which answers are retried, how the requests of a node
//!   execution run, and one execution from plans to results (numbers found by phone, Get Many).
//! - [`qr`]: Get QR Code — the scan answer checked, its PNG as a file.
//! - [`listing`], [`devices`]: the account's device list, page by page → the WhatsApp Number
//!   dropdown; the credential test.
//! - [`trigger`]: SparkBot Trigger — which session changes a poll reports, exactly once.
//! - [`webhook`]: SparkBot Webhook Trigger — deliveries checked and run once; the webhook's
//!   registration.
//! - [`error`], [`text`]: the one error enum, and the text helpers its messages use.
//! - [`order`]: the one sort and the one keyed set every other module uses (module size).
//! - `description` (feature `descriptions`): the node description n8n shows, generated from the
//!   same tables into `node-descriptor/` by the `write-descriptor` binary.

pub mod allowlist;
pub mod batch;
pub mod coerce;
pub mod credentials;
#[cfg(feature = "descriptions")]
pub mod description;
pub mod devices;
pub mod error;
pub mod exchange;
pub mod execute;
#[cfg(any(test, feature = "test-support"))]
pub mod fake;
pub mod io;
pub mod json;
pub mod listing;
pub mod network_errors;
pub mod operation;
pub mod order;
pub mod plan;
pub mod qr;
pub mod retry;
pub mod status;
pub mod text;
pub mod trigger;
pub mod webhook;
