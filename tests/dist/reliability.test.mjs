// Reliability of the built package under faults: retries and attempt counts, cancellation, a
// 200-item batch across every fault mode of the simulator, hung services, oversized and malformed
// bodies, plain-http refusal, and the API key nowhere in anything the node produced.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { networkInterfaces } from 'node:os';
import { describe, test } from 'node:test';

import { freePort } from '../../scripts/lib/net.mjs';
import { sleep } from '../../scripts/lib/wait.mjs';
import {
	DEMO_DEVICES,
	generatedDevice,
	startSimulator,
} from '../../support/simulator/sparkbot-simulator.mjs';
import { FAULT_MODES as MODES } from '../fault-modes.mjs';
import {
	NodeApiError,
	NodeOperationError,
	assertNoSecret,
	loadOptionsContext,
	params,
	suite,
} from './harness.mjs';

const SECRET = 'sk-live-7c1e-RELIABILITY-DO-NOT-LEAK-0d2f';

const pkg = suite({ apiKey: SECRET, devices: 230, resetEach: true });
/** Everything the node produced in this file: outputs, thrown errors, dropdown lists. */
const { run, thrownBy, produced } = pkg;

const online = DEMO_DEVICES.find(
	(d) => d.session?.status === 'online' && !d.forbidden && d.status === 'operative',
);

const posts = () => pkg.sim.requests.filter((r) => r.method === 'POST');

describe('retries and attempt counts', () => {
	test('a connection that could not be made is retried, and the item succeeds once the service is up', async () => {
		const port = await freePort();
		// Nothing listens for the first attempt; a forwarder to the simulator starts 300 ms later.
		const forwarder = createServer(async (req, res) => {
			const chunks = [];
			for await (const chunk of req) chunks.push(chunk);
			const answer = await fetch(`${pkg.sim.origin}${req.url}`, {
				method: req.method,
				headers: req.headers,
				body: Buffer.concat(chunks),
			});
			res.writeHead(answer.status, {
				'content-type': answer.headers.get('content-type') ?? 'application/json',
			});
			res.end(Buffer.from(await answer.arrayBuffer()));
		});
		const started = sleep(300).then(
			() => new Promise((resolve) => forwarder.listen(port, '127.0.0.1', resolve)),
		);
		try {
			const [[out]] = await run([params('reboot', online.id, { includeAttempts: true })], {
				creds: { apiKey: SECRET, baseUrl: `http://127.0.0.1:${port}/v1` },
			});
			assert.equal(out.json.status, 'rebooting');
			assert.equal(out.json.attempts, 2);
			assert.equal(posts().length, 1, 'the refused attempt never reached the service');
		} finally {
			await started;
			forwarder.close();
		}
	});

	test('Include Attempt Count: the output says how many requests it took; without it, nothing is added', async () => {
		pkg.sim.setFault({ route: 'reboot', fault: 'rateLimit', retryAfter: 0, times: 1 });
		const [[counted]] = await run([params('reboot', online.id, { includeAttempts: true })]);
		assert.equal(counted.json.attempts, 2);
		pkg.sim.setFault({ route: 'reboot', fault: 'unavailable', retryAfter: 0, times: 1 });
		const [[plain]] = await run([params('reboot', online.id)]);
		assert.equal(plain.json.status, 'rebooting');
		assert.ok(!('attempts' in plain.json), 'no attempts field unless asked for');
		assert.equal(posts().length, 4);
	});

	test('errors say how many requests were made', async () => {
		pkg.sim.setFault({ route: 'reboot', fault: 'unavailable', retryAfter: 0 });
		const retried = await thrownBy([params('reboot', online.id)]);
		assert.match(retried.message, /^The SparkBot API answered 503: .* \(after 3 attempts\)$/);
		assert.match(retried.description, / 3 requests made\.$/);
		pkg.sim.clearFaults();
		pkg.sim.setFault({ route: 'reboot', fault: 'internal' });
		const once = await thrownBy([params('reboot', online.id)]);
		assert.doesNotMatch(once.message, /attempts/);
		assert.match(once.description, / 1 request made\.$/);
	});

	test('a reboot whose request may have reached the service is never sent again', async () => {
		for (const fault of ['drop', 'truncated', 'internal', 'html502', 'sessionTimeout']) {
			pkg.sim.clearRequests();
			pkg.sim.setFault({ route: 'reboot', fault });
			await thrownBy([params('reboot', online.id)]);
			assert.equal(posts().length, 1, fault);
			pkg.sim.clearFaults();
		}
	});

	test('the device list is read again after a dropped connection', async () => {
		pkg.sim.setFault({ route: 'list', fault: 'drop', times: 1 });
		const options = await pkg.node.methods.loadOptions.getDevices.call(
			loadOptionsContext({ credentials: pkg.credentials }),
		);
		produced.push(options);
		assert.equal(options.length, pkg.sim.devices.size);
	});
});

