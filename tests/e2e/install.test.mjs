// The package installed each way users install it, then used as users use it:
//   1. n8n's Settings → Community Nodes (`POST /rest/community-packages`, what the editor's
//      Install button sends): n8n's own installer downloads it from the npm registry — here a
//      registry of the tests' that serves the packed package, reached the way a company network
//      reaches it: through an inspecting proxy (n8n lets only a licensed instance use another
//      registry) — and hot-loads it into the running n8n;
//   2. the README's manual command, read from README.md and run as written;
//   3. the manual command older READMEs gave, which let npm install n8n-workflow as a peer
//      dependency next to the package: a second n8n-workflow, newer than n8n's own.
// Each time: the credential Test and an activated SparkBot Trigger in the running n8n, then a
// version 1 Reboot, a version 2 Get Many → Reboot and a failing Reboot (with and without
// continue-on-fail: n8n's error classes) with `n8n execute`.
//
// n8n version: SPARKBOT_E2E_N8N on Node SPARKBOT_E2E_NODE (npm test runs both ends it supports).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import * as instance from '../../scripts/n8n/instance.mjs';
import { run } from '../../scripts/n8n/processes.mjs';
import { waitUntil } from '../../scripts/lib/wait.mjs';
import { tail } from '../../scripts/lib/text.mjs';
import { startForwardProxy } from '../simulator/forward-proxy.mjs';
import { packageRegistry } from '../simulator/npm-registry.mjs';
import { DEMO_DEVICES, startSimulator } from '../../support/simulator/sparkbot-simulator.mjs';
import { makeTestCa } from '../simulator/test-ca.mjs';
import {
	CREDENTIAL_TYPE,
	N8N_VERSION,
	NODE_TYPE,
	ROOT,
	TRIGGER_TYPE,
	WEBHOOK_TRIGGER_TYPE,
	e2eRuntime,
	packPackage,
	pollingTriggerNode,
	sparkBotNode,
} from './fixtures.mjs';

const SECRET = 'sk-e2e-install-90d2-NEVER-IN-OUTPUT';
const UNKNOWN = 'ffffffffffffffffffffffff';
const [sales] = DEMO_DEVICES;
const TRIGGER = 'When clicking ‘Execute workflow’';

let runtime;
let tarball;
let sim;
let ca;
let registry;
let proxy;

/** The manual install command of README.md's "Install it into n8n", as written there. */
function readmeInstallCommand() {
	const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
	const section = readme.slice(readme.indexOf('## Install it into n8n'));
	const line = section
		.split('\n')
		.find((l) => l.trim().startsWith('cd ~/.n8n/nodes && npm install'));
	assert.ok(line, 'README.md names a manual install command');
	return line.trim();
}

/** The credential and workflows every way uses, imported into `userFolder`. */
async function importFixtures(userFolder) {
	const credential = {
		id: instance.newId(),
		name: 'SparkBot (simulator)',
		type: CREDENTIAL_TYPE,
		data: { apiKey: SECRET, baseUrl: sim.baseUrl },
	};
	await instance.importCredentials(runtime, userFolder, credential);
	const ref = { id: credential.id, name: credential.name };
	const manual = {
		name: TRIGGER,
		type: 'n8n-nodes-base.manualTrigger',
		typeVersion: 1,
		position: [0, 0],
		parameters: {},
	};
	const reboot = (name, device, extra = {}) => ({
		...sparkBotNode({
			name,
			credential: ref,
			parameters: { resource: 'whatsappSession', operation: 'reboot', device, options: {} },
		}),
		...extra,
	});
	const chain = (name, nodes) => ({
		name,
		nodes: [manual, ...nodes],
		connections: Object.fromEntries(
			[TRIGGER, ...nodes.map((n) => n.name)]
				.slice(0, -1)
				.map((from, i) => [from, { main: [[{ node: nodes[i].name, type: 'main', index: 0 }]] }]),
		),
		settings: { executionOrder: 'v1' },
	});
	const [works, fails, continues, trigger] = await instance.importWorkflow(runtime, userFolder, [
		chain('e2e: version 1 and version 2', [
			reboot('V1 Reboot', sales.id),
			sparkBotNode({
				name: 'V2 Get Many',
				typeVersion: 2,
				credential: ref,
				parameters: { resource: 'whatsappNumber', operation: 'getAll', returnAll: false, limit: 2 },
			}),
			{
				...sparkBotNode({
					name: 'V2 Reboot',
					typeVersion: 2,
					credential: ref,
					parameters: {
						resource: 'whatsappSession',
						operation: 'reboot',
						device: { __rl: true, mode: 'id', value: '={{ $json.id }}' },
						options: { forceReboot: true },
					},
				}),
			},
		]),
		chain('e2e: a failing reboot', [reboot('Unknown', UNKNOWN)]),
		chain('e2e: a failing reboot, continue', [
			reboot('Unknown', UNKNOWN, { onError: 'continueRegularOutput' }),
		]),
		{
			name: 'e2e: trigger',
			nodes: [pollingTriggerNode({ credential: ref })],
			settings: { executionOrder: 'v1' },
		},
	]);
	return { credential, works, fails, continues, trigger };
}

