// How the package's requests leave n8n: only through n8n's own request helpers (so n8n's
// proxy variables and egress policy apply; the proxies themselves are exercised in real n8n by
// tests/e2e/outbound.test.mjs), the credential's Allowed HTTP Request Domains enforced before
// anything is sent, a SparkBot behind an internal CA (NODE_EXTRA_CA_CERTS), what a proxy's own
// answers (407, a 502 page) and redirects become, and a module that imports nothing from n8n.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';

import { DEMO_DEVICES, startSimulator } from '../../support/simulator/sparkbot-simulator.mjs';
import { makeTestCa } from '../simulator/test-ca.mjs';
import {
	NodeApiError,
	NodeOperationError,
	assertNoSecret,
	credentialTestContext,
	dist,
	helperCalls,
	loadOptionsContext,
	params,
	pollContext,
	root,
	suite,
	TRIGGER_PATH,
	loadClass,
} from './harness.mjs';

const SECRET = 'sk-outbound-7c1e-DO-NOT-LEAK-55aa';
const pkg = suite({ apiKey: SECRET, resetEach: true });
const { run, thrownBy, produced } = pkg;
const online = DEMO_DEVICES.find(
	(d) => d.session?.status === 'online' && !d.forbidden && d.status === 'operative',
);

/** The credential with Allowed HTTP Request Domains set. */
function restricted(mode, allowedDomains, baseUrl = pkg.sim.baseUrl) {
	return { apiKey: SECRET, baseUrl, allowedHttpRequestDomains: mode, allowedDomains };
}

describe('every request goes through n8n’s request helper', () => {
	test('node, list search, dropdown, trigger and credential Test: one helper call per request the simulator saw', async () => {
		const calls = helperCalls.length;
		await run([params('reboot', online.id), params('reset', online.id, { waitForSession: true })]);
		const context = loadOptionsContext({ credentials: pkg.credentials });
		await pkg.node.methods.listSearch.getDevices.call(context, 'sales');
		await pkg.node.methods.loadOptions.getDevices.call(context);
		const trigger = loadClass(TRIGGER_PATH);
		await trigger.poll.call(
			pollContext({ credentials: pkg.credentials, staticData: {}, mode: 'manual' }),
		);
		const tested = await pkg.node.methods.credentialTest.sparkBotApiTest.call(
			credentialTestContext(),
			{ id: 'c', name: 'SparkBot', type: 'sparkBotApi', data: pkg.credentials },
		);
		assert.equal(tested.status, 'OK', tested.message);
		const made = helperCalls.slice(calls);
		const seen = pkg.sim.requests.filter((r) => !r.path.startsWith('/__sim'));
		assert.equal(made.length, seen.length, 'every request the simulator saw came through a helper');
		assert.deepEqual(
			made.map((c) => c.helper),
			[...made.slice(0, -1).map(() => 'httpRequest'), 'request'],
			'the credential Test uses the legacy request, the only helper n8n gives it',
		);
	});

	test('the wasm module imports nothing but its own glue; shared.js requires only n8n-workflow, for the error classes', () => {
		const core = readFileSync(join(dist, 'dist/nodes/SparkBot/shared.js'), 'utf8');
		const base64 = /"([A-Za-z0-9+/=]{50000,})"/.exec(core)?.[1];
		assert.ok(base64, 'the module is embedded in shared.js');
		const imports = WebAssembly.Module.imports(
			new WebAssembly.Module(Buffer.from(base64, 'base64')),
		);
		assert.ok(imports.length > 0);
		assert.deepEqual([...new Set(imports.map((i) => i.module))], ['./sparkbot_node_bg.js']);
		assert.deepEqual(
			[...core.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]),
			['n8n-workflow'],
		);
		const imported =
			/(?:var|const) \{([^}]*)\} = require\("n8n-workflow"\)|require\("n8n-workflow"\)/.exec(core);
		assert.ok(imported);
	});
});

