// What a run reports, as a user sees it: without continue-on-fail the run fails with the first
// failed item in input order, wherever it is, and sends nothing after it; the credential's Test
// applies the node's own rules; a wrong Base URL, a long rate-limit pause, the same number twice
// and a bare Node process each end as the README says.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { createServer } from 'node:http';
import { hostname, networkInterfaces } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, test } from 'node:test';

import { DEMO_DEVICES, generatedDevice } from '../../support/simulator/sparkbot-simulator.mjs';
import {
	NodeApiError,
	NodeOperationError,
	assertNoSecret,
	dist,
	credentialTestContext,
	loadOptionsContext,
	params,
	suite,
} from './harness.mjs';

const SECRET = 'sk-live-0utc0mes-DO-NOT-LEAK-5e1a';

const pkg = suite({ apiKey: SECRET, devices: 40, resetEach: true });
const { run, thrownBy, produced } = pkg;

const forbidden = DEMO_DEVICES.find((d) => d.forbidden);
const UNKNOWN = 'ffffffffffffffffffffffff';
const numbers = Array.from({ length: 12 }, (_, i) => generatedDevice(i + 1).id);
const posts = () => pkg.sim.requests.filter((r) => r.method === 'POST');

/** A server that records every connection and answers nothing useful. */
async function listener(host) {
	const connections = [];
	const server = createServer((req, res) => {
		res.writeHead(200, { 'content-type': 'application/json' });
		res.end('[]');
	});
	server.on('connection', (socket) => connections.push(socket.remoteAddress));
	await new Promise((resolve) => server.listen(0, host, resolve));
	return {
		connections,
		port: server.address().port,
		close: () => new Promise((resolve) => server.close(resolve)),
	};
}

describe('without continue-on-fail: the first failed item in input order, wherever it is', () => {
	const failures = {
		'an upper-case ID': {
			item: () => params('reboot', '6523A1F0C2D4E5F60718293A'),
			type: NodeOperationError,
			message: /^WhatsApp Number: "6523A1F0C2D4E5F60718293A" is not a device ID/,
			validation: true,
		},
		'an empty WhatsApp Number': {
			item: () => params('reboot', ''),
			type: NodeOperationError,
			message: /^WhatsApp Number: is empty/,
			validation: true,
		},
		'an expression that fails': {
			item: () => new Error('ReferenceError: deviceId is not defined'),
			type: NodeOperationError,
			message: /deviceId is not defined/,
			validation: true,
		},
		'an unknown number (404)': {
			item: () => params('reboot', UNKNOWN),
			type: NodeApiError,
			message: new RegExp(`^Device ${UNKNOWN} not found`),
		},
		'a forbidden number (403)': {
			item: () => params('reboot', forbidden.id),
			type: NodeApiError,
			message: /may not manage the WhatsApp number/,
		},
	};
	for (const [name, failure] of Object.entries(failures)) {
		for (const position of [0, 2, 4]) {
			for (const concurrency of [1, 4]) {
				test(`${name} as item ${position + 1} of 5, Concurrency ${concurrency}`, async () => {
					const items = numbers.slice(0, 5).map((id) => params('reboot', id, { concurrency }));
					items[position] = failure.item();
					if (!(items[position] instanceof Error)) items[position].options = { concurrency };
					// The others take 150 ms, the failing one answers at once: when its answer is
					// known, every item started so far is still in flight.
					for (const id of numbers.slice(0, 5))
						pkg.sim.setFault({ route: 'reboot', deviceId: id, fault: 'delay', delayMs: 150 });
					const error = await thrownBy(items);
					assert.ok(error instanceof failure.type, `${error.constructor.name}: ${error.message}`);
					assert.match(error.message, failure.message);
					assert.equal(error.context.itemIndex, position, 'the error names its item');
					const sent = posts();
					if (failure.validation) {
						assert.equal(sent.length, 0, 'validated before anything was sent');
						return;
					}
					const failedAt = sent.find((r) => r.path.includes(items[position].device));
					assert.ok(failedAt, 'the failing item was sent');
					// Workers take items in input order: the first `concurrency` at once, the next
					// ones as earlier ones finish — and none once an item failed.
					const expected =
						concurrency === 1 || position >= concurrency ? position + 1 : Math.min(concurrency, 5);
					assert.equal(sent.length, expected, `sent: ${sent.map((r) => r.path).join(', ')}`);
					// (The simulator notes a request when it has read it, a few ms after the node sent it;
					// a request sent after the failure would come 150 ms later, when a worker is free.)
					for (const request of sent)
						assert.ok(
							request.at <= failedAt.answeredAt + 50,
							`nothing was sent after the failure was known (${request.path})`,
						);
				});
			}
		}
	}

	test('an invalid item after one that SparkBot would refuse: nothing is sent, and the invalid one is reported', async () => {
		const items = [
			params('reboot', numbers[0]),
			params('reboot', UNKNOWN),
			params('reboot', numbers[1]),
			params('reboot', 'nope'),
		];
		const error = await thrownBy(items);
		assert.ok(error instanceof NodeOperationError);
		assert.equal(error.context.itemIndex, 3);
		assert.equal(posts().length, 0);
	});

	test('every item good: every item answered, in order', async () => {
		const [out] = await run(
			numbers.slice(0, 5).map((id) => params('reboot', id, { concurrency: 3 })),
		);
		assert.deepEqual(
			out.map((o) => o.json.id),
			numbers.slice(0, 5),
		);
		out.forEach((o, i) => assert.deepEqual(o.pairedItem, { item: i }));
	});
});

