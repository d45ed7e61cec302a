// SparkBot Webhook Trigger, as the built package runs it against the simulator's webhooks: the
// lifecycle (one webhook per URL, replaced, moved, deleted), every delivery checked before
// anything runs (signatures, replays, duplicates, retries, out-of-order ones), the items (the
// polling trigger's shape), and random delivery sequences checked against a model.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';

import { rng } from '../../scripts/lib/random.mjs';
import {
	DEMO_DEVICES,
	SESSION_STATUSES,
	generatedDevice,
	startSimulator,
} from '../../support/simulator/sparkbot-simulator.mjs';
import { TRIGGER_PATH, assertNoSecret, loadClass, pollContext, root } from './harness.mjs';
import { webhookHost } from './webhook-harness.mjs';

const SECRET = 'sk-live-webhook-7f1d-DO-NOT-LEAK';
const [sales, support] = DEMO_DEVICES;
const RUNS = Number(process.env.WEBHOOK_RUNS ?? 40);
const SEED = Number(process.env.WEBHOOK_SEED ?? 20261203);

let sim;
let credentials;
const hosts = [];
const produced = [];

before(async () => {
	sim = await startSimulator({ apiKey: SECRET, devices: 10, timeScale: 0.01 });
	credentials = { apiKey: SECRET, baseUrl: sim.baseUrl };
});
after(async () => {
	for (const host of hosts) await host.close();
	await sim?.close();
});
beforeEach(() => sim.reset());

let hostSeq = 0;
/** A webhook host of its own (a workflow of its own: nothing remembered from another test). */
async function host(parameters = {}, options = {}) {
	hostSeq += 1;
	const created = await webhookHost({
		credentials,
		parameters,
		workflowId: `wf-${hostSeq}`,
		nodeId: `node-${hostSeq}`,
		...options,
	});
	hosts.push(created);
	return created;
}

/** Resolves once `predicate()` holds (deliveries are sent without being awaited). */
async function until(what, predicate, timeoutMs = 5_000) {
	const deadline = Date.now() + timeoutMs;
	while (!predicate()) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 5));
	}
}

/** A delivery's body as SparkBot would send it (from a throwaway webhook of the simulator's). */
async function deliveryBytes(deviceId) {
	const sink = await webhookHost({ credentials, workflowId: 'wf-bytes', nodeId: 'node-bytes' });
	hosts.push(sink);
	const { delivery } = await sim.deliver({
		webhookId: undefined,
		deviceId,
		status: 'offline',
		signature: 'missing',
	});
	return {
		body: Buffer.from(JSON.stringify(delivery)),
		headers: { 'content-type': 'application/json', 'x-sparkbot-delivery': delivery.id },
	};
}

const statuses = (h) => h.executions.map((e) => e.items.map((i) => [i.id, i.session.status]));

describe('SparkBot Webhook Trigger: the node', () => {
	test('a webhook trigger beside the polling one, described from Rust', async () => {
		const h = await host();
		const generated = JSON.parse(
			readFileSync(join(root, 'node-descriptor/SparkBotWebhookTrigger.description.json'), 'utf8'),
		);
		assert.deepEqual(h.node.description, generated);
		assert.equal(h.node.description.name, 'sparkBotWebhookTrigger');
		assert.equal(h.node.description.polling, undefined);
		assert.deepEqual(h.node.description.webhooks, [
			{ name: 'default', httpMethod: 'POST', responseMode: 'onReceived', path: 'sparkbot' },
		]);
		// The same parameters as the polling trigger's, so a workflow can switch.
		const polling = loadClass(TRIGGER_PATH).description.properties;
		assert.deepEqual(
			h.node.description.properties.filter((p) => p.type !== 'notice'),
			polling,
		);
		for (const method of ['checkExists', 'create', 'delete'])
			assert.equal(typeof h.node.webhookMethods.default[method], 'function');
	});
});

