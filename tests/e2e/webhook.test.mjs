// SparkBot Webhook Trigger in a real n8n: a workflow SparkBot Webhook Trigger → No Operation,
// published, against the simulator's webhooks. Checked: activation registers exactly one webhook
// for n8n's production URL; a session change starts one execution within a second, with the
// device as the polling trigger would report it; a retried, a duplicated, a replayed, an
// out-of-order, a forged and a stale delivery start nothing more (and the forged and stale ones
// are refused with 401); unpublishing deletes the webhook; a restart of n8n keeps exactly the
// one webhook (and the memory of what ran); after a restart under another URL, publishing again
// moves the webhook; and the API key is in no execution and no log.
//
// n8n version: SPARKBOT_E2E_N8N (default: the newest, NEWEST_N8N in scripts/n8n/runtime.mjs) on
// Node SPARKBOT_E2E_NODE (default 24).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import * as instance from '../../scripts/n8n/instance.mjs';
import { sleep, waitUntil } from '../../scripts/lib/wait.mjs';
import {
	DEMO_DEVICES,
	generatedDevice,
	startSimulator,
} from '../../support/simulator/sparkbot-simulator.mjs';
import {
	CREDENTIAL_TYPE,
	EXAMPLE_CREDENTIAL,
	N8N_VERSION,
	WEBHOOK_TRIGGER_TYPE,
	e2eSetup,
	exampleChatCredential,
	readExamples,
	sparkBotCredential,
} from './fixtures.mjs';
import { readQrPng } from '../simulator/qr.mjs';

const SECRET = 'sk-e2e-webhook-3a9c-NEVER-IN-OUTPUT';
const WEBHOOK_ID = randomUUID();
const [sales, support] = DEMO_DEVICES;
const INSTANT_EXAMPLE_ID = 'SparkBotExWebhk1';

let runtime;
let userFolder;
let sim;
let n8n;
let cookie;
let workflow;
/** The instant self-healing example's own SparkBot account, and the example. */
let healSim;
let example;

/** SparkBot Webhook Trigger (every change) → No Operation. */
function webhookWorkflow(credential) {
	return {
		name: 'e2e: SparkBot Webhook Trigger',
		nodes: [
			{
				name: 'Session changed',
				type: WEBHOOK_TRIGGER_TYPE,
				typeVersion: 1,
				webhookId: WEBHOOK_ID,
				position: [0, 0],
				parameters: { event: 'sessionStatusChanged', filters: {} },
				credentials: { [CREDENTIAL_TYPE]: { id: credential.id, name: credential.name } },
			},
			{
				name: 'Got it',
				type: 'n8n-nodes-base.noOp',
				typeVersion: 1,
				position: [240, 0],
				parameters: {},
			},
		],
		connections: { 'Session changed': { main: [[{ node: 'Got it', type: 'main', index: 0 }]] } },
		settings: { executionOrder: 'v1' },
	};
}

const productionUrl = (base = n8n.url) => `${base}/webhook/${WEBHOOK_ID}/sparkbot`;

/** The workflow's executions, newest first (`limit` 100: n8n 2.41 refuses more). */
async function executions() {
	const filter = encodeURIComponent(JSON.stringify({ workflowId: workflow.id }));
	const { results } = await instance.restRequest(
		n8n.url,
		cookie,
		'GET',
		`/rest/executions?filter=${filter}&limit=100`,
	);
	return results;
}

async function executionCount(count, what) {
	let seen = [];
	await waitUntil(what, async () => (seen = await executions()).length >= count, {
		timeoutMs: 30_000,
		pollMs: 100,
	});
	return seen;
}

/**
 * When an execution started (ms): `startedAt` of the execution list — n8n 2.41 fills it once the
 * execution ran; until then (and in 1.x's list of a queued one) `createdAt` says when it began.
 */
async function startOf(execution) {
	let summary = execution;
	await waitUntil(
		'the execution finished',
		async () => {
			summary = (await executions()).find((e) => e.id === execution.id) ?? summary;
			return Boolean(summary.startedAt) && summary.status !== 'running';
		},
		{ timeoutMs: 30_000, pollMs: 100 },
	);
	return Date.parse(summary.startedAt);
}

/** The item the trigger handed over in execution `id`. */
async function reported(id) {
	const { data } = await instance.executionData(runtime, n8n.url, cookie, id);
	return data.resultData.runData['Session changed'][0].data.main[0].map((i) => i.json);
}

/**
 * Waits until an execution reports number `id` in `status`, then checks that exactly one does
 * (other tests' executions are told apart by what they report). On failure, the message lists
 * what every execution reported.
 */
