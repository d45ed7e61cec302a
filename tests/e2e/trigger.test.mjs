// SparkBot Trigger in a real n8n: activated workflows poll the simulator by themselves (n8n's
// Poll Times: Every Minute, the shortest n8n allows). Each workflow is SparkBot Trigger → HTTP
// Request, which posts every reported item to a small sink server here, so the test sees exactly
// what n8n's executions received:
//   - "all": every change of every number;
//   - "watched": a Session Status filter (offline, timeout).
// It checks: nothing at activation (the baseline), each change once with its previous status, the
// filter, no execution when nothing changed, a change made while n8n was down reported once after
// the restart (and nothing twice), a failed poll shown as the node's error in n8n, and the change
// made during the outage reported once afterwards. About six minutes: each step waits for a poll.
//
// The self-healing example (examples/sparkbot-self-healing.json), activated as users import it,
// runs its whole loop against a second simulator (its own account, so that its reboots do not
// show up in the workflows above): sessions drop during the first test's poll interval; one comes
// back with a reboot, one needs a reset after a failed reboot, one cannot be fixed (403), one
// needs a QR scan — its code reaches the chat stand-in as a photo that scans — and one
// needs a scan but SparkBot's QR answer is broken: the 403 and the broken answer reach "Notify a
// human", and "Tell a human" sends why to the chat.
//
// n8n version: SPARKBOT_E2E_N8N (default: the newest, NEWEST_N8N in scripts/n8n/runtime.mjs) on
// Node SPARKBOT_E2E_NODE (default 24).
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';

import * as instance from '../../scripts/n8n/instance.mjs';
import { sleep, waitUntil } from '../../scripts/lib/wait.mjs';
import {
	DEMO_DEVICES,
	generatedDevice,
	startSimulator,
} from '../../support/simulator/sparkbot-simulator.mjs';
import { readQrPng } from '../simulator/qr.mjs';
import {
	N8N_VERSION,
	CREDENTIAL_TYPE,
	EXAMPLE_CREDENTIAL,
	TRIGGER_TYPE,
	exampleChatCredential,
	e2eSetup,
	readExamples,
	sparkBotCredential,
} from './fixtures.mjs';

const SECRET = 'sk-e2e-trigger-77aa-NEVER-IN-OUTPUT';
const EVERY_MINUTE = { item: [{ mode: 'everyMinute' }] };
/** A little more than one poll interval. */
const POLL_MS = 75_000;
const [sales, support] = DEMO_DEVICES;
const billing = DEMO_DEVICES.find((d) => d.alias === 'Billing');
const SELF_HEALING_ID = 'SparkBotExHealer';

let runtime;
let userFolder;
let sim;
let n8n;
let cookie;
let sink;
/** The self-healing example's own SparkBot account. */
let healSim;
const workflows = {};

/** The items each workflow's HTTP Request posted, by path (`/all`, `/watched`). */
function startSink() {
	const received = { '/all': [], '/watched': [] };
	const server = createServer((req, res) => {
		let body = '';
		req.on('data', (chunk) => (body += chunk));
		req.on('end', () => {
			(received[req.url] ??= []).push({ at: Date.now(), json: JSON.parse(body || '{}') });
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end('{}');
		});
	});
	return new Promise((resolve) =>
		server.listen(0, '127.0.0.1', () =>
			resolve({
				url: `http://127.0.0.1:${server.address().port}`,
				received,
				close: () => new Promise((done) => server.close(done)),
			}),
		),
	);
}

function triggerWorkflow(name, path, credential, { pollTimes, filters = {} }) {
	const trigger = {
		name: 'SparkBot Trigger',
		type: TRIGGER_TYPE,
		typeVersion: 1,
		position: [0, 0],
		parameters: { pollTimes, event: 'sessionStatusChanged', filters },
		credentials: { [CREDENTIAL_TYPE]: { id: credential.id, name: credential.name } },
	};
	const post = {
		name: 'Tell the sink',
		type: 'n8n-nodes-base.httpRequest',
		typeVersion: 4.2,
		position: [240, 0],
		parameters: {
			method: 'POST',
			url: `${sink.url}${path}`,
			sendBody: true,
			specifyBody: 'json',
			jsonBody: '={{ JSON.stringify($json) }}',
			options: {},
		},
	};
	return {
		name,
		nodes: [trigger, post],
		connections: { [trigger.name]: { main: [[{ node: post.name, type: 'main', index: 0 }]] } },
		settings: { executionOrder: 'v1' },
	};
}