describe('SparkBot Webhook Trigger: the webhook lifecycle', () => {
	test('activation registers exactly one webhook for the URL, with a secret made for it', async () => {
		const h = await host();
		const hooks = h.hooks();
		assert.equal(await hooks.checkExists(), false, 'nothing registered yet');
		assert.equal(await hooks.create(), true);
		const [webhook] = sim.webhooks();
		assert.equal(sim.webhooks().length, 1);
		assert.equal(webhook.url, h.url);
		assert.deepEqual(webhook.events, ['session:status']);
		const stored = h.staticData.webhook;
		assert.equal(stored.webhookId, webhook.id);
		assert.equal(stored.url, h.url);
		assert.match(stored.secret, /^[0-9a-f]{64}$/);
		assert.equal(sim.webhookSecrets()[0].secret, stored.secret);
		assert.equal(await hooks.checkExists(), true, 'n8n restarting finds it and adds none');
		assert.equal(sim.webhooks().length, 1);
		// Another activation makes another secret.
		const other = await host({}, { workflowId: 'wf-2', nodeId: 'node-2' });
		await other.activate();
		assert.notEqual(other.staticData.webhook.secret, stored.secret);
		assert.equal(sim.webhooks().length, 2);
	});

	test('a webhook already registered for the URL (static data lost) is replaced, never doubled', async () => {
		const h = await host();
		await h.activate();
		const first = h.staticData.webhook.webhookId;
		h.staticData = {}; // e.g. the workflow was imported again
		await h.activate();
		assert.deepEqual(
			sim.webhooks().map((w) => w.url),
			[h.url],
		);
		assert.notEqual(sim.webhooks()[0].id, first);
		assert.equal(h.staticData.webhook.webhookId, sim.webhooks()[0].id);
	});

	test("n8n's URL changed: the old webhook is deleted, one for the new URL registered", async () => {
		const h = await host();
		await h.activate();
		const moved = h.url.replace('127.0.0.1', 'localhost');
		await h.activate(moved);
		assert.deepEqual(
			sim.webhooks().map((w) => w.url),
			[moved],
		);
	});

	test('deactivation deletes it; one SparkBot already lost is no error', async () => {
		const h = await host();
		await h.activate();
		assert.equal(await h.hooks().delete(), true);
		assert.deepEqual(sim.webhooks(), []);
		assert.equal(h.staticData.webhook, undefined);
		await h.activate();
		await fetch(`${sim.baseUrl}/webhooks/${h.staticData.webhook.webhookId}`, {
			method: 'DELETE',
			headers: { Token: SECRET },
		});
		assert.equal(await h.hooks().checkExists(), false);
		assert.equal(await h.hooks().delete(), true);
	});

	test("the editor's test URL gets its own webhook and its own run of a change, removed after the test", async () => {
		const h = await host();
		await h.activate();
		const production = h.staticData;
		const test = h.hooks(h.testUrl);
		await test.create();
		assert.deepEqual(
			sim
				.webhooks()
				.map((w) => w.url)
				.sort(),
			[h.url, h.testUrl].sort(),
		);
		assert.deepEqual(h.staticData, production, 'the production registration untouched');
		// One change, delivered to both webhooks: the test run and the production run each get it.
		sim.setSessionStatus(sales.id, 'offline');
		await until('both runs', () => h.executions.length === 2);
		assert.deepEqual(statuses(h), [[[sales.id, 'offline']], [[sales.id, 'offline']]]);
		await test.delete();
		assert.deepEqual(
			sim.webhooks().map((w) => w.url),
			[h.url],
		);
	});

	test('a wrong key or a refused registration is the node error, with no key in it', async () => {
		const h = await host();
		h.credentials = { apiKey: 'wrong-key', baseUrl: sim.baseUrl };
		const error = await h
			.hooks()
			.create()
			.catch((e) => e);
		produced.push(error);
		assert.equal(error.constructor.name, 'NodeApiError');
		assert.match(error.message, /Authentication failed/);
		h.credentials = credentials;
		sim.setFault({ route: '*', fault: 'badRequest', times: 1 });
		const refused = await h
			.hooks()
			.create()
			.catch((e) => e);
		produced.push(refused);
		assert.equal(refused.httpCode, '400');
	});
});

