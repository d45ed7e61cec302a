// End to end in n8n's queue mode (scaling mode): the package runs unchanged when executions are
// not run by the process that received them but by `n8n worker` processes.
//
//   Redis (redis-server)          our own throwaway instance on a free port, nothing persisted
//   PostgreSQL (Debian's server)  our own throwaway cluster: initdb into a temporary folder,
//                                 `postgres` on a free port (as the `postgres` user when we are
//                                 root). n8n warns that queue mode is "not officially supported
//                                 with sqlite", so the three processes share PostgreSQL.
//   n8n main (`n8n start`)        receives the webhook calls and enqueues the executions
//   2 × `n8n worker`              run them: each its own user folder with the package installed,
//                                 the same encryption key, database and Redis
//   `n8n webhook`                 a webhook process (n8n's WEBHOOK_URL points at it): SparkBot's
//                                 deliveries to SparkBot Webhook Trigger reach it, it checks them
//                                 and enqueues the executions
//
// The workflow is Webhook (production URL, workflow activated) → Code (one item per device ID
// posted) → SparkBot Reboot Session (`device` = {{ $json.id }}); production executions always go
// to the queue in queue mode. Checked: every item's answer (HTTP response and the execution data
// main reads back from the database, pairing included), the simulator's request log (one reboot
// per device) and the worker logs (which worker ran which execution; both workers get work).
//
// Needs redis-server and PostgreSQL's server binaries (`apt-get install redis-server postgresql`;
// SPARKBOT_PG_BIN names the folder with initdb/postgres elsewhere).
// n8n version: SPARKBOT_E2E_N8N (default: the newest, NEWEST_N8N in scripts/n8n/runtime.mjs) on
// Node SPARKBOT_E2E_NODE (default 24).
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import {
	chownSync,
	existsSync,
	mkdirSync,
	mkdtempSync,
	readFileSync,
	readdirSync,
	rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import * as instance from '../../scripts/n8n/instance.mjs';
import { atExit, run, startProcess } from '../../scripts/n8n/processes.mjs';
import { freePorts } from '../../scripts/lib/net.mjs';
import { tail } from '../../scripts/lib/text.mjs';
import { sleep, waitUntil } from '../../scripts/lib/wait.mjs';
import { generatedDevice, startSimulator } from '../../support/simulator/sparkbot-simulator.mjs';
import {
	CREDENTIAL_TYPE,
	N8N_VERSION,
	WEBHOOK_TRIGGER_TYPE,
	e2eRuntime,
	packPackage,
	pollingTriggerNode,
	rebootEachItem,
	sparkBotCredential,
	sparkBotNode,
} from './fixtures.mjs';

const SECRET = 'sk-queue-0b6e2f4c-NEVER-IN-OUTPUT';
const DEVICES = Array.from({ length: 100 }, (_, i) => generatedDevice(i + 1).id);
/**
 * The numbers SparkBot Webhook Trigger watches (its Numbers filter): none of the earlier tests
 * touches them. SparkBot still delivers every other change (the earlier tests' reboots change
 * every session of DEVICES); the trigger answers those and runs nothing.
 */
const WATCHED = Array.from({ length: 4 }, (_, i) => generatedDevice(DEVICES.length + i + 1).id);
const WORKERS = 2;
/** Jobs one worker runs at once (`n8n worker --concurrency`; n8n warns below 5). */
const WORKER_CONCURRENCY = 5;
/** The second test: this many executions at once, DEVICES split evenly between them. */
const BATCHES = 10;
/** How long the simulator holds a Wait For Session reboot: makes each batch last ≥ 10 × this. */
const WAIT_MS = 300;
const WEBHOOK_PATH = `sparkbot-queue-${randomBytes(4).toString('hex')}`;
const ENCRYPTION_KEY = randomBytes(24).toString('base64url');
const STARTUP_TIMEOUT_MS = 120_000;
const EXECUTION_TIMEOUT_MS = 90_000;

let runtime;
let postgres;
let redis;
let sim;
let main;
/** `{ name, proc, healthPort, ready }` per worker, pushed as soon as the process runs. */
const workers = [];
const userFolders = [];
let cookie;
let workflow;
/** The SparkBot Trigger workflow. */
let trigger;
/** The SparkBot Webhook Trigger workflow, and the webhook process that receives its deliveries. */
let instant;
let webhookProcess;
let webhookPort;

// ─── services ────────────────────────────────────────────────────────────────────────────────

/** First of `names` found in a PATH folder (plus the sbin folders, often missing from PATH). */
function findProgram(...names) {
	const dirs = [
		...(process.env.PATH ?? '').split(delimiter),
		'/usr/local/sbin',
		'/usr/sbin',
		'/sbin',
	];
	for (const name of names) {
		for (const dir of dirs) if (dir && existsSync(join(dir, name))) return join(dir, name);
	}
	return undefined;
}

async function httpOk(url) {
	try {
		const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
		await response.body?.cancel();
		return response.ok;
	} catch {
		return false;
	}
}

/** A temporary folder removed by `remove()` or, at the latest, when this process exits. */
function tempFolder(prefix) {
	const dir = mkdtempSync(join(tmpdir(), prefix));
	const unregister = atExit(() => rmSync(dir, { recursive: true, force: true }));
	return {
		dir,
		remove() {
			rmSync(dir, { recursive: true, force: true });
			unregister();
		},
	};
}

/** The folder with PostgreSQL's server programs (initdb, postgres): newest /usr/lib/postgresql/N/bin. */
function postgresBinDir() {
	if (process.env.SPARKBOT_PG_BIN) return process.env.SPARKBOT_PG_BIN;
	const base = '/usr/lib/postgresql';
	const versions = existsSync(base)
		? readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'postgres')))
		: [];
	versions.sort((a, b) => Number(b) - Number(a));
	if (versions.length) return join(base, versions[0], 'bin');
	const initdb = findProgram('initdb');
	if (initdb && existsSync(join(initdb, '..', 'postgres'))) return join(initdb, '..');
	throw new Error(
		'PostgreSQL server programs not found: apt-get install postgresql (or set SPARKBOT_PG_BIN to the folder holding initdb and postgres)',
	);
}

