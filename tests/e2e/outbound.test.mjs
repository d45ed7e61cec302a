// n8n's outbound policy in a real n8n, for the SparkBot nodes and n8n's own HTTP Request node side
// by side: a SparkBot that only a forward proxy can reach (its host name resolves nowhere else),
// behind an internal CA; n8n started with HTTPS_PROXY / HTTP_PROXY / ALL_PROXY / NO_PROXY and
// NODE_EXTRA_CA_CERTS as its documentation says. One workflow holds every path a user takes —
// version 1 Reboot, version 2 Get Many → Reboot, HTTP Request with the SparkBot credential, and a
// plain-http SparkBot through HTTP_PROXY — each On Error: Continue, so one run shows them all.
// Then `n8n start`: the credential Test, the list search and an activated SparkBot Trigger, all
// through the proxy; and the credential's Allowed HTTP Request Domains refusing both nodes.
//
// n8n version: SPARKBOT_E2E_N8N on Node SPARKBOT_E2E_NODE (npm test runs both ends it supports).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import * as instance from '../../scripts/n8n/instance.mjs';
import { waitUntil } from '../../scripts/lib/wait.mjs';
import { tail } from '../../scripts/lib/text.mjs';
import { startForwardProxy } from '../simulator/forward-proxy.mjs';
import { DEMO_DEVICES, startSimulator } from '../../support/simulator/sparkbot-simulator.mjs';
import { makeTestCa } from '../simulator/test-ca.mjs';
import {
	CREDENTIAL_TYPE,
	N8N_VERSION,
	NODE_TYPE,
	e2eSetup,
	pollingTriggerNode,
	sparkBotNode,
} from './fixtures.mjs';

const SECRET = 'sk-e2e-outbound-4e21-NEVER-IN-OUTPUT';
const PROXY_AUTH = 'proxyuser:pr0xy-s3cret';
/** Host names only the proxy knows. */
const TLS_HOST = 'sparkbot.test';
const PLAIN_HOST = 'sparkbot-plain.test';
const [sales] = DEMO_DEVICES;

let runtime;
let userFolder;
let ca;
let tlsSim;
let plainSim;
let proxy;
const credentials = {};
const workflows = {};

function credential(key, data) {
	credentials[key] = {
		id: instance.newId(),
		name: `SparkBot ${key}`,
		type: CREDENTIAL_TYPE,
		data: { apiKey: SECRET, ...data },
	};
	return credentials[key];
}

const ref = (c) => ({ id: c.id, name: c.name });
const TRIGGER = 'When clicking ‘Execute workflow’';
const CONTINUE = { onError: 'continueRegularOutput' };

/** Manual trigger → every path a user takes, side by side, each On Error: Continue. */
function everyPath(name, tls, plain) {
	const nodes = [
		{
			name: TRIGGER,
			type: 'n8n-nodes-base.manualTrigger',
			typeVersion: 1,
			position: [0, 0],
			parameters: {},
		},
		{
			...sparkBotNode({
				name: 'V1 Reboot',
				credential: ref(tls),
				parameters: {
					resource: 'whatsappSession',
					operation: 'reboot',
					device: sales.id,
					options: { forceReboot: true },
				},
			}),
			...CONTINUE,
		},
		{
			...sparkBotNode({
				name: 'V2 Get Many',
				typeVersion: 2,
				credential: ref(tls),
				parameters: { resource: 'whatsappNumber', operation: 'getAll', returnAll: false, limit: 2 },
			}),
			...CONTINUE,
		},
		{
			...sparkBotNode({
				name: 'V2 Reboot',
				typeVersion: 2,
				credential: ref(tls),
				parameters: {
					resource: 'whatsappSession',
					operation: 'reboot',
					device: { __rl: true, mode: 'id', value: '={{ $json.id }}' },
					options: { forceReboot: true },
				},
			}),
			...CONTINUE,
		},
		{
			name: 'HTTP Request',
			type: 'n8n-nodes-base.httpRequest',
			typeVersion: 4.2,
			position: [220, 400],
			parameters: {
				authentication: 'predefinedCredentialType',
				nodeCredentialType: CREDENTIAL_TYPE,
				url: `${tls.data.baseUrl}/devices?page=0&size=1`,
				options: {},
			},
			credentials: { [CREDENTIAL_TYPE]: ref(tls) },
			...CONTINUE,
		},
	];
	const connections = {
		[TRIGGER]: {
			main: [
				['V1 Reboot', 'V2 Get Many', 'HTTP Request', ...(plain ? ['Plain Reboot'] : [])].map(
					(node) => ({ node, type: 'main', index: 0 }),
				),
			],
		},
		'V2 Get Many': { main: [[{ node: 'V2 Reboot', type: 'main', index: 0 }]] },
	};
	if (plain) {
		nodes.push({
			...sparkBotNode({
				name: 'Plain Reboot',
				credential: ref(plain),
				parameters: {
					resource: 'whatsappSession',
					operation: 'reboot',
					device: sales.id,
					options: {},
				},
			}),
			...CONTINUE,
		});
	}
	return { name, nodes, connections, settings: { executionOrder: 'v1' } };
}