describe('SparkBot Webhook Trigger: deliveries', () => {
	test('a session change starts one execution with the device, its new session and the previous status', async () => {
		const h = await host();
		await h.activate();
		const started = Date.now();
		sim.setSessionStatus(sales.id, 'offline');
		await until('an execution', () => h.executions.length === 1);
		const [item] = h.executions[0].items;
		const device = sim.devices.get(sales.id);
		assert.equal(item.id, sales.id);
		assert.equal(item.alias, 'Sales');
		assert.deepEqual(item.plan, sales.plan, 'the device as GET /devices/{id} shows it');
		assert.deepEqual(item.session, device.session);
		assert.equal(item.previousSessionStatus, 'online');
		assert.ok(h.executions[0].at - started < 1_000, 'within a second');
		produced.push(h.executions);
		// The polling trigger's item for the same change has the same fields.
		const trigger = loadClass(TRIGGER_PATH);
		const staticData = {};
		const poll = () =>
			trigger.poll.call(pollContext({ credentials, staticData, activation: 'activate' }));
		sim.setSessionStatus(sales.id, 'online');
		await poll();
		sim.setSessionStatus(sales.id, 'offline');
		const [[polled]] = await trigger.poll.call(pollContext({ credentials, staticData }));
		assert.deepEqual(Object.keys(item).sort(), Object.keys(polled.json).sort());
	});

	test('a retried, duplicated or replayed delivery runs once; SparkBot gets 200 each time', async () => {
		const h = await host();
		await h.activate();
		const { delivery, attempts } = await sim.deliver({
			deviceId: support.id,
			status: 'timeout',
			copies: 3,
		});
		assert.deepEqual(
			attempts.map((a) => a.status),
			[200, 200, 200],
		);
		const replay = await sim.deliver({ id: delivery.id, replay: true, copies: 2 });
		assert.deepEqual(
			replay.attempts.map((a) => a.status),
			[200, 200],
		);
		assert.equal(h.executions.length, 1);
		assert.deepEqual(statuses(h), [[[support.id, 'timeout']]]);
	});

	test('forged, unsigned and stale deliveries: 401, nothing runs, nothing remembered', async () => {
		const h = await host();
		await h.activate();
		const before = JSON.stringify(h.staticData);
		for (const spec of [
			{ signature: 'wrong' },
			{ signature: 'missing' },
			{ signature: 'otherSecret' },
			{ signature: 'noTimestamp' },
			{ timestampOffsetSecs: -310 },
			{ timestampOffsetSecs: 310 },
		]) {
			const { attempts } = await sim.deliver({ deviceId: sales.id, status: 'offline', ...spec });
			assert.deepEqual(
				attempts.map((a) => a.status),
				[401],
				JSON.stringify(spec),
			);
		}
		assert.ok(
			h.answers.every((a) => a.body === 'Unauthorized'),
			'the same answer for each',
		);
		assert.equal(h.executions.length, 0);
		assert.equal(JSON.stringify(h.staticData), before, 'nothing remembered');
		// A timestamp within five minutes either way is fine.
		const { attempts } = await sim.deliver({
			deviceId: sales.id,
			status: 'offline',
			timestampOffsetSecs: -290,
		});
		assert.deepEqual(
			attempts.map((a) => a.status),
			[200],
		);
		assert.equal(h.executions.length, 1);
	});

	test('a delivery signed with the secret of an older activation is refused', async () => {
		const h = await host();
		await h.activate();
		const old = h.staticData.webhook.secret;
		h.staticData = {};
		await h.activate();
		assert.notEqual(h.staticData.webhook.secret, old);
		// A delivery signed with the old secret (for the webhook that was replaced) is refused.
		const { signDelivery } = await import('../../support/simulator/webhooks.mjs');
		const { body, headers } = await deliveryBytes(sales.id);
		const timestamp = String(Math.floor(Date.now() / 1000));
		const response = await fetch(h.url, {
			method: 'POST',
			headers: {
				...headers,
				'x-sparkbot-timestamp': timestamp,
				'x-sparkbot-signature': signDelivery(old, timestamp, body),
			},
			body,
		});
		assert.equal(response.status, 401);
		const fresh = await sim.deliver({ deviceId: sales.id, status: 'offline' });
		assert.deepEqual(
			fresh.attempts.map((a) => a.status),
			[200],
		);
		assert.equal(h.executions.length, 1);
	});

	test('out of order: a change older than one already seen runs nothing', async () => {
		const h = await host();
		await h.activate();
		const at = (secondsAgo) =>
			new Date(Date.now() - secondsAgo * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
		await sim.deliver({
			deviceId: sales.id,
			status: 'online',
			previousStatus: 'offline',
			updatedAt: at(10),
		});
		await sim.deliver({
			deviceId: sales.id,
			status: 'offline',
			previousStatus: 'online',
			updatedAt: at(20),
		});
		await sim.deliver({
			deviceId: sales.id,
			status: 'timeout',
			previousStatus: 'online',
			updatedAt: at(5),
		});
		assert.deepEqual(statuses(h), [[[sales.id, 'online']], [[sales.id, 'timeout']]]);
		// The simulator's own deliveries, held and sent newest first.
		sim.pauseDeliveries();
		sim.setSessionStatus(support.id, 'rebooting');
		await new Promise((resolve) => setTimeout(resolve, 1_100)); // another second
		sim.setSessionStatus(support.id, 'online');
		sim.resumeDeliveries({ reversed: true });
		await until(
			'both answered',
			() => sim.deliveries.filter((d) => d.deviceId === support.id).length >= 2,
		);
		assert.deepEqual(statuses(h).slice(2), [[[support.id, 'online']]]);
	});

	test('filters: only watched statuses and numbers run; SparkBot gets 200 for the others', async () => {
		const h = await host({
			filters: { sessionStatus: ['offline'], devices: [sales.id, support.id] },
		});
		await h.activate();
		sim.setSessionStatus(sales.id, 'timeout'); // not watched
		sim.setSessionStatus(generatedDevice(3).id, 'offline'); // not one of the numbers
		sim.setSessionStatus(support.id, 'rebooting');
		sim.setSessionStatus(support.id, 'offline');
		await until('four answers', () => sim.deliveries.length >= 4);
		await until('the watched one', () => h.executions.length >= 1);
		assert.ok(sim.deliveries.every((d) => d.status === 200));
		assert.deepEqual(statuses(h), [[[support.id, 'offline']]]);
	});

	test('only a delivery that runs reads the credential: unwatched, forged and duplicate ones cost n8n no read', async () => {
		const h = await host({ filters: { devices: [support.id] } });
		await h.activate();
		h.credentialReads = 0;
		sim.setSessionStatus(sales.id, 'offline'); // not one of the numbers
		await until('the unwatched one answered', () => sim.deliveries.length >= 1);
		await sim.deliver({ deviceId: support.id, status: 'offline', signature: 'wrong' });
		assert.equal(h.credentialReads, 0, 'no read for an unwatched or a forged delivery');
		const { delivery } = await sim.deliver({ deviceId: support.id, status: 'timeout' });
		assert.equal(h.credentialReads, 1, 'one read for the change that runs');
		await sim.deliver({ id: delivery.id, copies: 2 });
		assert.equal(h.credentialReads, 1, 'none for its duplicates');
		assert.deepEqual(statuses(h), [[[support.id, 'timeout']]]);
	});

	test("a credential n8n cannot read (its database busy) fails nothing: the change runs with the delivery's number, the others stay quiet", async () => {
		const h = await host({ filters: { devices: [support.id] } });
		await h.activate();
		h.credentialError = new Error('timeout exceeded when trying to connect');
		sim.setSessionStatus(sales.id, 'offline'); // not watched
		sim.setSessionStatus(support.id, 'timeout');
		await until('both answered', () => sim.deliveries.length >= 2);
		await until('the watched one', () => h.executions.length >= 1);
		assert.ok(
			sim.deliveries.every((d) => d.status === 200),
			'SparkBot gets 200 for both',
		);
		assert.equal(h.executions.length, 1, 'one execution, and no failed one');
		const [item] = h.executions[0].items;
		assert.equal(item.error, undefined);
		assert.equal(item.id, support.id);
		assert.equal(item.alias, support.alias, "the delivery's number");
		assert.equal(item.phone, support.phone);
		assert.deepEqual(
			Object.keys(item).sort(),
			['alias', 'id', 'phone', 'previousSessionStatus', 'session'],
			"the delivery's fields, not the device as GET /devices/{id} shows it",
		);
		assert.equal(item.session.status, 'timeout');
		assert.equal(item.session.updatedAt, sim.devices.get(support.id).session.updatedAt);
		assert.equal(item.previousSessionStatus, 'offline');
		assert.equal(
			sim.requests.filter((r) => r.path === `/v1/devices/${support.id}`).length,
			0,
			'no read of SparkBot without a credential',
		);
	});

	test('a signed body that is not a delivery: 400, nothing runs', async () => {
		const h = await host();
		await h.activate();
		const { secret } = h.staticData.webhook;
		const { signDelivery } = await import('../../support/simulator/webhooks.mjs');
		const body = Buffer.from('{"hello":"world"}');
		const timestamp = String(Math.floor(Date.now() / 1000));
		const response = await fetch(h.url, {
			method: 'POST',
			headers: {
				'content-type': 'application/json',
				'x-sparkbot-timestamp': timestamp,
				'x-sparkbot-signature': signDelivery(secret, timestamp, body),
			},
			body,
		});
		assert.equal(response.status, 400);
		assert.equal(h.executions.length, 0);
	});

	test('the same delivery twice at the same moment runs once (each request loads the static data)', async () => {
		const h = await host();
		await h.activate();
		const first = await sim.deliver({ deviceId: sales.id, status: 'offline' });
		const id = first.delivery.id;
		await Promise.all([1, 2, 3].map(() => sim.deliver({ id, replay: false })));
		assert.equal(h.executions.length, 1);
	});

	test('after a restart (a new process memory) the static data still knows what ran', async () => {
		const h = await host();
		await h.activate();
		const { delivery } = await sim.deliver({ deviceId: sales.id, status: 'offline' });
		h.workflowId = 'wf-webhook-1-after-restart'; // another key: nothing from this process
		await sim.deliver({ id: delivery.id });
		assert.equal(h.executions.length, 1);
	});

	test('the memory stays bounded: 1,200 changes leave about 100 KB of static data', async () => {
		const h = await host();
		await h.activate();
		for (let n = 0; n < 1_200; n++) {
			const device = generatedDevice((n % 10) + 1);
			await sim.deliver({
				deviceId: device.id,
				status: n % 2 ? 'online' : 'offline',
				updatedAt: new Date(Date.now() - (1_200 - n) * 1000)
					.toISOString()
					.replace(/\.\d{3}Z$/, 'Z'),
			});
		}
		const { deliveries } = h.staticData;
		assert.equal(deliveries.deliveries.length, 1_000);
		assert.ok(
			JSON.stringify(deliveries).length < 110_000,
			`${JSON.stringify(deliveries).length} bytes`,
		);
		assert.equal(h.executions.length, 1_200);
	});

	test(`${RUNS} random delivery sequences run exactly what the model says (seed ${SEED})`, async () => {
		const r = rng(SEED);
		for (let run = 0; run < RUNS; run++) {
			sim.reset();
			const watched = r.chance(0.5) ? [] : [r.pick(SESSION_STATUSES)];
			const h = await host(
				{ filters: { sessionStatus: watched } },
				{ workflowId: `wf-model-${run}` },
			);
			await h.activate();
			const devices = [sales, support, generatedDevice(1)];
			const sent = []; // what went out: { id, device, status, updated }
			const expected = [];
			const newest = new Map(); // device → [updated, status] seen
			const seenIds = new Set();
			const base = Math.floor(Date.now() / 1000) - 600;
			for (let step = 0; step < 8; step++) {
				const kind = r.pick(['new', 'new', 'new', 'duplicate', 'forged', 'stale', 'old']);
				const device = r.pick(devices);
				const status = r.pick(SESSION_STATUSES);
				const updated = base + r.int(500);
				const iso = new Date(updated * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
				let spec;
				if (kind === 'duplicate' && sent.length) spec = { id: r.pick(sent).id };
				else if (kind === 'forged')
					spec = {
						deviceId: device.id,
						status,
						updatedAt: iso,
						signature: r.pick(['wrong', 'missing', 'otherSecret']),
					};
				else if (kind === 'stale')
					spec = { deviceId: device.id, status, updatedAt: iso, timestampOffsetSecs: -400 };
				else if (kind === 'old')
					spec = {
						deviceId: device.id,
						status,
						updatedAt: new Date((base - 3_000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
					};
				else spec = { deviceId: device.id, status, updatedAt: iso };
				const { delivery, attempts } = await sim.deliver(spec);
				const signedOk = !spec.signature && !spec.timestampOffsetSecs;
				assert.equal(attempts[0].status, signedOk ? 200 : 401, `run ${run} step ${step} ${kind}`);
				if (!signedOk) continue;
				if (!sent.some((s) => s.id === delivery.id)) sent.push({ id: delivery.id });
				// The model.
				if (seenIds.has(delivery.id)) continue;
				seenIds.add(delivery.id);
				const at = Math.floor(Date.parse(delivery.data.updatedAt) / 1000);
				if (at < Math.floor(Date.now() / 1000) - 1_800) continue;
				const known = newest.get(delivery.device.id);
				const newer =
					!known || at > known[0] || (at === known[0] && delivery.data.status !== known[1]);
				if (!newer) continue;
				newest.set(delivery.device.id, [at, delivery.data.status]);
				if (watched.length && !watched.includes(delivery.data.status)) continue;
				expected.push([delivery.device.id, delivery.data.status]);
			}
			assert.deepEqual(
				h.executions.map((e) => [e.items[0].id, e.items[0].session.status]),
				expected,
				`run ${run} of seed ${SEED}`,
			);
			produced.push(h.executions, h.answers);
		}
	});

	test('the API key is in nothing the trigger produced', () => {
		assert.ok(assertNoSecret(produced, SECRET) > 0);
	});
});
