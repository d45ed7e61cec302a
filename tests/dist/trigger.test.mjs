// SparkBot Trigger as the built package runs it, polled the way n8n polls it, against the
// simulator's control routes: a baseline first, each change reported exactly once with its
// previous status, filters that decide only what is reported, failed polls that change nothing,
// an older state after a restart that repeats nothing, and the editor's test run.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { DEMO_DEVICES, generatedDevice } from '../../support/simulator/sparkbot-simulator.mjs';
import {
	TRIGGER_PATH,
	NodeApiError,
	NodeOperationError,
	assertNoSecret,
	loadClass,
	pollContext,
	root,
	suite,
} from './harness.mjs';

const SECRET = 'sk-live-trigger-41af-DO-NOT-LEAK';
const t = suite({ apiKey: SECRET, devices: 200, resetEach: true });
const { produced } = t;
const [sales, support] = DEMO_DEVICES;
const number = (n) => generatedDevice(n).id;

/**
 * A trigger with its own static data, polled like n8n does: one context for every poll of the
 * activation (`'activate'`: a user published it; `'init'`: n8n started with it active), a fresh
 * one for each test run.
 */
function trigger(parameters = {}, { activation = 'activate', staticData = {} } = {}) {
	const node = loadClass(TRIGGER_PATH);
	const contexts = new Map();
	const poll = async ({ mode = 'trigger', credentials = t.credentials } = {}) => {
		const context =
			mode === 'manual'
				? pollContext({ credentials, parameters, staticData, mode })
				: (contexts.get(credentials) ??
					contexts
						.set(credentials, pollContext({ credentials, parameters, staticData, activation }))
						.get(credentials));
		try {
			const result = await node.poll.call(context);
			produced.push(result);
			return result === null ? null : result[0].map((item) => item.json);
		} catch (error) {
			produced.push(error);
			throw error;
		}
	};
	return { node, staticData, poll };
}

const changed = (items) =>
	(items ?? []).map((d) => [d.id, d.previousSessionStatus, d.session.status]);

describe('the node', () => {
	test('a polling trigger, described from Rust, tested by the node', () => {
		const { node } = trigger();
		const generated = JSON.parse(
			readFileSync(join(root, 'node-descriptor/SparkBotTrigger.description.json'), 'utf8'),
		);
		assert.deepEqual(node.description, generated);
		assert.equal(node.description.name, 'sparkBotTrigger');
		assert.deepEqual(node.description.group, ['trigger']);
		assert.equal(node.description.polling, true);
		assert.deepEqual(node.description.inputs, []);
		assert.deepEqual(
			node.description.properties.map((p) => p.name),
			['event', 'filters'],
		);
		assert.equal(typeof node.poll, 'function');
		assert.equal(typeof node.methods.loadOptions.getDevices, 'function');
	});
});

