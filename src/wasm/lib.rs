//! The wasm boundary of `n8n-nodes-sparkbot` (the module `sparkbot_node`): the
//! `#[wasm_bindgen]` exports the TypeScript shim calls, over the pure `sparkbot-core` crate. It
//! converts JS values to the core's types and back, and performs the core's requests through
//! the host the shim hands over; it decides nothing. Built for `wasm32` (natively it is empty).
//!
//! - `boundary`: every export; decode the JS values, call the core, encode the result.
//! - `transport`: the one place that performs HTTP, through the host the shim hands over (n8n's
//!   request helper): the time budget and n8n's cancel signal, the body cap.
//! - `js`: JS values and JSON text read as JSON, with the runtime's `JSON.parse`.

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
