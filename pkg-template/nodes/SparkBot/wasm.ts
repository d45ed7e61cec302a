/**
 * Loads the Rust core: the wasm module is embedded in this file (base64), compiled on first use
 * and reused for the life of the process. Nothing is read from the file system or the
 * environment, loading the package compiles nothing, and the module imports nothing but the glue
 * and the runtime's standard globals: what it needs from n8n comes through the host each call
 * hands over (`host.ts`).
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
	receiveDelivery,
	searchDevices,
	testCredential,
	webhookCreate,
	webhookDelete,
	webhookExists,
} from '../../../target/glue/sparkbot_node';
import { wasmBase64 } from '../../../target/glue/wasm-bytes';
import type { CoreFailure, CoreResult } from '../../../node-descriptor/core-contract';
import { version as packageVersion } from '../../package.json';

import { setTaskErrorHandler } from './wasm-global-scope';

/** The exports of the Rust core. */
export interface Core {
	executeItems: typeof executeItems;
	loadDevices: typeof loadDevices;
	pollSessions: typeof pollSessions;
	searchDevices: typeof searchDevices;
	testCredential: typeof testCredential;
	webhookExists: typeof webhookExists;
	webhookCreate: typeof webhookCreate;
	webhookDelete: typeof webhookDelete;
	receiveDelivery: typeof receiveDelivery;
}

const core: Core = {
	executeItems,
	loadDevices,
	pollSessions,
	searchDevices,
	testCredential,
	webhookExists,
	webhookCreate,
	webhookDelete,
	receiveDelivery,
};
/** The compiled module, once compiling succeeded (it is the same for every instance). */
let compiled: WebAssembly.Module | undefined;
/** `none`: no instance yet; `ready`: a live one; `poisoned`: it trapped and must be replaced. */
let state: 'none' | 'ready' | 'poisoned' = 'none';
/** Calls into the core that have not settled yet, each with the function that fails it. */
const inFlight = new Set<(error: unknown) => void>();

/**
 * Compiles and instantiates the module on first use, synchronously (a few milliseconds for this
 * module), and returns the same instance afterwards — or a fresh instance of it (new memory, new
 * glue state) after a trap. When the module cannot be compiled or instantiated here, it returns
 * the `SPARKBOT_CORE_UNAVAILABLE` failure that says why and what to do; the next call tries
 * again and, for the same cause, says the same.
 */
function loadCore(): Core | CoreFailure {
	if (state === 'ready') return core;
	try {
		const missing = missingRuntimeFeatures();
		if (missing.length > 0) throw new Error(`this Node.js lacks ${missing.join(', ')}`);
		if (state === 'poisoned') {
			__wbg_reset_state();
		} else {
			compiled ??= new WebAssembly.Module(moduleBytes());
			initSync({ module: compiled });
		}
	} catch (error) {
		return unavailableFailure(error);
	}
	state = 'ready';
	return core;
}

/**
 * Runs one call into the core and resolves with its result (every export resolves with
 * `{ ok }` or `{ error }`, never rejects). If the module traps (or a JS exception unwinds
 * through it) during the call — synchronously, or in a later poll of its future — the call, and
 * every other one in flight, resolves with the `SPARKBOT_CORE_CRASHED` failure at once, and the
 * next call uses a fresh instance rather than the poisoned one.
 */
export function callCore<T>(call: (core: Core) => Promise<unknown>): Promise<CoreResult<T>> {
	return new Promise<CoreResult<T>>((resolve) => {
		const loaded = loadCore();
		if (!('executeItems' in loaded)) {
			resolve({ error: loaded });
			return;
		}
		let settled = false;
		const settle = (result: CoreResult<T>) => {
			if (settled) return;
			settled = true;
			inFlight.delete(crash);
			resolve(result);
		};
		const crash = (error: unknown) => {
			state = 'poisoned';
			settle({ error: crashFailure(error) });
		};
		inFlight.add(crash);
		try {
			call(loaded).then((result) => settle(result as CoreResult<T>), crash);
		} catch (error) {
			crash(error);
		}
	});
}

setTaskErrorHandler((error) => {
	state = 'poisoned';
	for (const crash of [...inFlight]) crash(error);
});

/** The standard globals the module and its host use, by name, when this runtime lacks them. */
function missingRuntimeFeatures(): string[] {
	const features: Array<[string, boolean]> = [
		['WebAssembly', typeof WebAssembly === 'object'],
		['AbortSignal.timeout', typeof AbortSignal?.timeout === 'function'],
		['AbortSignal.any', typeof AbortSignal?.any === 'function'],
		['MessageChannel', typeof MessageChannel === 'function'],
		['TextDecoder', typeof TextDecoder === 'function'],
	];
	return features.filter(([, present]) => !present).map(([name]) => name);
}

/** The runtime, as far as a community node may know it (`navigator` exists from Node 21 on). */
function runtimeName(): string {
	return typeof navigator === 'object' && typeof navigator.userAgent === 'string'
		? navigator.userAgent
		: 'Node.js 20 or older';
}

/** The failure of every call while the module cannot be compiled or instantiated here. */
function unavailableFailure(cause: unknown): CoreFailure {
	const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
	return {
		code: 'SPARKBOT_CORE_UNAVAILABLE',
		kind: 'operation',
		message: `The SparkBot node cannot start its core on this n8n (${reason}); update n8n-nodes-sparkbot and restart n8n`,
		description: `n8n-nodes-sparkbot ${packageVersion} needs n8n 1.123 or newer on Node.js 20.15 or newer (this is ${runtimeName()}). Update the package (Settings → Community Nodes → Update, or install the newest version by the README's command), and n8n if it is older, then restart n8n. If it still fails, report this message with your n8n version. Nothing was sent to SparkBot.`,
		httpCode: null,
		attempts: 0,
	};
}

/** The failure of a call under which the module trapped. */
function crashFailure(cause: unknown): CoreFailure {
	const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
	return {
		code: 'SPARKBOT_CORE_CRASHED',
		kind: 'operation',
		message: `The SparkBot node stopped with an internal error (${reason}); it has been restarted, run the workflow again`,
		description:
			'The WebAssembly core of the node failed and was replaced by a fresh one; nothing else in n8n was affected. Requests already sent may have been carried out by SparkBot. This is a bug in the node: please report it with the input that caused it.',
		httpCode: null,
		attempts: 0,
	};
}

/** The module's bytes, decoded by Node's native base64 decoder (0.1 ms). */
function moduleBytes(): Uint8Array<ArrayBuffer> {
	const bytes = Buffer.from(wasmBase64, 'base64');
	return new Uint8Array(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength);
}
