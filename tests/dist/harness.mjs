// Loads the built package the way n8n does — `require` of the files its package.json lists, then
// `new SparkBot()` — and runs it with an n8n-like execution context.
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const dist = join(root, 'dist');
const require = createRequire(import.meta.url);

/** The package's own package.json, as n8n reads it. */
export const packageJson = require(join(dist, 'package.json'));

/** n8n-workflow as the built node sees it (CommonJS, the same classes). */
export const workflow = require('n8n-workflow');

/** Requires a file listed in the package's `n8n` attribute and instantiates its class. */
export function loadClass(relativePath) {
	const module = require(join(dist, relativePath));
	const className = relativePath.split('/').pop().split('.')[0];
	const Class = module[className];
	if (typeof Class !== 'function') throw new Error(`${relativePath} does not export class ${className}`);
	return new Class();
}

export const NODE_PATH = 'dist/nodes/SparkBot/SparkBot.node.js';
export const CREDENTIAL_PATH = 'dist/credentials/SparkBotApi.credentials.js';

const node = {
	id: 'f2d8e1c4-0000-4000-8000-000000000001',
	name: 'SparkBot',
	type: 'n8n-nodes-sparkbot.sparkBot',
	typeVersion: 1,
	position: [0, 0],
	parameters: {},
};

/**
 * The node's parameters as n8n stores them: a value that is the same for every item is stored
 * as is; one that differs between items (or fails to resolve for one) can only come from an
 * expression, so it is stored as one.
 */
function storedParameters(items) {
	const stored = {};
	const readable = items.filter((params) => !(params instanceof Error));
	for (const name of new Set(readable.flatMap((params) => Object.keys(params)))) {
		const values = readable.map((params) => JSON.stringify(params[name]));
		const same = readable.length === items.length && values.every((value) => value === values[0]);
		stored[name] = same ? readable[0][name] : `={{ $json.${name} }}`;
	}
	return stored;
}

/**
 * An execution context for `execute()`: one parameter object per item (what n8n would resolve
 * for that item, expressions included), the credential, the node's On Error setting
 * (`continueOnFail` for "Continue", or `onError` as n8n stores it), and the execution's cancel
 * signal.
 */
export function executeContext({ items, credentials, continueOnFail = false, onError, cancelSignal }) {
	const mode = onError ?? (continueOnFail ? 'continueRegularOutput' : 'stopWorkflow');
	const thisNode = { ...node, parameters: storedParameters(items), onError: mode };
	return {
		getInputData: () => items.map((_, i) => ({ json: { index: i } })),
		getNodeParameter(name, itemIndex, fallback) {
			const params = items[itemIndex];
			if (params === undefined) throw new Error(`no item ${itemIndex}`);
			if (params instanceof Error) throw params;
			if (Object.hasOwn(params, name)) return params[name];
			if (fallback !== undefined) return fallback;
			throw new Error(`Could not get parameter "${name}"`);
		},
		async getCredentials(type) {
			if (type !== 'sparkBotApi') throw new Error(`unexpected credential type ${type}`);
			return credentials;
		},
		getNode: () => thisNode,
		continueOnFail: () => mode !== 'stopWorkflow',
		getExecutionCancelSignal: () => cancelSignal,
	};
}

/**
 * `run(items, { continueOnFail, creds, cancelSignal })` — the node's `execute` with
 * `executeContext` — and `thrownBy(items, options)`, the error a run that must fail throws. Every
 * output and thrown error goes into `produced`, for the suites' final search for the API key.
 * `node()` and `credentials()` are read at each run (the suites set them up in `before`).
 */
export function runner({ node, credentials, produced }) {
	async function run(items, { continueOnFail = false, onError, creds = credentials(), cancelSignal } = {}) {
		try {
			const output = await node().execute.call(executeContext({ items, credentials: creds, continueOnFail, onError, cancelSignal }));
			produced.push(output);
			return output;
		} catch (error) {
			produced.push(error);
			throw error;
		}
	}
	async function thrownBy(items, options) {
		try {
			await run(items, options);
		} catch (error) {
			return error;
		}
		throw new Error('expected the node to throw');
	}
	return { run, thrownBy };
}

/** A context for load-options methods. */
export function loadOptionsContext({ credentials }) {
	return {
		async getCredentials(type) {
			if (type !== 'sparkBotApi') throw new Error(`unexpected credential type ${type}`);
			return credentials;
		},
		getNode: () => node,
		getCurrentNodeParameter: () => undefined,
	};
}

/** Builds the parameters of one item. */
export function params(operation, device, options = {}) {
	return { resource: 'whatsappSession', operation, device, options };
}
