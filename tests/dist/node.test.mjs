// Tests of the built package in dist/, loaded as n8n loads it and run against the project's
// SparkBot simulator. Run `npm run build` first (npm test does).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';

import { sleep } from '../../scripts/lib/wait.mjs';
import { DEMO_DEVICES, generatedDevice } from '../../support/simulator/sparkbot-simulator.mjs';
import {
	CREDENTIAL_PATH,
	NODE_PATH,
	TRIGGER_PATH,
	NodeApiError,
	NodeOperationError,
	assertNoSecret,
	dist,
	executeContext,
	loadClass,
	loadOptionsContext,
	packageJson,
	params,
	root,
	suite,
	workflow,
} from './harness.mjs';
import { WEBHOOK_TRIGGER_PATH } from './webhook-harness.mjs';

const SECRET = 'sk-live-3f9a2c7e-DO-NOT-LEAK-81b4';

const pkg = suite({
	apiKey: SECRET,
	devices: 230,
	credentials: (sim) => ({ apiKey: SECRET, baseUrl: `${sim.baseUrl}/` }),
	resetEach: true,
});
/** Every item output and thrown error of the suite, scanned for the key at the end. */
const { run, thrownBy, produced } = pkg;

const online = DEMO_DEVICES.find(
	(d) => d.session?.status === 'online' && !d.forbidden && d.status === 'operative',
);
const stopped = DEMO_DEVICES.find((d) => d.session?.status === 'offline' && !d.forbidden);
const forbidden = DEMO_DEVICES.find((d) => d.forbidden);
const UNKNOWN_ID = 'ffffffffffffffffffffffff';

/** Runs one item that must fail and returns the error n8n would show. */
function failure(item, options) {
	return thrownBy([item], options);
}

function posts() {
	return pkg.sim.requests.filter((r) => r.method === 'POST');
}

before(() => {
	assert.ok(
		online && stopped && forbidden,
		'the simulator seed has an online, a stopped and a forbidden number',
	);
});

