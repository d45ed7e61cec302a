// End-to-end: the packed package installed into a real, throwaway n8n (as the UI installs
// community packages), credentials imported, the SparkBot simulator running. Workflows run with
// `n8n import:workflow` + `n8n execute --id`; then `n8n start` serves the editor's REST API.
//
// n8n version: SPARKBOT_E2E_N8N (default: the newest, NEWEST_N8N in scripts/n8n/runtime.mjs) on
// Node SPARKBOT_E2E_NODE (default 24).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import * as instance from '../../scripts/n8n/instance.mjs';
import { poll, sleep } from '../../scripts/lib/wait.mjs';
import {
	DEMO_DEVICES,
	generatedDevice,
	startSimulator,
} from '../../support/simulator/sparkbot-simulator.mjs';
import { startMockOpenAi } from './mock-openai.mjs';
import { FAULT_MODES } from '../fault-modes.mjs';
import { check, describeBatch, faultsOf, randomBatch } from '../model.mjs';
import { readQrPng } from '../simulator/qr.mjs';
import { rng } from '../../scripts/lib/random.mjs';
import { tail } from '../../scripts/lib/text.mjs';
import { lookup } from 'node:dns/promises';
import { createServer } from 'node:http';
import { hostname } from 'node:os';
import {
	N8N_VERSION,
	CREDENTIAL_TYPE,
	EXAMPLE_CREDENTIAL,
	EXAMPLE_CHAT_CREDENTIAL,
	NODE_TYPE,
	TRIGGER_TYPE,
	WEBHOOK_TRIGGER_TYPE,
	e2eSetup,
	readExamples,
	sparkBotCredential,
} from './fixtures.mjs';

/** Why an `n8n execute` run did not succeed: its status, exit code, error, and output's end. */
function why(result) {
	return `status ${result.status}, exit ${result.code ?? `by ${result.signal}`}: ${JSON.stringify(result.error)}\n${tail(`${result.stdout}\n${result.stderr}`, 30)}`;
}

const SECRET = 'sk-e2e-5c1d9b7a-NEVER-IN-OUTPUT';
const EXTRA_DEVICES = 200; // the dropdown must read several pages; the fault batch needs 200 numbers

const [sales, support, , , , billing] = DEMO_DEVICES; // online · stopped · … · forbidden
/** 200 items, one fault mode of the simulator per device (tests/fault-modes.mjs). */
const FAULT_BATCH = Array.from({ length: 200 }, (_, i) => {
	const [name, spec, outcome, sends] = FAULT_MODES[i % FAULT_MODES.length];
	const id = generatedDevice(i + 1).id;
	return { name, spec, outcome, sends, id, device: spec === 'invalid' ? `not-a-device-${i}` : id };
});
const UNKNOWN = 'ffffffffffffffffffffffff';
/** A few random batches for the model in real n8n (the package tier runs hundreds). */
const MODEL_BATCHES = (() => {
	const r = rng(Number(process.env.MODEL_SEED ?? 20261129));
	return Array.from({ length: 6 }, () => randomBatch(r, { devices: EXTRA_DEVICES, maxItems: 8 }));
})();
/** Stop-on-error runs: a bad item (invalid ID, or unknown to SparkBot) first, in the middle, last. */
const POSITIONS = ['invalid', 'unknown'].flatMap((kind) =>
	[0, 2, 4].map((position) => ({ kind, position })),
);
const TRIGGER = 'When clicking ‘Execute workflow’';
/** Get QR Code's numbers: by list, by ID (white space around it), by phone; then one online. */
const QR_NUMBERS = [
	{ pick: 'list', id: generatedDevice(20).id },
	{ pick: 'id', id: ` ${DEMO_DEVICES[2].id} ` },
	{ pick: 'phone', phone: generatedDevice(21).phone },
	{ pick: 'id', id: sales.id },
];
/**
 * The binary data modes Get QR Code runs in: n8n's own default (1.x keeps the bytes in the
 * execution, 2.x writes them to files), then the other one each version has.
 */
const BINARY_MODES = N8N_VERSION.startsWith('1.')
	? [undefined, 'filesystem']
	: [undefined, 'database'];

let runtime;
let userFolder;
let sim;
/** The scripted LLM behind the AI Agent workflow. */
let llm;
let good;
let wrong;
/** The Telegram credential whose Base URL is the simulator's chat stand-in. */
let chat;
const workflows = {};
/** examples/*.json, read once the simulator runs; they use EXAMPLE_CREDENTIAL. */
let EXAMPLES;
const executions = {};

// ─── workflow builders ───────────────────────────────────────────────────────────────────────

let position = 0;
function node(name, type, parameters, extra = {}) {
	position += 220;
	return {
		name,
		type,
		typeVersion: extra.typeVersion ?? 1,
		position: [position, 0],
		parameters,
		...extra,
	};
}

function sparkBot(name, operation, device, options = {}, extra = {}) {
	return node(
		name,
		NODE_TYPE,
		{ resource: 'whatsappSession', operation, device, options },
		{
			credentials: { [CREDENTIAL_TYPE]: { id: good.id, name: good.name } },
			...extra,
		},
	);
}

/** A SparkBot node of version 2 with these parameters. */
function sparkBotV2(name, parameters, extra = {}) {
	return node(name, NODE_TYPE, parameters, {
		typeVersion: 2,
		credentials: { [CREDENTIAL_TYPE]: { id: good.id, name: good.name } },
		...extra,
	});
}

const rl = (mode, value) => ({ __rl: true, mode, value });

/** A Code node emitting `items` (JSON objects), one n8n item each. */
function items(name, list) {
	return node(
		name,
		'n8n-nodes-base.code',
		{ jsCode: `return ${JSON.stringify(list.map((json) => ({ json })))};` },
		{ typeVersion: 2 },
	);
}

/**
 * Manual Trigger → AI Agent, whose chat model is the mock LLM (`openAi`: its imported credential)
 * and whose one tool is the SparkBot node's tool variant, rebooting the number and deciding
 * Force Reboot through $fromAI().
 */
