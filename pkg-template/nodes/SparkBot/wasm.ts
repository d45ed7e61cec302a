/**
 * Loads the Rust core: the wasm module is embedded in this file (base64), compiled on first use
 * and reused for the life of the process. Nothing is read from the file system or the
 * environment, and loading the package compiles nothing.
 *
 * Both imports are written by the build (`scripts/build.mjs`): wasm-bindgen's glue and the
 * optimized module as base64.
 */
import { executeItems, initSync, loadDevices } from '../../../target/glue/sparkbot_node';
import { wasmBase64 } from '../../../target/glue/wasm-bytes';

/** The exports of the Rust core. */
export interface Core {
	executeItems: typeof executeItems;
	loadDevices: typeof loadDevices;
}

/** An error thrown by the Rust core (see `to_js_error` in `src/boundary.rs`). */
export interface CoreError extends Error {
	code: string;
	kind: 'operation' | 'api';
	httpCode: number | null;
	description: string;
}

const core: Core = { executeItems, loadDevices };
let ready = false;

/**
 * Compiles and instantiates the module on first use, synchronously (a few milliseconds for this
 * module), and returns the same instance afterwards. A failure is thrown and retried next time.
 */
export function loadCore(): Core {
	if (!ready) {
		initSync({ module: decodeBase64(wasmBase64) });
		ready = true;
	}
	return core;
}

/** Whether `error` was thrown by the Rust core. */
export function isCoreError(error: unknown): error is CoreError {
	if (!(error instanceof Error)) return false;
	const { code, kind } = error as Partial<CoreError>;
	return typeof code === 'string' && code.startsWith('SPARKBOT_') && (kind === 'operation' || kind === 'api');
}

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * Decodes standard base64 without Node's `Buffer`, so the node runs on any n8n runtime. Four
 * characters make three bytes per step; about 1.5 ms for the module, on the first execution.
 */
function decodeBase64(text: string): Uint8Array {
	const lookup = new Uint8Array(256);
	for (let i = 0; i < BASE64_ALPHABET.length; i++) lookup[BASE64_ALPHABET.charCodeAt(i)] = i;
	let end = text.length;
	while (end > 0 && text.charCodeAt(end - 1) === 61 /* = */) end--;
	const bytes = new Uint8Array(Math.floor((end * 3) / 4));
	const sextet = (at: number) => lookup[text.charCodeAt(at)];
	let out = 0;
	let i = 0;
	for (; i + 4 <= end; i += 4) {
		const triple = (sextet(i) << 18) | (sextet(i + 1) << 12) | (sextet(i + 2) << 6) | sextet(i + 3);
		bytes[out++] = triple >> 16;
		bytes[out++] = (triple >> 8) & 0xff;
		bytes[out++] = triple & 0xff;
	}
	// The last 2 or 3 characters (after the padding was dropped) carry 1 or 2 bytes.
	let buffer = 0;
	let bits = 0;
	for (; i < end; i++) {
		buffer = (buffer << 6) | sextet(i);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			bytes[out++] = (buffer >> bits) & 0xff;
		}
	}
	return bytes;
}
