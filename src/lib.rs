//! The Rust core of `n8n-nodes-sparkbot`, an n8n community node that reboots and resets the
//! WhatsApp sessions of SparkBot numbers.
//!
//! The crate is split the way the wasm packages of biome and oxc are: a pure core with no
//! `JsValue`, tested natively, and a thin wasm boundary over it.
//!
//! - [`operation`]: the operations and their options, as data.
//! - [`credentials`], [`plan`]: node parameters and credential → a validated request plan.
//! - [`response`]: what came back → the item's output or a typed [`error::Error`].
//! - [`retry`], [`batch`]: which answers are retried, and how a node execution's requests run
//!   (concurrency, input order, a pause shared by every request after a `429`).
//! - [`devices`]: device list pages → the WhatsApp Number dropdown.
//! - `description` (native only): the node description n8n shows, generated from the same tables
//!   into `node-descriptor/` by the `write-descriptor` binary.
//! - `transport` (wasm only): the one place that performs HTTP: `fetch` with gloo-net's headers,
//!   the time budget and n8n's cancel signal, the body cap.
//! - `boundary` (wasm only): the `#[wasm_bindgen]` exports the JavaScript shim calls.
//! - `js` (wasm only): JS values and JSON text read as JSON, with the runtime's `JSON.parse`.

pub mod batch;
pub mod credentials;
#[cfg(not(target_arch = "wasm32"))]
pub mod description;
pub mod devices;
pub mod error;
pub mod operation;
pub mod plan;
pub mod response;
pub mod retry;

#[cfg(target_arch = "wasm32")]
pub mod boundary;
#[cfg(target_arch = "wasm32")]
pub mod js;
#[cfg(target_arch = "wasm32")]
pub mod transport;

/// The module's allocator: talc, smaller and faster than the default dlmalloc in wasm32 (the
/// module is single-threaded: no `atomics`).
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