/** Runs a workflow with `env` added to n8n's environment; returns each node's first item. */
async function execute(key, env) {
	const result = await instance.executeWorkflow(runtime, userFolder, workflows[key].id, {
		env: { NODE_EXTRA_CA_CERTS: ca.caFile, ...env },
	});
	const first = (node) => result.output(node)?.[0];
	return { result, first, log: tail(`${result.stdout}\n${result.stderr}`, 30) };
}

/** The requests each simulator received since the last reset. */
function received() {
	return [...tlsSim.requests, ...plainSim.requests].filter((r) => !r.path.startsWith('/__sim'));
}

function resetAll() {
	tlsSim.reset();
	plainSim.reset();
	proxy.requests.length = 0;
}

before(async () => {
	({ runtime, userFolder } = await e2eSetup());
	ca = makeTestCa({ names: [TLS_HOST, 'localhost'] });
	tlsSim = await startSimulator({
		apiKey: SECRET,
		timeScale: 0.01,
		tls: { key: ca.serverKey, cert: ca.serverCert },
		publicHost: TLS_HOST,
	});
	plainSim = await startSimulator({ apiKey: SECRET, timeScale: 0.01, publicHost: PLAIN_HOST });
	proxy = await startForwardProxy({
		hosts: { [TLS_HOST]: '127.0.0.1', [PLAIN_HOST]: '127.0.0.1' },
		auth: PROXY_AUTH,
	});
	const tls = credential('tls', { baseUrl: tlsSim.baseUrl });
	// Plain http:// to another host needs the credential's consent (Allow Insecure HTTP).
	const plain = credential('plain', { baseUrl: plainSim.baseUrl, allowInsecureHttp: true });
	const restricted = credential('restricted', {
		baseUrl: tlsSim.baseUrl,
		allowedHttpRequestDomains: 'domains',
		allowedDomains: 'api.sparkbot.io',
	});
	const allowed = credential('allowed', {
		baseUrl: tlsSim.baseUrl,
		allowedHttpRequestDomains: 'domains',
		allowedDomains: `api.sparkbot.io, *.${TLS_HOST.split('.').pop()}, ${TLS_HOST}`,
	});
	const loopback = credential('loopback', { baseUrl: `http://127.0.0.1:${plainSim.port}/v1` });
	await instance.importCredentials(runtime, userFolder, Object.values(credentials));
	[
		workflows.every,
		workflows.restricted,
		workflows.allowed,
		workflows.loopback,
		workflows.trigger,
	] = await instance.importWorkflow(runtime, userFolder, [
		everyPath('e2e: every path', tls, plain),
		everyPath('e2e: restricted to api.sparkbot.io', restricted),
		everyPath('e2e: restricted to sparkbot.test', allowed),
		everyPath('e2e: SparkBot on this machine', loopback),
		{
			name: 'e2e: trigger behind the proxy',
			nodes: [pollingTriggerNode({ credential: tls })],
			settings: { executionOrder: 'v1' },
		},
	]);
});

after(async () => {
	await Promise.all([tlsSim?.close(), plainSim?.close(), proxy?.close()]);
	ca?.remove();
});