describe('cancellation', () => {
	test('stopping the execution aborts a 2-minute Wait For Session at once', async () => {
		pkg.sim.setDeviceReadyMs(online.id, 120_000);
		const controller = new AbortController();
		const started = performance.now();
		const pending = run([params('reset', online.id, { waitForSession: true })], {
			continueOnFail: true,
			cancelSignal: controller.signal,
		});
		await sleep(300);
		assert.equal(posts().length, 1, 'the reset is in flight');
		controller.abort();
		const [[out]] = await pending;
		const elapsed = performance.now() - started;
		assert.ok(elapsed < 800, `ended ${elapsed} ms after the start, 300 ms after the cancel`);
		assert.match(out.json.error, /^The execution was cancelled/);
	});

	test('a cancel during a retry pause ends it, and no item after it is sent', async () => {
		pkg.sim.setFault({ route: 'reboot', fault: 'rateLimit', retryAfter: 5 });
		const controller = new AbortController();
		const items = DEMO_DEVICES.slice(0, 3).map((d) => params('reboot', d.id));
		const started = performance.now();
		const pending = run(items, { continueOnFail: true, cancelSignal: controller.signal });
		await sleep(300);
		controller.abort();
		const [out] = await pending;
		assert.ok(performance.now() - started < 800, 'ended promptly');
		assert.equal(out.length, 3, 'one output per item');
		out.forEach((item, i) => assert.deepEqual(item.pairedItem, { item: i }));
		assert.equal(posts().length, 1, 'nothing was sent after the cancel');
	});

	test('an execution cancelled before it starts sends nothing', async () => {
		const error = await thrownBy([params('reboot', online.id)], {
			cancelSignal: AbortSignal.abort(),
		});
		assert.ok(error instanceof NodeOperationError);
		assert.match(error.message, /^The execution was cancelled/);
		assert.equal(posts().length, 0);
	});
});

describe('every fault mode at once', () => {
	test('200 items, every fault mode, continue-on-fail: one output per item, in order, paired, each as expected', async () => {
		const items = [];
		const expected = [];
		for (let i = 0; i < 200; i++) {
			const [name, spec, outcome, sends] = MODES[i % MODES.length];
			const id = generatedDevice(i + 1).id;
			if (spec && spec !== 'invalid') pkg.sim.setFault({ route: 'reboot', deviceId: id, ...spec });
			items.push(
				params('reboot', spec === 'invalid' ? `not-a-device-${i}` : id, {
					timeout: 2,
					concurrency: 10,
					includeAttempts: true,
				}),
			);
			expected.push({ name, id, outcome, sends });
		}
		const started = performance.now();
		const [out] = await run(items, { continueOnFail: true });
		const elapsed = performance.now() - started;
		assert.equal(out.length, 200, 'exactly one output per input item');
		out.forEach((item, i) => {
			const { name, id, outcome, sends } = expected[i];
			assert.deepEqual(
				item.pairedItem,
				{ item: i },
				`item ${i} (${name}) is paired with its input`,
			);
			if (outcome === 'ok') {
				assert.equal(item.json.id, id, `item ${i} (${name}) is its own device's answer`);
				assert.equal(item.json.attempts, sends, `item ${i} (${name}) counts its attempts`);
			} else {
				assert.equal(
					typeof item.json.error,
					'string',
					`item ${i} (${name}) failed: ${JSON.stringify(item.json).slice(0, 200)}`,
				);
				assert.deepEqual(
					Object.keys(item.json),
					['error', 'description', 'code', 'httpCode', 'attempts'],
					`item ${i} (${name})`,
				);
				assert.equal(item.json.code, outcome, `item ${i} (${name}) code`);
				assert.equal(item.json.attempts, sends, `item ${i} (${name}) attempts`);
			}
		});
		// Each device got exactly its own requests: nothing lost, nothing repeated that may have acted.
		const sent = new Map();
		for (const request of posts()) sent.set(request.path, (sent.get(request.path) ?? 0) + 1);
		expected.forEach(({ name, id, sends }, i) => {
			assert.equal(
				sent.get(`/v1/devices/${id}/reboot`) ?? 0,
				sends,
				`item ${i} (${name}) sent ${sends} request(s)`,
			);
		});
		assert.ok(elapsed < 15_000, `the batch took ${elapsed} ms`);
	});

	for (const [name, spec, outcome] of MODES.filter(
		([, spec, outcome]) => spec && spec !== 'invalid' && outcome !== 'ok',
	)) {
		test(`${name}: ${outcome}`, async () => {
			pkg.sim.setFault({ route: 'reboot', deviceId: online.id, ...spec });
			const error = await thrownBy([params('reboot', online.id, { timeout: 2 })]);
			assert.ok(error instanceof NodeApiError, `${error.constructor.name}: ${error.message}`);
			assert.equal(error.context.itemIndex, 0);
			assert.equal(error.errorResponse.code, outcome, error.message);
		});
	}
});

