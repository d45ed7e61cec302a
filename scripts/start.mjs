#!/usr/bin/env node
// `npm start`: a real n8n with this package installed, wired to the SparkBot simulator.
//
//   1. build dist/ (node scripts/build.mjs, which first sets up what a fresh machine lacks: the
//      npm packages, the Rust wasm target, the pinned wasm-bindgen CLI) and `npm pack` it
//      (--no-build: use dist/ as is)
//   2. n8n 2.41.1 (the newest that installs here) on Node 24 in .runtime/ (installed on first use,
//      ~7 min; cached afterwards)
//   3. the SparkBot simulator, in this process, with demo timing (Wait For Session takes 3 s,
//      a reboot/reset without it keeps the number busy for 2 s): port 8787, or any free port
//   4. the n8n user folder .runtime/demo/ (kept between runs: your workflows and executions stay):
//      the tarball installed into .n8n/nodes like a community package, the credential
//      "SparkBot (simulator)" (→ the simulator) and the workflows in examples/ imported with
//      fixed ids — so each start refreshes exactly those and nothing else
//   5. `n8n start` on 127.0.0.1:5678 (or a free port), the demo owner created on the first run
//
// Ctrl+C, or SIGINT/SIGTERM to npm or to this process, stops n8n, its task runner and the
// simulator (npm runs this with `exec`, so npm's signals reach it; if npm dies without passing one
// on, this notices it is orphaned and stops too). If n8n dies on its own, this exits 1 with the
// end of n8n's log.
//
// Options (after `npm start --`):
//   --no-build        use the dist/ there is (no cargo/wasm toolchain needed)
//   --port N          n8n's port (default 5678, or a free one if 5678 is taken)
//   --sim-port N      the simulator's port (default 8787, or a free one if taken)
//   --verbose         show n8n's own output
//   --quiet-sim       do not print one line per simulator request
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { DEMO_DEVICES, startSimulator } from '../support/simulator/sparkbot-simulator.mjs';
import {
	EXAMPLE_CHAT_CREDENTIAL,
	EXAMPLE_CREDENTIAL,
	exampleChatCredential,
	packPackage,
	readExamples,
} from '../support/fixtures.mjs';
import { atExit, delegateSignals, run } from './n8n/processes.mjs';
import { ROOT, RUNTIME_DIR, ensureRuntime } from './n8n/runtime.mjs';
import {
	importCredentials,
	importWorkflow,
	installPackage,
	login,
	setupOwner,
	startN8n,
} from './n8n/instance.mjs';
import { lockOwner, tryLock } from './lib/lock.mjs';
import { isPortFree } from './lib/net.mjs';
import { SetupError, ensureNpmPackages } from './lib/setup.mjs';
import { seconds, tail } from './lib/text.mjs';

/** The login `npm start` creates on the first run (n8n wants 8+ characters, a digit, an upper-case letter). */
export const DEMO_OWNER = Object.freeze({
	email: 'demo@sparkbot.local',
	password: 'SparkBot-demo-1',
	firstName: 'Demo',
	lastName: 'User',
});
/** The credential the examples use; imported with this id on every start (its URL may change). */
export const DEMO_CREDENTIAL = EXAMPLE_CREDENTIAL;
/** The demo user folder (`SPARKBOT_DEMO_FOLDER` puts it elsewhere: the e2e test of npm start). */
export const USER_FOLDER = process.env.SPARKBOT_DEMO_FOLDER
	? resolve(process.env.SPARKBOT_DEMO_FOLDER)
	: join(RUNTIME_DIR, 'demo');
/** The lock file of the `npm start` using USER_FOLDER: `{ pid, url }` (scripts/lib/lock.mjs). */
const LOCK = join(USER_FOLDER, 'start.lock.json');
const DEFAULT_PORT = 5678;
const DEFAULT_SIM_PORT = 8787;
/** Simulator timing that feels like the real service: held answers take 3 s, busy for 2 s after. */
const SIM_TIMING = Object.freeze({ waitMs: 3000, settleMs: 2000 });

