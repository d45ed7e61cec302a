//! The wasm boundary over the core: the `#[wasm_bindgen]` exports the shim calls, the one
//! transport (the shim's host), and reading JS values as JSON. Built only for `wasm32`.
//!
//! - [`boundary`]: every export; decode the JS values, call the core, encode the result.
//! - [`transport`]: the one place that performs HTTP, through the host the shim hands over (n8n's
//!   request helper): the time budget and n8n's cancel signal, the body cap.
//! - [`js`]: JS values and JSON text read as JSON, with the runtime's `JSON.parse`.

pub mod boundary;
pub mod js;
pub mod transport;
