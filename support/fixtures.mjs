// What scripts/ and tests/ share about the package in n8n: the built package as a tarball, the
// node types, and the credential and workflow objects n8n's CLI imports (the examples too).
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const NODE_TYPE = 'n8n-nodes-sparkbot.sparkBot';
/** The trigger node's type in a workflow. */
export const TRIGGER_TYPE = 'n8n-nodes-sparkbot.sparkBotTrigger';
/** SparkBot Webhook Trigger's node type. */
export const WEBHOOK_TRIGGER_TYPE = 'n8n-nodes-sparkbot.sparkBotWebhookTrigger';
export const CREDENTIAL_TYPE = 'sparkBotApi';

/** The credential every example workflow refers to (imported under this id by `npm start`). */
export const EXAMPLE_CREDENTIAL = Object.freeze({
	id: 'SparkBotSimCreds',
	name: 'SparkBot (simulator)',
	type: CREDENTIAL_TYPE,
});
/**
 * The Telegram credential of the self-healing example (imported under this id by `npm start` and
 * the trigger suite): `exampleChatCredential(sim)` points it at that simulator's chat stand-in.
 */
export const EXAMPLE_CHAT_CREDENTIAL = Object.freeze({
	id: 'SparkBotTelegram',
	name: 'Telegram (chat stand-in)',
	type: 'telegramApi',
});
/** The example's Telegram credential with its data: the simulator's chat stand-in. */
export function exampleChatCredential(sim) {
	return {
		...EXAMPLE_CHAT_CREDENTIAL,
		data: { accessToken: '4242:example-bot-token', baseUrl: sim.telegramBaseUrl },
	};
}
/** The workflows in examples/, sorted by file name, exactly as users import them. */
export function readExamples() {
	const dir = join(ROOT, 'examples');
	return readdirSync(dir)
		.filter((file) => file.endsWith('.json'))
		.sort()
		.map((file) => {
			const workflow = JSON.parse(readFileSync(join(dir, file), 'utf8'));
			if (!workflow.id || !Array.isArray(workflow.nodes))
				throw new Error(`examples/${file} is not a workflow with an "id"`);
			return workflow;
		});
}

/** `node scripts/build.mjs --quiet` → dist/ (stdout/stderr pass through: its one summary line). */
export function buildPackage() {
	return new Promise((resolvePromise, reject) => {
		const child = spawn(process.execPath, ['scripts/build.mjs', '--quiet'], {
			cwd: ROOT,
			stdio: 'inherit',
		});
		child.on('error', reject);
		child.on('exit', (code, signal) =>
			code === 0
				? resolvePromise()
				: reject(new Error(`build failed (${signal ?? `exit ${code}`})`)),
		);
	});
}

/** `npm pack ./dist` into a fresh temporary folder; returns the tarball's absolute path. */
export async function packPackage(destination = mkdtempSync(join(tmpdir(), 'sparkbot-pack-'))) {
	const { stdout } = await promisify(execFile)(
		'npm',
		['pack', './dist', '--pack-destination', destination, '--json', '--silent'],
		{ cwd: ROOT, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
	).catch((error) => {
		throw new Error(`npm pack failed:\n${error.stderr || error.stdout || error.message}`);
	});
	const [{ filename }] = JSON.parse(stdout);
	return join(destination, filename);
}

/** A SparkBot credential for importCredentials(), pointing at `baseUrl`. */
export function sparkBotCredential({ apiKey, baseUrl, name = 'SparkBot (simulator)', id } = {}) {
	return { ...(id ? { id } : {}), name, type: CREDENTIAL_TYPE, data: { apiKey, baseUrl } };
}

/**
 * A SparkBot node for a workflow: `parameters` its parameters, `credential` `{ id, name }` of an
 * imported SparkBot credential; version 1 unless `typeVersion` says otherwise.
 */
export function sparkBotNode({
	name = 'SparkBot',
	parameters,
	credential,
	typeVersion = 1,
	position = [220, 0],
}) {
	return {
		name,
		type: NODE_TYPE,
		typeVersion,
		position,
		parameters,
		credentials: { [CREDENTIAL_TYPE]: { id: credential.id, name: credential.name } },
	};
}

/** Reboot Session's parameters (version 1) for the number whose ID is in each item's `id`. */
export function rebootEachItem(options = {}) {
	return { resource: 'whatsappSession', operation: 'reboot', device: '={{ $json.id }}', options };
}

/**
 * Manual Trigger → SparkBot, ready for importWorkflow(). `credential` is `{ id, name }` of an
 * imported SparkBot credential; `parameters` the SparkBot node's parameters.
 */
export function sparkBotWorkflow({
	name = 'SparkBot e2e',
	credential,
	parameters,
	nodeName = 'SparkBot',
	id,
} = {}) {
	return {
		...(id ? { id } : {}),
		name,
		nodes: [
			{
				name: 'When clicking ‘Execute workflow’',
				type: 'n8n-nodes-base.manualTrigger',
				typeVersion: 1,
				position: [0, 0],
				parameters: {},
			},
			sparkBotNode({ name: nodeName, parameters, credential }),
		],
		connections: {
			'When clicking ‘Execute workflow’': { main: [[{ node: nodeName, type: 'main', index: 0 }]] },
		},
		settings: { executionOrder: 'v1' },
	};
}