async function reportedOnce(id, status, what) {
	let reports = [];
	const read = async () => {
		reports = [];
		for (const execution of await executions()) {
			const items = await reported(execution.id).catch(() => [{ id: `(${execution.status})` }]);
			reports.push(...items.map((item) => [execution.id, item.id, item.session?.status]));
		}
		return reports.filter(([, device, now]) => device === id && now === status);
	};
	await waitUntil(what, async () => (await read()).length >= 1, { timeoutMs: 30_000, pollMs: 250 });
	const matching = await read();
	assert.equal(matching.length, 1, `${what}: ${JSON.stringify(reports)}`);
}

/** Unpublishes the workflow (its webhook deleted), then publishes it again. */
async function unpublishAndPublishAgain() {
	await instance.deactivateWorkflow(n8n.url, cookie, workflow.id);
	await waitUntil('no webhook', () => sim.webhooks().length === 0, { timeoutMs: 30_000 });
	await instance.activateWorkflow(n8n.url, cookie, workflow.id);
}

/** n8n 2.41 publishes an activation through an outbox: the webhook appears a moment later. */
async function oneWebhookFor(url) {
	await waitUntil(
		`one webhook for ${url}`,
		() => sim.webhooks().length === 1 && sim.webhooks()[0].url === url,
		{ timeoutMs: 30_000, pollMs: 100 },
	).catch((error) => {
		error.message += `; registered: ${JSON.stringify(sim.webhooks())}`;
		throw error;
	});
	return sim.webhooks()[0];
}

async function restart(env = {}, port = n8n.port) {
	await n8n.stop();
	n8n = await instance.startN8n({ runtime, userFolder, port, env });
	({ cookie } = await instance.login(n8n.url));
}

before(
	async () => {
		({ runtime, userFolder } = await e2eSetup());
		sim = await startSimulator({ apiKey: SECRET, devices: 10, timeScale: 0.01 });
		const [credential] = await instance.importCredentials(
			runtime,
			userFolder,
			sparkBotCredential({ apiKey: SECRET, baseUrl: sim.baseUrl }),
		);
		[workflow] = await instance.importWorkflow(runtime, userFolder, [webhookWorkflow(credential)]);
		healSim = await startSimulator({ apiKey: SECRET, devices: 12 });
		await instance.importCredentials(runtime, userFolder, [
			{ ...EXAMPLE_CREDENTIAL, data: { apiKey: SECRET, baseUrl: healSim.baseUrl } },
			exampleChatCredential(healSim),
		]);
		[example] = await instance.importWorkflow(
			runtime,
			userFolder,
			readExamples().filter((w) => w.id === INSTANT_EXAMPLE_ID),
		);
		n8n = await instance.startN8n({ runtime, userFolder });
		({ cookie } = await instance.setupOwner(n8n.url));
		await instance.activateWorkflow(n8n.url, cookie, workflow.id);
	},
	{ timeout: 10 * 60_000 },
);

after(async () => {
	await n8n?.stop();
	await sim?.close();
	await healSim?.close();
	instance.removeUserFolder(userFolder);
});