function agentWorkflow(openAi, { version = 1 } = {}) {
	const trigger = node(TRIGGER, 'n8n-nodes-base.manualTrigger', {});
	const agent = node(
		'AI Agent',
		'@n8n/n8n-nodes-langchain.agent',
		{
			promptType: 'define',
			text:
				version === 1
					? `Reboot the WhatsApp session of the number ${sales.id}, even if it is stopped.`
					: `Reboot the WhatsApp session of the number with the phone ${sales.phone}, even if it is stopped.`,
			options: {},
		},
		{ typeVersion: 3 },
	);
	const model = node(
		'OpenAI Chat Model',
		'@n8n/n8n-nodes-langchain.lmChatOpenAi',
		{
			model: { __rl: true, mode: 'id', value: 'gpt-mock' },
			responsesApiEnabled: false,
			options: {},
		},
		{ typeVersion: 1.3, credentials: { openAiApi: { id: openAi.id, name: openAi.name } } },
	);
	const tool = node(
		'SparkBot',
		`${NODE_TYPE}Tool`,
		{
			resource: 'whatsappSession',
			operation: 'reboot',
			// Version 2: WhatsApp Number By Phone Number, its value left to the model (what n8n's
			// "Let the model define this parameter" button writes).
			device:
				version === 1
					? "={{ $fromAI('device', 'The 24-character ID of the WhatsApp number', 'string') }}"
					: {
							__rl: true,
							mode: 'phone',
							value:
								"={{ $fromAI('device', 'The phone number of the WhatsApp number, + and country code', 'string') }}",
						},
			options: {
				forceReboot:
					"={{ $fromAI('forceReboot', 'Whether to reboot even a stopped session', 'boolean') }}",
			},
		},
		{ typeVersion: version, credentials: { [CREDENTIAL_TYPE]: { id: good.id, name: good.name } } },
	);
	return {
		name: `e2e: SparkBot as an AI Agent tool (version ${version})`,
		nodes: [trigger, agent, model, tool],
		connections: {
			[TRIGGER]: { main: [[{ node: agent.name, type: 'main', index: 0 }]] },
			[model.name]: {
				ai_languageModel: [[{ node: agent.name, type: 'ai_languageModel', index: 0 }]],
			},
			[tool.name]: { ai_tool: [[{ node: agent.name, type: 'ai_tool', index: 0 }]] },
		},
		settings: { executionOrder: 'v1' },
	};
}

/** Nodes in a chain, Manual Trigger first; `branches` adds extra connections { from: [[to, outputIndex]] }. */
function workflow(name, chain, branches = {}) {
	const nodes = [node(TRIGGER, 'n8n-nodes-base.manualTrigger', {}), ...chain];
	const connections = {};
	for (let i = 0; i < nodes.length - 1; i++) {
		if (branches[nodes[i].name]) continue;
		connections[nodes[i].name] = { main: [[{ node: nodes[i + 1].name, type: 'main', index: 0 }]] };
	}
	for (const [from, targets] of Object.entries(branches)) {
		const main = [];
		for (const [to, output] of targets)
			(main[output] ??= []).push({ node: to, type: 'main', index: 0 });
		connections[from] = { main: main.map((list) => list ?? []) };
	}
	return { name, nodes, connections, settings: { executionOrder: 'v1' } };
}

/** A Switch (expression mode) sending 404, 403 and 409 to their own outputs, the rest (success too) to the fourth. */
function switchOnStatus(name, value) {
	return node(
		name,
		'n8n-nodes-base.switch',
		{
			mode: 'expression',
			numberOutputs: 4,
			output: `={{ ({ 404: 0, 403: 1, 409: 2 })[${value}] ?? 3 }}`,
		},
		{ typeVersion: 3.2 },
	);
}

const STATUS_BRANCHES = ['Not found', 'Forbidden', 'Retry later', 'Other'];

function statusBranches() {
	return STATUS_BRANCHES.map((name) => node(name, 'n8n-nodes-base.noOp', {}));
}

function statusConnections(switchName) {
	return {
		[switchName]: STATUS_BRANCHES.map((name, i) => [name, i]),
		...Object.fromEntries(STATUS_BRANCHES.map((name) => [name, []])),
	};
}

function posts(device) {
	return sim.requests.filter((r) => r.method === 'POST' && (!device || r.path.includes(device)));
}

/** Items on output `index` of `nodeName`'s last run, with their pairing: [{ json, pairedItem }]. */
function itemsOf(run, nodeName, index = 0) {
	const runs = run.data.resultData.runData[nodeName];
	assert.ok(runs?.length, `${nodeName} ran`);
	return runs.at(-1).data.main[index] ?? [];
}

async function execute(key, options) {
	sim.clearRequests();
	const result = await instance.executeWorkflow(runtime, userFolder, workflows[key].id, options);
	executions[key] = result;
	return result;
}

// ─── setup ───────────────────────────────────────────────────────────────────────────────────

