// SparkBot Webhook Trigger as n8n runs it, for the package suites: `webhookHost()` is a small
// stand-in for n8n's webhook server — an HTTP server at the workflow's webhook URL that, for each
// request, loads the workflow's static data afresh (n8n reads it from its database per request),
// calls the node's `webhook()` with an n8n-like context, answers as n8n does (the node's own
// response, `webhookResponse`, or "Workflow was started"), saves the static data when n8n ≥ 2.30
// does (not for an execution started by "onReceived": see handle()), and records an
// execution for each `workflowData` — and, as n8n does, a failed execution (for the error
// workflow) for each `webhook()` that throws. `hooks()` gives the lifecycle (`checkExists`, `create`,
// `delete`) the same static data, as n8n's activation does.
import { createServer } from 'node:http';

import { httpRequest } from '../../support/n8n-helpers.mjs';
import { NodeApiError, NodeOperationError, loadClass } from './harness.mjs';

export const WEBHOOK_TRIGGER_PATH =
	'dist/nodes/SparkBotWebhookTrigger/SparkBotWebhookTrigger.node.js';

/**
 * Starts an n8n-like webhook host for one SparkBot Webhook Trigger node: `credentials`, its
 * `parameters` (`event`, `filters`), `workflowId`. Returns
 *   url                 the production webhook URL (`…/webhook/<id>/sparkbot`)
 *   staticData          the saved static data (a copy of the node's; set it to start from one)
 *   executions          every execution started, in order: `{ at, items }`, or `{ at, error }`
 *                       for a `webhook()` that threw (n8n starts one for the error workflow)
 *   answers             every answer given: `{ status, body }`
 *   credentialReads     how many times the node read its credential
 *   credentialError     set it to an Error: reading the credential fails with it (as when
 *                       n8n's database does not answer in time)
 *   hooks(url?)         the lifecycle methods with a context for `url` (default: `url`)
 *   node                the node instance
 *   close()
 */