/**
 * A throwaway PostgreSQL cluster: initdb into a temporary folder (trust authentication, no
 * fsync), `postgres` on a free port on 127.0.0.1 with its socket in that folder, database `n8n`.
 * PostgreSQL refuses to run as root, so as root the programs run as the `postgres` user (through
 * `setpriv`, which execs: the server stays the leader of its process group). `stop()` shuts it
 * down (fast mode) and deletes the folder.
 */
async function startPostgres() {
	const bin = postgresBinDir();
	const asRoot = process.getuid?.() === 0;
	let owner;
	if (asRoot) {
		const entry = readFileSync('/etc/passwd', 'utf8')
			.split('\n')
			.find((line) => line.startsWith('postgres:'));
		if (!entry)
			throw new Error(
				'running as root, but there is no "postgres" user to run PostgreSQL as (apt-get install postgresql creates it)',
			);
		const [, , uid, gid] = entry.split(':');
		owner = { uid: Number(uid), gid: Number(gid) };
	}
	const as = (program, args) =>
		asRoot
			? [
					'setpriv',
					['--reuid=postgres', '--regid=postgres', '--init-groups', '--', program, ...args],
				]
			: [program, args];

	const folder = tempFolder('sparkbot-pg-');
	const data = join(folder.dir, 'data');
	const socketDir = join(folder.dir, 'socket');
	mkdirSync(socketDir);
	if (owner) for (const dir of [folder.dir, socketDir]) chownSync(dir, owner.uid, owner.gid);
	const env = { ...process.env, LC_ALL: 'C', LANG: 'C' };
	let server;
	try {
		const initdb = await run(
			...as(join(bin, 'initdb'), [
				'-D',
				data,
				'-U',
				'postgres',
				'-A',
				'trust',
				'-E',
				'UTF8',
				'--locale=C',
				'--no-sync',
				'--no-instructions',
			]),
			{ cwd: folder.dir, env, timeoutMs: 120_000 },
		);
		if (initdb.code !== 0)
			throw new Error(
				`initdb failed (exit ${initdb.code}):\n${tail(initdb.stdout + initdb.stderr, 40)}`,
			);

		const [port] = await freePorts(1);
		server = startProcess(
			...as(join(bin, 'postgres'), [
				'-D',
				data,
				'-p',
				String(port),
				'-k',
				socketDir,
				'-c',
				'listen_addresses=127.0.0.1',
				'-c',
				'fsync=off',
				'-c',
				'synchronous_commit=off',
				'-c',
				'full_page_writes=off',
			]),
			{ cwd: folder.dir, env, logFile: join(folder.dir, 'postgres.log') },
		);
		await waitUntil(
			'PostgreSQL start',
			() => /database system is ready to accept connections/.test(server.output()),
			{ timeoutMs: 60_000, proc: server },
		);
		const createdb = await run(
			join(bin, 'createdb'),
			['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', 'n8n'],
			{ env, timeoutMs: 30_000 },
		);
		if (createdb.code !== 0)
			throw new Error(
				`createdb failed (exit ${createdb.code}): ${createdb.stderr || createdb.stdout}`,
			);
		return {
			port,
			output: server.output,
			async stop() {
				try {
					process.kill(server.child.pid, 'SIGINT'); // fast shutdown: ends sessions, no waiting for clients
				} catch {
					// already gone
				}
				let timer;
				await Promise.race([
					server.exited,
					new Promise((resolve) => (timer = setTimeout(resolve, 15_000))),
				]);
				clearTimeout(timer);
				await server.stop(); // SIGTERM, then SIGKILL: whatever is left of it
				folder.remove();
			},
		};
	} catch (error) {
		await server?.stop();
		folder.remove();
		throw error;
	}
}