before(async () => {
	({ runtime, userFolder } = await e2eSetup({ log: (line) => console.log(`# ${line}`) }));
	sim = await startSimulator({
		apiKey: SECRET,
		devices: EXTRA_DEVICES,
		timeScale: 0.01,
		waitMs: 20,
	});
	llm = await startMockOpenAi({
		toolMatch: /^SparkBot$/,
		// By ID (version 1) or by phone (version 2), as the tool's description of `device` asks.
		toolArguments: (tool) => ({
			device: /phone/.test(tool.parameters?.properties?.device?.description ?? '')
				? sales.phone
				: sales.id,
			forceReboot: true,
		}),
	});
	const credentials = await instance.importCredentials(runtime, userFolder, [
		sparkBotCredential({
			name: 'SparkBot (simulator)',
			apiKey: SECRET,
			baseUrl: `${sim.baseUrl}/`,
		}),
		sparkBotCredential({
			name: 'SparkBot (wrong key)',
			apiKey: 'not-the-key',
			baseUrl: sim.baseUrl,
		}),
		{ name: 'OpenAI (mock LLM)', type: 'openAiApi', data: { apiKey: 'sk-mock', url: llm.baseUrl } },
		{
			name: 'Telegram (chat stand-in)',
			type: 'telegramApi',
			data: { accessToken: '4242:e2e-bot', baseUrl: sim.telegramBaseUrl },
		},
	]);
	const [, , openAi] = credentials;
	[good, wrong, , chat] = credentials;

	const numbers = [
		{ deviceId: sales.id, force: false },
		{ deviceId: support.id, force: true },
		{ deviceId: DEMO_DEVICES[2].id, force: false },
	];
	const mixed = [
		{ deviceId: sales.id },
		{ deviceId: 'not-a-device-id' },
		{ deviceId: UNKNOWN },
		{ deviceId: billing.id },
		{ deviceId: DEMO_DEVICES[3].id },
	];
	/** For the Switch on the status: one success, then 404, 403, 409 and an invalid ID. */
	const routed = [
		{ deviceId: sales.id },
		{ deviceId: UNKNOWN },
		{ deviceId: billing.id },
		{ deviceId: support.id },
		{ deviceId: 'bad' },
	];
	const fleet = Array.from({ length: 12 }, (_, i) => generatedDevice(i + 1).id);
	fleet[5] = UNKNOWN;
	const list = {
		options: workflow('e2e: every option', [
			sparkBot('Reboot (defaults)', 'reboot', sales.id),
			sparkBot('Reboot (force, sync, wait)', 'reboot', support.id, {
				forceReboot: true,
				forceSync: true,
				waitForSession: true,
				timeout: 60,
			}),
			sparkBot('Reset (defaults)', 'reset', sales.id),
			sparkBot('Reset (delete, empty, wait)', 'reset', DEMO_DEVICES[3].id, {
				deleteAllData: true,
				emptyQueue: true,
				waitForSession: true,
			}),
		]),
		expressions: workflow('e2e: per-item expressions', [
			items('Numbers', numbers),
			sparkBot('Reboot each', 'reboot', '={{ $json.deviceId }}', {
				forceReboot: '={{ $json.force }}',
			}),
		]),
		continueRegular: workflow('e2e: continue (regular output)', [
			items('Numbers', mixed),
			sparkBot(
				'Reboot each',
				'reboot',
				'={{ $json.deviceId }}',
				{},
				{ onError: 'continueRegularOutput' },
			),
		]),
		continueErrorOutput: workflow(
			'e2e: continue (error output)',
			[
				items('Numbers', mixed),
				sparkBot(
					'Reboot each',
					'reboot',
					'={{ $json.deviceId }}',
					{},
					{ onError: 'continueErrorOutput' },
				),
				node('Succeeded', 'n8n-nodes-base.noOp', {}),
				node('Failed', 'n8n-nodes-base.noOp', {}),
			],
			{
				'Reboot each': [
					['Succeeded', 0],
					['Failed', 1],
				],
			},
		),
		agent: agentWorkflow(openAi),
		agentByPhone: agentWorkflow(openAi, { version: 2 }),
		concurrent: workflow('e2e: Concurrency 4', [
			items(
				'Numbers',
				fleet.map((deviceId) => ({ deviceId })),
			),
			sparkBot(
				'Reboot each',
				'reboot',
				'={{ $json.deviceId }}',
				{ waitForSession: true, concurrency: 4 },
				{ onError: 'continueRegularOutput' },
			),
		]),
		faults: workflow('e2e: 200 items, every fault mode', [
			items(
				'Numbers',
				FAULT_BATCH.map(({ device }) => ({ deviceId: device })),
			),
			sparkBot(
				'Reboot each',
				'reboot',
				'={{ $json.deviceId }}',
				{ timeout: 2, concurrency: 10, includeAttempts: true },
				{ onError: 'continueRegularOutput' },
			),
		]),
		cancel: workflow('e2e: a long Wait For Session, stopped', [
			sparkBot('Reset and wait', 'reset', DEMO_DEVICES[4].id, { waitForSession: true }),
		]),
		stop: workflow('e2e: stop on error', [
			items('Numbers', [
				{ deviceId: sales.id },
				{ deviceId: UNKNOWN },
				{ deviceId: DEMO_DEVICES[3].id },
			]),
			sparkBot('Reboot each', 'reboot', '={{ $json.deviceId }}'),
		]),
		routing: workflow(
			'e2e: error output → Switch on httpCode',
			[
				items('Numbers', routed),
				sparkBot(
					'Reboot each',
					'reboot',
					'={{ $json.deviceId }}',
					{},
					{ onError: 'continueErrorOutput' },
				),
				node('Rebooted', 'n8n-nodes-base.noOp', {}),
				switchOnStatus('By status', '$json.error.httpCode'),
				...statusBranches(''),
			],
			{
				'Reboot each': [
					['Rebooted', 0],
					['By status', 1],
				],
				Rebooted: [],
				...statusConnections('By status', ''),
			},
		),
		routingRegular: workflow(
			'e2e: continue (regular output) → Switch on httpCode',
			[
				items('Numbers', routed),
				sparkBot(
					'Reboot each',
					'reboot',
					'={{ $json.deviceId }}',
					{},
					{ onError: 'continueRegularOutput' },
				),
				switchOnStatus('By status', '$json.httpCode'),
				...statusBranches(''),
			],
			{ 'Reboot each': [['By status', 0]], ...statusConnections('By status', '') },
		),
	};
	list.version2 = workflow('e2e: version 2, a number picked each way', [
		items('Numbers', [
			{ pick: 'list', id: sales.id },
			{ pick: 'id', id: ` ${support.id} ` },
			{ pick: 'phone', phone: generatedDevice(7).phone },
		]),
		sparkBotV2('Reboot each', {
			resource: 'whatsappSession',
			operation: 'reboot',
			device: {
				__rl: true,
				mode: '={{ $json.pick }}',
				value: '={{ $json.pick === "phone" ? $json.phone : $json.id }}',
			},
			options: { forceReboot: true },
		}),
	]);
	list.version2List = workflow('e2e: version 2, From List', [
		sparkBotV2('Reboot Sales', {
			resource: 'whatsappSession',
			operation: 'reboot',
			device: { ...rl('list', sales.id), cachedResultName: `${sales.alias} (${sales.phone})` },
			options: {},
		}),
	]);
	list.get = workflow('e2e: Get and Get Many', [
		sparkBotV2('Get Billing by phone', {
			resource: 'whatsappNumber',
			operation: 'get',
			device: rl('phone', billing.phone),
		}),
		sparkBotV2(
			'Offline numbers',
			{
				resource: 'whatsappNumber',
				operation: 'getAll',
				returnAll: true,
				filters: { sessionStatus: ['offline'] },
			},
			{ executeOnce: true },
		),
	]);
	list.qrCode = workflow(
		'e2e: Get QR Code → Telegram',
		[
			items('Numbers', QR_NUMBERS),
			sparkBotV2(
				'Get QR Code',
				{
					resource: 'whatsappSession',
					operation: 'getQrCode',
					device: {
						__rl: true,
						mode: '={{ $json.pick }}',
						value: '={{ $json.pick === "phone" ? $json.phone : $json.id }}',
					},
					binaryPropertyName: 'qrPng',
				},
				{ onError: 'continueErrorOutput' },
			),
			node(
				'Send QR code',
				'n8n-nodes-base.telegram',
				{
					operation: 'sendPhoto',
					chatId: '4242',
					binaryData: true,
					binaryPropertyName: 'qrPng',
					additionalFields: { caption: '={{ $json.id }}' },
				},
				{
					typeVersion: 1.2,
					credentials: { telegramApi: { id: chat.id, name: chat.name } },
				},
			),
			node('No scan needed', 'n8n-nodes-base.noOp', {}),
		],
		{
			'Get QR Code': [
				['Send QR code', 0],
				['No scan needed', 1],
			],
		},
	);
	for (const { kind, position } of POSITIONS) {
		const numbersOf = Array.from({ length: 5 }, (_, i) => ({
			deviceId: generatedDevice(i + 1).id,
		}));
		numbersOf[position] = { deviceId: kind === 'invalid' ? '6523A1F0C2D4E5F60718293A' : UNKNOWN };
		list[`stop ${kind} ${position}`] = workflow(
			`e2e: stop on error, ${kind} item ${position + 1} of 5`,
			[items('Numbers', numbersOf), sparkBot('Reboot each', 'reboot', '={{ $json.deviceId }}')],
		);
	}
	MODEL_BATCHES.forEach((batch, i) => {
		list[`model ${i}`] = workflow(`e2e: model batch ${i}`, [
			items(
				'Numbers',
				batch.items.map((item) => ({ deviceId: item.device })),
			),
			sparkBot(
				'Reboot each',
				'reboot',
				'={{ $json.deviceId }}',
				{ concurrency: batch.concurrency, timeout: 5 },
				batch.continueOnFail ? { onError: 'continueRegularOutput' } : {},
			),
		]);
	});
	await instance.importCredentials(runtime, userFolder, {
		...sparkBotCredential({ name: 'SparkBot (simulator)', apiKey: SECRET, baseUrl: sim.baseUrl }),
		id: EXAMPLE_CREDENTIAL.id,
	});
	EXAMPLES = readExamples();
	await instance.importWorkflow(runtime, userFolder, EXAMPLES);
	const imported = await instance.importWorkflow(runtime, userFolder, Object.values(list));
	Object.keys(list).forEach((key, i) => {
		workflows[key] = imported[i];
	});
});

