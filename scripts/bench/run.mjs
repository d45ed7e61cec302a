#!/usr/bin/env node
// `npm run bench`: the SparkBot node measured in real n8n against n8n's HTTP Request node making
// the same calls and against a plain `fetch` loop (the floor), plus fleet concurrency, start-up
// and load costs. A benchmark that prints figures, not a test: nothing here passes or fails.
//
// On loopback:
//   1. per item, Concurrency 1, against a lean server (scripts/bench/lean-server.mjs, a plain
//      Node `http` server in its own process): workflows of N = 1, 100 and 1,000 items (Code
//      node → the node under test), run with `n8n execute`; the node's own execution time from
//      n8n's run data; per item = (T(1000) − T(1)) / 999 with T the median over the repeats; the
//      floor is the same formula over a fetch loop in a separate process of the same Node, warmed
//      up with 2,000 requests first; each node's overhead is its per item minus the floor, and
//      the goal is SparkBot's overhead ≤ 0.12 × HTTP Request's, SparkBot ≤ 0.30 × HTTP Request;
//      the packed node called outside n8n with a minimal context splits SparkBot's overhead into
//      n8n's share and the node's own. Every repeat runs every variant, so drift hits all alike;
//   2. peak memory (max RSS of the `n8n execute` process, from /usr/bin/time) at N = 1,000;
//   3. start-up: `n8n start` until ready, with and without the package; the package's own
//      require + `new SparkBot()` in a fresh Node, whether that compiles wasm, and what the
//      first execution adds (compiling and instantiating the module);
//   4. fleet: 200 numbers, each held 1 s by the project's simulator (Wait For Session), at
//      Concurrency 1, 10 and 50, against the ideal ceil(200 / c) × 1 s;
//   5. listing (scripts/bench/listing.mjs): 1,012 numbers at 100 ms a page — Get Many, the
//      dropdown and one trigger poll against reading the pages one after another;
//   6. triggers (scripts/bench/triggers.mjs): 100 session changes over 5 minutes, the time from
//      each to the start of its execution with SparkBot Webhook Trigger and SparkBot Trigger.
// Results: a table on stdout, .artifacts/bench/results.json, and docs/benchmark.svg (with
// --out DIR, both in DIR: docs/ stays as it is).
//
// Options: --repeats N (default 7)   --skip-fleet   --skip-startup   --skip-listing   --skip-triggers
// --quick-fleet (no c = 1, which takes 200 s)   --out DIR
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';

import {
	createUserFolder,
	findRunJson,
	importCredentials,
	importWorkflow,
	installPackage,
	n8nEnv,
	removeUserFolder,
	startN8n,
} from '../n8n/instance.mjs';
import { freePort } from '../lib/net.mjs';
import { sleep, waitUntil } from '../lib/wait.mjs';
import { run, startProcess } from '../n8n/processes.mjs';
import { ensureRuntime } from '../n8n/runtime.mjs';
import {
	packPackage,
	rebootEachItem,
	sparkBotCredential,
	sparkBotNode,
} from '../../support/fixtures.mjs';
import { generatedDevice } from '../../support/simulator/sparkbot-simulator.mjs';
import { writeChart } from './chart.mjs';
import { benchListing } from './listing.mjs';
import { benchTriggers, reportTriggers } from './triggers.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEFAULT_OUT = join(ROOT, '.artifacts', 'bench');
const { values: flags } = parseArgs({
	options: {
		repeats: { type: 'string', default: '7' },
		'skip-fleet': { type: 'boolean', default: false },
		'skip-startup': { type: 'boolean', default: false },
		'quick-fleet': { type: 'boolean', default: false },
		'skip-listing': { type: 'boolean', default: false },
		'skip-triggers': { type: 'boolean', default: false },
		out: { type: 'string', default: DEFAULT_OUT },
	},
});
const REPEATS = Number(flags.repeats);
const SIZES = [1, 100, 1000];
const FLEET = {
	numbers: 200,
	holdMs: 1000,
	concurrency: flags['quick-fleet'] ? [10, 50] : [1, 10, 50],
};
const API_KEY = 'bench-key-not-a-secret';
const TRIGGER = 'When clicking ‘Execute workflow’';
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

const say = (line) => console.log(line);