describe(`SparkBot Webhook Trigger in n8n ${N8N_VERSION}`, () => {
	test("publishing registers exactly one webhook, for n8n's production URL", async () => {
		const webhook = await oneWebhookFor(productionUrl());
		assert.deepEqual(webhook.events, ['session:status']);
		await sleep(1_000);
		assert.equal(sim.webhooks().length, 1, 'still one');
	});

	test('a session change starts one execution within a second, with the device as SparkBot shows it', async () => {
		const changedAt = Date.now();
		sim.setSessionStatus(sales.id, 'offline');
		const [execution] = await executionCount(1, 'an execution');
		const startedAt = await startOf(execution);
		const delay = startedAt - changedAt;
		console.log(`# session change → execution start: ${delay} ms`);
		assert.ok(delay < 1_000, `${delay} ms (${JSON.stringify(execution)})`);
		assert.equal(execution.mode, 'webhook');
		const [item] = await reported(execution.id);
		assert.equal(item.id, sales.id);
		assert.equal(item.alias, 'Sales');
		assert.equal(item.session.status, 'offline');
		assert.equal(item.previousSessionStatus, 'online');
		assert.deepEqual(item.plan, sales.plan, 'read from GET /devices/{id}');
		await waitUntil('the delivery answered', () =>
			sim.deliveries.some((d) => d.deviceId === sales.id),
		);
		const attempts = sim.deliveries.filter((d) => d.deviceId === sales.id);
		assert.deepEqual(
			attempts.map((a) => a.status),
			[200],
		);
	});

	test('retried, duplicated, replayed, out-of-order, forged and stale deliveries start nothing more', async () => {
		const [change] = sim.deliveries.filter((d) => d.kind === 'change');
		const statuses = async (spec) => (await sim.deliver(spec)).attempts.map((a) => a.status);
		// SparkBot's retry (re-signed, same delivery ID), a duplicate, a replay of the bytes.
		assert.deepEqual(await statuses({ id: change.deliveryId, copies: 2 }), [200, 200]);
		assert.deepEqual(
			await statuses({ id: change.deliveryId, replay: true, copies: 2 }),
			[200, 200],
		);
		// Out of order: a change older than the one reported.
		const aMinuteAgo = new Date(Date.now() - 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
		assert.deepEqual(
			await statuses({ deviceId: sales.id, status: 'timeout', updatedAt: aMinuteAgo }),
			[200],
		);
		// Forged and stale: refused.
		for (const signature of ['wrong', 'missing', 'otherSecret'])
			assert.deepEqual(await statuses({ deviceId: support.id, status: 'timeout', signature }), [
				401,
			]);
		assert.deepEqual(
			await statuses({ deviceId: support.id, status: 'timeout', timestampOffsetSecs: -400 }),
			[401],
		);
		await sleep(2_000);
		assert.equal((await executions()).length, 1, 'still the one execution');
		// The trigger still works.
		sim.setSessionStatus(support.id, 'timeout');
		const [newest] = await executionCount(2, 'the next change');
		assert.deepEqual(
			(await reported(newest.id)).map((i) => [i.id, i.session.status]),
			[[support.id, 'timeout']],
		);
	});

	test('unpublishing deletes the webhook', async () => {
		await unpublishAndPublishAgain();
		await oneWebhookFor(productionUrl());
	});

	test("Listen for test event: a webhook for n8n's test URL, one test execution, then it is deleted", async () => {
		// What the editor sends (n8n 1.x wants the workflow in the body; 2.x reads it itself).
		const workflowData = await instance.restRequest(
			n8n.url,
			cookie,
			'GET',
			`/rest/workflows/${workflow.id}`,
		);
		const started = await instance.restRequest(
			n8n.url,
			cookie,
			'POST',
			`/rest/workflows/${workflow.id}/run`,
			{ workflowData, triggerToStartFrom: { name: 'Session changed' } },
		);
		assert.equal(started.waitingForWebhook, true, JSON.stringify(started));
		const testUrl = `${n8n.url}/webhook-test/${WEBHOOK_ID}/sparkbot`;
		await waitUntil(
			'a webhook for the test URL',
			() => sim.webhooks().some((w) => w.url === testUrl),
			{ timeoutMs: 30_000, pollMs: 100 },
		);
		assert.deepEqual(
			sim
				.webhooks()
				.map((w) => w.url)
				.sort(),
			[productionUrl(), testUrl].sort(),
			'the production webhook and the test one',
		);
		const before = (await executions()).length;
		sim.setSessionStatus(generatedDevice(6).id, 'timeout');
		await waitUntil(
			'the test webhook deleted after its one event',
			() => !sim.webhooks().some((w) => w.url === testUrl),
			{ timeoutMs: 30_000, pollMs: 100 },
		);
		const list = await executionCount(before + 2, 'the production and the test execution').catch(
			async (error) => {
				error.message += `; executions: ${JSON.stringify((await executions()).map((e) => [e.id, e.mode, e.status]))}; deliveries: ${JSON.stringify(sim.deliveries.slice(-4).map((d) => [d.webhookId, d.deviceId, d.status, d.error]))}`;
				throw error;
			},
		);
		assert.deepEqual(
			list
				.slice(0, 2)
				.map((e) => e.mode)
				.sort(),
			['manual', 'webhook'],
		);
		const test = list.find((e) => e.mode === 'manual');
		assert.deepEqual(
			(await reported(test.id)).map((i) => [i.id, i.session.status]),
			[[generatedDevice(6).id, 'timeout']],
		);
		assert.deepEqual(
			sim.webhooks().map((w) => w.url),
			[productionUrl()],
		);
	});

	test('the instant self-healing example: a dropped session is rebooted within seconds, a QR code reaches the chat', async () => {
		await instance.activateWorkflow(n8n.url, cookie, example.id);
		await waitUntil('the example registered its webhook', () => healSim.webhooks().length === 1, {
			timeoutMs: 30_000,
			pollMs: 100,
		});
		const droppedAt = Date.now();
		healSim.setSessionStatus(sales.id, 'offline');
		await waitUntil(
			'the reboot',
			() =>
				healSim.requests.some((r) => r.method === 'POST' && r.path.endsWith(`${sales.id}/reboot`)),
			{ timeoutMs: 30_000, pollMs: 50 },
		).catch(async (error) => {
			const filter = encodeURIComponent(JSON.stringify({ workflowId: example.id }));
			const list = await instance.restRequest(
				n8n.url,
				cookie,
				'GET',
				`/rest/executions?filter=${filter}`,
			);
			error.message += `; deliveries: ${JSON.stringify(healSim.deliveries.map((d) => [d.deviceId, d.status, d.error]))}; executions: ${JSON.stringify(list.results?.map((e) => [e.id, e.status]))}; requests: ${JSON.stringify(healSim.requests.map((r) => [r.method, r.path]))}`;
			throw error;
		});
		const reboot = healSim.requests.find((r) => r.path.endsWith(`${sales.id}/reboot`));
		console.log(`# session dropped → Reboot Session sent: ${reboot.at - droppedAt} ms`);
		assert.ok(reboot.at - droppedAt < 2_000, `${reboot.at - droppedAt} ms`);
		assert.deepEqual(reboot.body, { force: true, sync: false, wait: true });
		const scan = generatedDevice(8);
		healSim.setSessionStatus(scan.id, 'authorize');
		await waitUntil(
			'the QR code in the chat',
			() => healSim.chat.some((m) => m.method === 'sendPhoto'),
			{
				timeoutMs: 30_000,
				pollMs: 100,
			},
		);
		const [photo] = healSim.chat;
		assert.equal(photo.fileName, `number-008-${scan.phone}-qr.png`);
		assert.equal(readQrPng(photo.photo), healSim.qrCode(scan.id).qr);
		await waitUntil(
			'Sales back online',
			() => healSim.devices.get(sales.id).session.status === 'online',
			{
				timeoutMs: 30_000,
			},
		);
	});

	test('a restart of n8n keeps exactly the one webhook, and what ran', async () => {
		const [before] = sim.webhooks();
		const dropped = generatedDevice(2).id;
		sim.setSessionStatus(dropped, 'offline');
		await reportedOnce(dropped, 'offline', 'the change before the restart');
		const delivered = sim.deliveries.findLast((d) => d.kind === 'change' && d.deviceId === dropped);
		await restart();
		await sleep(2_000);
		assert.deepEqual(sim.webhooks(), [before], 'the same webhook, no other');
		// SparkBot retrying the delivery from before the restart runs nothing.
		assert.deepEqual(
			(await sim.deliver({ id: delivered.deliveryId })).attempts.map((a) => a.status),
			[200],
		);
		const scanned = generatedDevice(3).id;
		sim.setSessionStatus(scanned, 'authorize');
		await reportedOnce(scanned, 'authorize', 'a change after the restart');
		// Time for a retry that wrongly ran to show up, then each change exactly once.
		await sleep(2_000);
		await reportedOnce(dropped, 'offline', 'still once: the retry ran nothing');
	});

	test('n8n restarted under another URL: deliveries still run; the webhook moves (at the start, or when published again), none is left at the old one', async () => {
		// n8n 2.x calls a trigger's registration only when the workflow is published (on a
		// restart it keeps the webhooks it registered): the old URL still reaches this n8n here,
		// and the deliveries sent to it are checked with the secret kept in static data.
		const oldUrl = productionUrl();
		const moved = `http://localhost:${n8n.port}`;
		await restart({ WEBHOOK_URL: `${moved}/` });
		const count = (await executions()).length;
		sim.setSessionStatus(generatedDevice(4).id, 'offline');
		await executionCount(count + 1, 'a change delivered');
		// n8n 1.x checks its webhooks when it starts, so the node has moved it already; 2.x keeps
		// them as they are until the workflow is published again.
		const [now] = sim.webhooks();
		assert.equal(sim.webhooks().length, 1);
		assert.equal(now.url, N8N_VERSION.startsWith('1.') ? productionUrl(moved) : oldUrl);
		await unpublishAndPublishAgain();
		const webhook = await oneWebhookFor(productionUrl(moved));
		assert.notEqual(webhook.url, oldUrl);
		sim.setSessionStatus(generatedDevice(5).id, 'timeout');
		await executionCount(count + 2, 'a change delivered to the new URL');
	});

	test('the API key is in no execution and no log', async () => {
		for (const execution of await executions()) {
			const full = await instance.restRequest(
				n8n.url,
				cookie,
				'GET',
				`/rest/executions/${execution.id}`,
			);
			assert.ok(!JSON.stringify(full).includes(SECRET), `execution ${execution.id}`);
		}
		assert.ok(!n8n.output().includes(SECRET), "n8n's log");
	});
});