after(async () => {
	await sim?.close();
	await llm?.close();
	instance.removeUserFolder(userFolder);
});

// ─── n8n execute ─────────────────────────────────────────────────────────────────────────────

describe(`workflows in n8n ${N8N_VERSION} (import:workflow + execute --id)`, () => {
	test('Reboot and Reset with every option send the contract bodies and pass the answers through', async () => {
		const result = await execute('options');
		assert.ok(result.ok, `the run succeeded: ${JSON.stringify(result.error)}`);
		assert.deepEqual(
			posts().map((r) => [r.path, r.body]),
			[
				[`/v1/devices/${sales.id}/reboot`, { force: false, sync: false, wait: false }],
				[`/v1/devices/${support.id}/reboot`, { force: true, sync: true, wait: true }],
				[`/v1/devices/${sales.id}/reset`, { deleteAllData: false, emptyQueue: false, wait: false }],
				[
					`/v1/devices/${DEMO_DEVICES[3].id}/reset`,
					{ deleteAllData: true, emptyQueue: true, wait: true },
				],
			],
		);
		assert.ok(
			posts().every((r) => r.headers.token === '<redacted:ok>'),
			"sent with the credential's API key",
		);
		const [forced] = result.output('Reboot (force, sync, wait)');
		assert.equal(forced.operation, 'reboot');
		assert.equal(forced.status, 'online');
		assert.equal(forced.waited, true);
		assert.equal(forced.synced, true);
		assert.deepEqual(
			forced.meta,
			{ region: 'sim', simulated: true },
			'unknown nested fields arrive',
		);
		const [wiped] = result.output('Reset (delete, empty, wait)');
		assert.equal(wiped.deletedData, true);
		assert.equal(wiped.waited, true);
	});

	test('several items, each with its own number and options from expressions', async () => {
		const result = await execute('expressions');
		assert.ok(result.ok, why(result));
		const out = itemsOf(result.run, 'Reboot each');
		assert.deepEqual(
			out.map((item) => item.json.id),
			[sales.id, support.id, DEMO_DEVICES[2].id],
		);
		out.forEach((item, i) => assert.deepEqual(item.pairedItem, { item: i }));
		assert.deepEqual(
			posts().map((r) => r.body.force),
			[false, true, false],
			'Force Reboot per item',
		);
	});

	test('On Error "Continue": failed items become { error, description, code, httpCode, attempts }, the others run, all paired', async () => {
		const result = await execute('continueRegular');
		assert.ok(result.ok, why(result));
		const out = itemsOf(result.run, 'Reboot each');
		assert.equal(out.length, 5);
		out.forEach((item, i) => assert.deepEqual(item.pairedItem, { item: i }));
		assert.equal(out[0].json.operation, 'reboot');
		assert.match(out[1].json.error, /^WhatsApp Number: "not-a-device-id" is not a device ID/);
		assert.match(out[2].json.error, new RegExp(`^Device ${UNKNOWN} not found`));
		assert.match(out[3].json.error, /may not manage the WhatsApp number/);
		for (const i of [1, 2, 3])
			assert.deepEqual(Object.keys(out[i].json), [
				'error',
				'description',
				'code',
				'httpCode',
				'attempts',
			]);
		assert.deepEqual(
			[1, 2, 3].map((i) => out[i].json.httpCode),
			[null, 404, 403],
		);
		assert.equal(out[4].json.operation, 'reboot');
		assert.equal(posts().length, 4, 'the invalid number was never sent');
	});

	test('On Error "Continue (using error output)": failed items on the error branch, good ones on success', async () => {
		const result = await execute('continueErrorOutput');
		assert.ok(result.ok, why(result));
		const success = itemsOf(result.run, 'Reboot each', 0);
		const failed = itemsOf(result.run, 'Reboot each', 1);
		assert.deepEqual(
			success.map((item) => item.pairedItem),
			[{ item: 0 }, { item: 4 }],
		);
		assert.deepEqual(
			failed.map((item) => item.pairedItem),
			[{ item: 1 }, { item: 2 }, { item: 3 }],
		);
		assert.deepEqual(
			success.map((item) => item.json.id),
			[sales.id, DEMO_DEVICES[3].id],
		);
		for (const item of failed) assert.equal(typeof item.json.error.message, 'string');
		assert.equal(itemsOf(result.run, 'Failed').length, 3);
		assert.equal(itemsOf(result.run, 'Succeeded').length, 2);
	});

	test('Concurrency 4: every item answered in input order, paired, the error on its own item', async () => {
		const result = await execute('concurrent');
		assert.ok(result.ok, why(result));
		const out = itemsOf(result.run, 'Reboot each');
		assert.equal(out.length, 12);
		out.forEach((item, i) => assert.deepEqual(item.pairedItem, { item: i }));
		out.forEach((item, i) => {
			if (i === 5) assert.match(item.json.error, /not found/);
			else assert.equal(item.json.id, generatedDevice(i + 1).id, `item ${i}`);
		});
		assert.equal(posts().length, 12);
	});

	test('200 items across every fault mode (On Error: Continue): one output each, in order, paired, as expected', async (t) => {
		for (const { spec, id } of FAULT_BATCH) {
			if (spec && spec !== 'invalid') sim.setFault({ route: 'reboot', deviceId: id, ...spec });
		}
		let result;
		const started = performance.now();
		try {
			result = await execute('faults');
		} finally {
			sim.clearFaults();
		}
		t.diagnostic(
			`n8n execute of the 200-item batch: ${((performance.now() - started) / 1000).toFixed(1)} s (process start included)`,
		);
		assert.ok(result.ok, why(result));
		const out = itemsOf(result.run, 'Reboot each');
		assert.equal(out.length, 200, 'exactly one output per input item');
		const sent = new Map();
		for (const request of posts()) sent.set(request.path, (sent.get(request.path) ?? 0) + 1);
		out.forEach((item, i) => {
			const { name, id, outcome, sends } = FAULT_BATCH[i];
			assert.deepEqual(item.pairedItem, { item: i }, `item ${i} (${name})`);
			if (outcome === 'ok') {
				assert.equal(item.json.id, id, `item ${i} (${name})`);
				assert.equal(item.json.attempts, sends, `item ${i} (${name}) attempts`);
			} else {
				assert.equal(
					typeof item.json.error,
					'string',
					`item ${i} (${name}): ${JSON.stringify(item.json).slice(0, 200)}`,
				);
				assert.equal(item.json.code, outcome, `item ${i} (${name}) code`);
			}
			assert.equal(
				sent.get(`/v1/devices/${id}/reboot`) ?? 0,
				sends,
				`item ${i} (${name}) requests`,
			);
		});
	});

	test("without continue-on-fail the run fails with the node's message and stops at that item", async () => {
		const result = await execute('stop');
		assert.equal(result.ok, false);
		assert.equal(result.status, 'error');
		assert.equal(result.error.message, `Device ${UNKNOWN} not found in this SparkBot account`);
		assert.equal(String(result.error.httpCode), '404');
		assert.equal(
			result.error.node?.name ?? result.run.data.resultData.lastNodeExecuted,
			'Reboot each',
		);
		assert.equal(posts().length, 2, 'the item after the failed one was not sent');
	});
	for (const { kind, position } of POSITIONS) {
		test(`without continue-on-fail, ${kind === 'invalid' ? 'an invalid ID' : 'a number SparkBot does not know'} as item ${position + 1} of 5 fails the run with that item`, async () => {
			const result = await execute(`stop ${kind} ${position}`);
			assert.equal(result.ok, false, 'the run failed');
			assert.equal(result.status, 'error');
			assert.equal(
				result.error.context?.itemIndex,
				position,
				`the error names item ${position}: ${JSON.stringify(result.error).slice(0, 300)}`,
			);
			if (kind === 'invalid') {
				assert.match(
					result.error.message,
					/^WhatsApp Number: "6523A1F0C2D4E5F60718293A" is not a device ID: device IDs are lower case/,
				);
				assert.equal(posts().length, 0, 'validated before anything was sent');
			} else {
				assert.equal(result.error.message, `Device ${UNKNOWN} not found in this SparkBot account`);
				assert.equal(String(result.error.httpCode), '404');
				assert.equal(posts().length, position + 1, 'the items before it ran, nothing after it');
			}
			assert.equal(
				result.run.data.resultData.runData['Reboot each']?.at(-1)?.executionStatus ?? 'error',
				'error',
			);
		});
	}

	test('On Error "Continue (using error output)": failed items carry { error: { message, description, code, httpCode } }, a Switch on {{ $json.error.httpCode }} routes them', async () => {
		sim.reset();
		const result = await execute('routing');
		assert.ok(result.ok, why(result));
		assert.deepEqual(
			itemsOf(result.run, 'Rebooted').map((i) => i.json.id),
			[sales.id],
		);
		const failed = itemsOf(result.run, 'Reboot each', 1);
		assert.deepEqual(
			failed.map((i) => [i.json.error.code, i.json.error.httpCode]),
			[
				['SPARKBOT_DEVICE_NOT_FOUND', 404],
				['SPARKBOT_FORBIDDEN', 403],
				['SPARKBOT_SESSION_STOPPED', 409],
				['SPARKBOT_INVALID_PARAMETER', null],
			],
		);
		assert.match(failed[2].json.error.description, /Turn on the Force Reboot option/);
		assert.equal(
			failed[0].json.deviceId,
			UNKNOWN,
			"n8n adds the input item's fields on the error output",
		);
		assert.deepEqual(
			failed.map((i) => i.pairedItem),
			[{ item: 1 }, { item: 2 }, { item: 3 }, { item: 4 }],
		);
		assert.deepEqual(
			itemsOf(result.run, 'Not found').map((i) => i.json.error.httpCode),
			[404],
		);
		assert.deepEqual(
			itemsOf(result.run, 'Forbidden').map((i) => i.json.error.httpCode),
			[403],
		);
		assert.deepEqual(
			itemsOf(result.run, 'Retry later').map((i) => i.json.error.code),
			['SPARKBOT_SESSION_STOPPED'],
		);
		assert.deepEqual(
			itemsOf(result.run, 'Other').map((i) => i.json.error.code),
			['SPARKBOT_INVALID_PARAMETER'],
		);
	});

	test('On Error "Continue": failed items carry code and httpCode at the top, a Switch on {{ $json.httpCode }} routes them', async () => {
		sim.reset();
		const result = await execute('routingRegular');
		assert.ok(result.ok, why(result));
		assert.deepEqual(
			itemsOf(result.run, 'Not found').map((i) => [i.json.code, i.json.httpCode]),
			[['SPARKBOT_DEVICE_NOT_FOUND', 404]],
		);
		assert.deepEqual(
			itemsOf(result.run, 'Forbidden').map((i) => i.json.httpCode),
			[403],
		);
		assert.deepEqual(
			itemsOf(result.run, 'Retry later').map((i) => i.json.code),
			['SPARKBOT_SESSION_STOPPED'],
		);
		assert.deepEqual(
			itemsOf(result.run, 'Other').map((i) => i.json.code ?? i.json.operation),
			['reboot', 'SPARKBOT_INVALID_PARAMETER'],
		);
	});

	test(`${MODEL_BATCHES.length} random batches behave as the model says`, async (t) => {
		for (const [i, batch] of MODEL_BATCHES.entries()) {
			sim.reset();
			for (const fault of faultsOf(batch)) sim.setFault(fault);
			const result = await execute(`model ${i}`);
			t.diagnostic(`batch ${i}: ${describeBatch(batch)} → ${result.status}`);
			const outcome = result.ok
				? { out: itemsOf(result.run, 'Reboot each') }
				: {
						error: {
							itemIndex: result.error?.context?.itemIndex,
							message: result.error?.message,
							api: result.error?.name === 'NodeApiError' || result.error?.httpCode !== undefined,
						},
					};
			check(batch, outcome, sim.requests);
		}
		sim.reset();
	});
});