describe(`n8n ${N8N_VERSION} behind a proxy (import:workflow + execute --id)`, () => {
	test('HTTPS_PROXY and HTTP_PROXY with user:password: every path works through the proxy (CONNECT for https, absolute form for http)', async () => {
		resetAll();
		const { first, log } = await execute('every', {
			HTTPS_PROXY: proxy.url,
			HTTP_PROXY: proxy.url,
		});
		assert.equal(first('V1 Reboot')?.id, sales.id, log);
		assert.equal(first('V2 Reboot')?.operation, 'reboot', log);
		assert.equal(first('HTTP Request')?.id, sales.id, log);
		assert.equal(first('Plain Reboot')?.id, sales.id, log);
		const seen = proxy.requests.map((r) => `${r.method} ${r.target}`);
		assert.ok(seen.includes(`CONNECT ${TLS_HOST}:${tlsSim.port}`), seen.join('\n'));
		assert.ok(
			seen.includes(`POST http://${PLAIN_HOST}:${plainSim.port}/v1/devices/${sales.id}/reboot`),
			seen.join('\n'),
		);
		assert.ok(proxy.requests.every((r) => r.authorized));
		const posts = received().filter((r) => r.method === 'POST');
		assert.equal(posts.length, 4, 'V1, the two V2 reboots and the plain one');
	});

	test('ALL_PROXY alone is used too', async () => {
		resetAll();
		const { first, log } = await execute('every', { ALL_PROXY: proxy.url });
		assert.equal(first('V1 Reboot')?.id, sales.id, log);
		assert.equal(first('HTTP Request')?.id, sales.id, log);
		assert.ok(proxy.requests.length > 0);
	});

	for (const [what, noProxy] of [
		['the host', TLS_HOST],
		['the domain', '.test'],
		['the host and its port', `${TLS_HOST}:${0}`],
		['*', '*'],
	]) {
		test(`NO_PROXY naming ${what}: neither node uses the proxy (the host resolves nowhere else)`, async () => {
			resetAll();
			const list = noProxy.replace(':0', `:${tlsSim.port}`);
			const { first, log } = await execute('every', {
				HTTPS_PROXY: proxy.url,
				HTTP_PROXY: proxy.url,
				NO_PROXY: list,
			});
			const v1 = first('V1 Reboot');
			assert.match(
				v1?.error ?? '',
				new RegExp(
					`^Could not reach the SparkBot API at ${TLS_HOST}:${tlsSim.port}: (host name not found|DNS lookup failed)`,
				),
				log,
			);
			assert.ok(first('HTTP Request')?.error, 'HTTP Request failed the same way');
			assert.ok(
				!proxy.requests.some((r) => r.target.includes(`${TLS_HOST}:${tlsSim.port}`)),
				JSON.stringify(proxy.requests),
			);
			assert.equal(tlsSim.requests.length, 0);
		});
	}

	test('a proxy that asks for credentials the URL lacks: the error names the proxy (407), not SparkBot', async () => {
		resetAll();
		const { first, log } = await execute('every', { HTTPS_PROXY: proxy.bareUrl });
		const v1 = first('V1 Reboot');
		assert.equal(
			v1?.error,
			`The proxy between n8n and SparkBot refused the request to ${TLS_HOST}:${tlsSim.port}: 407 Proxy Authentication Required`,
			log,
		);
		assert.equal(v1.httpCode, 407);
		assert.match(v1.description, /Basic realm="sparkbot-test-proxy"/);
		assert.equal(tlsSim.requests.length, 0);
	});

	test('without the internal CA (no NODE_EXTRA_CA_CERTS): not trusted, and what to set', async () => {
		resetAll();
		const { first, log } = await execute('every', {
			HTTPS_PROXY: proxy.url,
			NODE_EXTRA_CA_CERTS: '',
		});
		const v1 = first('V1 Reboot');
		assert.equal(
			v1?.error,
			`Could not reach the SparkBot API at ${TLS_HOST}:${tlsSim.port}: its TLS certificate is not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE)`,
			log,
		);
		assert.match(v1.description, /NODE_EXTRA_CA_CERTS/);
		assert.equal(tlsSim.requests.length, 0);
	});

	test("a credential restricted to other domains: the SparkBot nodes are refused in n8n's words, as n8n 2's HTTP Request node is", async (t) => {
		resetAll();
		const { first, log } = await execute('restricted', { HTTPS_PROXY: proxy.url });
		const refusal = `Domain not allowed: This credential is restricted from accessing ${TLS_HOST}:${tlsSim.port}. Only the following domains are allowed: api.sparkbot.io`;
		assert.equal(first('V1 Reboot')?.error, refusal, log);
		assert.equal(first('V2 Get Many')?.error, refusal, log);
		const http = JSON.stringify(first('HTTP Request'));
		if (N8N_VERSION.startsWith('1.')) {
			// n8n 1.x's HTTP Request node checks the list only on redirects (its request helper
			// ignores allowedDomains for the first request): the node is stricter than n8n there.
			t.diagnostic(
				`n8n ${N8N_VERSION}'s HTTP Request node with this credential: ${http.slice(0, 120)}`,
			);
			assert.deepEqual(
				tlsSim.requests.map((r) => `${r.method} ${r.path} ${JSON.stringify(r.query)}`),
				['GET /v1/devices {"page":"0","size":"1"}'],
				'only the HTTP Request node reached SparkBot',
			);
		} else {
			assert.match(http, /Domain not allowed/, log);
			assert.equal(proxy.requests.length, 0, 'nothing left n8n');
			assert.equal(tlsSim.requests.length, 0);
		}
	});

	test("n8n's SSRF protection (n8n 2): a SparkBot on a loopback address is blocked for the SparkBot node as for HTTP Request", async (t) => {
		if (N8N_VERSION.startsWith('1.')) {
			t.skip(`n8n ${N8N_VERSION} has no SSRF protection`);
			return;
		}
		resetAll();
		const { first, log } = await execute('loopback', { N8N_SSRF_PROTECTION_ENABLED: 'true' });
		const v1 = first('V1 Reboot');
		assert.equal(
			v1?.error,
			`Could not reach the SparkBot API at 127.0.0.1:${plainSim.port}: n8n's SSRF protection blocked the request (a restricted address)`,
			log,
		);
		assert.match(v1.description, /allowlist/);
		assert.equal(v1.attempts, 1, 'not retried');
		assert.match(JSON.stringify(first('HTTP Request')), /blocked/, log);
		assert.equal(plainSim.requests.length, 0, 'nothing reached SparkBot');
		// Without it, the same workflow reaches the SparkBot on this machine.
		const open = await execute('loopback', {});
		assert.equal(open.first('V1 Reboot')?.id, sales.id, open.log);
	});

	test('a credential whose domains list the host: both nodes work', async () => {
		resetAll();
		const { first, log } = await execute('allowed', { HTTPS_PROXY: proxy.url });
		assert.equal(first('V1 Reboot')?.id, sales.id, log);
		assert.equal(first('HTTP Request')?.id, sales.id, log);
	});
});