describe("the credential's Test runs the node's own rules in the core", () => {
	const test_ = (data) =>
		pkg.node.methods.credentialTest.sparkBotApiTest.call(credentialTestContext(), {
			id: 'c1',
			name: 'SparkBot',
			type: 'sparkBotApi',
			data,
		});
	const nodeError = async (creds) =>
		(await thrownBy([params('reboot', numbers[0])], { creds })).message;

	test('the right key: OK, with the size of the account', async () => {
		const result = await test_({ apiKey: SECRET, baseUrl: pkg.sim.baseUrl });
		assert.deepEqual(result, {
			status: 'OK',
			message: `Connection successful: the API key works (${DEMO_DEVICES.length + 40} WhatsApp numbers in the account)`,
		});
		assert.deepEqual(
			pkg.sim.requests.map((r) => [r.method, r.path, r.query]),
			[['GET', '/v1/devices', { page: '0', size: '1' }]],
		);
	});

	test('a wrong key: the same message as the node', async () => {
		const creds = { apiKey: 'not-the-key', baseUrl: pkg.sim.baseUrl };
		const result = await test_(creds);
		assert.equal(result.status, 'Error');
		assert.equal(result.message, await nodeError(creds));
		assert.match(result.message, /^Authentication failed/);
	});

	test('plain http:// to a host name that resolves to this machine: refused before anything is sent', async () => {
		const name = hostname();
		const resolvesHere = await lookup(name).then(
			() => true,
			() => false,
		);
		const host = resolvesHere
			? name
			: Object.values(networkInterfaces())
					.flat()
					.find((a) => a?.family === 'IPv4' && !a.internal)?.address;
		assert.ok(host, 'a name or address of this machine that is not loopback by name');
		const server = await listener('0.0.0.0');
		try {
			const creds = {
				apiKey: SECRET,
				baseUrl: `http://${host}:${server.port}/v1`,
				allowInsecureHttp: false,
			};
			const result = await test_(creds);
			assert.equal(result.status, 'Error');
			assert.match(result.message, /would send the API key unencrypted/);
			assert.equal(result.message, await nodeError(creds));
			assert.deepEqual(server.connections, [], 'nothing arrived');
			const allowed = await test_({ ...creds, allowInsecureHttp: true });
			assert.equal(allowed.status, 'OK', allowed.message);
			assert.equal(server.connections.length, 1, 'with Allow Insecure HTTP the request goes out');
		} finally {
			await server.close();
		}
	});

	for (const [name, creds, expected] of [
		[
			'a key with a line break inside',
			{ apiKey: `${SECRET.slice(0, 8)}\n${SECRET.slice(8)}`, baseUrl: 'SIM' },
			/API Key: contains characters that cannot be sent in a header/,
		],
		[
			'a port that is not one',
			{ apiKey: SECRET, baseUrl: 'http://127.0.0.1:99999/v1' },
			/Base URL: "99999" is not a port/,
		],
		['an empty key', { apiKey: ' ', baseUrl: 'SIM' }, /API Key: is empty/],
	]) {
		test(`${name}: the node's message, nothing sent`, async () => {
			const data = { ...creds, baseUrl: creds.baseUrl === 'SIM' ? pkg.sim.baseUrl : creds.baseUrl };
			const result = await test_(data);
			assert.equal(result.status, 'Error');
			assert.match(result.message, expected);
			assert.equal(result.message, await nodeError(data));
			assert.equal(pkg.sim.requests.length, 0);
		});
	}

	test('a Base URL with spaces around it works in both', async () => {
		const creds = { apiKey: SECRET, baseUrl: `  ${pkg.sim.baseUrl}/  ` };
		assert.equal((await test_(creds)).status, 'OK');
		const [[out]] = await run([params('reboot', numbers[0])], { creds });
		assert.equal(out.json.id, numbers[0]);
	});
});

