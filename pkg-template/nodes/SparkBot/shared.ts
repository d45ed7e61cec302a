/**
 * What every node shares, bundled once into `shared.js` (each node requires it, so a process
 * holds one instance of the wasm module): the calls into the Rust core, and the one place where
 * their results are read — a value, or a failure that becomes n8n's error (or, with
 * continue-on-fail, an error item); the WhatsApp Number dropdown and the credential Test.
 */
import type {
	ICredentialTestFunctions,
	ICredentialsDecrypted,
	IDataObject,
	ILoadOptionsFunctions,
	INode,
	INodeCredentialTestResult,
	INodeExecutionData,
	INodePropertyOptions,
	JsonObject,
} from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import type { CoreFailure } from '../../../node-descriptor/core-contract';

import { credentialTestHost, hostFor } from './host';
import { callCore, type Core } from './wasm';

export type { CoreFailure, CoreResult } from '../../../node-descriptor/core-contract';
export { hostFor } from './host';
export { callCore } from './wasm';

/**
 * Runs one call into the core and reads its result: the value, or the failure thrown as n8n's
 * error (`NodeOperationError` for the input, `NodeApiError` for SparkBot and the way there).
 */
export async function runCore<T>(node: INode, call: (core: Core) => Promise<unknown>): Promise<T> {
	const result = await callCore<T>(call);
	if ('error' in result) throw toNodeError(node, result.error);
	return result.ok;
}

/** Fills a WhatsApp Number dropdown with every device of the account. */
export async function getDevices(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	const credentials = await this.getCredentials('sparkBotApi');
	const host = hostFor((options) => this.helpers.httpRequest(options));
	return await runCore(this.getNode(), (core) => core.loadDevices(credentials, host));
}

/** The credential's Test: the node's own checks, then one request, in the Rust core. */
export async function sparkBotApiTest(
	this: ICredentialTestFunctions,
	credential: ICredentialsDecrypted,
): Promise<INodeCredentialTestResult> {
	const host = credentialTestHost(this.helpers);
	const result = await callCore<INodeCredentialTestResult>((core) =>
		core.testCredential(credential.data ?? {}, host),
	);
	return 'error' in result ? { status: 'Error', message: result.error.message } : result.ok;
}

/** A failure of the core as n8n's error, for the item `itemIndex` (the failure's own by default). */
export function toNodeError(
	node: INode,
	failure: CoreFailure,
	itemIndex = failure.itemIndex,
): NodeApiError | NodeOperationError {
	const { message, description, code } = failure;
	if (failure.kind === 'operation')
		return new NodeOperationError(node, message, { itemIndex, description });
	const httpCode = failure.httpCode === null ? undefined : String(failure.httpCode);
	const response: JsonObject = { message, code, httpCode: httpCode ?? null };
	return new NodeApiError(node, response, { itemIndex, message, description, httpCode });
}

/**
 * A failed item for continue-on-fail, with what the node knows about the failure, so that a
 * Switch can route on its `httpCode` or `code`:
 * - "Continue" (regular output): `{ error: message, description, code, httpCode, attempts }`.
 * - "Continue (using error output)": `{ error: { message, description, code, httpCode,
 *   attempts } }`. n8n's engine moves an item to the error output only when its json is
 *   `{ error }` (or `{ error, message }`), or when it carries an error — and then it reduces the
 *   json to `{ error: message }`. So the facts travel inside `error`, as n8n's own HTTP Request
 *   node does it.
 */
export function errorItem(
	failure: CoreFailure,
	itemIndex: number,
	toErrorOutput: boolean,
): INodeExecutionData {
	const { message, code, httpCode, attempts } = failure;
	const facts: IDataObject = { description: failure.description || null, code, httpCode, attempts };
	const json: IDataObject = toErrorOutput
		? { error: { message, ...facts } }
		: { error: message, ...facts };
	return { json, pairedItem: { item: itemIndex } };
}
