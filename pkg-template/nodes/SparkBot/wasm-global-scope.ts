/**
 * What the wasm-bindgen glue sees of the outside world (the build defines `globalThis` as
 * `wasmGlobalScope` and `queueMicrotask` as `wasmQueueMicrotask` inside the bundle).
 *
 * js-sys reads the global object only to check for `queueMicrotask`, which schedules the Rust
 * futures; everything else the module uses (`fetch`, `AbortSignal`, `JSON`, …) is imported by
 * name. A frozen object with that one function keeps the wasm side from reaching anything else.
 *
 * Every poll of a Rust future runs in a task scheduled here. If one throws — a WebAssembly trap,
 * or a JS exception that unwound through the module — the module's state can no longer be
 * trusted: the task's error goes to the handler `wasm.ts` registers, which fails the calls in
 * flight and swaps in a fresh instance, instead of the error escaping as an uncaught exception
 * and the calls never settling.
 */
let onTaskError: ((error: unknown) => void) | undefined;

/** Registers who is told when a scheduled task of the module throws. */
export function setTaskErrorHandler(handler: (error: unknown) => void): void {
	onTaskError = handler;
}

/** `queueMicrotask` for the glue: runs `task` in a microtask and reports what it throws. */
export function wasmQueueMicrotask(task: VoidFunction): void {
	void Promise.resolve()
		.then(task)
		.catch((error: unknown) => onTaskError?.(error));
}

export const wasmGlobalScope = Object.freeze({ queueMicrotask: wasmQueueMicrotask });