describe(`version 2 in n8n ${N8N_VERSION}`, () => {
	test('the WhatsApp Number by list, by ID (white space around it) and by phone, from expressions', async () => {
		sim.reset();
		const result = await execute('version2');
		assert.ok(result.ok, why(result));
		const out = itemsOf(result.run, 'Reboot each');
		assert.deepEqual(
			out.map((i) => i.json.id),
			[sales.id, support.id, generatedDevice(7).id],
		);
		out.forEach((item, i) => assert.deepEqual(item.pairedItem, { item: i }));
		const pages = sim.requests.filter((r) => r.method === 'GET' && r.path === '/v1/devices');
		assert.equal(pages.length, Math.ceil((DEMO_DEVICES.length + EXTRA_DEVICES) / 100));
	});

	test('From List, as the editor saves it', async () => {
		const result = await execute('version2List');
		assert.ok(result.ok, why(result));
		assert.deepEqual(
			posts().map((r) => r.path),
			[`/v1/devices/${sales.id}/reboot`],
		);
	});

	test('Get (by phone) and Get Many (Return All, a Session Status filter): the devices as SparkBot sends them', async () => {
		sim.reset();
		const result = await execute('get');
		assert.ok(result.ok, why(result));
		const [billingOut] = result.output('Get Billing by phone');
		assert.equal(billingOut.id, billing.id);
		assert.deepEqual(
			billingOut.plan,
			{ tier: 'free', limits: { daily: 0 } },
			'unknown fields kept',
		);
		const offline = result.output('Offline numbers');
		assert.deepEqual(
			offline.map((d) => d.id),
			DEMO_DEVICES.filter((d) => d.session.status === 'offline').map((d) => d.id),
		);
		assert.equal(posts().length, 0, 'reads only');
	});
});