describe('a wrong Base URL is not "device not found"', () => {
	for (const [name, path] of [
		['without /v1', ''],
		['ending in /v1/devices', '/v1/devices'],
		['with /api/v1', '/api/v1'],
	]) {
		test(`${name}: the message points at the Base URL, in the node and the dropdown`, async () => {
			const creds = { apiKey: SECRET, baseUrl: `${pkg.sim.origin}${path}` };
			const error = await thrownBy([params('reboot', numbers[0])], { creds });
			assert.ok(error instanceof NodeApiError);
			assert.equal(error.httpCode, '404');
			assert.match(
				error.message,
				/^The SparkBot API answered 404 at this address: .*; check the Base URL of the credential$/,
			);
			assert.doesNotMatch(error.message, /not found in this SparkBot account/);
			assert.match(
				error.description,
				/ending with the version, e\.g\. https:\/\/api\.sparkbot\.io\/v1/,
			);
			await assert.rejects(
				pkg.node.methods.loadOptions.getDevices.call(loadOptionsContext({ credentials: creds })),
				/check the Base URL/,
			);
		});
	}

	test("a proxy's HTML 404 page too", async () => {
		const proxy = createServer((req, res) => {
			res.writeHead(404, { 'content-type': 'text/html' });
			res.end('<html><head><title>404 Not Found</title></head><body>nginx</body></html>');
		});
		await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
		try {
			const error = await thrownBy([params('reboot', numbers[0])], {
				creds: { apiKey: SECRET, baseUrl: `http://127.0.0.1:${proxy.address().port}/v1` },
			});
			assert.match(
				error.message,
				/404 at this address: 404 Not Found \(an HTML error page, probably from a proxy\); check the Base URL/,
			);
		} finally {
			proxy.close();
		}
	});
});

describe('a 429 pause longer than the Timeout', () => {
	test('holds every request: items that cannot wait within their Timeout fail unsent, saying why', async () => {
		pkg.sim.setFault({ route: 'reboot', deviceId: numbers[0], fault: 'rateLimit', retryAfter: 60 });
		const items = numbers
			.slice(0, 12)
			.map((id) => params('reboot', id, { concurrency: 1, timeout: 30 }));
		const started = performance.now();
		const [out] = await run(items, { continueOnFail: true });
		const elapsed = performance.now() - started;
		assert.ok(
			elapsed < 5_000,
			`nobody waited 60 s, nobody went ahead either (${elapsed.toFixed(0)} ms)`,
		);
		assert.equal(posts().length, 1, 'only the rate-limited request was sent');
		assert.equal(out[0].json.httpCode, 429);
		assert.match(
			out[0].json.error,
			/\(no retry: Retry-After 60 s is longer than the Timeout of 30 s allows\)$/,
		);
		for (const item of out.slice(1)) {
			assert.equal(item.json.code, 'SPARKBOT_RATE_LIMITED');
			assert.equal(item.json.httpCode, 429);
			assert.equal(item.json.attempts, 0);
			assert.match(
				item.json.error,
				/not sent, because SparkBot asked every request to wait 60 s \(Retry-After\), longer than the Timeout of 30 s allows/,
			);
		}
	});

	test('at Concurrency 5: the first five went out together, nothing after the 429', async () => {
		for (const id of numbers.slice(0, 5))
			pkg.sim.setFault({ route: 'reboot', deviceId: id, fault: 'rateLimit', retryAfter: 60 });
		const items = numbers.map((id) => params('reboot', id, { concurrency: 5, retry: false }));
		const [out] = await run(items, { continueOnFail: true });
		assert.equal(posts().length, 5, 'no request left after the 429s');
		assert.ok(out.slice(5).every((o) => o.json.attempts === 0 && o.json.httpCode === 429));
	});
});