/** The credential Test and an activated trigger in the running n8n. */
async function checkRunning(n8n, cookie, fixtures) {
	const { credential } = fixtures;
	const tested = await instance.restRequest(n8n.url, cookie, 'POST', '/rest/credentials/test', {
		credentials: { ...credential, data: credential.data },
	});
	assert.equal(tested.status, 'OK', JSON.stringify(tested));
	sim.clearRequests();
	await instance.activateWorkflow(n8n.url, cookie, fixtures.trigger.id);
	await waitUntil(
		'the activated trigger polled SparkBot',
		() => sim.requests.some((r) => r.path === '/v1/devices'),
		{ timeoutMs: 20_000, proc: n8n },
	);
	await instance.deactivateWorkflow(n8n.url, cookie, fixtures.trigger.id);
}

/** Version 1 and 2 workflows with `n8n execute`, and the errors n8n shows for a failing item. */
async function checkExecutions(userFolder, fixtures) {
	sim.reset();
	const works = await instance.executeWorkflow(runtime, userFolder, fixtures.works.id);
	const log = tail(`${works.stdout}\n${works.stderr}`, 30);
	assert.ok(works.ok, `status ${works.status}, exit ${works.code ?? `by ${works.signal}`}\n${log}`);
	assert.equal(works.output('V1 Reboot')[0].id, sales.id);
	assert.deepEqual(
		works.output('V2 Reboot').map((o) => o.operation),
		['reboot', 'reboot'],
	);

	const fails = await instance.executeWorkflow(runtime, userFolder, fixtures.fails.id);
	assert.equal(fails.status, 'error');
	assert.equal(fails.error.name, 'NodeApiError', JSON.stringify(fails.error));
	assert.equal(fails.error.message, `Device ${UNKNOWN} not found in this SparkBot account`);
	assert.equal(fails.error.httpCode, '404');
	assert.match(fails.error.description, /device_not_found/);

	const continues = await instance.executeWorkflow(runtime, userFolder, fixtures.continues.id);
	assert.ok(continues.ok, tail(continues.stdout, 20));
	const [item] = continues.output('Unknown');
	assert.equal(item.code, 'SPARKBOT_DEVICE_NOT_FOUND');
	assert.equal(item.httpCode, 404);
}

before(async () => {
	runtime = await e2eRuntime();
	tarball = await packPackage();
	sim = await startSimulator({ apiKey: SECRET, timeScale: 0.01 });
	ca = makeTestCa({ names: ['registry.npmjs.org'], ips: [] });
	registry = packageRegistry({ tarball });
	proxy = await startForwardProxy({
		intercept: { 'registry.npmjs.org': registry.handler },
		interceptTls: { key: ca.serverKey, cert: ca.serverCert },
	});
});

after(async () => {
	await Promise.all([sim?.close(), proxy?.close()]);
	ca?.remove();
	if (tarball) rmSync(dirname(tarball), { recursive: true, force: true });
});