/** The session changes the sink got on `path` since index `from`: [id, previous, status]. */
function reported(path, from = 0) {
	return sink.received[path]
		.slice(from)
		.map(({ json }) => [json.id, json.previousSessionStatus, json.session?.status]);
}

async function startN8nHere() {
	n8n = await instance.startN8n({ runtime, userFolder });
	cookie = (await instance.login(n8n.url)).cookie;
}

before(
	async () => {
		({ runtime, userFolder } = await e2eSetup());
		sim = await startSimulator({ apiKey: SECRET, devices: 20 });
		sink = await startSink();
		const [credential] = await instance.importCredentials(
			runtime,
			userFolder,
			sparkBotCredential({ apiKey: SECRET, baseUrl: sim.baseUrl }),
		);
		const imported = await instance.importWorkflow(runtime, userFolder, [
			triggerWorkflow('e2e: trigger, every change', '/all', credential, {
				pollTimes: EVERY_MINUTE,
			}),
			triggerWorkflow('e2e: trigger, offline or timeout', '/watched', credential, {
				pollTimes: EVERY_MINUTE,
				filters: { sessionStatus: ['offline', 'timeout'] },
			}),
		]);
		[workflows.all, workflows.watched] = imported;
		healSim = await startSimulator({ apiKey: SECRET, devices: 12 });
		await instance.importCredentials(runtime, userFolder, [
			{ ...EXAMPLE_CREDENTIAL, data: { apiKey: SECRET, baseUrl: healSim.baseUrl } },
			exampleChatCredential(healSim),
		]);
		[workflows.selfHealing] = await instance.importWorkflow(
			runtime,
			userFolder,
			readExamples().filter((w) => w.id === SELF_HEALING_ID),
		);
		n8n = await instance.startN8n({ runtime, userFolder });
		({ cookie } = await instance.setupOwner(n8n.url));
		for (const workflow of Object.values(workflows))
			await instance.activateWorkflow(n8n.url, cookie, workflow.id);
		await waitUntil(
			'the self-healing example polled once (its baseline)',
			() => healSim.requests.some((r) => r.path === '/v1/devices'),
			{ timeoutMs: POLL_MS },
		);
	},
	{ timeout: 15 * 60_000 },
);

after(async () => {
	await n8n?.stop();
	await sim?.close();
	await healSim?.close();
	await sink?.close();
	instance.removeUserFolder(userFolder);
});

