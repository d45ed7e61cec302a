//! The Rust core of `n8n-nodes-sparkbot`, an n8n community node that reboots and resets the
//! WhatsApp sessions of SparkBot numbers.
//!
//! The crate is split the way the wasm packages of biome and oxc are: a pure [`core`] with no
//! JavaScript types, tested natively, and a thin `wasm` boundary over it (built for `wasm32`
//! only): the exports the TypeScript shim calls, the `fetch` transport, and JS value reading.

pub mod core;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

/// The module's allocator: talc, smaller and faster than the default dlmalloc in wasm32 (the
/// module is single-threaded: no `atomics`).
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