describe(`Get QR Code in n8n ${N8N_VERSION}`, () => {
	for (const mode of BINARY_MODES) {
		test(`by list, ID and phone: PNGs that decode to SparkBot's code, sent on by Telegram (binary data mode: ${mode ?? "n8n's default"})`, async () => {
			sim.reset();
			const scannable = [generatedDevice(20), DEMO_DEVICES[2], generatedDevice(21)];
			for (const device of [generatedDevice(20), generatedDevice(21)])
				sim.setSessionStatus(device.id, 'authorize');
			const result = await execute('qrCode', {
				env: mode ? { N8N_DEFAULT_BINARY_DATA_MODE: mode } : {},
			});
			assert.ok(result.ok, why(result));
			const runs = result.run.data.resultData.runData['Get QR Code'];
			const [codes, failed] = runs.at(-1).data.main;
			assert.deepEqual(
				codes.map((item) => [item.json.id, item.json.qr, item.pairedItem]),
				scannable.map((d, i) => [d.id, sim.qrCode(d.id).qr, { item: i }]),
			);
			codes.forEach((item, i) => {
				const binary = item.binary.qrPng;
				const device = scannable[i];
				assert.equal(binary.mimeType, 'image/png');
				const named = [device.alias?.toLowerCase().replace(/ /g, '-'), device.phone];
				assert.equal(binary.fileName, `${named.filter(Boolean).join('-')}-qr.png`);
				if (binary.id) assert.match(binary.id, new RegExp(`^${mode ?? 'filesystem'}`));
				else assert.equal(readQrPng(Buffer.from(binary.data, 'base64')), item.json.qr);
			});
			assert.deepEqual(
				failed.map((item) => [item.json.error.code, item.json.error.httpCode, item.pairedItem]),
				[['SPARKBOT_SCAN_NOT_NEEDED', 409, { item: 3 }]],
			);
			assert.match(failed[0].json.error.message, /is online, not waiting for a QR scan/);
			// What the chat received went through n8n's binary data service and Telegram's upload.
			assert.deepEqual(
				sim.chat.map((m) => [m.method, m.chatId, m.caption, m.contentType]),
				scannable.map((d) => ['sendPhoto', '4242', d.id, 'image/png']),
			);
			sim.chat.forEach((message, i) => {
				assert.equal(message.fileName, codes[i].binary.qrPng.fileName);
				assert.equal(readQrPng(message.photo), sim.qrCode(scannable[i].id).qr, 'the photo scans');
			});
			sim.reset();
		});
	}
});

describe(`SparkBot as a tool of an AI Agent in n8n ${N8N_VERSION}`, () => {
	test('the agent calls the generated SparkBot tool; $fromAI() gives the number and Force Reboot', async () => {
		llm.requests.length = 0;
		const result = await execute('agent');
		assert.ok(result.ok, `the run succeeded: ${JSON.stringify(result.error)}`);

		const offered = llm.requests[0]?.tools?.map((t) => t.function) ?? [];
		const tool = offered.find((f) => f.name === 'SparkBot');
		assert.ok(
			tool,
			`n8n offered the SparkBot tool to the model (offered: ${offered.map((f) => f.name).join(', ') || 'none'})`,
		);
		assert.match(
			tool.description,
			/Reboot a WhatsApp session/,
			'the tool is described by the operation it runs',
		);
		assert.deepEqual(
			Object.keys(tool.parameters.properties).sort(),
			['device', 'forceReboot'],
			'the $fromAI() parameters, and only them',
		);
		assert.equal(tool.parameters.properties.forceReboot.type, 'boolean');

		assert.deepEqual(
			posts().map((r) => [r.path, r.body]),
			[[`/v1/devices/${sales.id}/reboot`, { force: true, sync: false, wait: false }]],
			'the values the model chose reached SparkBot',
		);
		const toolRun = result.run.data.resultData.runData.SparkBot?.at(-1);
		const [toolItem] = toolRun?.data?.ai_tool?.[0] ?? [];
		assert.equal(
			toolItem?.json.operation,
			'reboot',
			'the tool returned the reboot answer to the agent',
		);
		assert.equal(toolItem.json.id, sales.id);
		const [answer] = result.output('AI Agent');
		assert.match(answer.output, /"status":\s*"rebooting"/, 'the model saw the tool result');
	});

	test('version 2: the model gives the WhatsApp Number by phone; the number with that phone is rebooted', async () => {
		llm.requests.length = 0;
		sim.clearRequests();
		const result = await execute('agentByPhone');
		assert.ok(result.ok, why(result));
		const tool = llm.requests[0]?.tools?.map((t) => t.function).find((f) => f.name === 'SparkBot');
		assert.ok(tool, 'n8n offered the SparkBot tool');
		assert.match(tool.parameters.properties.device.description, /phone number/);
		assert.deepEqual(
			posts().map((r) => [r.path, r.body]),
			[[`/v1/devices/${sales.id}/reboot`, { force: true, sync: false, wait: false }]],
			'the number with the phone the model gave was rebooted',
		);
	});
});

