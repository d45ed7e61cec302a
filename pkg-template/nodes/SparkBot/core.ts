/**
 * What both nodes share, bundled once into `core.js` (the action node and the trigger require
 * it, so a process holds one instance of the wasm module): the Rust core's calls, the one place
 * where its errors become n8n error classes, the WhatsApp Number dropdown and the credential
 * Test.
 */
import type {
	ICredentialTestFunctions,
	ICredentialsDecrypted,
	ILoadOptionsFunctions,
	INode,
	INodeCredentialTestResult,
	INodePropertyOptions,
	JsonObject,
} from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { credentialTestHost, hostFor } from './host';
import { callCore, isCoreError } from './wasm';

export { hostFor } from './host';

export { callCore, isCoreError } from './wasm';

/** Fills a WhatsApp Number dropdown with every device of the account. */
export async function getDevices(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	const credentials = await this.getCredentials('sparkBotApi');
	try {
		const host = hostFor((options) => this.helpers.httpRequest(options));
		return (await callCore((core) =>
			core.loadDevices(credentials, host),
		)) as INodePropertyOptions[];
	} catch (error) {
		throw toNodeError(this.getNode(), error);
	}
}

/** The credential's Test: the node's own checks, then one request, in the Rust core. */
export async function sparkBotApiTest(
	this: ICredentialTestFunctions,
	credential: ICredentialsDecrypted,
): Promise<INodeCredentialTestResult> {
	try {
		const host = credentialTestHost(this.helpers);
		return (await callCore((core) =>
			core.testCredential(credential.data ?? {}, host),
		)) as INodeCredentialTestResult;
	} catch (error) {
		return {
			status: 'Error',
			message: error instanceof Error ? error.message : String(error),
		};
	}
}

/** What an n8n error made from a core error knows: its stable code, HTTP status and attempts. */
interface ErrorFacts {
	code: string;
	httpCode: number | null;
	attempts?: number;
}

const factsOf = new WeakMap<Error, ErrorFacts>();

/** The facts of an error; one n8n raised itself (an expression that failed) is a parameter problem. */
export function errorFacts(error: NodeApiError | NodeOperationError): ErrorFacts {
	return factsOf.get(error) ?? { code: 'SPARKBOT_INVALID_PARAMETER', httpCode: null };
}

/** The one place where errors become n8n error classes. */
export function toNodeError(
	node: INode,
	error: unknown,
	itemIndex?: number,
): NodeApiError | NodeOperationError {
	if (error instanceof NodeApiError || error instanceof NodeOperationError) return error;
	if (!isCoreError(error)) {
		return new NodeOperationError(node, error instanceof Error ? error : String(error), {
			itemIndex,
		});
	}
	const { message, description, code, attempts } = error;
	let nodeError: NodeApiError | NodeOperationError;
	if (error.kind === 'operation') {
		nodeError = new NodeOperationError(node, message, { itemIndex, description });
	} else {
		const httpCode = error.httpCode === null ? undefined : String(error.httpCode);
		const response: JsonObject = { message, code, httpCode: httpCode ?? null };
		nodeError = new NodeApiError(node, response, { itemIndex, message, description, httpCode });
	}
	factsOf.set(nodeError, { code, httpCode: error.httpCode, attempts });
	return nodeError;
}