describe("the credential's Allowed HTTP Request Domains, before anything is sent", () => {
	test('Specific Domains that list the host (a wildcard too): requests go out', async () => {
		for (const list of ['127.0.0.1', ' example.com , 127.0.0.1. ', '*.nowhere.test, 127.0.0.1']) {
			const [[out]] = await run([params('reboot', online.id)], {
				creds: restricted('domains', list),
			});
			assert.equal(out.json.id, online.id, list);
		}
		const [[out]] = await run([params('reboot', online.id)], {
			creds: restricted('all', 'x.test'),
		});
		assert.equal(out.json.id, online.id);
	});

	test("a host that is not listed: n8n's refusal, for every item, and nothing sent", async () => {
		const creds = restricted('domains', 'api.sparkbot.io, *.sparkbot.io');
		const error = await thrownBy([params('reboot', online.id), params('reset', online.id)], {
			creds,
		});
		assert.ok(error instanceof NodeOperationError, error.constructor.name);
		assert.equal(
			error.message,
			`Domain not allowed: This credential is restricted from accessing ${pkg.sim.baseUrl.split('/')[2]}. Only the following domains are allowed: api.sparkbot.io, *.sparkbot.io`,
		);
		assert.match(error.description, /Add that host to Allowed Domains/);
		const [out] = await run([params('reboot', online.id), params('reboot', online.id)], {
			creds,
			continueOnFail: true,
		});
		assert.deepEqual(
			out.map((o) => [o.json.code, o.pairedItem.item]),
			[
				['SPARKBOT_DOMAIN_NOT_ALLOWED', 0],
				['SPARKBOT_DOMAIN_NOT_ALLOWED', 1],
			],
		);
		assert.equal(pkg.sim.requests.length, 0, 'nothing reached SparkBot');
	});

	test('None, and Specific Domains with an empty list: refused in n8n’s words', async () => {
		let error = await thrownBy([params('reboot', online.id)], { creds: restricted('none', '') });
		assert.equal(
			error.message,
			'This credential is configured to prevent use within a SparkBot node',
		);
		error = await thrownBy([params('reboot', online.id)], { creds: restricted('domains', ' ') });
		assert.equal(
			error.message,
			'No allowed domains specified. Configure allowed domains or change restriction setting.',
		);
		assert.equal(pkg.sim.requests.length, 0);
	});

	test('the list search, the dropdown, the trigger and the credential Test refuse the same way', async () => {
		const creds = restricted('domains', 'api.sparkbot.io');
		const context = loadOptionsContext({ credentials: creds });
		await assert.rejects(
			pkg.node.methods.listSearch.getDevices.call(context),
			/^NodeOperationError: Domain not allowed/,
		);
		await assert.rejects(
			pkg.node.methods.loadOptions.getDevices.call(context),
			/Domain not allowed/,
		);
		await assert.rejects(
			loadClass(TRIGGER_PATH).poll.call(pollContext({ credentials: creds, staticData: {} })),
			/Domain not allowed/,
		);
		const tested = await pkg.node.methods.credentialTest.sparkBotApiTest.call(
			credentialTestContext(),
			{ id: 'c', name: 'SparkBot', type: 'sparkBotApi', data: creds },
		);
		assert.equal(tested.status, 'Error');
		assert.match(
			tested.message,
			/^Domain not allowed: This credential is restricted from accessing/,
		);
		assert.equal(pkg.sim.requests.length, 0);
	});
});

describe('a SparkBot behind an internal CA', () => {
	let ca;
	let tlsSim;
	before(async () => {
		ca = makeTestCa({ names: ['localhost'], ips: ['127.0.0.1'] });
		tlsSim = await startSimulator({
			apiKey: SECRET,
			tls: { key: ca.serverKey, cert: ca.serverCert },
			publicHost: 'localhost',
		});
	});
	after(async () => {
		await tlsSim?.close();
		ca?.remove();
	});

	test('not trusted: the error says so and what to set, and no retry is made', async () => {
		const error = await thrownBy([params('reboot', online.id)], {
			creds: { apiKey: SECRET, baseUrl: tlsSim.baseUrl },
		});
		assert.ok(error instanceof NodeApiError);
		assert.equal(
			error.message,
			`Could not reach the SparkBot API at localhost:${tlsSim.port}: its TLS certificate is not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE)`,
		);
		assert.match(error.description, /set NODE_EXTRA_CA_CERTS to the path of its PEM file/);
		assert.match(error.description, / 1 request made\.$/);
		assert.equal(tlsSim.requests.length, 0, 'nothing reached SparkBot');
	});

	test('with the CA given to Node by NODE_EXTRA_CA_CERTS (read at start-up: a process of its own), it works', async () => {
		const script = `
			const { SparkBot } = require(${JSON.stringify(join(dist, 'dist/nodes/SparkBot/SparkBot.node.js'))});
			import(${JSON.stringify(pathToFileURL(join(root, 'support/n8n-helpers.mjs')).href)}).then(({ httpRequest }) =>
				new SparkBot().execute.call({
					getInputData: () => [{ json: {} }],
					getNodeParameter: (name) => ({ resource: 'whatsappSession', operation: 'reboot', device: ${JSON.stringify(online.id)}, options: {} })[name],
					getCredentials: async () => (${JSON.stringify({ apiKey: SECRET, baseUrl: tlsSim.baseUrl })}),
					getNode: () => ({ name: 'SparkBot', type: 'sparkBot', typeVersion: 1, parameters: {} }),
					continueOnFail: () => false,
					helpers: { httpRequest },
				}),
			).then((out) => process.stdout.write(JSON.stringify(out[0][0].json)), (e) => process.stdout.write('ERROR ' + e.message));
		`;
		const child = spawn(process.execPath, ['-e', script], {
			env: {
				...process.env,
				NODE_EXTRA_CA_CERTS: ca.caFile,
				NODE_PATH: join(root, 'node_modules'),
			},
			stdio: ['ignore', 'pipe', 'inherit'],
		});
		let stdout = '';
		child.stdout.on('data', (chunk) => (stdout += chunk));
		await new Promise((resolve) => child.on('exit', resolve));
		assert.equal(JSON.parse(stdout).id, online.id, stdout);
		assert.equal(tlsSim.requests.filter((r) => r.method === 'POST').length, 1);
	});
});