/** The module as the package embeds it (base64 in shared.js), gzipped, and the packed tarball. */
function packageSizes(tarball) {
	const core = readFileSync(join(ROOT, 'dist', 'dist', 'nodes', 'SparkBot', 'shared.js'), 'utf8');
	const module = Buffer.from(/"([A-Za-z0-9+/=]{50000,})"/.exec(core)?.[1] ?? '', 'base64');
	return {
		wasm: module.length,
		wasmGzip: gzipSync(module, { level: 9 }).length,
		tarball: statSync(tarball).size,
	};
}
const median = (values) => {
	const sorted = [...values].sort((a, b) => a - b);
	const mid = Math.floor(sorted.length / 2);
	return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const perItem = (times) => (median(times[1000]) - median(times[1])) / 999;
/** A pause before each measurement, so that the previous process's shutdown does not overlap it. */
const settle = () => sleep(1_000);
const fmt = (ms, digits = 3) => `${ms.toFixed(digits)} ms`;

// ─── workflows ────────────────────────────────────────────────────────────────────────────────

const deviceIds = Array.from({ length: 1000 }, (_, i) => generatedDevice(i + 1).id);

function numbersNode(n) {
	// The generated devices' IDs, computed in the Code node (see generatedDevice in the simulator).
	const jsCode = `return Array.from({ length: ${n} }, (_, i) => ({ json: { id: '65300000' + (i + 1).toString(16).padStart(16, '0') } }));`;
	return {
		name: 'Numbers',
		type: 'n8n-nodes-base.code',
		typeVersion: 2,
		position: [220, 0],
		parameters: { jsCode },
	};
}

function chain(name, nodes) {
	const all = [
		{
			name: TRIGGER,
			type: 'n8n-nodes-base.manualTrigger',
			typeVersion: 1,
			position: [0, 0],
			parameters: {},
		},
		...nodes,
	];
	const connections = {};
	for (let i = 0; i < all.length - 1; i++)
		connections[all[i].name] = { main: [[{ node: all[i + 1].name, type: 'main', index: 0 }]] };
	return { name, nodes: all, connections, settings: { executionOrder: 'v1' } };
}

function rebootNode(credential, options = {}) {
	return sparkBotNode({
		credential,
		position: [440, 0],
		parameters: rebootEachItem(options),
	});
}

function httpRequestNode(credential, baseUrl) {
	return {
		name: 'HTTP Request',
		type: 'n8n-nodes-base.httpRequest',
		typeVersion: 4.2,
		position: [440, 0],
		parameters: {
			method: 'POST',
			url: `=${baseUrl}/devices/{{ $json.id }}/reboot`,
			authentication: 'predefinedCredentialType',
			nodeCredentialType: 'sparkBotApi',
			sendHeaders: true,
			headerParameters: { parameters: [{ name: 'Accept', value: 'application/json' }] },
			sendBody: true,
			specifyBody: 'json',
			jsonBody: '{"force":false,"sync":false,"wait":false}',
			options: {},
		},
		credentials: { sparkBotApi: { id: credential.id, name: credential.name } },
	};
}

// ─── n8n runs ─────────────────────────────────────────────────────────────────────────────────

/** `n8n execute --id`, under /usr/bin/time when there is one: the run, the node's time, peak RSS. */
async function execute(runtime, userFolder, id, nodeName) {
	const args = [runtime.n8nBin, 'execute', `--id=${id}`, '--rawOutput'];
	const env = n8nEnv(runtime, userFolder, { N8N_RUNNERS_BROKER_PORT: String(await freePort()) });
	const result = TIME
		? await run(TIME, ['-f', 'PEAK_RSS_KB=%M', runtime.nodeBin, ...args], {
				cwd: userFolder,
				env,
				timeoutMs: 15 * 60_000,
			})
		: await run(runtime.nodeBin, args, { cwd: userFolder, env, timeoutMs: 15 * 60_000 });
	const runData = findRunJson(result.stdout) ?? findRunJson(result.stderr);
	const nodeRun = runData?.data?.resultData?.runData?.[nodeName]?.[0];
	if (!nodeRun || runData.data.resultData.error) {
		throw new Error(
			`workflow ${id} failed: ${JSON.stringify(runData?.data?.resultData?.error ?? result.stderr.slice(-2000))}`,
		);
	}
	const items = nodeRun.data.main[0] ?? [];
	const failed = items.filter((item) => item.json.error !== undefined || item.json.status >= 400);
	if (failed.length)
		throw new Error(
			`${nodeName}: ${failed.length} items failed, e.g. ${JSON.stringify(failed[0].json)}`,
		);
	const peak = /PEAK_RSS_KB=(\d+)/.exec(result.stderr);
	return {
		ms: nodeRun.executionTime,
		items: items.length,
		peakMb: peak ? Number(peak[1]) / 1024 : undefined,
	};
}

/**
 * A server script in its own process, with n8n's Node; resolves once it printed `<marker>=<url>`,
 * with its base URL.
 */
async function startServer(runtime, what, args, marker) {
	const server = startProcess(runtime.nodeBin, args, { env: runtime.env });
	try {
		const [, baseUrl] = await waitUntil(
			`the ${what} start`,
			() => new RegExp(`${marker}=(\\S+)`).exec(server.output()),
			{ timeoutMs: 20_000, pollMs: 50, proc: server },
		);
		return { ...server, baseUrl };
	} catch (error) {
		await server.stop();
		throw error;
	}
}

/** The lean server of the per-item runs. */
function startLeanServer(runtime) {
	return startServer(
		runtime,
		'lean server',
		[join(ROOT, 'scripts/bench/lean-server.mjs'), API_KEY],
		'LEAN_SERVER_URL',
	);
}

/** The project's simulator, for the fleet (its wait holds). */
function startSimulatorProcess(runtime) {
	const args = [join(ROOT, 'support/simulator/cli.mjs'), '--devices', '1000', '--api-key', API_KEY];
	args.push('--wait-ms', String(FLEET.holdMs));
	return startServer(runtime, 'simulator', args, 'SPARKBOT_SIMULATOR_URL');
}

// ─── main ─────────────────────────────────────────────────────────────────────────────────────

const results = {
	date: new Date().toISOString(),
	machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`,
	repeats: REPEATS,
};
let sim;
let lean;
let userFolder;
let bareFolder;
try {
	const runtime = await ensureRuntime({ log: (line) => say(`  ${line}`) });
	results.n8n = runtime.n8nVersion;
	results.node = runtime.nodeVersion;
	say(
		`n8n ${runtime.n8nVersion} on Node ${runtime.nodeVersion}, ${results.machine}, ${REPEATS} repeats`,
	);
	sim = await startSimulatorProcess(runtime);
	lean = await startLeanServer(runtime);

	userFolder = createUserFolder({ prefix: 'sparkbot-bench-', removeOnExit: true });
	const tarball = await packPackage();
	results.sizes = packageSizes(tarball);
	const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;
	const { wasm, wasmGzip, tarball: packed } = results.sizes;
	say(
		`Sizes: wasm ${kb(wasm)} (gzip ${kb(wasmGzip)}), tarball ${kb(packed)}; goals wasm ≤ 120 KB, ≤ 50 KB gzipped, tarball ≤ 150 KB: ${wasm <= 120 * 1024 && wasmGzip <= 50 * 1024 && packed <= 150 * 1024 ? 'met' : 'missed'}`,
	);
	await installPackage(userFolder, tarball);
	const [credential, fleetCredential] = await importCredentials(runtime, userFolder, [
		sparkBotCredential({ name: 'SparkBot (bench)', apiKey: API_KEY, baseUrl: lean.baseUrl }),
		sparkBotCredential({ name: 'SparkBot (fleet)', apiKey: API_KEY, baseUrl: sim.baseUrl }),
	]);

	const workflows = [];
	for (const n of SIZES) {
		workflows.push({
			key: `sparkbot-${n}`,
			node: 'SparkBot',
			...chain(`bench: SparkBot × ${n}`, [numbersNode(n), rebootNode(credential)]),
		});
		workflows.push({
			key: `http-${n}`,
			node: 'HTTP Request',
			...chain(`bench: HTTP Request × ${n}`, [
				numbersNode(n),
				httpRequestNode(credential, lean.baseUrl),
			]),
		});
	}
	for (const c of FLEET.concurrency) {
		workflows.push({
			key: `fleet-${c}`,
			node: 'SparkBot',
			...chain(`bench: fleet, Concurrency ${c}`, [
				numbersNode(FLEET.numbers),
				rebootNode(fleetCredential, { waitForSession: true, concurrency: c }),
			]),
		});
	}
	const imported = await importWorkflow(
		runtime,
		userFolder,
		workflows.map(({ key, node, ...workflow }) => workflow),
	);
	const byKey = Object.fromEntries(
		workflows.map((w, i) => [w.key, { id: imported[i].id, node: w.node }]),
	);

	// 1 + 2: per item and memory. Variants alternate within each repeat, so drift hits all alike.
	const times = { sparkbot: {}, http: {}, floor: {}, outside: {} };
	const nodeFile = join(
		userFolder,
		'.n8n',
		'nodes',
		'node_modules',
		'n8n-nodes-sparkbot',
		'dist',
		'nodes',
		'SparkBot',
		'SparkBot.node.js',
	);
	const loopEnv = { ...runtime.env, NODE_PATH: dirname(runtime.n8nDir) };
	const loop = async (key, script, args) => {
		const out = await run(
			runtime.nodeBin,
			[
				join(ROOT, 'scripts/bench', script),
				...args,
				lean.baseUrl,
				API_KEY,
				idsFile,
				SIZES.join(','),
			],
			{ env: loopEnv, timeoutMs: 5 * 60_000 },
		);
		if (out.code !== 0) throw new Error(`${script} failed: ${out.stderr}`);
		for (const [n, ms] of Object.entries(JSON.parse(out.stdout.trim().split('\n').at(-1))))
			(times[key][n] ??= []).push(ms);
	};
	const peak = { sparkbot: [], http: [] };
	const idsFile = join(userFolder, 'device-ids.json');
	writeFileSync(idsFile, JSON.stringify(deviceIds));
	for (let repeat = 1; repeat <= REPEATS; repeat++) {
		for (const n of SIZES) {
			for (const variant of ['sparkbot', 'http']) {
				const { id, node } = byKey[`${variant}-${n}`];
				await settle();
				const out = await execute(runtime, userFolder, id, node);
				if (out.items !== n) throw new Error(`${variant} × ${n}: ${out.items} items came out`);
				(times[variant][n] ??= []).push(out.ms);
				if (n === 1000 && out.peakMb) peak[variant].push(out.peakMb);
			}
		}
		await settle();
		await loop('floor', 'fetch-floor.mjs', []);
		await settle();
		await loop('outside', 'node-outside-n8n.cjs', [nodeFile]);
		say(
			`  repeat ${repeat}/${REPEATS}: N=1000 SparkBot ${fmt(times.sparkbot[1000].at(-1), 0)}, HTTP Request ${fmt(times.http[1000].at(-1), 0)}, fetch ${fmt(times.floor[1000].at(-1), 0)}, SparkBot outside n8n ${fmt(times.outside[1000].at(-1), 0)}`,
		);
	}
	results.times = times;
	results.perItemMs = {
		sparkbot: perItem(times.sparkbot),
		http: perItem(times.http),
		floor: perItem(times.floor),
		outside: perItem(times.outside),
	};
	results.overheadMs = {
		sparkbot: results.perItemMs.sparkbot - results.perItemMs.floor,
		http: results.perItemMs.http - results.perItemMs.floor,
	};
	results.overheadRatio = results.overheadMs.sparkbot / results.overheadMs.http;
	results.peakMb = {
		sparkbot: peak.sparkbot.length ? median(peak.sparkbot) : null,
		http: peak.http.length ? median(peak.http) : null,
	};

	// 3: start-up and load.
	if (!flags['skip-startup']) {
		bareFolder = createUserFolder({ prefix: 'sparkbot-bench-bare-', removeOnExit: true });
		const startup = { withPackage: [], without: [] };
		for (let repeat = 0; repeat < Math.min(REPEATS, 3); repeat++) {
			for (const [key, folder] of [
				['without', bareFolder],
				['withPackage', userFolder],
			]) {
				const started = performance.now();
				const n8n = await startN8n({ runtime, userFolder: folder, pollMs: 25 });
				startup[key].push(performance.now() - started);
				await n8n.stop();
			}
		}
		results.startupMs = {
			withPackage: median(startup.withPackage),
			without: median(startup.without),
			samples: startup,
		};
		const loads = [];
		for (let repeat = 0; repeat < REPEATS; repeat++) {
			const out = await run(
				runtime.nodeBin,
				[join(ROOT, 'scripts/bench/package-load.cjs'), nodeFile],
				{
					env: loopEnv,
					timeoutMs: 60_000,
				},
			);
			if (out.code !== 0) throw new Error(`package-load failed: ${out.stderr}`);
			loads.push(JSON.parse(out.stdout.trim().split('\n').at(-1)));
		}
		results.load = {
			requireMs: median(loads.map((l) => l.requireMs)),
			compiledOnLoad: Math.max(...loads.map((l) => l.compiledOnLoad)),
			instantiateMs: median(loads.map((l) => l.instantiateMs)),
			firstRunMs: median(loads.map((l) => l.firstRunMs)),
			secondRunMs: median(loads.map((l) => l.secondRunMs)),
		};
	}

	// 5: listing (before the fleet, which a --quick-fleet run may still make long).
	if (!flags['skip-listing']) {
		await settle();
		results.listing = await benchListing({ repeats: REPEATS, log: (line) => say(`  ${line}`) });
	}

	// 4: fleet.
	if (!flags['skip-fleet']) {
		results.fleet = [];
		for (const c of FLEET.concurrency) {
			const out = await execute(runtime, userFolder, byKey[`fleet-${c}`].id, 'SparkBot');
			const idealMs = Math.ceil(FLEET.numbers / c) * FLEET.holdMs;
			results.fleet.push({ concurrency: c, ms: out.ms, idealMs, overIdeal: out.ms / idealMs - 1 });
			say(`  fleet c=${c}: ${fmt(out.ms, 0)} (ideal ${idealMs} ms)`);
		}
	}

	// 6: triggers.
	if (!flags['skip-triggers']) {
		await settle();
		results.triggers = await benchTriggers({ log: (line) => say(line) });
	}

	report(results);
	mkdirSync(flags.out, { recursive: true });
	writeFileSync(join(flags.out, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
	// The chart in docs/ is redrawn by a default run only: `--out` keeps a run's results elsewhere.
	const chart = flags.out === DEFAULT_OUT ? join(ROOT, 'docs') : flags.out;
	writeChart(join(chart, 'benchmark.svg'), results);
	say(`\nwrote ${join(flags.out, 'results.json')} and ${join(chart, 'benchmark.svg')}`);
} finally {
	await sim?.stop();
	await lean?.stop();
	if (userFolder) removeUserFolder(userFolder);
	if (bareFolder) removeUserFolder(bareFolder);
}

function report(r) {
	const p = r.perItemMs;
	say(`\nPer item, Concurrency 1 (median of ${r.repeats}; (T(1000) − T(1)) / 999):`);
	say(`  SparkBot node        ${fmt(p.sparkbot)}`);
	say(`  HTTP Request node    ${fmt(p.http)}`);
	say(`  plain fetch (floor)  ${fmt(p.floor)}`);
	say(
		`  SparkBot node outside n8n (minimal context) ${fmt(p.outside)}: n8n's share ${fmt(p.sparkbot - p.outside)}, the node's own ${fmt(p.outside - p.floor)}`,
	);
	const over = { sparkbot: p.sparkbot - p.floor, http: p.http - p.floor };
	say(
		`  overhead over the floor: SparkBot ${fmt(over.sparkbot)}, HTTP Request ${fmt(over.http)}; ratio ${(over.sparkbot / over.http).toFixed(3)} (goal ≤ 0.12)`,
	);
	say(`  SparkBot / HTTP Request = ${(p.sparkbot / p.http).toFixed(2)} (goal ≤ 0.30)`);
	say(`  SparkBot / floor        = ${(p.sparkbot / p.floor).toFixed(2)}`);
	for (const n of SIZES) {
		say(
			`  N=${String(n).padEnd(5)} SparkBot ${fmt(median(r.times.sparkbot[n]), 1)}, HTTP Request ${fmt(median(r.times.http[n]), 1)}, fetch ${fmt(median(r.times.floor[n]), 1)}, outside n8n ${fmt(median(r.times.outside[n]), 1)}`,
		);
	}
	if (r.peakMb.sparkbot)
		say(
			`Peak RSS of n8n execute at N=1000: SparkBot ${r.peakMb.sparkbot.toFixed(0)} MB, HTTP Request ${r.peakMb.http.toFixed(0)} MB`,
		);
	if (r.startupMs) {
		say(
			`n8n start until ready: ${fmt(r.startupMs.without, 0)} without the package, ${fmt(r.startupMs.withPackage, 0)} with it`,
		);
		say(
			`Package load (require + new SparkBot): ${fmt(r.load.requireMs, 2)}; wasm compiled on load: ${r.load.compiledOnLoad}; first execution adds ${fmt(r.load.instantiateMs, 2)} (compile + instantiate)`,
		);
	}
	if (r.triggers) reportTriggers(r.triggers, say);
	for (const f of r.fleet ?? []) {
		say(
			`Fleet, ${FLEET.numbers} numbers held ${FLEET.holdMs} ms, Concurrency ${f.concurrency}: ${fmt(f.ms, 0)} vs ideal ${f.idealMs} ms (${(f.overIdeal * 100).toFixed(1)} % over)`,
		);
	}
}
