/**
 * The global scope the wasm-bindgen glue sees (the build defines `globalThis` as this object).
 *
 * js-sys reads the global object only to check for `queueMicrotask`, which schedules the Rust
 * futures; everything else the module uses (`fetch`, `AbortSignal`, `JSON`, …) is imported by
 * name. A frozen object with that one function keeps the wasm side from reaching anything else.
 */
export const wasmGlobalScope = Object.freeze({
	queueMicrotask: (task: VoidFunction) => queueMicrotask(task),
});