/** A throwaway Redis on a free port on 127.0.0.1: no RDB snapshots, no AOF. */
async function startRedis() {
	const program = findProgram('redis-server');
	if (!program) throw new Error('redis-server not found: apt-get install redis-server');
	const folder = tempFolder('sparkbot-redis-');
	const [port] = await freePorts(1);
	const server = startProcess(
		program,
		[
			'--port',
			String(port),
			'--bind',
			'127.0.0.1',
			'--save',
			'',
			'--appendonly',
			'no',
			'--dir',
			folder.dir,
		],
		{
			cwd: folder.dir,
			logFile: join(folder.dir, 'redis.log'),
		},
	);
	try {
		await waitUntil('Redis start', () => /Ready to accept connections/.test(server.output()), {
			timeoutMs: 30_000,
			proc: server,
		});
	} catch (error) {
		await server.stop();
		folder.remove();
		throw error;
	}
	return {
		port,
		output: server.output,
		async stop() {
			await server.stop();
			folder.remove();
		},
	};
}

// ─── n8n ─────────────────────────────────────────────────────────────────────────────────────

/** What main, the workers and the CLI imports share: database, Redis, encryption key. */
function queueEnv() {
	return {
		DB_TYPE: 'postgresdb',
		DB_POSTGRESDB_HOST: '127.0.0.1',
		DB_POSTGRESDB_PORT: String(postgres.port),
		DB_POSTGRESDB_DATABASE: 'n8n',
		DB_POSTGRESDB_USER: 'postgres',
		DB_POSTGRESDB_PASSWORD: '',
		EXECUTIONS_MODE: 'queue',
		QUEUE_BULL_REDIS_HOST: '127.0.0.1',
		QUEUE_BULL_REDIS_PORT: String(redis.port),
		N8N_ENCRYPTION_KEY: ENCRYPTION_KEY,
		// production executions go to the workers anyway; this also sends manual ones there (and
		// silences n8n's deprecation notice about running them on main)
		OFFLOAD_MANUAL_EXECUTIONS_TO_WORKERS: 'true',
		// The URL n8n gives SparkBot for webhooks: the webhook process.
		WEBHOOK_URL: `http://127.0.0.1:${webhookPort}/`,
	};
}

/**
 * `n8n worker --concurrency 5` for `userFolder`, with its own task-broker port and its health
 * server (`/healthz/readiness`) on its own port. Returns at once; `ready` resolves when the
 * worker printed "n8n worker is now ready" and its readiness check answers 200.
 */
async function launchWorker(index, userFolder) {
	const [brokerPort, healthPort] = await freePorts(2);
	const proc = startProcess(
		runtime.nodeBin,
		[runtime.n8nBin, 'worker', `--concurrency=${WORKER_CONCURRENCY}`],
		{
			cwd: userFolder,
			env: instance.n8nEnv(runtime, userFolder, {
				...queueEnv(),
				N8N_RUNNERS_BROKER_PORT: String(brokerPort),
				QUEUE_HEALTH_CHECK_ACTIVE: 'true',
				QUEUE_HEALTH_CHECK_PORT: String(healthPort),
				N8N_WORKER_SERVER_ADDRESS: '127.0.0.1',
			}),
			logFile: join(userFolder, 'n8n-worker.log'),
		},
	);
	const name = `worker ${index + 1}`;
	const worker = { name, proc, healthPort };
	worker.ready = waitUntil(
		`${name} start`,
		async () =>
			/n8n worker is now ready/.test(proc.output()) &&
			(await httpOk(`http://127.0.0.1:${healthPort}/healthz/readiness`)),
		{ timeoutMs: STARTUP_TIMEOUT_MS, proc },
	);
	return worker;
}