describe('the same number twice in one run', () => {
	for (const concurrency of [1, 5]) {
		test(`Concurrency ${concurrency}: its items never overlap, in input order, both succeed with Wait For Session`, async () => {
			pkg.sim.setDeviceReadyMs(numbers[0], 150);
			const items = [numbers[0], numbers[1], numbers[0], numbers[2], numbers[0]].map((id) =>
				params('reboot', id, { waitForSession: true, concurrency }),
			);
			const [out] = await run(items, { continueOnFail: true });
			assert.deepEqual(
				out.map((o) => o.json.status),
				['online', 'online', 'online', 'online', 'online'],
				JSON.stringify(out.map((o) => o.json.error)),
			);
			const same = posts().filter((r) => r.path.includes(numbers[0]));
			assert.equal(same.length, 3);
			for (let i = 1; i < same.length; i++)
				assert.ok(
					same[i].at >= same[i - 1].answeredAt,
					'the next started after the previous answer',
				);
		});
	}
});

test('a timeout under a second says so: "after 0.5 s"', async () => {
	pkg.sim.setFault({ route: 'reboot', fault: 'hang' });
	const error = await thrownBy([params('reboot', numbers[0], { timeout: 0.5 })]);
	assert.equal(error.message, 'Timed out: no answer from SparkBot after 0.5 s');
	assert.match(error.description, /may still carry out the reboot/);
	assert.doesNotMatch(error.description, /Wait For Session/);
});

test('in a bare Node process a retry pause keeps the process alive until the item is done', async () => {
	pkg.sim.setFault({
		route: 'reboot',
		deviceId: numbers[0],
		fault: 'rateLimit',
		retryAfter: 1,
		times: 1,
	});
	const script = `
		const { SparkBot } = require(${JSON.stringify(`${dist}/dist/nodes/SparkBot/SparkBot.node.js`)});
		const node = new SparkBot();
		let httpRequest;
		const item = { resource: 'whatsappSession', operation: 'reboot', device: ${JSON.stringify(numbers[0])}, options: {} };
		const context = {
			getInputData: () => [{ json: {} }],
			getNodeParameter: (name) => item[name],
			getCredentials: async () => (${JSON.stringify({ apiKey: SECRET, baseUrl: pkg.sim.baseUrl })}),
			getNode: () => ({ name: 'SparkBot', type: 'sparkBot', typeVersion: 1, parameters: {} }),
			continueOnFail: () => false,
			helpers: { httpRequest: (options) => httpRequest(options) },
		};
		import(${JSON.stringify(pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'support', 'n8n-helpers.mjs')).href)})
			.then((helpers) => { httpRequest = helpers.httpRequest; return node.execute.call(context); }).then((out) => process.stdout.write(JSON.stringify(out[0][0].json)), (e) => process.stdout.write('ERROR ' + e.message));
		process.on('exit', () => process.stdout.write('\\nEXIT'));
	`;
	const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
	let stdout = '';
	child.stdout.on('data', (chunk) => (stdout += chunk));
	await new Promise((resolve) => child.on('exit', resolve));
	const [result] = stdout.split('\n');
	assert.equal(JSON.parse(result).id, numbers[0], `the process finished the item: ${stdout}`);
	assert.equal(posts().length, 2, 'the retry was sent after the pause');
});

test('the API key appears in no output or error of this suite', () => {
	assertNoSecret(produced, SECRET);
});