const { values: flags } = parseArgs({
	options: {
		'no-build': { type: 'boolean', default: false },
		port: { type: 'string' },
		'sim-port': { type: 'string' },
		verbose: { type: 'boolean', default: false },
		'quiet-sim': { type: 'boolean', default: false },
		help: { type: 'boolean', short: 'h', default: false },
	},
});
if (flags.help) {
	// the comment at the top of this file
	const lines = readFileSync(new URL(import.meta.url), 'utf8')
		.split('\n')
		.slice(1);
	console.log(
		lines
			.slice(
				0,
				lines.findIndex((line) => !line.startsWith('//')),
			)
			.map((line) => line.slice(3))
			.join('\n'),
	);
	process.exit(0);
}
const port = portOption('--port', flags.port);
const simPort = portOption('--sim-port', flags['sim-port']);

// ─── shutdown ─────────────────────────────────────────────────────────────────────────────

let sim;
let n8n;
let stopping; // the shutdown in progress (a promise), once a signal came or n8n died
let lock; // LOCK, held from step 5 on
let firstSignalAt = 0;
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Registered before anything is started, so it runs first. While setting up, processes.mjs's own
 * handler (registered when a child is running) kills the child groups at once; once n8n runs we
 * take the signals over (delegateSignals) so that n8n gets a graceful SIGTERM instead.
 */
function onSignal(signal) {
	if (stopping) {
		// `npm start` forwards the terminal's Ctrl+C, so the same key press arrives twice; a press
		// later than that means "now": exiting kills what is left (processes.mjs's exit hook).
		if (Date.now() - firstSignalAt > 1_000) {
			console.log('\nforced stop');
			process.exit(130);
		}
		return;
	}
	firstSignalAt = Date.now();
	console.log(`\n${signal === 'SIGINT' ? 'Ctrl+C' : signal}: stopping n8n and the simulator …`);
	stopAll(0);
}
for (const signal of SIGNALS) process.on(signal, onSignal);

// `npm start` runs this with `exec`, so npm's own SIGINT/SIGTERM (a process manager, an IDE's stop
// button, `timeout`) reach it directly. Should npm die without passing one on, this process is
// re-parented: that stops everything too.
const parentAtStart = process.ppid;
setInterval(() => {
	if (process.ppid !== parentAtStart && !stopping) {
		console.log('\nnpm is gone: stopping n8n and the simulator …');
		stopAll(0);
	}
}, 500).unref();

function stopAll(exitCode) {
	stopping ??= (async () => {
		const started = performance.now();
		await n8n?.stop();
		await sim?.close();
		removeImportFiles();
		lock?.release();
		if (exitCode === 0) console.log(`stopped (${seconds(started)}); nothing left running`);
		process.exit(exitCode);
	})();
	return stopping;
}

// ─── steps ────────────────────────────────────────────────────────────────────────────────

const totalStarted = performance.now();
let dropTarball; // removes the packed tarball's temporary folder
let stepNumber = 0;
const STEPS = 6;

async function step(title, fn) {
	console.log(`\n━━ ${++stepNumber}/${STEPS} ${title}`);
	return await fn();
}
const say = (line = '') => console.log(line === '' ? '' : `   ${line}`);