describe(`n8n ${N8N_VERSION} behind a proxy (n8n start)`, () => {
	let n8n;
	let cookie;

	before(async () => {
		n8n = await instance.startN8n({
			runtime,
			userFolder,
			env: { HTTPS_PROXY: proxy.url, NODE_EXTRA_CA_CERTS: ca.caFile },
		});
		({ cookie } = await instance.setupOwner(n8n.url));
	});
	after(async () => {
		await n8n?.stop();
	});

	test('the credential Test goes through the proxy', async () => {
		resetAll();
		const { tls } = credentials;
		const result = await instance.restRequest(n8n.url, cookie, 'POST', '/rest/credentials/test', {
			credentials: { id: tls.id, name: tls.name, type: CREDENTIAL_TYPE, data: tls.data },
		});
		assert.equal(result.status, 'OK', JSON.stringify(result));
		assert.ok(proxy.requests.some((r) => r.method === 'CONNECT'));
		assert.deepEqual(
			tlsSim.requests.map((r) => [r.path, r.query]),
			[['/v1/devices', { page: '0', size: '1' }]],
		);
	});

	test('the credential Test of a restricted credential is refused before anything is sent', async () => {
		resetAll();
		const { restricted } = credentials;
		const result = await instance.restRequest(n8n.url, cookie, 'POST', '/rest/credentials/test', {
			credentials: {
				id: restricted.id,
				name: restricted.name,
				type: CREDENTIAL_TYPE,
				data: restricted.data,
			},
		});
		assert.equal(result.status, 'Error');
		assert.match(result.message, /^Domain not allowed: /);
		assert.equal(proxy.requests.length, 0);
	});

	test("version 2's WhatsApp Number list search goes through the proxy", async () => {
		resetAll();
		const found = await instance.resourceLocatorResults(n8n.url, cookie, {
			nodeType: NODE_TYPE,
			typeVersion: 2,
			methodName: 'getDevices',
			path: 'device',
			credentials: { [CREDENTIAL_TYPE]: ref(credentials.tls) },
			filter: 'sales',
		});
		assert.deepEqual(
			found.results.map((r) => r.value),
			[sales.id],
		);
		assert.ok(proxy.requests.length > 0);
	});

	test('an activated SparkBot Trigger polls through the proxy', async () => {
		resetAll();
		const { id } = workflows.trigger;
		await instance.activateWorkflow(n8n.url, cookie, id);
		// Activation polls once at once (the baseline): through the proxy, to the account's list.
		await waitUntil(
			'the baseline poll reached SparkBot',
			() => tlsSim.requests.some((r) => r.path === '/v1/devices'),
			{ timeoutMs: 20_000, proc: n8n },
		);
		assert.ok(proxy.requests.some((r) => r.method === 'CONNECT' && r.target.startsWith(TLS_HOST)));
		await instance.deactivateWorkflow(n8n.url, cookie, id);
	});
});