describe(`SparkBot Trigger in n8n ${N8N_VERSION}, activated`, () => {
	test('activation sets the baseline; each change arrives by itself once, with its previous status, through the filter', async () => {
		assert.deepEqual(reported('/all'), [], 'nothing at activation');
		dropSessionsOfTheExample(); // checked in the next test, after the same poll
		sim.setSessionStatus(sales.id, 'offline');
		sim.setSessionStatus(generatedDevice(4).id, 'authorize'); // not watched by "watched"
		sim.setSessionStatus(generatedDevice(5).id, 'timeout');
		await waitUntil(
			'both triggers reported',
			() => sink.received['/all'].length >= 3 && sink.received['/watched'].length >= 2,
			{
				timeoutMs: POLL_MS,
			},
		);
		assert.deepEqual(reported('/all'), [
			[sales.id, 'online', 'offline'],
			[generatedDevice(4).id, 'online', 'authorize'],
			[generatedDevice(5).id, 'online', 'timeout'],
		]);
		assert.deepEqual(reported('/watched'), [
			[sales.id, 'online', 'offline'],
			[generatedDevice(5).id, 'online', 'timeout'],
		]);
		assert.deepEqual(
			sink.received['/all'][0].json.plan,
			sales.plan,
			'the device as SparkBot sent it',
		);
	});

	// Before n8n restarts (next test): its execution started with the poll above must finish first.
	test('the self-healing example: reboot, reset when the reboot fails, a QR code sent to a person, a human told what neither fixes', async () => {
		let seen = [];
		await waitUntil(
			'the example ran once and finished',
			async () => (seen = await finishedExecutions(workflows.selfHealing)).length === 1,
			{ timeoutMs: POLL_MS + 30_000 },
		).catch((error) => {
			error.message += `; its executions: ${JSON.stringify(seen.map((e) => [e.id, e.status, e.startedAt, e.stoppedAt]))}`;
			throw error;
		});
		const [execution] = await finishedExecutions(workflows.selfHealing);
		assert.equal(execution.status, 'success');
		assert.deepEqual(
			healPosts()
				.map((r) => [r.path.split('/')[3], r.path.split('/')[4], r.body])
				.sort(),
			[
				[billing.id, 'reboot', { force: true, sync: false, wait: true }],
				[billing.id, 'reset', { deleteAllData: false, wait: true, emptyQueue: false }],
				[generatedDevice(6).id, 'reboot', { force: true, sync: false, wait: true }],
				[generatedDevice(6).id, 'reset', { deleteAllData: false, wait: true, emptyQueue: false }],
				[sales.id, 'reboot', { force: true, sync: false, wait: true }],
			].sort(),
			'reboot each dropped session; reset only the one whose reboot failed and the forbidden one',
		);
		assert.equal(healSim.devices.get(sales.id).session.status, 'online');
		assert.equal(healSim.devices.get(generatedDevice(6).id).session.status, 'online');

		const { data } = await instance.executionData(runtime, n8n.url, cookie, execution.id);
		const items = (node) =>
			(data.resultData.runData[node] ?? [])
				.flatMap((run) => run.data.main[0] ?? [])
				.map((i) => i.json);
		assert.deepEqual(
			items('Back online')
				.map((d) => d.id)
				.sort(),
			[sales.id, generatedDevice(6).id].sort(),
		);
		const scan = generatedDevice(8);
		assert.deepEqual(
			items('Get QR code').map((d) => [d.id, d.alias, d.phone, d.qr]),
			[[scan.id, scan.alias, scan.phone, healSim.qrCode(scan.id).qr]],
		);
		const notes = items('Notify a human');
		assert.deepEqual(
			notes.map((n) => n.number).sort(),
			[billing.alias, generatedDevice(10).alias].sort(),
		);
		const says = (number) => notes.find((n) => n.number === number).message;
		assert.match(
			says(billing.alias),
			/^WhatsApp number Billing: could not bring the session back\. .*403/,
		);
		assert.match(
			says(generatedDevice(10).alias),
			/the QR code answer has an image that is not a PNG/,
		);
		// The person gets the QR code as a photo that scans, and the messages about the others.
		const photos = healSim.chat.filter((m) => m.method === 'sendPhoto');
		assert.equal(photos.length, 1);
		assert.equal(photos[0].fileName, `number-008-${scan.phone}-qr.png`);
		assert.equal(photos[0].contentType, 'image/png');
		assert.match(
			photos[0].caption,
			/^WhatsApp number Number 008 needs a QR scan\. .*Linked devices/,
		);
		assert.equal(readQrPng(photos[0].photo), healSim.qrCode(scan.id).qr, 'the photo scans');
		const texts = healSim.chat.filter((m) => m.method === 'sendMessage').map((m) => m.text);
		assert.deepEqual(
			texts.sort(),
			notes
				.map((n) => n.message.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'))
				.sort(),
		);
	});

	test('a change made while n8n is down is reported once after the restart; nothing twice, no execution without a change', async () => {
		const before = sink.received['/all'].length;
		await n8n.stop();
		sim.setSessionStatus(support.id, 'authorize');
		await startN8nHere();
		await waitUntil(
			'the change made while n8n was down is reported',
			() => sink.received['/all'].length > before,
			{ timeoutMs: POLL_MS },
		);
		// One more poll, with nothing changed.
		const polledAt = Date.now();
		await waitUntil(
			'another poll',
			() => sim.requests.some((r) => r.path === '/v1/devices' && r.at > polledAt + 1_000),
			{ timeoutMs: POLL_MS },
		);
		await sleep(3_000);
		assert.deepEqual(reported('/all', before), [[support.id, 'offline', 'authorize']]);
	});

	test("a failed poll shows the node's error in n8n; the change made during the outage is reported once after", async () => {
		const before = sink.received['/all'].length;
		const errorsBefore = await failedExecutions();
		sim.setFault({ route: 'list', fault: 'internal' });
		sim.setSessionStatus(generatedDevice(9).id, 'offline');
		let errors;
		await waitUntil(
			'n8n recorded a failed poll',
			async () => (errors = await failedExecutions()).length > errorsBefore.length,
			{ timeoutMs: POLL_MS },
		);
		const execution = await instance.restRequest(
			n8n.url,
			cookie,
			'GET',
			`/rest/executions/${errors[0].id}`,
		);
		assert.match(JSON.stringify(execution), /The SparkBot API answered 500: Internal error/);
		assert.equal(sink.received['/all'].length, before, 'nothing reported during the outage');
		sim.clearFaults();
		await waitUntil('the outage change is reported', () => sink.received['/all'].length > before, {
			timeoutMs: POLL_MS,
		});
		await sleep(3_000);
		assert.deepEqual(reported('/all', before), [[generatedDevice(9).id, 'online', 'offline']]);
	});

	test('publishing again starts afresh: a drop while the workflow was off is not acted on; a later one is', async () => {
		const before = sink.received['/watched'].length;
		const { id } = workflows.watched;
		await instance.deactivateWorkflow(n8n.url, cookie, id);
		sim.setSessionStatus(generatedDevice(12).id, 'offline'); // while the workflow is off
		const publishedAt = Date.now();
		await instance.activateWorkflow(n8n.url, cookie, id);
		// The activation's poll, then the next scheduled one: neither reports the old drop.
		await waitUntil(
			'a scheduled poll after the publish',
			() => sim.requests.some((r) => r.path === '/v1/devices' && r.at > publishedAt + 5_000),
			{ timeoutMs: POLL_MS },
		);
		await sleep(3_000);
		assert.deepEqual(reported('/watched', before), [], 'the old drop is not reported');
		sim.setSessionStatus(generatedDevice(13).id, 'timeout');
		await waitUntil('the new drop is reported', () => sink.received['/watched'].length > before, {
			timeoutMs: POLL_MS,
		});
		assert.deepEqual(reported('/watched', before), [[generatedDevice(13).id, 'online', 'timeout']]);
	});

	test('the API key appears in no execution and no log', async () => {
		for (const workflow of Object.values(workflows)) {
			const filter = encodeURIComponent(JSON.stringify({ workflowId: workflow.id }));
			const list = await instance.restRequest(
				n8n.url,
				cookie,
				'GET',
				`/rest/executions?filter=${filter}&limit=50`,
			);
			for (const { id } of list.results) {
				const execution = await instance.restRequest(
					n8n.url,
					cookie,
					'GET',
					`/rest/executions/${id}`,
				);
				assert.ok(!JSON.stringify(execution).includes(SECRET), `execution ${id}`);
			}
		}
		assert.ok(!n8n.output().includes(SECRET), "n8n's output");
	});
});

/**
 * In the example's account: Sales drops (a reboot brings it back), number 6 times out and its
 * reboot fails once with a 500 (a reset brings it back), Billing times out and every POST for it
 * is forbidden, number 8 needs a QR scan.
 */
function dropSessionsOfTheExample() {
	healSim.setSessionStatus(sales.id, 'offline');
	healSim.setSessionStatus(generatedDevice(6).id, 'timeout');
	healSim.setFault({
		route: 'reboot',
		deviceId: generatedDevice(6).id,
		fault: 'internal',
		times: 1,
	});
	healSim.setSessionStatus(billing.id, 'timeout');
	healSim.setSessionStatus(generatedDevice(8).id, 'authorize');
	healSim.setSessionStatus(generatedDevice(10).id, 'authorize');
	healSim.setFault({ route: 'scan', deviceId: generatedDevice(10).id, fault: 'qrNotPng' });
}

/** Reboots and resets the example's account received. */
function healPosts() {
	return healSim.requests.filter((r) => r.method === 'POST');
}

/** A workflow's executions that ended, newest first. */
async function finishedExecutions(workflow) {
	const filter = encodeURIComponent(JSON.stringify({ workflowId: workflow.id }));
	const list = await instance.restRequest(
		n8n.url,
		cookie,
		'GET',
		`/rest/executions?filter=${filter}&limit=20`,
	);
	return (list.results ?? []).filter((e) => !['new', 'running', 'waiting'].includes(e.status));
}

/** The "all" workflow's failed executions, newest first. */
async function failedExecutions() {
	const filter = encodeURIComponent(
		JSON.stringify({ workflowId: workflows.all.id, status: ['error', 'crashed'] }),
	);
	const list = await instance.restRequest(
		n8n.url,
		cookie,
		'GET',
		`/rest/executions?filter=${filter}&limit=20`,
	);
	return list.results ?? [];
}