try {
	console.log('SparkBot × n8n: a local n8n with the SparkBot node and the SparkBot simulator');
	checkNotRunning();

	await step(
		flags['no-build']
			? 'package: using dist/ as it is (--no-build)'
			: 'build the package (node scripts/build.mjs)',
		async () => {
			if (flags['no-build']) {
				if (!existsSync(join(ROOT, 'dist', 'package.json')))
					fail('dist/ is empty: run without --no-build (or `npm run build`) first');
				return;
			}
			try {
				await ensureNpmPackages({ log: say });
			} catch (error) {
				if (error instanceof SetupError) fail(error.message);
				throw error;
			}
			const started = performance.now();
			const result = await run(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], {
				cwd: ROOT,
				onLine: (line) => say(line),
			});
			if (result.code !== 0) {
				fail(
					`the build failed (${result.signal ?? `exit ${result.code}`}); fix it, or start with \`npm start -- --no-build\` to use the dist/ there is`,
				);
			}
			say(`done (${seconds(started)})`);
		},
	);

	const tarball = await step('pack the package (npm pack ./dist)', async () => {
		const path = await packPackage();
		const removeTarball = () => rmSync(dirname(path), { recursive: true, force: true });
		dropTarball = { remove: removeTarball, unregister: atExit(removeTarball) }; // also on Ctrl+C
		say(basename(path));
		return path;
	});

	const runtime = await step(
		'n8n runtime in .runtime/ (the first time: installs n8n, ~7 minutes)',
		async () => {
			const started = performance.now();
			const result = await ensureRuntime({ log: (line) => say(line.trim()) });
			say(`n8n ${result.n8nVersion} on Node ${result.nodeVersion} (${seconds(started)})`);
			return result;
		},
	);

	await step('SparkBot simulator', async () => {
		sim = await startSimulatorOn(simPort);
		say(
			`${sim.baseUrl}  (API key ${sim.apiKey}; Wait For Session takes ${SIM_TIMING.waitMs / 1000} s)`,
		);
		say(
			`numbers: ${DEMO_DEVICES.map((device) => `${device.alias || device.phone} (${device.session.status})`).join(', ')}`,
		);
	});

	const examples = await step(
		`n8n user folder ${rel(USER_FOLDER)} (kept between runs)`,
		async () => {
			mkdirSync(join(USER_FOLDER, '.n8n'), { recursive: true });
			takeLock();
			removeImportFiles();
			const installed = await installPackage(USER_FOLDER, tarball);
			dropTarball.remove();
			dropTarball.unregister();
			say(
				`installed ${installed.name}@${installed.version} into ${rel(join(USER_FOLDER, '.n8n', 'nodes'))}`,
			);

			let started = performance.now();
			await importCredentials(runtime, USER_FOLDER, [
				{ ...DEMO_CREDENTIAL, data: { apiKey: sim.apiKey, baseUrl: sim.baseUrl } },
				exampleChatCredential(sim),
			]);
			say(
				`credentials "${DEMO_CREDENTIAL.name}" → ${sim.baseUrl}, "${EXAMPLE_CHAT_CREDENTIAL.name}" → ${sim.telegramBaseUrl} (${seconds(started)})`,
			);

			let workflows;
			try {
				workflows = readExamples();
			} catch (error) {
				fail(error.message);
			}
			started = performance.now();
			if (workflows.length > 0) await importWorkflow(runtime, USER_FOLDER, workflows);
			say(`example workflows (from examples/, re-imported each start; ${seconds(started)}):`);
			for (const workflow of workflows) say(`  "${workflow.name}"`);
			return workflows;
		},
	);

	const { login: demoLogin } = await step('n8n start', async () => {
		if (port && !(await isPortFree(port))) fail(`port ${port} (--port) is in use`);
		const wanted = port ?? ((await isPortFree(DEFAULT_PORT)) ? DEFAULT_PORT : undefined); // undefined: any free port
		if (wanted === undefined) say(`port ${DEFAULT_PORT} is in use; using a free one`);
		const logFile = join(USER_FOLDER, 'n8n.log');
		if (existsSync(logFile)) renameSync(logFile, join(USER_FOLDER, 'n8n.previous.log'));
		const started = performance.now();
		n8n = await startN8n({
			runtime,
			userFolder: USER_FOLDER,
			port: wanted,
			logFile,
			onLine: flags.verbose ? (line) => console.log(`   n8n │ ${line}`) : undefined,
		});
		delegateSignals();
		n8n.exited.then((how) => {
			if (stopping) return;
			console.error(
				`\n✗ n8n stopped unexpectedly (${how.signal ?? `exit code ${how.code}`}). The end of ${rel(logFile)}:\n`,
			);
			console.error(tail(n8n.output(), 40).replace(/^/gm, '  │ '));
			stopAll(1);
		});
		say(`ready on ${n8n.url} (${seconds(started)})`);
		lock.update({ url: n8n.url });
		return { login: await ensureOwner(n8n.url) };
	});

	printBanner({ url: n8n.url, examples, demoLogin });
	if (!flags['quiet-sim']) console.log('Simulator requests:');
} catch (error) {
	if (!stopping) {
		console.error(`\n✗ ${error.expected ? error.message : (error.stack ?? error)}`);
		await stopAll(1);
	}
}

// ─── helpers ──────────────────────────────────────────────────────────────────────────────