/** Webhook (POST { devices: [id…], wait }) → Code (one item per id) → SparkBot Reboot Session. */
function queueWorkflow(credential) {
	const nodes = [
		{
			name: 'Webhook',
			type: 'n8n-nodes-base.webhook',
			typeVersion: 2,
			webhookId: randomUUID(),
			position: [0, 0],
			parameters: {
				httpMethod: 'POST',
				path: WEBHOOK_PATH,
				responseMode: 'lastNode',
				responseData: 'allEntries',
				options: {},
			},
		},
		{
			name: 'Devices',
			type: 'n8n-nodes-base.code',
			typeVersion: 2,
			position: [220, 0],
			parameters: {
				jsCode:
					'const { devices, wait } = $input.first().json.body;\nreturn devices.map((id) => ({ json: { id, wait } }));',
			},
		},
		sparkBotNode({
			name: 'Reboot',
			credential,
			position: [440, 0],
			parameters: rebootEachItem({ waitForSession: '={{ $json.wait }}' }),
		}),
	];
	return {
		name: 'e2e: queue mode, reboot posted devices',
		nodes,
		connections: {
			Webhook: { main: [[{ node: 'Devices', type: 'main', index: 0 }]] },
			Devices: { main: [[{ node: 'Reboot', type: 'main', index: 0 }]] },
		},
		settings: { executionOrder: 'v1' },
	};
}

/** `trigger` → SparkBot Get of the number it reports (version 2, By ID from the item). */
function triggerThenGet(name, trigger, credential) {
	const get = sparkBotNode({
		name: 'Get',
		credential,
		typeVersion: 2,
		parameters: {
			resource: 'whatsappNumber',
			operation: 'get',
			device: { __rl: true, mode: 'id', value: '={{ $json.id }}' },
		},
	});
	return {
		name,
		nodes: [trigger, get],
		connections: { [trigger.name]: { main: [[{ node: 'Get', type: 'main', index: 0 }]] } },
		settings: { executionOrder: 'v1' },
	};
}

/**
 * SparkBot Trigger (every minute, sessions that become offline) → SparkBot Get of that number:
 * main polls, a worker runs the execution.
 */
function triggerWorkflow(credential) {
	return triggerThenGet(
		'e2e: queue mode, SparkBot Trigger',
		pollingTriggerNode({
			name: 'Session dropped',
			filters: { sessionStatus: ['offline'] },
			credential,
		}),
		credential,
	);
}

/** SparkBot Webhook Trigger (every change of the WATCHED numbers) → SparkBot Get of that number. */
function instantWorkflow(credential) {
	const credentials = { [CREDENTIAL_TYPE]: { id: credential.id, name: credential.name } };
	return triggerThenGet(
		'e2e: queue mode, SparkBot Webhook Trigger',
		{
			name: 'Session changed',
			type: WEBHOOK_TRIGGER_TYPE,
			typeVersion: 1,
			webhookId: randomUUID(),
			position: [0, 0],
			parameters: { event: 'sessionStatusChanged', filters: { devices: WATCHED } },
			credentials,
		},
		credential,
	);
}

/** `n8n webhook` for `userFolder` on `webhookPort`; resolves once it serves webhooks. */
async function launchWebhookProcess(userFolder) {
	const [brokerPort] = await freePorts(1);
	const proc = startProcess(runtime.nodeBin, [runtime.n8nBin, 'webhook'], {
		cwd: userFolder,
		env: instance.n8nEnv(runtime, userFolder, {
			...queueEnv(),
			N8N_PORT: String(webhookPort),
			N8N_LISTEN_ADDRESS: '127.0.0.1',
			N8N_RUNNERS_BROKER_PORT: String(brokerPort),
		}),
		logFile: join(userFolder, 'n8n-webhook.log'),
	});
	webhookProcess = { name: 'webhook', proc };
	await waitUntil(
		'webhook process start',
		async () => await httpOk(`http://127.0.0.1:${webhookPort}/healthz`),
		{ timeoutMs: STARTUP_TIMEOUT_MS, proc },
	);
	return webhookProcess;
}