describe('package', () => {
	test('package.json lists the three nodes and the credential, and every listed file exists', () => {
		assert.equal(packageJson.name, 'n8n-nodes-sparkbot');
		assert.deepEqual(packageJson.n8n.nodes, [NODE_PATH, TRIGGER_PATH, WEBHOOK_TRIGGER_PATH]);
		assert.deepEqual(packageJson.n8n.credentials, [CREDENTIAL_PATH]);
		assert.ok(packageJson.keywords.includes('n8n-community-node-package'));
		assert.equal(packageJson.dependencies, undefined, 'no runtime dependencies');
		assert.ok(packageJson.peerDependencies['n8n-workflow']);
		for (const file of [
			NODE_PATH,
			TRIGGER_PATH,
			CREDENTIAL_PATH,
			'dist/nodes/SparkBot/shared.js',
			'dist/nodes/SparkBot/sparkbot.svg',
			'dist/nodes/SparkBot/sparkbot.dark.svg',
			'dist/nodes/SparkBot/SparkBot.node.json',
			'dist/nodes/SparkBotTrigger/SparkBotTrigger.node.json',
			WEBHOOK_TRIGGER_PATH,
			'dist/nodes/SparkBotWebhookTrigger/SparkBotWebhookTrigger.node.json',
		]) {
			assert.ok(existsSync(join(dist, file)), file);
		}
	});

	test('the canvas subtitle names the operation, or what a Reset deletes, in 30 characters at most (the canvas cuts longer ones)', () => {
		// n8n evaluates it as a JavaScript expression with $parameter the node's parameters.
		const expression = pkg.node.description.subtitle.replace(/^=\{\{/, '').replace(/\}\}$/, '');
		const subtitle = new Function('$parameter', `return (${expression});`);
		for (const [operation, options, expected] of [
			['reboot', { forceReboot: true }, 'Reboot Session'],
			['reset', {}, 'Reset Session'],
			['reset', undefined, 'Reset Session'],
			['reset', { deleteAllData: true }, 'Reset · deletes data'],
			['reset', { emptyQueue: true, waitForSession: true }, 'Reset · deletes queue'],
			['reset', { deleteAllData: true, emptyQueue: true }, 'Reset · deletes data & queue'],
			['reset', { deleteAllData: false, emptyQueue: false }, 'Reset Session'],
			['get', {}, 'Get Number'],
			['getAll', {}, 'Get Many Numbers'],
		]) {
			const text = subtitle({ operation, options });
			assert.equal(text, expected);
			assert.ok(text.length <= 30, `${text}: ${text.length} characters`);
		}
	});

	test('the node description is the one generated from Rust', () => {
		const generated = JSON.parse(
			readFileSync(join(root, 'node-descriptor/SparkBot.description.json'), 'utf8'),
		);
		assert.deepEqual(pkg.node.description, generated);
		assert.equal(pkg.node.description.name, 'sparkBot');
		assert.equal(pkg.node.description.displayName, 'SparkBot');
		assert.equal(pkg.node.description.description, 'Interact with SparkBot WhatsApp API');
		const operation = pkg.node.description.properties.find((p) => p.name === 'operation');
		assert.deepEqual(
			operation.options.map((o) => [o.name, o.value]),
			[
				['Reboot Session', 'reboot'],
				['Reset Session', 'reset'],
			],
		);
		assert.equal(typeof pkg.node.methods.loadOptions.getDevices, 'function');
	});

	test('the shared core embeds the module, and no file reads the disk or the environment', () => {
		const core = readFileSync(join(dist, 'dist/nodes/SparkBot/shared.js'), 'utf8');
		assert.match(core, /wasmBase64 = "AGFzbQ/, 'the wasm module, embedded once');
		for (const node of [NODE_PATH, TRIGGER_PATH]) {
			const text = readFileSync(join(dist, node), 'utf8');
			assert.ok(!text.includes('AGFzbQ'), `${node} requires the core instead of a copy`);
		}
		const source = [NODE_PATH, TRIGGER_PATH, 'dist/nodes/SparkBot/shared.js']
			.map((file) => readFileSync(join(dist, file), 'utf8'))
			.join('\n');
		for (const forbiddenUse of [
			'readFileSync',
			'process.env',
			'require("fs")',
			"require('fs')",
			'__dirname',
		]) {
			assert.ok(!source.includes(forbiddenUse), `the node must not use ${forbiddenUse}`);
		}
	});

	test('the credential: API key as a password, base URL with a default, tested by the node', () => {
		const credential = loadClass(CREDENTIAL_PATH);
		const generated = JSON.parse(
			readFileSync(join(root, 'node-descriptor/SparkBotApi.credential.json'), 'utf8'),
		);
		assert.equal(credential.name, generated.name);
		assert.equal(credential.displayName, generated.displayName);
		assert.deepEqual(credential.properties, generated.properties, 'the fields generated from Rust');
		const [apiKey, baseUrl, insecure] = credential.properties;
		assert.equal(apiKey.name, 'apiKey');
		assert.equal(apiKey.typeOptions.password, true);
		assert.equal(baseUrl.name, 'baseUrl');
		assert.equal(baseUrl.default, 'https://api.sparkbot.io/v1');
		assert.equal(insecure.name, 'allowInsecureHttp');
		assert.equal(
			credential.test,
			undefined,
			"no declarative test: n8n would prefer it over the node's",
		);
		assert.deepEqual(pkg.node.description.credentials, [
			{ name: 'sparkBotApi', required: true, testedBy: 'sparkBotApiTest' },
		]);
		assert.equal(typeof pkg.node.methods.credentialTest.sparkBotApiTest, 'function');
		assert.match(credential.authenticate.properties.headers.Token, /\$credentials\.apiKey/);
	});
});

describe('operations', () => {
	test('Reboot Session passes the response through unchanged, paired with its item', async () => {
		const [[out]] = await run([params('reboot', online.id)]);
		assert.deepEqual(out.pairedItem, { item: 0 });
		assert.equal(out.json.id, online.id);
		assert.equal(out.json.operation, 'reboot');
		assert.equal(out.json.status, 'rebooting');
		assert.equal(out.json.waited, false);
		assert.equal(typeof out.json.session, 'object');
		// Unknown and nested fields of the simulator's answer arrive too.
		const known = new Set(['id', 'operation', 'status', 'waited', 'synced', 'session', 'message']);
		assert.ok(
			Object.keys(out.json).some((k) => !known.has(k)),
			'unknown fields are kept',
		);
	});

	test('Reset Session with Wait For Session waits for the session and reports it online', async () => {
		const [[out]] = await run([params('reset', online.id, { waitForSession: true })]);
		assert.equal(out.json.operation, 'reset');
		assert.equal(out.json.status, 'online');
		assert.equal(out.json.waited, true);
	});

	for (const [operation, mapping] of [
		['reboot', { forceReboot: 'force', forceSync: 'sync', waitForSession: 'wait' }],
		['reset', { deleteAllData: 'deleteAllData', emptyQueue: 'emptyQueue', waitForSession: 'wait' }],
	]) {
		test(`${operation}: every option combination maps onto the contract's body`, async () => {
			const names = Object.keys(mapping);
			const items = [];
			const expected = [];
			for (let bits = 0; bits < 8; bits++) {
				const options = {};
				const body = {};
				names.forEach((name, i) => {
					const on = Boolean(bits & (1 << i));
					if (on || bits % 2) options[name] = on; // absent and false must mean the same
					body[mapping[name]] = on;
				});
				items.push(
					params(operation, DEMO_DEVICES.filter((d) => !d.forbidden)[bits % 3].id, {
						...options,
						timeout: 0,
					}),
				);
				expected.push(body);
			}
			// Separate runs: the simulator answers 409 session_busy while a device is still busy.
			for (let i = 0; i < items.length; i++) {
				pkg.sim.reset();
				pkg.sim.clearRequests();
				await run([items[i]], { continueOnFail: true });
				const [request] = posts();
				assert.ok(request, `item ${i} was sent`);
				assert.equal(request.path, `/v1/devices/${items[i].device}/${operation}`);
				assert.deepEqual(request.body, expected[i], `body of combination ${i}`);
				assert.equal(request.headers['content-type'], 'application/json');
				assert.equal(request.headers.accept, 'application/json');
				assert.ok(!JSON.stringify(request).includes(SECRET), 'the simulator log holds no key');
			}
		});
	}

	test('several items run in order with their own parameters', async () => {
		const devices = DEMO_DEVICES.filter(
			(d) => !d.forbidden && d.session?.status !== 'offline',
		).slice(0, 3);
		const items = [
			params('reboot', devices[0].id),
			params('reset', devices[1].id, { emptyQueue: true }),
			params('reboot', devices[2].id, { forceSync: true }),
		];
		const [out] = await run(items);
		assert.equal(out.length, 3);
		out.forEach((o, i) => {
			assert.deepEqual(o.pairedItem, { item: i });
			assert.equal(o.json.id, items[i].device);
			assert.equal(o.json.operation, items[i].operation);
		});
		assert.deepEqual(
			posts().map((r) => r.path),
			items.map((item) => `/v1/devices/${item.device}/${item.operation}`),
		);
		assert.equal(out[2].json.synced, true);
	});
});

describe('errors', () => {
	const invalid = [
		['empty WhatsApp Number', params('reboot', ''), /^WhatsApp Number: is empty/],
		[
			'a number that is not a device ID',
			params('reboot', '12345'),
			/^WhatsApp Number: "12345" is not a device ID/,
		],
		[
			'a path in the device ID',
			params('reboot', '../../admin/aaaaaaaaaaaa'),
			/^WhatsApp Number: .* is not a device ID/,
		],
		[
			'a query in the device ID',
			params('reset', '6523a1f0c2d4e5f60718293a?x'),
			/is not a device ID/,
		],
		[
			'a fragment in the device ID',
			params('reset', '6523a1f0c2d4e5f6071829#a'),
			/is not a device ID/,
		],
		[
			'a percent sign in the device ID',
			params('reset', '6523a1f0c2d4e5f6071829%2'),
			/is not a device ID/,
		],
		[
			'white space inside the device ID',
			params('reset', '6523a1f0c2d4 e5f60718293a'),
			/^WhatsApp Number: "6523a1f0c2d4 e5f60718293a" is not a device ID/,
		],
		[
			'an upper-case device ID',
			params('reboot', '6523A1F0C2D4E5F60718293A'),
			/^WhatsApp Number: "6523A1F0C2D4E5F60718293A" is not a device ID: device IDs are lower case/,
		],
		[
			'a phone number',
			params('reboot', '+14155550100'),
			/^WhatsApp Number: "\+14155550100" looks like a phone number, not a device ID/,
		],
		[
			'Custom API Call',
			params('__CUSTOM_API_CALL__', ''),
			/^Operation: Custom API Call is not run by this node; .*HTTP Request node/,
		],
		[
			'a control character in the device ID',
			params('reset', '6523a1f0c2d4e5f6071829\u0000a'),
			/is not a device ID/,
		],
		[
			'a number typed device',
			params('reboot', 6523),
			/^WhatsApp Number: must be a device ID \(text\), got the number 6523/,
		],
		[
			'an option of the wrong type',
			params('reboot', DEMO_DEVICES[0].id, { forceReboot: 'yes' }),
			/^Force Reboot: must be true or false, got "yes"/,
		],
		[
			'a Timeout that is not a number',
			params('reset', DEMO_DEVICES[0].id, { timeout: 'soon' }),
			/^Timeout \(Seconds\): must be a number of seconds/,
		],
		[
			'an unknown operation',
			params('delete', DEMO_DEVICES[0].id),
			/^Operation: "delete" is not a known operation/,
		],
	];
	for (const [name, item, message] of invalid) {
		test(`${name}: NodeOperationError naming the field, no request sent`, async () => {
			const error = await failure(item);
			assert.ok(error instanceof NodeOperationError, `${error.constructor.name}: ${error.message}`);
			assert.match(error.message, message);
			assert.equal(error.context.itemIndex, 0);
			assert.equal(pkg.sim.requests.length, 0, 'nothing was sent');
		});
	}

	test('an empty API key is refused before any request', async () => {
		const error = await failure(params('reboot', online.id), {
			creds: { apiKey: '  ', baseUrl: pkg.sim.baseUrl },
		});
		assert.ok(error instanceof NodeOperationError);
		assert.match(error.message, /API Key: is empty/);
		assert.equal(pkg.sim.requests.length, 0);
	});

	async function apiFailure(item, options) {
		const error = await failure(item, options);
		assert.ok(error instanceof NodeApiError, `${error.constructor.name}: ${error.message}`);
		assert.equal(error.context.itemIndex, 0);
		return error;
	}

	test('401: authentication failed, check the API key', async () => {
		const error = await apiFailure(params('reboot', online.id), {
			creds: { apiKey: 'wrong-key', baseUrl: pkg.sim.baseUrl },
		});
		assert.equal(error.httpCode, '401');
		assert.equal(
			error.message,
			'Authentication failed: check the API key of the SparkBot credential',
		);
	});

	test('403: the key may not manage that number', async () => {
		const error = await apiFailure(params('reboot', forbidden.id));
		assert.equal(error.httpCode, '403');
		assert.match(error.message, new RegExp(`may not manage the WhatsApp number ${forbidden.id}`));
	});

	test('404: device not found, naming the ID', async () => {
		const error = await apiFailure(params('reset', UNKNOWN_ID));
		assert.equal(error.httpCode, '404');
		assert.match(error.message, new RegExp(`Device ${UNKNOWN_ID} not found`));
	});

	test('409 session_stopped: the service message, and Force Reboot suggested', async () => {
		const error = await apiFailure(params('reboot', stopped.id));
		assert.equal(error.httpCode, '409');
		assert.ok(error.message.length > 0);
		assert.match(error.description, /Force Reboot/);
		// ...and Force Reboot does reboot it.
		const [[out]] = await run([params('reboot', stopped.id, { forceReboot: true })]);
		assert.equal(out.json.operation, 'reboot');
	});

	test('409 session_busy: the service message, and waiting suggested', async () => {
		pkg.sim.setFault({ route: 'reset', deviceId: online.id, fault: 'busy' });
		const error = await apiFailure(params('reset', online.id));
		assert.equal(error.httpCode, '409');
		assert.match(error.description, /Wait until it has finished/);
	});

	test('504 session_timeout: timed out with the seconds waited, disable Wait For Session', async () => {
		pkg.sim.setDeviceReadyMs(online.id, 60_000); // longer than the (scaled) 90 s window
		const error = await apiFailure(params('reboot', online.id, { waitForSession: true }));
		assert.equal(error.httpCode, '504');
		assert.match(
			error.message,
			/^Timed out waiting for the WhatsApp session: SparkBot gave up after \d+(\.\d)? s$/,
		);
		assert.match(error.description, /Turn off Wait For Session/);
	});

	test('the node gives up when the service never answers, aborts the request, and says after how long', async () => {
		pkg.sim.setFault({ route: 'reboot', fault: 'hang' });
		const started = performance.now();
		const error = await apiFailure(
			params('reboot', online.id, { timeout: 1, waitForSession: true }),
		);
		const elapsed = performance.now() - started;
		assert.ok(elapsed >= 900 && elapsed < 3_000, `gave up after ${elapsed} ms`);
		assert.match(
			error.message,
			/^Timed out waiting for the WhatsApp session: no answer from SparkBot after 1 s$/,
		);
		assert.match(error.description, /Turn off Wait For Session/);
	});

	test('giving up closes the connection: the request is aborted, not abandoned', async () => {
		let closedAt;
		const silent = createServer((req) => {
			req.socket.on('close', () => {
				closedAt = performance.now();
			});
		});
		await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
		try {
			const { port } = silent.address();
			const started = performance.now();
			await apiFailure(params('reset', online.id, { timeout: 0.5 }), {
				creds: { apiKey: SECRET, baseUrl: `http://127.0.0.1:${port}/v1` },
			});
			await sleep(100);
			assert.ok(closedAt !== undefined, 'the server saw the connection close');
			assert.ok(closedAt - started < 1_500, `closed ${closedAt - started} ms after the start`);
		} finally {
			silent.closeAllConnections();
			silent.close();
		}
	});

	for (const [fault, status, message] of [
		['rateLimit', '429', /^Rate limited by SparkBot: /],
		['internal', '500', /^The SparkBot API answered 500: \S/],
		['unavailable', '503', /^The SparkBot API answered 503: \S/],
		['html502', '502', /^The SparkBot API answered 502: .*HTML error page/],
		['empty500', '500', /^The SparkBot API answered 500: an empty response body$/],
	]) {
		test(`${fault}: the service's message and httpCode ${status}`, async () => {
			pkg.sim.setFault({ route: 'reboot', fault, retryAfter: 3 });
			const error = await apiFailure(params('reboot', online.id, { retry: false }));
			assert.equal(posts().length, 1, 'Retry off: one attempt');
			assert.equal(error.httpCode, status);
			assert.match(error.message, message);
			assert.ok(error.description.length > 20);
		});
	}

	test('429 says how long to wait', async () => {
		pkg.sim.setFault({ route: 'reboot', fault: 'rateLimit', retryAfter: 7 });
		const error = await apiFailure(params('reboot', online.id, { retry: false }));
		assert.match(error.description, /Wait 7 s/);
	});

	for (const fault of ['rateLimit', 'unavailable']) {
		test(`${fault} once: retried after Retry-After, and the item succeeds`, async () => {
			pkg.sim.setFault({ route: 'reboot', fault, retryAfter: 1, times: 1 });
			const started = performance.now();
			const [[out]] = await run([params('reboot', online.id)]);
			assert.equal(out.json.status, 'rebooting');
			assert.equal(posts().length, 2);
			assert.ok(performance.now() - started >= 950, 'waited Retry-After before the second attempt');
		});
	}

	test('a 429 that persists: three attempts, then the error', async () => {
		pkg.sim.setFault({ route: 'reboot', fault: 'rateLimit', retryAfter: 1 });
		const error = await apiFailure(params('reboot', online.id));
		assert.equal(error.httpCode, '429');
		assert.equal(posts().length, 3);
	});

	test('no retry that would end past the time budget', async () => {
		pkg.sim.setFault({ route: 'reboot', fault: 'rateLimit', retryAfter: 5 });
		const error = await apiFailure(params('reboot', online.id, { timeout: 2 }));
		assert.equal(error.httpCode, '429');
		assert.equal(posts().length, 1);
	});

	test('other failures are never retried: a reboot is not sent twice', async () => {
		for (const fault of ['internal', 'html502', 'drop']) {
			pkg.sim.clearRequests();
			pkg.sim.setFault({ route: 'reboot', fault, times: 1 });
			await apiFailure(params('reboot', online.id));
			assert.equal(posts().length, 1, fault);
			pkg.sim.clearFaults();
		}
	});

	for (const [fault, message] of [
		['notJson200', /^Invalid response from the SparkBot API: /],
		['array200', /^Invalid response from the SparkBot API: expected a JSON object, got a list$/],
		['null200', /^Invalid response from the SparkBot API: expected a JSON object, got null$/],
	]) {
		test(`200 with a body that is not a JSON object (${fault}): invalid response`, async () => {
			pkg.sim.setFault({ route: 'reset', fault });
			const error = await apiFailure(params('reset', online.id));
			assert.match(error.message, message);
		});
	}

	test('connection refused: could not reach the API at that host, with the cause', async () => {
		const error = await apiFailure(params('reboot', online.id), {
			creds: { apiKey: SECRET, baseUrl: 'http://127.0.0.1:45999/v1' },
		});
		assert.equal(
			error.message,
			'Could not reach the SparkBot API at 127.0.0.1:45999: connection refused (after 3 attempts)',
		);
		assert.match(error.description, / 3 requests made\.$/);
	});

	test('dropped connection and truncated body', async () => {
		pkg.sim.setFault({ route: 'reboot', fault: 'drop' });
		let error = await apiFailure(params('reboot', online.id));
		assert.match(error.message, /^Could not reach the SparkBot API at 127\.0\.0\.1:\d+: /);
		pkg.sim.clearFaults();
		pkg.sim.setFault({ route: 'reboot', fault: 'truncated' });
		error = await apiFailure(params('reboot', online.id));
		// The request reached SparkBot, which began to answer: the message says so.
		assert.match(
			error.message,
			/^The answer of the SparkBot API at 127\.0\.0\.1:\d+ broke off: the connection closed before the whole response arrived$/,
		);
		assert.match(error.description, /may still carry out the reboot/);
	});

	test('DNS failure: could not reach the API at that host', async () => {
		const error = await apiFailure(params('reboot', online.id), {
			creds: { apiKey: SECRET, baseUrl: 'https://sparkbot.invalid/v1' },
		});
		assert.match(
			error.message,
			/^Could not reach the SparkBot API at sparkbot\.invalid: (host name not found|DNS lookup failed)/,
		);
	});

	test('TLS failure: the handshake failed, once, with what to check', async () => {
		// An https:// URL pointing at the simulator's plain-HTTP port fails the TLS handshake.
		const error = await apiFailure(params('reboot', online.id), {
			creds: { apiKey: SECRET, baseUrl: pkg.sim.baseUrl.replace('http://', 'https://') },
		});
		assert.match(
			error.message,
			/^Could not reach the SparkBot API at 127\.0\.0\.1:\d+: the TLS handshake failed \((EPROTO|ERR_SSL_[A-Z_]+)\)$/,
		);
		assert.match(error.description, /the Base URL must start with http:\/\//);
		assert.match(error.description, / 1 request made\.$/, 'not retried: it would fail the same');
	});
});

describe('continue on fail', () => {
	test('"Continue": failed items keep what the node knows: { error, description, code, httpCode, attempts }', async () => {
		const items = [
			params('reboot', online.id),
			params('reboot', 'not-a-device'),
			params('reset', UNKNOWN_ID),
			params('reboot', forbidden.id),
			params('reset', DEMO_DEVICES[3].id, { emptyQueue: true }),
			params('reboot', stopped.id),
		];
		const [out] = await run(items, { continueOnFail: true });
		assert.equal(out.length, items.length);
		out.forEach((o, i) => assert.deepEqual(o.pairedItem, { item: i }));
		assert.equal(out[0].json.operation, 'reboot');
		assert.equal(out[4].json.operation, 'reset');
		const failed = (i) => {
			assert.deepEqual(
				Object.keys(out[i].json),
				['error', 'description', 'code', 'httpCode', 'attempts'],
				`item ${i}`,
			);
			assert.equal(
				out[i].error,
				undefined,
				`item ${i} carries no error object: n8n would reduce its json to { error }`,
			);
			return out[i].json;
		};
		assert.deepEqual(
			{ ...failed(1), error: undefined, description: undefined },
			{
				error: undefined,
				description: undefined,
				code: 'SPARKBOT_INVALID_PARAMETER',
				httpCode: null,
				attempts: 0,
			},
		);
		assert.match(failed(1).error, /^WhatsApp Number: /);
		assert.match(failed(1).description, /No request was sent/);
		assert.equal(failed(2).code, 'SPARKBOT_DEVICE_NOT_FOUND');
		assert.equal(failed(2).httpCode, 404);
		assert.equal(failed(2).attempts, 1);
		assert.match(failed(2).error, /not found/);
		assert.equal(failed(3).httpCode, 403);
		assert.match(failed(3).error, /may not manage/);
		assert.match(
			failed(3).description,
			/\. 1 request made\.$/,
			'the count is a sentence of its own',
		);
		assert.equal(failed(5).code, 'SPARKBOT_SESSION_STOPPED');
		assert.equal(failed(5).httpCode, 409);
		assert.match(failed(5).description, /Turn on the Force Reboot option/);
		assert.equal(posts().length, 5, 'the invalid item sent nothing');
	});

	test('"Continue (using error output)": failed items are { error: { message, description, code, httpCode, attempts } }, the one form n8n moves to the error output intact', async () => {
		const items = [
			params('reboot', online.id),
			params('reboot', forbidden.id),
			params('reboot', 'nope'),
		];
		const [out] = await run(items, { onError: 'continueErrorOutput' });
		assert.equal(out[0].json.id, online.id);
		for (const i of [1, 2]) {
			assert.deepEqual(
				Object.keys(out[i].json),
				['error'],
				`item ${i}: only error, so n8n routes it to the error output`,
			);
			assert.deepEqual(Object.keys(out[i].json.error), [
				'message',
				'description',
				'code',
				'httpCode',
				'attempts',
			]);
		}
		assert.equal(out[1].json.error.httpCode, 403);
		assert.match(out[1].json.error.message, /may not manage the WhatsApp number/);
		assert.equal(out[2].json.error.code, 'SPARKBOT_INVALID_PARAMETER');
		assert.equal(out[2].json.error.httpCode, null);
	});

	test('a parameter that cannot be resolved fails only its item', async () => {
		const items = [new Error('ReferenceError: nope is not defined'), params('reboot', online.id)];
		const [out] = await run(items, { continueOnFail: true });
		assert.match(out[0].json.error, /nope is not defined/);
		assert.equal(out[1].json.operation, 'reboot');
	});

	test('without continue-on-fail the run stops at the first failed item', async () => {
		const items = [
			params('reboot', online.id),
			params('reset', UNKNOWN_ID),
			params('reboot', stopped.id, { forceReboot: true }),
		];
		const thrown = await thrownBy(items);
		assert.ok(thrown instanceof NodeApiError);
		assert.equal(thrown.context.itemIndex, 1);
		assert.equal(posts().length, 2, 'the third item was never sent');
	});
});

describe('parameters', () => {
	test('a parameter without an expression is read once; one with an expression for every item', async () => {
		const numbers = [online.id, stopped.id, online.id];
		const context = executeContext({
			items: numbers.map((id) => params('reboot', id, { forceReboot: true })),
			credentials: pkg.credentials,
			continueOnFail: true,
		});
		const reads = {};
		const getNodeParameter = context.getNodeParameter;
		context.getNodeParameter = (name, ...rest) => {
			reads[name] = (reads[name] ?? 0) + 1;
			return getNodeParameter(name, ...rest);
		};
		const [out] = await pkg.node.execute.call(context);
		assert.deepEqual(reads, {
			resource: 1,
			operation: 1,
			device: 3,
			options: 1,
			returnAll: 1,
			limit: 1,
			filters: 1,
			binaryPropertyName: 1,
		});
		assert.deepEqual(
			out.map((o) => o.json.id),
			numbers,
		);
		assert.deepEqual(
			posts().map((r) => r.body.force),
			[true, true, true],
		);
	});
});

describe('WhatsApp Number from {{ $json.id }}', () => {
	// n8n resolves an expression per item (about half a millisecond each); the shim reads a plain
	// `{{ $json.<field> }}` from the item itself. The outcome must be what n8n would resolve.
	const ids = [online.id, stopped.id, online.id];
	const run = async ({ device, json }) => {
		const context = executeContext({
			items: ids.map((id) => params('reboot', id, { forceReboot: true })),
			credentials: pkg.credentials,
			continueOnFail: true,
		});
		const node = context.getNode();
		node.parameters.device = device;
		context.getInputData = () => ids.map((id, i) => ({ json: json(id, i) }));
		const reads = [];
		const getNodeParameter = context.getNodeParameter;
		context.getNodeParameter = (name, ...rest) => {
			if (name === 'device') reads.push(rest[0]);
			return getNodeParameter(name, ...rest);
		};
		const [out] = await pkg.node.execute.call(context);
		return { out, reads };
	};

	for (const [label, device] of [
		['version 1', '={{ $json.id }}'],
		['version 1, $json["…"]', '={{ $json["number id"] }}'],
		['version 2, By ID', { __rl: true, mode: 'id', value: '={{ $json.id }}' }],
	]) {
		test(`${label}: read from each item, the right number rebooted for each`, async () => {
			const { out, reads } = await run({
				device,
				json: (id) => ({ id, 'number id': id, other: 'x' }),
			});
			assert.deepEqual(reads, [], 'n8n did not resolve it per item');
			assert.deepEqual(
				out.map((o) => o.json.id),
				ids,
			);
			assert.deepEqual(
				posts().map((r) => r.path),
				ids.map((id) => `/v1/devices/${id}/reboot`),
			);
		});
	}

	test('a field that is missing or not text is left to n8n', async () => {
		const { out, reads } = await run({
			device: '={{ $json.id }}',
			json: (id, i) => (i === 1 ? { id: 7 } : i === 2 ? {} : { id }),
		});
		assert.deepEqual(reads, [1, 2], "items 1 and 2 went through n8n's resolution");
		assert.deepEqual(
			out.map((o) => o.json.id),
			ids,
		);
	});

	test('anything more than the field is left to n8n', async () => {
		const { reads } = await run({
			device: '={{ $json.id.trim() }}',
			json: (id) => ({ id }),
		});
		assert.deepEqual(reads, [0, 1, 2]);
	});
});

describe('concurrency', () => {
	const numbers = Array.from({ length: 40 }, (_, i) => generatedDevice(i + 1).id);

	test('Concurrency 10: outputs in input order, each paired, errors on their own items', async () => {
		const items = numbers.map((id) =>
			params('reboot', id, { waitForSession: true, concurrency: 10 }),
		);
		items[5] = params('reboot', UNKNOWN_ID, { concurrency: 10 });
		items[17] = params('reboot', 'not-a-device', { concurrency: 10 });
		const started = performance.now();
		const [out] = await run(items, { continueOnFail: true });
		const elapsed = performance.now() - started;
		assert.equal(out.length, items.length);
		out.forEach((o, i) => assert.deepEqual(o.pairedItem, { item: i }));
		out.forEach((o, i) => {
			if (i === 5) assert.match(o.json.error, /not found/);
			else if (i === 17) assert.match(o.json.error, /^WhatsApp Number: /);
			else assert.equal(o.json.id, numbers[i], `item ${i} carries its own answer`);
		});
		assert.equal(posts().length, 39, 'the invalid item sent nothing');
		// Each held answer takes 20 ms on this simulator: 38 of them one after another take 760 ms.
		assert.ok(elapsed < 400, `ran in parallel: ${elapsed.toFixed(0)} ms`);
	});

	test('without continue-on-fail the first failed item in input order is thrown', async () => {
		const items = numbers.slice(0, 12).map((id) => params('reboot', id, { concurrency: 4 }));
		items[6] = params('reboot', UNKNOWN_ID, { concurrency: 4 });
		items[9] = params('reboot', forbidden.id, { concurrency: 4 });
		const thrown = await thrownBy(items);
		assert.ok(thrown instanceof NodeApiError);
		assert.equal(thrown.context.itemIndex, 6);
		assert.ok(
			posts().length <= 6 + 4,
			`nothing started after the failure was seen (${posts().length} sent)`,
		);
	});

	for (const [value, message] of [
		[0, /^Concurrency: 0 is out of range; use a whole number from 1 to 50$/],
		[51, /^Concurrency: 51 is out of range/],
		[2.5, /^Concurrency: 2.5 is not a whole number; use a whole number from 1 to 50$/],
		[50.0001, /^Concurrency: 50.0001 is not a whole number/],
		['ten', /^Concurrency: must be a whole number from 1 to 50, got "ten"$/],
	]) {
		test(`Concurrency ${JSON.stringify(value)}: a clear error, nothing sent`, async () => {
			const error = await failure(params('reboot', online.id, { concurrency: value }));
			assert.ok(error instanceof NodeOperationError);
			assert.match(error.message, message);
			assert.equal(posts().length, 0);
		});
	}

	test('a 429 slows every item down instead of failing any', async () => {
		pkg.sim.setFault({ route: 'reboot', fault: 'rateLimit', retryAfter: 1, times: 2 });
		const items = numbers.slice(0, 20).map((id) => params('reboot', id, { concurrency: 10 }));
		const started = performance.now();
		const [out] = await run(items, { continueOnFail: true });
		assert.ok(
			out.every((o, i) => o.json.id === numbers[i]),
			JSON.stringify(out.filter((o) => o.json.error)),
		);
		assert.equal(posts().length, 22, 'the two rate-limited calls were sent again');
		assert.ok(performance.now() - started >= 950, 'everyone waited out Retry-After');
	});
});

describe('getDevices', () => {
	test('lists every device of the account across pages, labelled and in a stable order', async () => {
		const getDevices = pkg.node.methods.loadOptions.getDevices;
		const options = await getDevices.call(loadOptionsContext({ credentials: pkg.credentials }));
		produced.push(options);
		assert.equal(options.length, DEMO_DEVICES.length + 230);
		const pages = pkg.sim.requests.filter((r) => r.path === '/v1/devices');
		assert.ok(pages.length >= 3, 'read several pages');
		for (const request of pages) assert.equal(request.query.size, '100');
		assert.equal(new Set(options.map((o) => o.value)).size, options.length, 'no duplicates');
		const withBoth = DEMO_DEVICES.find((d) => d.alias && d.phone);
		assert.ok(
			options.some(
				(o) => o.value === withBoth.id && o.name === `${withBoth.alias} (${withBoth.phone})`,
			),
		);
		for (const option of options) {
			assert.match(option.value, /^[0-9a-f]{24}$/);
			assert.ok(option.name.trim().length > 0);
			assert.match(option.description, /^Session: /);
		}
		const again = await getDevices.call(loadOptionsContext({ credentials: pkg.credentials }));
		assert.deepEqual(again, options, 'stable order');
		const keys = options.map((o) => o.name.toLowerCase());
		assert.deepEqual(keys, [...keys].sort(), 'sorted by label, case-insensitively');
	});

	test('a wrong key gives a readable error for the dropdown', async () => {
		const getDevices = pkg.node.methods.loadOptions.getDevices;
		await assert.rejects(
			getDevices.call(
				loadOptionsContext({ credentials: { apiKey: 'wrong', baseUrl: pkg.sim.baseUrl } }),
			),
			(error) => {
				produced.push(error);
				assert.ok(error instanceof NodeApiError);
				assert.equal(
					error.message,
					'Authentication failed: check the API key of the SparkBot credential',
				);
				return true;
			},
		);
	});
});

describe('secrets', () => {
	test('a service that echoes the key cannot leak it', async () => {
		const echo = createServer((req, res) => {
			res.writeHead(500, { 'content-type': 'application/json' });
			res.end(
				JSON.stringify({
					status: 500,
					error: 'internal_error',
					message: `bad token ${req.headers.token}`,
				}),
			);
		});
		await new Promise((resolve) => echo.listen(0, '127.0.0.1', resolve));
		try {
			const { port } = echo.address();
			const error = await failure(params('reboot', online.id), {
				creds: { apiKey: SECRET, baseUrl: `http://127.0.0.1:${port}/v1` },
			});
			assert.match(error.message, /bad token \*\*\*/);
		} finally {
			echo.close();
		}
	});

	test('the API key appears in no output or error of this suite', () => {
		assert.ok(produced.length > 20, 'the suite produced outputs and errors to scan');
		assertNoSecret(produced, SECRET);
	});
});