describe(`the examples/ workflows in n8n ${N8N_VERSION}`, () => {
	test('every example references the example credential; every one started by hand runs', async () => {
		assert.ok(EXAMPLES.length >= 2);
		for (const example of EXAMPLES) {
			const sparkBotNodes = example.nodes.filter((n) => n.type.startsWith('n8n-nodes-sparkbot.'));
			assert.ok(sparkBotNodes.length >= 1, example.name);
			for (const n of sparkBotNodes) {
				assert.equal(
					n.credentials?.[CREDENTIAL_TYPE]?.id,
					EXAMPLE_CREDENTIAL.id,
					`${example.name}: ${n.name}`,
				);
			}
			for (const n of example.nodes.filter((n) => n.type === 'n8n-nodes-base.telegram'))
				assert.equal(
					n.credentials?.telegramApi?.id,
					EXAMPLE_CHAT_CREDENTIAL.id,
					`${example.name}: ${n.name}`,
				);
			// The self-healing examples start from a trigger: trigger.test.mjs activates the polling
			// one, webhook.test.mjs the instant one.
			if (example.nodes.some((n) => n.type === TRIGGER_TYPE || n.type === WEBHOOK_TRIGGER_TYPE))
				continue;
			sim.clearRequests();
			const result = await instance.executeWorkflow(runtime, userFolder, example.id);
			executions[`example ${example.id}`] = result;
			assert.ok(result.ok, `${example.name}: ${why(result)}`);
			assert.ok(posts().length >= 1, `${example.name} called SparkBot`);
		}
	});

	test('a version 1 example (the failed-send chain) and version 2 ones', () => {
		const versions = new Set(
			EXAMPLES.flatMap((w) =>
				w.nodes.filter((n) => n.type === NODE_TYPE).map((n) => n.typeVersion),
			),
		);
		assert.deepEqual([...versions].sort(), [1, 2]);
	});

	test('nightly reboot: Force Reboot and Wait For Session on the Sales number', async () => {
		sim.reset();
		sim.clearRequests();
		const example = EXAMPLES.find((w) => w.id === 'SparkBotExNights');
		const result = await instance.executeWorkflow(runtime, userFolder, example.id);
		assert.ok(result.ok, why(result));
		assert.deepEqual(
			posts().map((r) => [r.path, r.body]),
			[[`/v1/devices/${sales.id}/reboot`, { force: true, sync: false, wait: true }]],
		);
		assert.equal(result.output('Reboot Sales session')[0].status, 'online');
	});

	test('nightly reboot: a busy session is sent once more after 30 s through the error output, any other failure notifies a human', async () => {
		const example = EXAMPLES.find((w) => w.id === 'SparkBotExNights');
		sim.reset();
		sim.setFault({ route: 'reboot', deviceId: sales.id, fault: 'busy', times: 1 });
		let result = await instance.executeWorkflow(runtime, userFolder, example.id);
		assert.ok(result.ok, why(result));
		assert.equal(posts(sales.id).length, 2, 'sent once more');
		assert.ok(posts(sales.id)[1].at - posts(sales.id)[0].at >= 29_000, 'after the 30 s wait');
		assert.equal(result.output('Reboot Sales again')[0].status, 'online');
		assert.equal(result.output('Notify a human'), undefined);
		sim.reset();
		sim.setFault({ route: 'reboot', deviceId: sales.id, fault: 'forbidden' });
		result = await instance.executeWorkflow(runtime, userFolder, example.id);
		assert.ok(result.ok, why(result));
		assert.equal(posts(sales.id).length, 1, 'a 403 is not retried');
		assert.equal(result.output('Notify a human')[0].error.code, 'SPARKBOT_FORBIDDEN');
		sim.reset();
	});

	test('reboot every number whose session is down: Get Many reads every page, one reboot per such number', async () => {
		sim.reset();
		sim.clearRequests();
		const example = EXAMPLES.find((w) => w.id === 'SparkBotExFleet1');
		// The model: the operative numbers whose session is down before the run.
		const down = [...sim.devices.values()]
			.filter((d) => d.status === 'operative' && ['offline', 'timeout'].includes(d.session.status))
			.map((d) => d.id);
		assert.ok(down.length >= 2, 'the demo account has numbers that are down');
		const result = await instance.executeWorkflow(runtime, userFolder, example.id);
		executions['example reboot all'] = result;
		assert.ok(result.ok, why(result));
		const pages = sim.requests.filter((r) => r.method === 'GET' && r.path === '/v1/devices');
		const total = DEMO_DEVICES.length + EXTRA_DEVICES;
		assert.equal(
			pages.length,
			Math.ceil(total / 100),
			`${total} numbers are ${Math.ceil(total / 100)} pages of 100`,
		);
		assert.deepEqual(
			posts()
				.map((r) => r.path)
				.sort(),
			down.map((id) => `/v1/devices/${id}/reboot`).sort(),
			'one reboot per operative number whose session is offline or timeout, none other',
		);
		assert.ok(
			posts().every((r) => r.body.force === true),
			'Force Reboot on every call',
		);
		assert.deepEqual(
			itemsOf(result.run, 'Numbers that are down').map((i) => i.json.id),
			down,
			"Get Many's items in the service's order",
		);
		assert.equal(itemsOf(result.run, 'Rebooted').length, down.length);
		assert.equal(
			result.run.data.resultData.runData['Could not reboot'],
			undefined,
			'no number failed',
		);
	});

	test('failed send → Reset Session: the failed items reach SparkBot through the error output', async () => {
		sim.reset();
		sim.clearRequests();
		const example = EXAMPLES.find((w) => w.nodes.some((n) => n.name === 'Reset Session'));
		const result = await instance.executeWorkflow(runtime, userFolder, example.id);
		executions['example reset chain'] = result;
		assert.ok(result.ok, why(result));
		const notOnline = DEMO_DEVICES.filter((d) => d.session.status !== 'online').map((d) => d.id);
		assert.deepEqual(
			itemsOf(result.run, 'Send message', 1).map((i) => i.json.error !== undefined),
			notOnline.map(() => true),
		);
		assert.deepEqual(
			posts().map((r) => [r.path, r.body.wait]),
			notOnline.map((id) => [`/v1/devices/${id}/reset`, true]),
		);
		assert.equal(
			itemsOf(result.run, 'Could not reset').length,
			1,
			'the forbidden number lands on the error branch',
		);
		assert.equal(itemsOf(result.run, 'Retry send').length, notOnline.length - 1);
	});
});

// ─── n8n start ───────────────────────────────────────────────────────────────────────────────