function printBanner({ url, examples, demoLogin }) {
	const line = '─'.repeat(78);
	console.log(`\n${line}`);
	console.log(`  n8n with the SparkBot node is running  (started in ${seconds(totalStarted)})\n`);
	console.log(`  Editor      ${url}/`);
	if (demoLogin === 'ok')
		console.log(`  Login       ${DEMO_OWNER.email}  /  ${DEMO_OWNER.password}`);
	else
		console.log(
			`  Login       your own (the demo login ${DEMO_OWNER.email} no longer works: its password was changed)`,
		);
	console.log(`  Simulator   ${sim.baseUrl}   API key: ${sim.apiKey}`);
	console.log(
		`              (the credential "${DEMO_CREDENTIAL.name}" points here; request log: ${sim.origin}/__sim/requests)`,
	);
	console.log(
		`  Chat        ${sim.origin}/__sim/chat   what the self-healing example sent a person (QR codes too),`,
	);
	console.log(
		`              through the credential "${EXAMPLE_CHAT_CREDENTIAL.name}" (a Telegram stand-in)`,
	);
	console.log('\n  Open one of the examples and click "Execute workflow":');
	for (const workflow of examples)
		console.log(`    ${workflow.name}\n      ${url}/workflow/${workflow.id}`);
	console.log(
		`\n  Your own workflows stay in ${rel(USER_FOLDER)}/ (the examples are re-imported on each start).`,
	);
	console.log(`  n8n's log: ${rel(join(USER_FOLDER, 'n8n.log'))}`);
	console.log('\n  Ctrl+C stops n8n and the simulator.');
	console.log(`${line}\n`);
}

/**
 * Creates the demo owner on the first run (n8n then shows its setup page to nobody); later runs
 * only check that the demo login still works. Returns 'ok' or 'changed'.
 */
async function ensureOwner(url) {
	const settings = await (await fetch(`${url}/rest/settings`)).json();
	if (settings?.data?.userManagement?.showSetupOnFirstLoad) {
		await setupOwner(url, DEMO_OWNER);
		say(`created the owner ${DEMO_OWNER.email} (first run)`);
		return 'ok';
	}
	try {
		await login(url, DEMO_OWNER);
		return 'ok';
	} catch {
		return 'changed';
	}
}

/** The simulator on `wanted` (--sim-port) or 8787, or on any free port if 8787 is taken. */
async function startSimulatorOn(wanted) {
	const options = {
		...SIM_TIMING,
		devices: 0,
		verbose: !flags['quiet-sim'],
		// `[sparkbot-sim] POST /v1/devices/…/reset -> 200 (3004 ms) Token=***` → `12:00:01 simulator │ POST …`
		logger: (line) =>
			console.log(
				`   ${time()} simulator │ ${line.replace(/^\[sparkbot-sim\] /, '').replace(/ Token=\*{3}$/, '')}`,
			),
	};
	try {
		return await startSimulator({ ...options, port: wanted ?? DEFAULT_SIM_PORT });
	} catch (error) {
		if (error.code !== 'EADDRINUSE') throw error;
		if (wanted) fail(`port ${wanted} (--sim-port) is in use`);
		say(`port ${DEFAULT_SIM_PORT} is in use; using a free one`);
		return await startSimulator({ ...options, port: 0 });
	}
}

/**
 * The temporary files n8n's CLI imports from (instance.mjs writes them into the user folder and
 * removes them when the import is done) that an interrupted import left behind.
 */
function removeImportFiles() {
	if (!existsSync(USER_FOLDER)) return;
	for (const file of readdirSync(USER_FOLDER)) {
		if (/^import-(credentials|workflow)-.*\.json$/.test(file))
			rmSync(join(USER_FOLDER, file), { force: true });
	}
}

function portOption(name, value) {
	if (value === undefined) return undefined;
	const number = Number(value);
	if (!Number.isInteger(number) || number < 1 || number > 65535) {
		console.error(`${name} wants a port number (1-65535), got "${value}"`);
		process.exit(2);
	}
	return number;
}

// One `npm start` per user folder: two n8n processes on one SQLite file would trip over each other.
function checkNotRunning() {
	const owner = lockOwner(LOCK);
	if (owner)
		fail(
			`already running (pid ${owner.pid}${owner.url ? `, ${owner.url}` : ''}); stop that one first (Ctrl+C)`,
		);
}

/** Takes LOCK for this process (the check at the start was a while ago: another one may have started since). */
function takeLock() {
	lock = tryLock(LOCK);
	if (lock) return;
	checkNotRunning(); // fails, naming the other process
	lock = tryLock(LOCK) ?? fail('another `npm start` is starting in the same folder: try again'); // (the other one just stopped)
}

/** An error that needs no stack trace. */
function fail(message) {
	const error = new Error(message);
	error.expected = true;
	throw error;
}

function rel(path) {
	return relative(process.cwd(), path) || '.';
}

function time() {
	return new Date().toTimeString().slice(0, 8);
}