export async function webhookHost({
	credentials,
	parameters = {},
	workflowId = 'wf-webhook-1',
	nodeId = 'node-webhook-1',
}) {
	const node = loadClass(WEBHOOK_TRIGGER_PATH);
	const nodeData = {
		id: nodeId,
		name: 'SparkBot Webhook Trigger',
		type: 'n8n-nodes-sparkbot.sparkBotWebhookTrigger',
		typeVersion: 1,
		position: [0, 0],
		parameters,
	};
	// n8n keeps a test registration's static data apart from the workflow's (test-webhooks.ts).
	const state = { saved: '{}', test: '{}' };
	const storeOf = (path) => (path.startsWith('/webhook-test/') ? 'test' : 'saved');
	const executions = [];
	const answers = [];
	const contextBase = (staticData) => ({
		async getCredentials(type) {
			if (type !== 'sparkBotApi') throw new Error(`unexpected credential type ${type}`);
			host.credentialReads += 1;
			if (host.credentialError) throw host.credentialError;
			return host.credentials;
		},
		getNodeParameter(name, fallback) {
			return Object.hasOwn(host.parameters, name) ? host.parameters[name] : fallback;
		},
		getWorkflowStaticData: (type) => {
			if (type !== 'node') throw new Error(`unexpected static data type ${type}`);
			return staticData;
		},
		getNode: () => nodeData,
		getWorkflow: () => ({ id: host.workflowId, name: 'webhook test', active: true }),
		helpers: { httpRequest, returnJsonArray: (items) => items.map((json) => ({ json })) },
	});

	const server = createServer((req, res) => {
		const chunks = [];
		req.on('data', (chunk) => chunks.push(chunk));
		req.on('end', () => void handle(req, res, Buffer.concat(chunks)));
	});
	async function handle(req, res, rawBody) {
		const store = storeOf(req.url);
		const staticData = JSON.parse(state[store]);
		let sent = false;
		const response = {
			statusCode: 200,
			status(code) {
				this.statusCode = code;
				return this;
			},
			send(body) {
				sent = true;
				answers.push({ status: this.statusCode, body: String(body) });
				res.writeHead(this.statusCode, { 'content-type': 'text/plain' });
				res.end(String(body));
				return this;
			},
			json(value) {
				sent = true;
				const body = JSON.stringify(value);
				answers.push({ status: this.statusCode, body });
				res.writeHead(this.statusCode, { 'content-type': 'application/json' });
				res.end(body);
				return this;
			},
			end() {
				return this;
			},
		};
		const context = {
			...contextBase(staticData),
			getRequestObject: () => ({ rawBody, headers: req.headers, body: safeJson(rawBody) }),
			getHeaderData: () => req.headers,
			getMode: () => (req.url.startsWith('/webhook-test/') ? 'manual' : 'webhook'),
			getResponseObject: () => response,
		};
		try {
			const result = await node.webhook.call(context);
			if (result.noWebhookResponse) {
				if (!sent) throw new Error('noWebhookResponse without a response');
				// n8n saves the static data when the answer is given, before any execution starts.
				state[store] = JSON.stringify(staticData);
				if (result.workflowData)
					executions.push({ at: Date.now(), items: result.workflowData[0].map((i) => i.json) });
			} else if (result.workflowData) {
				// "onReceived" with an execution: from n8n 2.30 on (webhook-helpers.ts), n8n starts
				// the execution first, which wraps the static data anew and clears its changed mark,
				// and saves it only then — so what webhook() wrote is never saved.
				executions.push({ at: Date.now(), items: result.workflowData[0].map((i) => i.json) });
				answers.push({ status: 200, body: '{"message":"Workflow was started"}' });
				res.writeHead(200, { 'content-type': 'application/json' });
				res.end('{"message":"Workflow was started"}');
			} else {
				const body = JSON.stringify(result.webhookResponse ?? { message: 'Webhook call received' });
				answers.push({ status: 200, body });
				res.writeHead(200, { 'content-type': 'application/json' });
				res.end(body);
				state[store] = JSON.stringify(staticData);
			}
		} catch (error) {
			const expected = error instanceof NodeApiError || error instanceof NodeOperationError;
			executions.push({ at: Date.now(), error });
			answers.push({ status: 500, body: error.message, error, expected });
			res.writeHead(500);
			res.end(error.message);
		}
	}
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	const base = `http://127.0.0.1:${server.address().port}`;

	const host = {
		node,
		credentials,
		parameters,
		workflowId,
		url: `${base}/webhook/${nodeId}/sparkbot`,
		testUrl: `${base}/webhook-test/${nodeId}/sparkbot`,
		executions,
		answers,
		credentialReads: 0,
		credentialError: undefined,
		get staticData() {
			return JSON.parse(state.saved);
		},
		set staticData(value) {
			state.saved = JSON.stringify(value);
		},
		/** The lifecycle methods, for `url`, on the saved static data (saved after each). */
		hooks(url = host.url) {
			const store = storeOf(new URL(url).pathname);
			const run = async (method) => {
				const staticData = JSON.parse(state[store]);
				const context = {
					...contextBase(staticData),
					getNodeWebhookUrl: (name) => (name === 'default' ? url : undefined),
				};
				const result = await node.webhookMethods.default[method].call(context);
				state[store] = JSON.stringify(staticData);
				return result;
			};
			return {
				checkExists: () => run('checkExists'),
				create: () => run('create'),
				delete: () => run('delete'),
			};
		},
		/** n8n's activation: create the webhook unless it exists. */
		async activate(url) {
			const hooks = host.hooks(url);
			if (!(await hooks.checkExists())) await hooks.create();
		},
		close: () => new Promise((resolve) => server.close(resolve)),
	};
	return host;
}

function safeJson(bytes) {
	try {
		return JSON.parse(bytes.toString());
	} catch {
		return {};
	}
}