describe('answers that are not SparkBot’s', () => {
	let server;
	let answer;
	let baseUrl;
	before(async () => {
		server = createServer((req, res) => {
			req.resume();
			req.on('end', () => answer(res));
		});
		await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
		baseUrl = `http://127.0.0.1:${server.address().port}/v1`;
	});
	after(() => new Promise((resolve) => server.close(resolve)));

	const fail = (continueOnFail = false) =>
		thrownBy([params('reboot', online.id)], {
			creds: { apiKey: SECRET, baseUrl },
			continueOnFail,
		});

	test('407 from a proxy: the proxy asks for credentials, not SparkBot', async () => {
		answer = (res) =>
			res
				.writeHead(407, {
					'Proxy-Authenticate': 'Basic realm="corp-proxy"',
					'Content-Type': 'text/html',
				})
				.end('<html><title>407</title></html>');
		const error = await fail();
		assert.ok(error instanceof NodeApiError);
		assert.equal(
			error.message,
			`The proxy between n8n and SparkBot refused the request to 127.0.0.1:${server.address().port}: 407 Proxy Authentication Required`,
		);
		assert.equal(error.httpCode, '407');
		assert.match(error.description, /asks for credentials \(Basic realm="corp-proxy"\)/);
		assert.match(error.description, /HTTPS_PROXY=http:\/\/user:password@proxy\.example:3128/);
		assert.match(error.description, /Nothing reached SparkBot/);
	});

	test('a 502 page a proxy made (Via, no SparkBot error): the proxy could not pass it on', async () => {
		answer = (res) =>
			res
				.writeHead(502, { Via: '1.1 corp-proxy (squid/6.10)', 'Content-Type': 'text/html' })
				.end('<html><title>ERROR: The requested URL could not be retrieved</title></html>');
		const error = await fail();
		assert.equal(
			error.message,
			`The proxy between n8n and SparkBot (1.1 corp-proxy (squid/6.10)) could not pass the request on to 127.0.0.1:${server.address().port}: it answered 502`,
		);
		assert.equal(error.httpCode, '502');
		assert.match(error.description, /may still carry out the reboot/);
	});

	test('SparkBot’s own 503 through a proxy is still SparkBot’s', async () => {
		answer = (res) =>
			res
				.writeHead(503, { Via: '1.1 corp-proxy', 'Content-Type': 'application/json' })
				.end(
					JSON.stringify({ status: 503, error: 'unavailable', message: 'Down for maintenance' }),
				);
		const error = await fail();
		assert.match(error.message, /^The SparkBot API answered 503: Down for maintenance/);
	});

	test('a redirect is not followed (it would carry the API key away), and says where it points', async () => {
		let requests = 0;
		answer = (res) => {
			requests += 1;
			res.writeHead(301, { Location: 'https://elsewhere.example/v1/devices' }).end();
		};
		const error = await fail();
		assert.equal(requests, 1, 'one request, no redirect followed');
		assert.match(
			error.message,
			/^The SparkBot API answered 301: a redirect to https:\/\/elsewhere\.example\/v1\/devices, which the node does not follow/,
		);
	});
});

test('the API key appears in no output or error of this suite', () => {
	assertNoSecret(produced, SECRET);
});