/**
 * POST to the production webhook; resolves the JSON answer (the Reboot node's items). n8n 2.41
 * publishes an activated workflow through an outbox, a moment after the activation request
 * returned: until then the webhook answers 404 "not registered" (and runs nothing), so that
 * answer is retried for up to 30 s.
 */
async function callWebhook(body) {
	const path = `/webhook/${WEBHOOK_PATH}`;
	const registeredBy = Date.now() + 30_000;
	for (;;) {
		let response;
		try {
			response = await fetch(`${main.url}${path}`, {
				method: 'POST',
				headers: { 'Content-Type': 'application/json' },
				body: JSON.stringify(body),
				signal: AbortSignal.timeout(EXECUTION_TIMEOUT_MS),
			});
		} catch (error) {
			throw new Error(`POST ${path} got no answer: ${error.cause?.message ?? error.message}`);
		}
		const text = await response.text();
		if (response.status === 404 && /is not registered/.test(text) && Date.now() < registeredBy) {
			await sleep(500);
			continue;
		}
		if (!response.ok) throw new Error(`POST ${path} → ${response.status}: ${text.slice(0, 1_000)}`);
		return JSON.parse(text);
	}
}

/** The workflow's executions once at least `count` of them exist and none is running (newest first). */
async function finishedExecutions(count, workflowId = workflow.id) {
	// n8n 2.41 refuses a limit over 100.
	const query = `filter=${encodeURIComponent(JSON.stringify({ workflowId }))}&limit=100`;
	let results = [];
	await waitUntil(
		`${count} finished executions`,
		async () => {
			({ results } = await instance.restRequest(
				main.url,
				cookie,
				'GET',
				`/rest/executions?${query}`,
			));
			return (
				results.length >= count &&
				results.every((e) => !['new', 'running', 'waiting'].includes(e.status))
			);
		},
		{ timeoutMs: EXECUTION_TIMEOUT_MS, pollMs: 500 },
	).catch((error) => {
		error.message += `\nexecutions so far: ${JSON.stringify(results.map((e) => [e.id, e.status, e.mode]))}`;
		throw error;
	});
	return results;
}

/** The execution's run data, as main reads it back from the database. */
function readExecution(id) {
	return instance.executionData(runtime, main.url, cookie, id);
}

