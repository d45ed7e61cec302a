// n8n's request helpers as the package tests hand them to the node: `httpRequest` (execute,
// load options, list search, poll) and the legacy `request` (a credential Test), with the
// options the package uses, on Node's `http`/`https` — what n8n's own helpers (axios) run on, so
// a refused connection, a reset or a TLS failure reaches the node as the same error object, with
// its `code` at the top. The real helpers (proxies, NO_PROXY, n8n's egress policy) are exercised
// in the e2e suites, inside n8n.
import http from 'node:http';
import https from 'node:https';

/** Every request the helpers were asked to send, in order: `{ helper, method, url }`. */
export const helperCalls = [];

/**
 * Sends one request; resolves with the response (its body unread) or rejects with the socket's
 * error. `signal` aborts it; `timeoutMs` (legacy) gives up after that long without an answer.
 * Each request has a connection of its own, as n8n's helpers make a fresh agent per request.
 */
function send({ method, url, headers, body, signal, timeoutMs }) {
	return new Promise((resolve, reject) => {
		const client = url.startsWith('https:') ? https : http;
		const request = client.request(url, { method, headers, signal, agent: false });
		request.on('response', resolve);
		request.on('error', reject);
		if (timeoutMs !== undefined)
			request.setTimeout(timeoutMs, () =>
				request.destroy(
					Object.assign(new Error(`timeout of ${timeoutMs}ms exceeded`), { code: 'ECONNABORTED' }),
				),
			);
		request.end(body);
	});
}

async function text(response) {
	const chunks = [];
	for await (const chunk of response) chunks.push(chunk);
	return Buffer.concat(chunks).toString('utf8');
}

/** `this.helpers.httpRequest` for the options the package passes (`returnFullResponse`, …). */
export async function httpRequest(options) {
	const { method = 'GET', url, headers, body, abortSignal, encoding } = options;
	if (
		!options.returnFullResponse ||
		!options.ignoreHttpStatusErrors ||
		!options.disableFollowRedirect
	)
		throw new Error(`the package asked httpRequest for something else: ${JSON.stringify(options)}`);
	helperCalls.push({ helper: 'httpRequest', method, url });
	const response = await send({ method, url, headers, body, signal: abortSignal });
	return {
		body: encoding === 'stream' ? response : await text(response),
		headers: response.headers,
		statusCode: response.statusCode,
		statusMessage: response.statusMessage,
	};
}

/** `this.helpers.request` of a credential Test (request-promise options). */
export async function request(options) {
	const { method = 'GET', uri, headers, body, timeout } = options;
	if (!options.resolveWithFullResponse || options.simple !== false)
		throw new Error(`the package asked request for something else: ${JSON.stringify(options)}`);
	helperCalls.push({ helper: 'request', method, url: uri });
	const response = await send({ method, url: uri, headers, body, timeoutMs: timeout });
	return {
		body: await text(response),
		headers: response.headers,
		statusCode: response.statusCode,
		statusMessage: response.statusMessage,
	};
}