describe(`installed from n8n ${N8N_VERSION}'s Settings → Community Nodes`, () => {
	let userFolder;
	let n8n;
	let cookie;
	let fixtures;

	before(async () => {
		userFolder = instance.createUserFolder({ removeOnExit: true });
		fixtures = await importFixtures(userFolder);
		n8n = await instance.startN8n({
			runtime,
			userFolder,
			// n8n and the npm it runs reach the registry through the proxy; SparkBot directly.
			env: {
				HTTPS_PROXY: proxy.url,
				NO_PROXY: '127.0.0.1,localhost',
				NODE_EXTRA_CA_CERTS: ca.caFile,
			},
		});
		({ cookie } = await instance.setupOwner(n8n.url));
	});
	after(async () => {
		await n8n?.stop();
	});

	test("the editor's Install: n8n downloads, installs and loads the package without a restart", async () => {
		const installed = await instance.restRequest(
			n8n.url,
			cookie,
			'POST',
			'/rest/community-packages',
			{
				name: registry.name,
				version: registry.version,
			},
		);
		assert.equal(installed.packageName, registry.name);
		assert.equal(installed.installedVersion, registry.version);
		assert.deepEqual(installed.installedNodes.map((node) => node.type).sort(), [
			NODE_TYPE,
			TRIGGER_TYPE,
			WEBHOOK_TRIGGER_TYPE,
		]);
		assert.ok(
			registry.requests.some((r) => r.endsWith('.tgz')),
			`n8n fetched the tarball: ${registry.requests.join(', ')}`,
		);
		const nodes = join(userFolder, '.n8n', 'nodes', 'node_modules');
		assert.ok(!existsSync(join(nodes, 'n8n-workflow')), 'n8n installs no second n8n-workflow');
	});

	test('the credential Test and an activated trigger work in the running n8n', async () => {
		await checkRunning(n8n, cookie, fixtures);
	});

	test('version 1 and 2 workflows run, and failing items carry n8n’s error classes', async () => {
		await n8n.stop();
		n8n = undefined;
		await checkExecutions(userFolder, fixtures);
	});
});

for (const [way, command] of [
	["the README's manual command", () => readmeInstallCommand()],
	[
		'the manual command older READMEs gave (a second, newer n8n-workflow next to the package)',
		() => 'cd ~/.n8n/nodes && npm install --ignore-scripts /path/to/n8n-nodes-sparkbot-0.1.0.tgz',
	],
]) {
	describe(`installed into n8n ${N8N_VERSION} by ${way}`, () => {
		let userFolder;
		let fixtures;
		let stray;

		before(async () => {
			userFolder = instance.createUserFolder({ removeOnExit: true });
			fixtures = await importFixtures(userFolder);
		});

		test('the command installs the package', async () => {
			const nodes = join(userFolder, '.n8n', 'nodes');
			const script = command()
				.replace('~/.n8n/nodes', `'${nodes}'`)
				.replace('/path/to/n8n-nodes-sparkbot-0.1.0.tgz', `'${tarball}'`);
			// As a user's shell runs it: without the npm_* settings `npm test` itself runs under.
			const env = Object.fromEntries(
				Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)),
			);
			const result = await run('sh', ['-c', `mkdir -p '${nodes}' && ${script}`], {
				env,
				timeoutMs: 5 * 60_000,
			});
			assert.equal(result.code, 0, `${script}\n${result.stderr}`);
			assert.ok(existsSync(join(nodes, 'node_modules', 'n8n-nodes-sparkbot', 'package.json')));
			stray = existsSync(join(nodes, 'node_modules', 'n8n-workflow', 'package.json'));
			if (way.startsWith('the README'))
				assert.ok(!stray, "the README's command installs no second n8n-workflow");
			else assert.ok(stray, 'the old command did install a second n8n-workflow');
		});

		test('the credential Test and an activated trigger work in n8n', async () => {
			const n8n = await instance.startN8n({ runtime, userFolder });
			try {
				const { cookie } = await instance.setupOwner(n8n.url);
				await checkRunning(n8n, cookie, fixtures);
			} finally {
				await n8n.stop();
			}
		});

		test('version 1 and 2 workflows run, and failing items carry n8n’s error classes', async () => {
			await checkExecutions(userFolder, fixtures);
		});
	});
}