describe('what it reports, exactly once', () => {
	test('the first poll sets the baseline: nothing reported, every number remembered compactly', async () => {
		const { poll, staticData } = trigger();
		assert.equal(await poll(), null);
		const numbers = DEMO_DEVICES.length + 200;
		const bytes = JSON.stringify(staticData).length;
		assert.ok(bytes <= 64 * numbers, `${bytes} bytes for ${numbers} numbers`);
		assert.equal(staticData.sessions.s.split(',').length, numbers);
	});

	test('a change is reported once, as SparkBot sends the device, with its previous status', async () => {
		const { poll } = trigger();
		await poll();
		t.sim.setSessionStatus(sales.id, 'offline');
		t.sim.setSessionStatus(number(150), 'authorize');
		const items = await poll();
		assert.deepEqual(changed(items), [
			[sales.id, 'online', 'offline'],
			[number(150), 'online', 'authorize'],
		]);
		assert.deepEqual(items[0].plan, sales.plan, 'unknown fields included');
		assert.equal(await poll(), null, 'no change: no execution');
	});

	test('the filters decide what is reported; every number is remembered', async () => {
		const { poll } = trigger({
			filters: { sessionStatus: ['offline', 'timeout'], devices: [sales.id, number(7)] },
		});
		await poll();
		t.sim.setSessionStatus(sales.id, 'connecting'); // not a watched status
		t.sim.setSessionStatus(number(7), 'timeout'); // watched
		t.sim.setSessionStatus(number(8), 'offline'); // not a watched number
		assert.deepEqual(changed(await poll()), [[number(7), 'online', 'timeout']]);
		t.sim.setSessionStatus(sales.id, 'offline');
		assert.deepEqual(
			changed(await poll()),
			[[sales.id, 'connecting', 'offline']],
			'the unwatched change was remembered',
		);
	});

	test('numbers that appear join the baseline, numbers that disappear are forgotten', async () => {
		const { poll, staticData } = trigger();
		await poll();
		const gone = number(200);
		t.sim.devices.delete(gone);
		const fresh = {
			...generatedDevice(9_000),
			session: { status: 'offline', updatedAt: '2026-11-29T00:00:00Z' },
		};
		t.sim.devices.set(fresh.id, fresh);
		assert.equal(await poll(), null);
		assert.ok(!staticData.sessions.s.includes(gone));
		assert.ok(staticData.sessions.s.includes(`${fresh.id}:f`));
	});

	test('changing the filters does not replay old changes', async () => {
		const { poll, staticData } = trigger({ filters: { sessionStatus: ['authorize'] } });
		await poll();
		const saved = structuredClone(staticData); // what n8n saved at activation
		t.sim.setSessionStatus(sales.id, 'offline'); // not watched: not reported, not saved
		assert.equal(await poll(), null);
		// The filters now also watch "offline", and n8n starts from the state saved with the old
		// ones (as after a restart).
		const edited = trigger(
			{ filters: { sessionStatus: ['authorize', 'offline'] } },
			{ activation: 'init', staticData: saved },
		);
		assert.equal(await edited.poll(), null, 'the old change is not reported');
		t.sim.setSessionStatus(support.id, 'online');
		t.sim.setSessionStatus(support.id, 'offline');
		t.sim.setSessionStatus(number(1), 'offline');
		assert.deepEqual(changed(await edited.poll()), [[number(1), 'online', 'offline']]);
	});

	test('after a restart from an older state: nothing twice, nothing lost', async () => {
		const { poll, staticData } = trigger();
		await poll();
		t.sim.setSessionStatus(sales.id, 'offline');
		assert.equal((await poll()).length, 1);
		const saved = structuredClone(staticData); // a poll that reported: n8n saved it
		t.sim.setSessionStatus(number(3), 'connecting');
		t.sim.setSessionStatus(number(3), 'online'); // back again before the next poll
		assert.equal(await poll(), null); // reported nothing: n8n does not save it
		// n8n restarts; meanwhile Support needs a QR scan.
		t.sim.setSessionStatus(support.id, 'authorize');
		const restarted = trigger({}, { activation: 'init', staticData: saved });
		assert.deepEqual(changed(await restarted.poll()), [[support.id, 'offline', 'authorize']]);
		assert.equal(await restarted.poll(), null);
	});
});

describe('publishing again, and n8n starting', () => {
	test("a user's publish starts from a new baseline: a drop while the workflow was off is not reported", async () => {
		const staticData = {};
		const first = trigger({ filters: { sessionStatus: ['offline'] } }, { staticData });
		await first.poll(); // published: the baseline
		assert.equal(await first.poll(), null);
		// Unpublished; meanwhile Sales drops. Published again: a new activation.
		t.sim.setSessionStatus(sales.id, 'offline');
		const again = trigger({ filters: { sessionStatus: ['offline'] } }, { staticData });
		assert.equal(await again.poll(), null, 'the old drop is not acted on');
		t.sim.setSessionStatus(number(5), 'offline');
		assert.deepEqual(changed(await again.poll()), [[number(5), 'online', 'offline']]);
		assert.equal(await again.poll(), null);
	});

	test("n8n's own start-up continues from the remembered statuses: a drop while n8n was down is reported once", async () => {
		const staticData = {};
		const published = trigger({ filters: { sessionStatus: ['offline'] } }, { staticData });
		await published.poll();
		t.sim.setSessionStatus(sales.id, 'offline');
		const restarted = trigger(
			{ filters: { sessionStatus: ['offline'] } },
			{
				activation: 'init',
				staticData,
			},
		);
		assert.deepEqual(changed(await restarted.poll()), [[sales.id, 'online', 'offline']]);
		assert.equal(await restarted.poll(), null);
	});

	test('a multi-main leadership change continues too; only the first poll of an activation can start afresh', async () => {
		const staticData = {};
		const published = trigger({}, { staticData });
		await published.poll();
		t.sim.setSessionStatus(sales.id, 'offline');
		const leader = trigger({}, { activation: 'leadershipChange', staticData });
		assert.deepEqual(changed(await leader.poll()), [[sales.id, 'online', 'offline']]);
		// The same activation's later polls report as usual.
		t.sim.setSessionStatus(support.id, 'authorize');
		assert.deepEqual(changed(await published.poll()), [[support.id, 'offline', 'authorize']]);
	});
});

