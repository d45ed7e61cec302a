// The built package driven as n8n drives it, outside n8n: \`require\` of the files its package.json
// lists, then \`new SparkBot()\`, and n8n-like contexts for \`execute()\`, \`poll()\`, the dropdown
// and the credential Test, with n8n's request helpers stood in for (n8n-helpers.mjs). The package
// suites (tests/dist/) and the listing benchmark (scripts/bench/listing.mjs) use it.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { httpRequest, request } from './n8n-helpers.mjs';

export { helperCalls } from './n8n-helpers.mjs';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/**
 * The package under test: dist/, or a copy of it next to another n8n's n8n-workflow
 * (`SPARKBOT_PACKAGE_DIR`; npm test runs the suites against the newest n8n's too).
 */
export const dist = process.env.SPARKBOT_PACKAGE_DIR
	? resolve(process.env.SPARKBOT_PACKAGE_DIR)
	: join(root, 'dist');
const require = createRequire(join(dist, 'package.json'));

/** The package's own package.json, as n8n reads it. */
export const packageJson = require(join(dist, 'package.json'));

/** n8n-workflow as the built node resolves it (CommonJS, the same classes). */
export const workflow = require('n8n-workflow');
/** The error classes the node throws, from the n8n-workflow the package is tested against. */
export const { NodeApiError, NodeOperationError } = workflow;

/** Requires a file listed in the package's `n8n` attribute and instantiates its class. */
export function loadClass(relativePath) {
	const module = require(join(dist, relativePath));
	const className = relativePath.split('/').pop().split('.')[0];
	const Class = module[className];
	if (typeof Class !== 'function')
		throw new Error(`${relativePath} does not export class ${className}`);
	return new Class();
}

export const NODE_PATH = 'dist/nodes/SparkBot/SparkBot.node.js';
export const TRIGGER_PATH = 'dist/nodes/SparkBotTrigger/SparkBotTrigger.node.js';
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

let nodeProperties;
/**
 * The default of top-level parameter `name` when the node shows it for an item's resource and
 * operation (version 2: the version new nodes get), as n8n fills it in; `undefined` otherwise.
 */
function shownDefault(name, params) {
	nodeProperties ??= loadClass(NODE_PATH).description.properties;
	const shown = (property) =>
		Object.entries(property.displayOptions?.show ?? {}).every(([key, values]) =>
			key === '@version'
				? values.some((v) => v === 2 || (v?._cnd?.gte !== undefined && 2 >= v._cnd.gte))
				: key.startsWith('/') ||
					values.includes(Object.hasOwn(params, key) ? params[key] : shownDefault(key, params)),
		);
	return nodeProperties.find((p) => p.name === name && shown(p))?.default;
}

/**
 * An execution context for `execute()`: one parameter object per item (what n8n would resolve
 * for that item, expressions included), the credential, the node's On Error setting
 * (`continueOnFail` for "Continue", or `onError` as n8n stores it), and the execution's cancel
 * signal.
 */
export function executeContext({
	items,
	credentials,
	continueOnFail = false,
	onError,
	cancelSignal,
	nodeType = node.type,
}) {
	const mode = onError ?? (continueOnFail ? 'continueRegularOutput' : 'stopWorkflow');
	const thisNode = { ...node, type: nodeType, parameters: storedParameters(items), onError: mode };
	return {
		getInputData: () => items.map((_, i) => ({ json: { index: i } })),
		getNodeParameter(name, itemIndex, fallback) {
			const params = items[itemIndex];
			if (params === undefined) throw new Error(`no item ${itemIndex}`);
			if (params instanceof Error) throw params;
			if (Object.hasOwn(params, name)) return params[name];
			// n8n fills a shown parameter the user left alone with its default.
			const shown = shownDefault(name, params);
			if (shown !== undefined) return shown;
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
		helpers: { httpRequest, prepareBinaryData },
	};
}

/**
 * n8n's `prepareBinaryData` as its default binary data mode does it: the bytes, base64, with
 * the file's name, type and size. (The e2e suites run n8n's own, in default and filesystem mode.)
 */
async function prepareBinaryData(buffer, fileName, mimeType) {
	assert.ok(Buffer.isBuffer(buffer), 'prepareBinaryData is given a Buffer');
	const fileExtension = fileName?.includes('.') ? fileName.split('.').pop() : undefined;
	return {
		data: buffer.toString('base64'),
		mimeType,
		fileType: mimeType?.split('/')[0],
		fileName,
		fileExtension,
		fileSize: `${(buffer.length / 1024).toFixed(1)} kB`,
	};
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
		helpers: { httpRequest },
	};
}

/** A context for the credential's Test (`ICredentialTestFunctions`): n8n's legacy `request`. */
export function credentialTestContext() {
	return { helpers: { request } };
}

/** Builds the parameters of one item. */
export function params(operation, device, options = {}) {
	return { resource: 'whatsappSession', operation, device, options };
}

/** Version 2's WhatsApp Number: a resource locator value. */
export function locator(mode, value) {
	return { __rl: true, mode, value };
}

/**
 * A context for SparkBot Trigger's `poll()`: its parameters, the credential, the workflow's
 * static data (an object the caller keeps between polls, as n8n does), the mode (`'trigger'`,
 * or `'manual'` for the editor's test run) and how the workflow was activated (`'activate'`: a
 * user's publish; `'init'`: n8n starting). n8n polls with one context for as long as an
 * activation lasts: reuse it for the polls of one activation.
 */
export function pollContext({
	credentials,
	parameters = {},
	staticData,
	mode = 'trigger',
	activation = mode === 'manual' ? 'manual' : 'init',
}) {
	return {
		getActivationMode: () => activation,
		async getCredentials(type) {
			if (type !== 'sparkBotApi') throw new Error(`unexpected credential type ${type}`);
			return credentials;
		},
		getNodeParameter(name, fallback) {
			return Object.hasOwn(parameters, name) ? parameters[name] : fallback;
		},
		getWorkflowStaticData: () => staticData,
		getMode: () => mode,
		getNode: () => ({
			...node,
			name: 'SparkBot Trigger',
			type: 'n8n-nodes-sparkbot.sparkBotTrigger',
		}),
		helpers: { httpRequest, returnJsonArray: (items) => items.map((json) => ({ json })) },
	};
}