describe('hung services and bodies', () => {
	for (const timeout of [1, 3]) {
		test(`a hung service: the ${timeout} s timeout fires within 1 s of its budget`, async () => {
			pkg.sim.setFault({ route: 'reboot', fault: 'hang' });
			const started = performance.now();
			const error = await thrownBy([params('reboot', online.id, { timeout })]);
			const elapsed = performance.now() - started;
			assert.ok(
				elapsed >= timeout * 1000 - 50 && elapsed < timeout * 1000 + 1000,
				`gave up after ${elapsed} ms`,
			);
			assert.match(error.message, new RegExp(`no answer from SparkBot after ${timeout} s`));
		});
	}

	test('a hung service with retries on: the budget still holds', async () => {
		pkg.sim.setFault({ route: 'reboot', fault: 'unavailable', retryAfter: 0, times: 1 });
		pkg.sim.setFault({ route: 'reboot', fault: 'hang' });
		const started = performance.now();
		await thrownBy([params('reboot', online.id, { timeout: 2 })]);
		const elapsed = performance.now() - started;
		assert.ok(elapsed < 3_000, `gave up after ${elapsed} ms`);
	});

	for (const chunked of [false, true]) {
		test(`a body over 10 MB ${chunked ? 'without a length (chunked)' : 'with a Content-Length'} is not read: a clear error`, async () => {
			pkg.sim.setFault({ route: 'reboot', fault: 'oversized', bytes: 64 * 1024 * 1024, chunked });
			const started = performance.now();
			const error = await thrownBy([params('reboot', online.id)]);
			assert.match(
				error.message,
				/^Invalid response from the SparkBot API: the body is larger than 10 MB and was not read/,
			);
			assert.ok(performance.now() - started < 5_000, 'gave up early, without reading 64 MB');
		});
	}

	test('a body of just under 10 MB is read', async () => {
		pkg.sim.setFault({
			route: 'reboot',
			fault: 'oversized',
			bytes: 10 * 1024 * 1024,
			chunked: true,
		});
		const [[out]] = await run([params('reboot', online.id)]);
		assert.equal(out.json.padding.length, 10 * 1024 * 1024 - '{"padding":""}'.length);
	});

	test('bytes that are not UTF-8 are replaced, not fatal', async () => {
		pkg.sim.setFault({ route: 'reboot', fault: 'invalidUtf8' });
		const [[out]] = await run([params('reboot', online.id)]);
		assert.equal(out.json.id, online.id);
		assert.ok(out.json.note.includes('\uFFFD'), JSON.stringify(out.json.note));
	});

	test('JSON nested 100,000 levels deep is refused with a clear error', async () => {
		pkg.sim.setFault({ route: 'reboot', fault: 'deepJson' });
		const error = await thrownBy([params('reboot', online.id)]);
		assert.match(error.message, /nests more than 64 levels deep/);
	});
});

describe('plain http', () => {
	test('http:// to another machine is refused before anything is sent, naming the switch', async () => {
		const error = await thrownBy([params('reboot', online.id)], {
			creds: { apiKey: SECRET, baseUrl: 'http://api.sparkbot.example/v1' },
		});
		assert.ok(error instanceof NodeOperationError);
		assert.match(
			error.message,
			/^SparkBot credential, Base URL: http:\/\/api\.sparkbot\.example would send the API key unencrypted; .*Allow Insecure HTTP/,
		);
		assert.equal(pkg.sim.requests.length, 0);
	});

	test('with Allow Insecure HTTP the request goes out (to a non-loopback address of this machine)', async (t) => {
		const address = Object.values(networkInterfaces())
			.flat()
			.find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
		if (!address) return t.skip('this machine has no non-loopback IPv4 address');
		const open = await startSimulator({ apiKey: SECRET, host: '0.0.0.0' });
		try {
			const baseUrl = `http://${address}:${open.port}/v1`;
			const refused = await thrownBy([params('reboot', online.id)], {
				creds: { apiKey: SECRET, baseUrl },
			});
			assert.match(refused.message, /Allow Insecure HTTP/);
			const [[out]] = await run([params('reboot', online.id)], {
				creds: { apiKey: SECRET, baseUrl, allowInsecureHttp: true },
			});
			assert.equal(out.json.status, 'rebooting');
		} finally {
			await open.close();
		}
	});
});

describe('secrets', () => {
	test('getDevices under every fault mode leaks nothing either', async () => {
		for (const fault of [
			'hang',
			'drop',
			'html502',
			'empty500',
			'truncated',
			'rateLimit',
			'internal',
			'notJson200',
			'null200',
			'forbidden',
			'deepJson',
		]) {
			pkg.sim.clearFaults();
			pkg.sim.setFault({ route: 'list', fault, retryAfter: 0 });
			const context = loadOptionsContext({ credentials: { ...pkg.credentials } });
			const pending = pkg.node.methods.loadOptions.getDevices.call(context);
			const outcome =
				fault === 'hang'
					? await Promise.race([pending, sleep(300).then(() => 'still waiting')]).catch(
							(error) => error,
						)
					: await pending.catch((error) => error);
			produced.push(outcome);
		}
		pkg.sim.clearFaults(); // lets the hung request end with the simulator's close
	});

	test('the API key appears in no output, error, description, stack or thrown object of this file', () => {
		assert.ok(produced.length > 40, `${produced.length} things to scan`);
		const scanned = assertNoSecret(produced, SECRET);
		assert.ok(scanned > 1_000, `${scanned} strings scanned`);
	});
});
