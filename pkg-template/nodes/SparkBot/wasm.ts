/**
 * Loads the Rust core: the wasm module is embedded in this file (base64), compiled on first use
 * and reused for the life of the process. Nothing is read from the file system or the
 * environment, and loading the package compiles nothing.
 *
 * Both imports are written by the build (`scripts/build.mjs`): wasm-bindgen's glue and the
 * optimized module as base64.
 */
import {
	__wbg_reset_state,
	executeItems,
	initSync,
	loadDevices,
	pollSessions,
	searchDevices,
	testCredential,
} from '../../../target/glue/sparkbot_node';
import { wasmBase64 } from '../../../target/glue/wasm-bytes';

import { setTaskErrorHandler } from './wasm-global-scope';

/** The exports of the Rust core. */
export interface Core {
	executeItems: typeof executeItems;
	loadDevices: typeof loadDevices;
	pollSessions: typeof pollSessions;
	searchDevices: typeof searchDevices;
	testCredential: typeof testCredential;
}

/** An error thrown by the Rust core (see `to_js_error` in `src/wasm/boundary.rs`), or by `callCore`. */
export interface CoreError extends Error {
	code: string;
	kind: 'operation' | 'api';
	httpCode: number | null;
	description: string;
	/** Requests made for the item (0 when none was sent). */
	attempts?: number;
	/** The item a run without continue-on-fail fails with. */
	itemIndex?: number;
}

const core: Core = { executeItems, loadDevices, pollSessions, searchDevices, testCredential };
/** `fresh`: not instantiated yet; `poisoned`: an instance trapped and must be replaced. */
let state: 'fresh' | 'ready' | 'poisoned' = 'fresh';
/** Calls into the core that have not settled yet, each with the function that fails it. */
const inFlight = new Set<(error: unknown) => void>();

/**
 * Compiles and instantiates the module on first use, synchronously (a few milliseconds for this
 * module), and returns the same instance afterwards — or a fresh one after a trap. A failure is
 * thrown and retried next time.
 */
export function loadCore(): Core {
	if (state === 'fresh') {
		initSync({ module: moduleBytes() });
	} else if (state === 'poisoned') {
		__wbg_reset_state();
	}
	state = 'ready';
	return core;
}

/**
 * Runs one call into the core and settles with its result. If the module traps (or a JS
 * exception unwinds through it) during the call — synchronously, or in a later poll of its
 * future — the call, and every other one in flight, fails with a `SPARKBOT_CORE_CRASHED` error
 * at once, and the next `loadCore()` uses a fresh instance rather than the poisoned one.
 */
export function callCore<T>(call: (core: Core) => Promise<T>): Promise<T> {
	return new Promise<T>((resolve, reject) => {
		let settled = false;
		const settle = (outcome: () => void) => {
			if (settled) return;
			settled = true;
			inFlight.delete(crash);
			outcome();
		};
		const crash = (error: unknown) => {
			state = 'poisoned';
			settle(() => reject(crashError(error)));
		};
		inFlight.add(crash);
		try {
			call(loadCore()).then(
				(value) => settle(() => resolve(value)),
				(error: unknown) => (isCoreError(error) ? settle(() => reject(error)) : crash(error)),
			);
		} catch (error) {
			if (isCoreError(error)) settle(() => reject(error));
			else crash(error);
		}
	});
}

setTaskErrorHandler((error) => {
	state = 'poisoned';
	for (const crash of [...inFlight]) crash(error);
});

/** The error a call gets when the module trapped under it. */
function crashError(cause: unknown): CoreError {
	const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
	const error = new Error(
		`The SparkBot node stopped with an internal error (${reason}); it has been restarted, run the workflow again`,
	) as CoreError;
	error.code = 'SPARKBOT_CORE_CRASHED';
	error.kind = 'operation';
	error.httpCode = null;
	error.description =
		'The WebAssembly core of the node failed and was replaced by a fresh one; nothing else in n8n was affected. Requests already sent may have been carried out by SparkBot. This is a bug in the node: please report it with the input that caused it.';
	return error;
}

/** Whether `error` was thrown by the Rust core. */
export function isCoreError(error: unknown): error is CoreError {
	if (!(error instanceof Error)) return false;
	const { code, kind } = error as Partial<CoreError>;
	return (
		typeof code === 'string' &&
		code.startsWith('SPARKBOT_') &&
		(kind === 'operation' || kind === 'api')
	);
}

/** The module's bytes, decoded by Node's native base64 decoder (0.1 ms). */
function moduleBytes(): Uint8Array {
	return Buffer.from(wasmBase64, 'base64');
}