describe(`the editor's API of n8n ${N8N_VERSION} (n8n start)`, () => {
	let n8n;
	let cookie;

	before(async () => {
		n8n = await instance.startN8n({ runtime, userFolder });
		({ cookie } = await instance.setupOwner(n8n.url));
	});

	after(async () => {
		await n8n?.stop();
	});

	test('the owner signs in again with POST /rest/login (as `npm start` does on later runs)', async () => {
		const session = await instance.login(n8n.url);
		assert.match(session.cookie, /^n8n-auth=/);
		const types = await instance.getNodeTypes(n8n.url, session.cookie);
		assert.ok(
			types.some((t) => t.name === NODE_TYPE),
			'the new session reads the node types',
		);
	});

	test('n8n lists the node type with its full description', async () => {
		const types = await instance.getNodeTypes(n8n.url, cookie);
		const type = types.find((t) => t.name === NODE_TYPE);
		assert.ok(type, `${NODE_TYPE} among ${types.length} node types`);
		assert.equal(type.displayName, 'SparkBot');
		assert.equal(type.description, 'Interact with SparkBot WhatsApp API');
		assert.deepEqual(
			type.credentials.map((c) => c.name),
			['sparkBotApi'],
		);
		const property = (name, operation) =>
			type.properties.find(
				(p) =>
					p.name === name && (!operation || p.displayOptions?.show?.operation?.includes(operation)),
			);
		// n8n appends its own "Custom API Call" (for the credential's generic auth) after ours.
		assert.deepEqual(
			property('operation')
				.options.map((o) => o.value)
				.slice(0, 2),
			['reboot', 'reset'],
		);
		assert.equal(property('device').typeOptions.loadOptionsMethod, 'getDevices');
		assert.deepEqual(
			property('options', 'reboot').options.map((o) => o.name),
			[
				'concurrency',
				'forceReboot',
				'forceSync',
				'includeAttempts',
				'retry',
				'timeout',
				'waitForSession',
			],
		);
		assert.deepEqual(
			property('options', 'reset').options.map((o) => o.name),
			[
				'concurrency',
				'deleteAllData',
				'emptyQueue',
				'includeAttempts',
				'retry',
				'timeout',
				'waitForSession',
			],
		);
	});

	test('n8n generates the SparkBot Tool node type for AI Agents (usableAsTool)', async () => {
		const types = await instance.getNodeTypes(n8n.url, cookie);
		const tool = types.find((t) => t.name === `${NODE_TYPE}Tool`);
		assert.ok(tool, `${NODE_TYPE}Tool among the node types`);
		assert.deepEqual(tool.outputs, ['ai_tool']);
		assert.deepEqual(
			tool.credentials.map((c) => c.name),
			['sparkBotApi'],
		);
		for (const name of ['resource', 'operation', 'device', 'options']) {
			assert.ok(
				tool.properties.some((p) => p.name === name),
				`the tool keeps the ${name} parameter`,
			);
		}
	});

	test('the WhatsApp Number dropdown lists every device of the account', async () => {
		sim.clearRequests();
		const options = await instance.loadOptions(n8n.url, cookie, {
			nodeType: NODE_TYPE,
			methodName: 'getDevices',
			path: 'device',
			credentials: { [CREDENTIAL_TYPE]: { id: good.id, name: good.name } },
			parameters: { resource: 'whatsappSession', operation: 'reboot', device: '', options: {} },
		});
		assert.equal(options.length, DEMO_DEVICES.length + EXTRA_DEVICES);
		assert.deepEqual(new Set(options.map((o) => o.value)), new Set([...sim.devices.keys()]));
		assert.ok(options.some((o) => o.name === `${sales.alias} (${sales.phone})`));
		assert.ok(sim.requests.filter((r) => r.path === '/v1/devices').length >= 2, 'read every page');
	});

	test("version 2's From List: the editor's search finds a number by its phone's digits, and pages without a filter", async () => {
		const ask = (filter, paginationToken) =>
			instance.resourceLocatorResults(n8n.url, cookie, {
				nodeType: NODE_TYPE,
				typeVersion: 2,
				methodName: 'getDevices',
				path: 'device',
				credentials: { [CREDENTIAL_TYPE]: { id: good.id, name: good.name } },
				parameters: { resource: 'whatsappSession', operation: 'reboot', device: rl('list', '') },
				filter,
				paginationToken,
			});
		sim.clearRequests();
		const first = await ask();
		assert.equal(first.results.length, 100);
		assert.equal(first.paginationToken, '1');
		assert.equal(
			sim.requests.filter((r) => r.path === '/v1/devices').length,
			1,
			'one page request',
		);
		const found = await ask(generatedDevice(42).phone.slice(-7));
		assert.deepEqual(
			found.results.map((r) => r.value),
			[generatedDevice(42).id],
		);
		const byAlias = await ask('sales');
		assert.equal(byAlias.results[0].name, `${sales.alias} (${sales.phone})`);
	});

	test('with a wrong key the dropdown gets the readable error', async () => {
		await assert.rejects(
			instance.loadOptions(n8n.url, cookie, {
				nodeType: NODE_TYPE,
				methodName: 'getDevices',
				path: 'device',
				credentials: { [CREDENTIAL_TYPE]: { id: wrong.id, name: wrong.name } },
				parameters: { resource: 'whatsappSession', operation: 'reboot', device: '', options: {} },
			}),
			(error) => {
				assert.match(
					JSON.stringify(error.body),
					/Authentication failed: check the API key of the SparkBot credential/,
				);
				return true;
			},
		);
	});

	test('stopping a running execution aborts its 2-minute Wait For Session at once', async (t) => {
		const device = DEMO_DEVICES[4].id;
		sim.clearRequests();
		sim.setDeviceReadyMs(device, 120_000);
		try {
			// n8n 1.x wants the workflow in the body; 2.x reads it from the database.
			const workflowData = await instance.restRequest(
				n8n.url,
				cookie,
				'GET',
				`/rest/workflows/${workflows.cancel.id}`,
			);
			const { executionId } = await instance.restRequest(
				n8n.url,
				cookie,
				'POST',
				`/rest/workflows/${workflows.cancel.id}/run`,
				{
					workflowData,
					triggerToStartFrom: { name: TRIGGER },
				},
			);
			assert.ok(executionId, 'the execution started');
			await poll(() => posts(device).length, { timeoutMs: 30_000, pollMs: 100 });
			assert.equal(posts(device).length, 1, 'the reset with wait is in flight');
			await sleep(500);
			const stoppedAt = Date.now();
			await instance.restRequest(
				n8n.url,
				cookie,
				'POST',
				`/rest/executions/${executionId}/stop`,
				{},
			);
			await poll(() => posts(device)[0].abortedAt !== undefined, {
				deadline: stoppedAt + 10_000,
				pollMs: 25,
			});
			const abortedAfter = posts(device)[0].abortedAt - stoppedAt;
			assert.ok(abortedAfter < 1_000, `the request was aborted ${abortedAfter} ms after the stop`);
			t.diagnostic(`request aborted ${abortedAfter} ms after POST /rest/executions/:id/stop`);
			let execution;
			await poll(
				async () => {
					execution = await instance.restRequest(
						n8n.url,
						cookie,
						'GET',
						`/rest/executions/${executionId}`,
					);
					return (
						execution.finished ||
						['canceled', 'crashed', 'error', 'success'].includes(execution.status)
					);
				},
				{ deadline: stoppedAt + 10_000, pollMs: 100 },
			);
			assert.equal(execution.status, 'canceled', `execution status ${execution.status}`);
			assert.ok(Date.now() - stoppedAt < 5_000, 'the execution ended promptly');
		} finally {
			sim.setDeviceReadyMs(device, null);
		}
	});

	const credentialTest = (data) =>
		instance.restRequest(n8n.url, cookie, 'POST', '/rest/credentials/test', {
			credentials: { id: good.id, name: good.name, type: CREDENTIAL_TYPE, data },
		});

	for (const [name, apiKey, status, message] of [
		[
			'passes with the right key',
			SECRET,
			'OK',
			/^Connection successful: the API key works \(\d+ WhatsApp numbers in the account\)$/,
		],
		[
			"fails with the node's message for a wrong key",
			'not-the-key',
			'Error',
			/^Authentication failed: check the API key of the SparkBot credential$/,
		],
	]) {
		test(`the credential test ${name} (run by the node, in the core)`, async () => {
			sim.clearRequests();
			const result = await credentialTest({ apiKey, baseUrl: sim.baseUrl });
			assert.equal(result.status, status, JSON.stringify(result));
			assert.match(result.message, message);
			const [request] = sim.requests;
			assert.equal(request.path, '/v1/devices');
			assert.deepEqual(request.query, { page: '0', size: '1' });
		});
	}

	test('the credential test refuses plain http:// to a host that is not loopback by name, and nothing arrives there', async () => {
		const name = hostname();
		assert.ok(
			await lookup(name).then(
				() => true,
				() => false,
			),
			`${name} resolves to this machine`,
		);
		const arrived = [];
		const trap = createServer((req, res) => {
			arrived.push(req.url);
			res.end('[]');
		});
		trap.on('connection', () => arrived.push('connection'));
		await new Promise((resolve) => trap.listen(0, '0.0.0.0', resolve));
		try {
			const baseUrl = `http://${name}:${trap.address().port}/v1`;
			const result = await credentialTest({ apiKey: SECRET, baseUrl, allowInsecureHttp: false });
			assert.equal(result.status, 'Error');
			assert.equal(
				result.message,
				`SparkBot credential, Base URL: http://${name}:${trap.address().port} would send the API key unencrypted; use https://, or turn on Allow Insecure HTTP if this host is on a network you trust (plain http:// is allowed without it only to this machine: localhost, 127.0.0.1, [::1])`,
			);
			assert.deepEqual(arrived, [], 'nothing arrived at the host');
		} finally {
			trap.close();
		}
	});
});

describe('secrets', () => {
	test('the API key appears in no execution output or error', () => {
		assert.ok(Object.keys(executions).length >= 7);
		for (const [key, result] of Object.entries(executions)) {
			assert.ok(!JSON.stringify(result.run).includes(SECRET), `${key}: the run holds the key`);
			assert.ok(
				!result.stdout.includes(SECRET) && !result.stderr.includes(SECRET),
				`${key}: n8n's output holds the key`,
			);
		}
	});
});
