#!/usr/bin/env node
// Proof that the built package works in a real n8n (2.30.8 on Node 24), end to end:
//
//   1. build dist/ and `npm pack` it                  (--skip-build: pack the dist/ there is)
//   2. install Node 24 + n8n into .runtime/ (cached)
//   3. a fresh N8N_USER_FOLDER; the tarball installed into .n8n/nodes like n8n's UI does
//   4. the SparkBot simulator, in this process
//   5. CLI: import a credential (→ simulator) and a workflow (Manual Trigger → SparkBot reboot),
//      `n8n execute --id` it and print the SparkBot node's output
//   6. `n8n start`: owner setup, the node type is listed in /types/nodes.json, and the
//      WhatsApp Number dropdown (loadOptions getDevices) returns the simulator's devices
//
// Prints the timings at the end. Exit code 0 only if every check passed.
// Options: --skip-build, --keep (leave the user folder for inspection), --verbose (n8n output),
//          --n8n <version> --node <major> (another n8n than the default 2.30.8 on Node 24).
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';

import { DEMO_DEVICES, startSimulator } from '../simulator/sparkbot-simulator.mjs';
import { atExit } from '../../scripts/n8n/processes.mjs';
import { ensureRuntime } from '../../scripts/n8n/runtime.mjs';
import {
	createUserFolder,
	executeWorkflow,
	getNodeTypes,
	importCredentials,
	importWorkflow,
	installPackage,
	loadOptions,
	login,
	removeUserFolder,
	setupOwner,
	startN8n,
} from '../../scripts/n8n/instance.mjs';
import { NODE_TYPE, buildPackage, packPackage, sparkBotCredential, sparkBotWorkflow } from './fixtures.mjs';

const flags = new Set(process.argv.slice(2));
const option = (name) => {
	const i = process.argv.indexOf(name);
	return i === -1 ? undefined : process.argv[i + 1];
};
const verbose = flags.has('--verbose');
const timings = [];

/** Runs one step, prints its title and duration, records the duration. */
async function step(title, fn) {
	console.log(`\n━━ ${title}`);
	const started = performance.now();
	const result = await fn();
	const seconds = (performance.now() - started) / 1000;
	timings.push([title, seconds]);
	console.log(`   ok (${seconds.toFixed(1)} s)`);
	return result;
}

let sim;
let n8n;
let userFolder;
try {
	if (!flags.has('--skip-build')) await step('build dist/', buildPackage);
	const tarball = await step('npm pack ./dist', async () => {
		const path = await packPackage();
		atExit(() => rmSync(dirname(path), { recursive: true, force: true })); // also on Ctrl+C
		console.log(`   ${path}`);
		return path;
	});

	const runtime = await step('n8n runtime (.runtime/, installed on first use)', () =>
		ensureRuntime({
			...(option('--n8n') ? { n8nVersion: option('--n8n') } : {}),
			...(option('--node') ? { nodeMajor: Number(option('--node')) } : {}),
			log: (line) => console.log(`   ${line}`),
		}),
	);
	console.log(`   n8n ${runtime.n8nVersion} on Node ${runtime.nodeVersion}`);

	userFolder = createUserFolder({ removeOnExit: !flags.has('--keep') });
	console.log(`\n   N8N_USER_FOLDER=${userFolder}`);
	const installed = await step('install the tarball into .n8n/nodes', () => installPackage(userFolder, tarball));
	console.log(`   ${installed.name}@${installed.version} → ${installed.directory}`);

	sim = await startSimulator({ timeScale: 0.001 });
	console.log(`\n   simulator: ${sim.baseUrl}`);

	const [credential] = await step('n8n import:credentials', () =>
		importCredentials(runtime, userFolder, sparkBotCredential({ apiKey: sim.apiKey, baseUrl: sim.baseUrl })),
	);
	const device = DEMO_DEVICES[0]; // Sales: online, reboots without force
	const workflow = await step('n8n import:workflow', () =>
		importWorkflow(
			runtime,
			userFolder,
			sparkBotWorkflow({
				name: 'SparkBot smoke: reboot',
				credential,
				parameters: { resource: 'whatsappSession', operation: 'reboot', device: device.id, options: {} },
			}),
		),
	);

	const execution = await step(`n8n execute --id ${workflow.id}`, () => executeWorkflow(runtime, userFolder, workflow.id));
	if (!execution.ok) {
		console.error(execution.stdout, execution.stderr);
		throw new Error(`execution failed: ${execution.status} ${JSON.stringify(execution.error, null, 2)}`);
	}
	const output = execution.output('SparkBot');
	console.log(`   status ${execution.status}; SparkBot output:\n${indent(JSON.stringify(output, null, 2))}`);
	assert.equal(output.length, 1, 'one item out');
	const reboots = sim.requests.filter((r) => r.method === 'POST' && r.path.includes(device.id));
	assert.equal(reboots.length, 1, 'the simulator saw exactly one reboot POST for the device');
	assert.equal(reboots[0].headers.token, '<redacted:ok>', 'with the right API key');

	n8n = await step('n8n start (until /healthz/readiness is 200)', () =>
		startN8n({ runtime, userFolder, onLine: verbose ? (line) => console.log(`   │ ${line}`) : undefined }),
	);
	console.log(`   ${n8n.url}`);

	const { cookie } = await step('owner setup + login (REST)', async () => {
		await setupOwner(n8n.url);
		return await login(n8n.url);
	});

	await step('GET /types/nodes.json lists the node', async () => {
		const types = await getNodeTypes(n8n.url, cookie);
		const sparkBot = types.filter((type) => type.name === NODE_TYPE);
		assert.equal(sparkBot.length, 1, `${NODE_TYPE} in /types/nodes.json (${types.length} types)`);
		console.log(`   ${types.length} node types; ${NODE_TYPE}: "${sparkBot[0].displayName}" v${sparkBot[0].version}`);
	});

	await step('POST /rest/dynamic-node-parameters/options (getDevices)', async () => {
		const options = await loadOptions(n8n.url, cookie, {
			nodeType: NODE_TYPE,
			methodName: 'getDevices',
			path: 'device',
			credentials: { sparkBotApi: { id: credential.id, name: credential.name } },
			parameters: { resource: 'whatsappSession', operation: 'reboot', device: '', options: {} },
		});
		console.log(indent(options.map((option) => `${option.value}  ${option.name}`).join('\n')));
		assert.deepEqual(
			options.map((option) => option.value).sort(),
			DEMO_DEVICES.map((d) => d.id).sort(),
			'one option per simulator device',
		);
	});

	console.log('\n✓ smoke test passed\n\ntimings:');
	for (const [title, seconds] of timings) console.log(`  ${seconds.toFixed(1).padStart(7)} s  ${title}`);
} catch (error) {
	console.error(`\n✗ ${error.stack ?? error}`);
	if (n8n && !verbose) console.error(`\n--- n8n output (tail) ---\n${n8n.output().split('\n').slice(-30).join('\n')}`);
	process.exitCode = 1;
} finally {
	await n8n?.stop();
	await sim?.close();
	if (userFolder && flags.has('--keep')) console.log(`\n(kept ${userFolder})`);
	else removeUserFolder(userFolder);
}

function indent(text) {
	return text.replace(/^/gm, '   ');
}