describe('failed polls', () => {
	test('SparkBot down: the node error, the state untouched; the change made meanwhile reported once after', async () => {
		const { poll, staticData } = trigger();
		await poll();
		const before = JSON.stringify(staticData);
		t.sim.setFault({ route: 'list', fault: 'internal' });
		t.sim.setSessionStatus(sales.id, 'timeout');
		const error = await poll().catch((e) => e);
		assert.ok(error instanceof NodeApiError, String(error));
		assert.match(error.message, /^The SparkBot API answered 500: /);
		assert.equal(JSON.stringify(staticData), before, 'the remembered statuses are as they were');
		t.sim.clearFaults();
		assert.deepEqual(changed(await poll()), [[sales.id, 'online', 'timeout']]);
		assert.equal(await poll(), null);
	});

	test('a wrong key: the same message as the action node', async () => {
		const { poll, staticData } = trigger();
		const error = await poll({ credentials: { ...t.credentials, apiKey: 'wrong' } }).catch(
			(e) => e,
		);
		assert.ok(error instanceof NodeApiError);
		assert.equal(
			error.message,
			'Authentication failed: check the API key of the SparkBot credential',
		);
		assert.deepEqual(staticData, {});
	});

	test('a filter that is not a number: a clear error before any request', async () => {
		const { poll } = trigger({ filters: { devices: ['Sales'] } });
		const error = await poll().catch((e) => e);
		assert.ok(error instanceof NodeOperationError);
		assert.match(error.message, /^Numbers: "Sales" is not a device ID/);
		assert.equal(t.sim.requests.length, 0);
	});
});

describe("the editor's test run (Fetch Test Event)", () => {
	test('pending changes if there are any, else samples of the watched numbers; nothing remembered', async () => {
		const { poll, staticData } = trigger({ filters: { devices: [sales.id, support.id] } });
		const samples = await poll({ mode: 'manual' });
		assert.deepEqual(changed(samples), [
			[sales.id, 'online', 'online'],
			[support.id, 'offline', 'offline'],
		]);
		assert.deepEqual(staticData, {}, 'a test run remembers nothing');
		await poll();
		const saved = JSON.stringify(staticData);
		t.sim.setSessionStatus(sales.id, 'offline');
		assert.deepEqual(changed(await poll({ mode: 'manual' })), [[sales.id, 'online', 'offline']]);
		assert.equal(JSON.stringify(staticData), saved);
		assert.deepEqual(
			changed(await poll()),
			[[sales.id, 'online', 'offline']],
			'still pending for the real poll',
		);
	});

	test('at most 20 samples', async () => {
		const samples = await trigger().poll({ mode: 'manual' });
		assert.equal(samples.length, 20);
	});

	test('samples are only numbers in a watched status: never a healthy number a Reboot after it would act on', async () => {
		// The self-healing example's filter.
		const healing = { filters: { sessionStatus: ['offline', 'timeout', 'authorize'] } };
		t.sim.setSessionStatus(number(120), 'timeout');
		const samples = await trigger(healing).poll({ mode: 'manual' });
		assert.ok(samples.length > 0);
		for (const device of samples) {
			assert.ok(healing.filters.sessionStatus.includes(device.session.status), device.id);
			assert.equal(device.previousSessionStatus, device.session.status);
		}
		assert.ok(!samples.some((d) => d.id === sales.id), 'Sales is online: not a sample');
		assert.ok(samples.some((d) => d.id === number(120)));
	});

	test('no number in a watched status and nothing pending: no sample, and a message that says so', async () => {
		for (const device of t.sim.devices.values()) device.session.status = 'online';
		const error = await trigger({ filters: { sessionStatus: ['offline', 'timeout', 'authorize'] } })
			.poll({ mode: 'manual' })
			.catch((e) => e);
		assert.ok(error instanceof NodeOperationError, String(error));
		assert.equal(
			error.message,
			'No test event: no number is offline, timeout or authorize right now, and no session changed since the last poll',
		);
		assert.match(error.description, /a made-up one .* would make the next nodes act on it/);
		assert.equal(t.sim.requests.filter((r) => r.method === 'POST').length, 0);
	});
});

test('no output or error of this suite holds the API key', () => {
	assertNoSecret(produced, SECRET);
});