/** Execution ids a worker reports as finished in its log. */
function finishedOn(worker) {
	return new Set(
		[...worker.proc.output().matchAll(/Worker finished execution (\d+) \(job/g)].map((m) => m[1]),
	);
}

/** The simulator's reboot requests, checked to be exactly one for each of DEVICES. */
function oneRebootPerDevice() {
	const posts = sim.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/reboot'));
	assert.equal(posts.length, DEVICES.length, 'exactly one reboot POST per item');
	assert.deepEqual(
		new Set(posts.map((r) => r.path)),
		new Set(DEVICES.map((id) => `/v1/devices/${id}/reboot`)),
		'one per device',
	);
	return posts;
}

/** On failure: what main and the workers printed last (stderr, so node:test shows it). */
function printLogTails(title) {
	const parts = [
		['main', main?.output],
		['webhook', webhookProcess?.proc.output],
		...workers.map((w) => [w.name, w.proc.output]),
		['redis', redis?.output],
		['postgres', postgres?.output],
	];
	let text = `\n━━ ${title}: log tails ━━\n`;
	for (const [name, output] of parts)
		if (output) text += `--- ${name} ---\n${tail(output(), 30)}\n`;
	process.stderr.write(text);
}

/**
 * Like Promise.all, but waits for every promise to settle before it rejects (with the first
 * failure): whatever did start is assigned by then, and after() stops it.
 */
async function settled(promises) {
	const results = await Promise.allSettled(promises);
	const failed = results.find((result) => result.status === 'rejected');
	if (failed) throw failed.reason;
	return results.map((result) => result.value);
}

function withLogs(title, fn) {
	return async (...args) => {
		try {
			return await fn(...args);
		} catch (error) {
			printLogTails(title);
			throw error;
		}
	};
}

/**
 * Checks one execution (`summary` from the list, `data` its run data): started by the webhook,
 * enqueued by main, run by exactly one worker, every device rebooted and paired to its item.
 * Returns the worker's name.
 */
function checkExecution(summary, data, devices, { status, waited }) {
	assert.equal(
		summary.mode,
		'webhook',
		`execution ${summary.id} is a production (webhook) execution`,
	);
	assert.equal(summary.status, 'success', `execution ${summary.id} succeeded`);
	const out = data.resultData.runData.Reboot?.at(-1)?.data?.main?.[0] ?? [];
	assert.equal(out.length, devices.length, `execution ${summary.id}: one Reboot item per device`);
	out.forEach((item, i) => {
		assert.deepEqual(
			item.pairedItem,
			{ item: i },
			`execution ${summary.id}, item ${i}: paired to its input`,
		);
		assert.equal(
			item.json.id,
			devices[i],
			`execution ${summary.id}, item ${i}: the device of its input`,
		);
		assert.equal(item.json.operation, 'reboot', `execution ${summary.id}, item ${i}: operation`);
		assert.equal(item.json.status, status, `execution ${summary.id}, item ${i}: session status`);
		assert.equal(item.json.waited, waited, `execution ${summary.id}, item ${i}: waited`);
	});
	const ranOn = workers.filter((w) => finishedOn(w).has(summary.id)).map((w) => w.name);
	assert.equal(
		ranOn.length,
		1,
		`execution ${summary.id} ran on exactly one worker (ran on: ${ranOn.join(', ') || 'none'})`,
	);
	assert.match(
		main.output(),
		new RegExp(`Enqueued execution ${summary.id} \\(job \\d+\\)`),
		`main enqueued execution ${summary.id}`,
	);
	return ranOn[0];
}

// ─── setup ───────────────────────────────────────────────────────────────────────────────────

before(
	withLogs('setup', async () => {
		const started = performance.now();
		const mark = (what) =>
			console.log(`${what} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
		runtime = await e2eRuntime({ log: (line) => console.log(`# ${line}`) });

		const tarball = await packPackage();
		[webhookPort] = await freePorts(1);
		for (let i = 0; i <= WORKERS + 1; i++)
			userFolders.push(
				instance.createUserFolder({
					prefix:
						i === 0
							? 'n8n-sparkbot-main-'
							: i > WORKERS
								? 'n8n-sparkbot-webhook-'
								: `n8n-sparkbot-worker${i}-`,
					removeOnExit: true,
				}),
			);
		try {
			// assigned one by one, so that after() stops whatever started even if another one failed
			await settled([
				startPostgres().then((started) => (postgres = started)),
				startRedis().then((started) => (redis = started)),
				startSimulator({
					apiKey: SECRET,
					devices: DEVICES.length + WATCHED.length,
					timeScale: 0.01,
					waitMs: WAIT_MS,
				}).then((started) => (sim = started)),
				...userFolders.map((folder) => instance.installPackage(folder, tarball)),
			]);
		} finally {
			rmSync(join(tarball, '..'), { recursive: true, force: true });
		}
		mark(
			`PostgreSQL on ${postgres.port}, Redis on ${redis.port}, package installed for main and ${WORKERS} workers`,
		);

		// The CLI imports run the database migrations, so main and the workers can start together.
		const [mainFolder, ...rest] = userFolders;
		const workerFolders = rest.slice(0, WORKERS);
		const webhookFolder = rest[WORKERS];
		const [credential] = await instance.importCredentials(
			runtime,
			mainFolder,
			sparkBotCredential({ apiKey: SECRET, baseUrl: sim.baseUrl }),
			{ env: queueEnv() },
		);
		[workflow, trigger, instant] = await instance.importWorkflow(
			runtime,
			mainFolder,
			[queueWorkflow(credential), triggerWorkflow(credential), instantWorkflow(credential)],
			{ env: queueEnv() },
		);
		mark('credential and workflow imported');

		for (const [i, folder] of workerFolders.entries()) workers.push(await launchWorker(i, folder));
		await settled([
			instance
				.startN8n({
					runtime,
					userFolder: mainFolder,
					env: queueEnv(),
					timeoutMs: STARTUP_TIMEOUT_MS,
				})
				.then((started) => (main = started)),
			...workers.map((w) => w.ready),
			launchWebhookProcess(webhookFolder),
		]);
		mark(`main on ${main.url}, ${WORKERS} workers and the webhook process ready`);

		({ cookie } = await instance.setupOwner(main.url));
		for (const { id } of [workflow, trigger, instant])
			await instance.activateWorkflow(main.url, cookie, id);
		mark('workflows activated');
	}),
);

after(async () => {
	await Promise.allSettled([
		main?.stop(),
		webhookProcess?.proc.stop(),
		...workers.map((w) => w.proc.stop()),
	]);
	await Promise.allSettled([redis?.stop(), postgres?.stop(), sim?.close()]);
	for (const folder of userFolders) instance.removeUserFolder(folder);
});

// ─── tests ───────────────────────────────────────────────────────────────────────────────────

describe(`n8n ${N8N_VERSION} in queue mode: main + ${WORKERS} workers, PostgreSQL, Redis`, () => {
	test(
		'one production execution with 100 items runs on a worker: every device rebooted once, every answer paired to its item',
		withLogs('100 items', async () => {
			sim.clearRequests();
			const answer = await callWebhook({ devices: DEVICES, wait: false });

			assert.equal(answer.length, DEVICES.length, 'the webhook answers with one item per device');
			answer.forEach((item, i) => {
				assert.equal(item.id, DEVICES[i], `answer ${i}: its device, in input order`);
				assert.equal(item.operation, 'reboot');
				assert.equal(item.status, 'rebooting', `answer ${i}`);
				assert.equal(item.waited, false);
			});

			const posts = oneRebootPerDevice();
			for (const post of posts) {
				assert.deepEqual(post.body, { force: false, sync: false, wait: false });
				assert.equal(
					post.headers.token,
					'<redacted:ok>',
					'the credential reached the worker decrypted',
				);
			}

			const executions = await finishedExecutions(1);
			assert.equal(executions.length, 1);
			const { data } = await readExecution(executions[0].id);
			const worker = checkExecution(executions[0], data, DEVICES, {
				status: 'rebooting',
				waited: false,
			});
			console.log(`execution ${executions[0].id} (100 items) ran on ${worker}`);
			assert.doesNotMatch(
				main.output(),
				/Worker (started|finished) execution/,
				'main ran no execution itself',
			);
		}),
	);

	test(
		`${BATCHES} executions at once (${DEVICES.length / BATCHES} devices each, Wait For Session) are shared by both workers`,
		withLogs('concurrent executions', async () => {
			const before = new Set((await finishedExecutions(0)).map((e) => e.id));
			sim.clearRequests();
			const size = DEVICES.length / BATCHES;
			const batches = Array.from({ length: BATCHES }, (_, b) =>
				DEVICES.slice(b * size, (b + 1) * size),
			);
			// Each execution holds its worker ≥ size × WAIT_MS and a worker runs at most
			// WORKER_CONCURRENCY at once: the second worker must take some of the ten.
			const answers = await Promise.all(
				batches.map((devices) => callWebhook({ devices, wait: true })),
			);

			answers.forEach((answer, b) => {
				assert.deepEqual(
					answer.map((item) => item.id),
					batches[b],
					`batch ${b}: one answer per device, in order`,
				);
				for (const item of answer) {
					assert.equal(item.status, 'online');
					assert.equal(item.waited, true);
				}
			});
			const posts = oneRebootPerDevice();
			assert.ok(
				posts.every((r) => r.body.wait === true),
				'Wait For Session on every call',
			);

			const fresh = (await finishedExecutions(before.size + BATCHES)).filter(
				(e) => !before.has(e.id),
			);
			assert.equal(fresh.length, BATCHES);
			const perWorker = Object.fromEntries(workers.map((w) => [w.name, 0]));
			for (const summary of fresh) {
				// which batch: the devices the execution's Devices node emitted
				const { data } = await readExecution(summary.id);
				const first = data.resultData.runData.Devices[0].data.main[0][0].json.id;
				const batch = batches.find((devices) => devices[0] === first);
				assert.ok(batch, `execution ${summary.id} belongs to a batch`);
				perWorker[checkExecution(summary, data, batch, { status: 'online', waited: true })]++;
			}
			console.log(`executions per worker: ${JSON.stringify(perWorker)}`);
			for (const [name, count] of Object.entries(perWorker))
				assert.ok(count >= 1, `${name} ran at least one execution (${JSON.stringify(perWorker)})`);
		}),
	);

	test(
		'SparkBot Trigger polls on main; the execution it starts runs on a worker',
		withLogs('trigger', async () => {
			const device = DEVICES[7];
			sim.setSessionStatus(device, 'offline');
			// The next poll is at most a minute away.
			const [summary] = await finishedExecutions(1, trigger.id);
			assert.equal(summary.mode, 'trigger', 'started by the trigger');
			assert.equal(summary.status, 'success');
			const { data } = await readExecution(summary.id);
			const reported = data.resultData.runData['Session dropped'][0].data.main[0].map((i) => [
				i.json.id,
				i.json.previousSessionStatus,
				i.json.session.status,
			]);
			assert.equal(reported.length, 1, 'one change reported');
			assert.equal(reported[0][0], device);
			assert.equal(reported[0][2], 'offline');
			const [got] = data.resultData.runData.Get[0].data.main[0];
			assert.equal(got.json.id, device, 'the worker ran Get for the reported number');
			const ranOn = workers.filter((w) => finishedOn(w).has(summary.id)).map((w) => w.name);
			assert.equal(ranOn.length, 1, `ran on exactly one worker (${ranOn.join(', ') || 'none'})`);
			assert.match(
				main.output(),
				new RegExp(`Enqueued execution ${summary.id} \\(job \\d+\\)`),
				'main enqueued it',
			);
			assert.doesNotMatch(main.output(), /Worker (started|finished) execution/);
		}),
	);

	test(
		'SparkBot Webhook Trigger: the webhook process checks each delivery, a worker runs one execution per change, duplicates run nothing',
		withLogs('webhook trigger', async () => {
			await waitUntil(
				'one webhook for the webhook process',
				() =>
					sim.webhooks().filter((w) => w.url.startsWith(`http://127.0.0.1:${webhookPort}/`))
						.length === 1,
				{ timeoutMs: 30_000 },
			);
			assert.equal(sim.webhooks().length, 1, 'exactly one webhook');
			// The earlier tests' reboots changed every number's session, and SparkBot delivered
			// each change here — hundreds at once. None is of a number the trigger watches: once
			// they are made (answered, or out of retries), not one execution may have started, not
			// even a failed one (n8n starts one for the error workflow when webhook() throws, as it
			// did when the node read its credential for every delivery and the database was busy).
			await waitUntil('the earlier deliveries made', () => sim.deliveriesInProgress() === 0, {
				timeoutMs: 120_000,
			});
			const flood = sim.deliveries.length;
			assert.ok(flood >= DEVICES.length, `the earlier changes were delivered (${flood})`);
			assert.deepEqual(
				(await finishedExecutions(0, instant.id)).map((e) => [e.id, e.status]),
				[],
				`${flood} deliveries of numbers the trigger does not watch started nothing`,
			);
			const first = sim.deliveries.length;
			const changed = WATCHED.slice(0, 3);
			for (const device of changed) sim.setSessionStatus(device, 'timeout');
			const ours = () => sim.deliveries.slice(first);
			await waitUntil(
				'the three deliveries answered',
				() => changed.every((id) => ours().some((d) => d.deviceId === id && d.status === 200)),
				{ timeoutMs: 60_000 },
			);
			// SparkBot retrying and duplicating each of them, and a forged one.
			for (const attempt of ours().filter((d) => changed.includes(d.deviceId))) {
				const again = await sim.deliver({ id: attempt.deliveryId, copies: 2 });
				assert.deepEqual(
					again.attempts.map((a) => a.status),
					[200, 200],
				);
			}
			const forged = await sim.deliver({
				deviceId: WATCHED[3],
				status: 'offline',
				signature: 'wrong',
			});
			assert.deepEqual(
				forged.attempts.map((a) => a.status),
				[401],
			);
			await finishedExecutions(3, instant.id);
			await sleep(3_000);
			const summaries = await finishedExecutions(3, instant.id);
			assert.equal(summaries.length, 3, 'one execution per change, none for a duplicate');
			const reported = [];
			for (const summary of summaries) {
				assert.equal(summary.mode, 'webhook');
				assert.equal(summary.status, 'success');
				const { data } = await readExecution(summary.id);
				const item = data.resultData.runData['Session changed'][0].data.main[0][0].json;
				assert.equal(item.session.status, 'timeout');
				reported.push(item.id);
				assert.equal(
					workers.filter((w) => finishedOn(w).has(summary.id)).length,
					1,
					`execution ${summary.id} ran on a worker`,
				);
			}
			assert.deepEqual(reported.sort(), [...changed].sort());
			assert.match(
				webhookProcess.proc.output(),
				/Enqueued execution \d+/,
				'the webhook process enqueued them',
			);
		}),
	);

	test('the API key is in no log of main or the workers', () => {
		for (const [name, output] of [
			['main', main.output()],
			['webhook', webhookProcess.proc.output()],
			...workers.map((w) => [w.name, w.proc.output()]),
		]) {
			assert.ok(!output.includes(SECRET), `${name}'s output holds the API key`);
		}
	});
});
