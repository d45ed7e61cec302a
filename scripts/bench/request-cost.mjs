// What a request costs Node's fetch (undici) depending on how it is handed over — the figures
// behind the transport's choice of `fetch(url, init)` over a web `Request` (src/wasm/transport.rs).
// Sequential reboots against the simulator in its own process; variants interleaved, median of
// the rounds.
//
//   node scripts/bench/request-cost.mjs [--rounds 12] [--requests 500]
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';

const { values: flags } = parseArgs({
	options: {
		rounds: { type: 'string', default: '12' },
		requests: { type: 'string', default: '500' },
	},
});
const ROUNDS = Number(flags.rounds);
const REQUESTS = Number(flags.requests);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const sim = spawn(
	process.execPath,
	[join(root, 'support/simulator/cli.mjs'), '--devices', '1000'],
	{
		stdio: ['ignore', 'pipe', 'inherit'],
	},
);
const base = await new Promise((resolve, reject) => {
	sim.on('exit', (code) => reject(new Error(`the simulator exited (${code})`)));
	createInterface({ input: sim.stdout }).on('line', (line) => {
		if (line.startsWith('SPARKBOT_SIMULATOR_URL='))
			resolve(line.slice('SPARKBOT_SIMULATOR_URL='.length));
	});
});
const key = 'sparkbot-demo-key';
const url = (i) =>
	`${base}/devices/65300000${((i % 1000) + 1).toString(16).padStart(16, '0')}/reboot`;
const body = JSON.stringify({ force: false, sync: false, wait: false });
const plain = { Token: key, Accept: 'application/json', 'Content-Type': 'application/json' };
const headers = () => {
	const h = new Headers();
	for (const [name, value] of Object.entries(plain)) h.append(name, value);
	return h;
};
const cancel = new AbortController().signal;
const { sleepWithAbort } = createRequire(import.meta.url)('n8n-workflow');

const variants = {
	'fetch(url, init), response.json() — the floor': async (i) => {
		await (await fetch(url(i), { method: 'POST', headers: plain, body })).json();
	},
	'fetch(url, init) + Headers + AbortSignal.any(timeout, cancel), text + JSON.parse — the node now':
		async (i) => {
			const signal = AbortSignal.any([AbortSignal.timeout(30_000), cancel]);
			JSON.parse(
				await (await fetch(url(i), { method: 'POST', headers: headers(), body, signal })).text(),
			);
		},
	'fetch(url, init) + plain headers + AbortSignal.any(timeout, cancel), text + JSON.parse': async (
		i,
	) => {
		const signal = AbortSignal.any([AbortSignal.timeout(30_000), cancel]);
		JSON.parse(
			await (await fetch(url(i), { method: 'POST', headers: plain, body, signal })).text(),
		);
	},
	'fetch(url, init) + Headers + AbortSignal.timeout only, text + JSON.parse': async (i) => {
		const signal = AbortSignal.timeout(30_000);
		JSON.parse(
			await (await fetch(url(i), { method: 'POST', headers: headers(), body, signal })).text(),
		);
	},
	'fetch(url, init) + Headers + own controller (sleepWithAbort timer, cancel listener), text + JSON.parse':
		async (i) => {
			const controller = new AbortController();
			const abort = controller.abort.bind(controller);
			cancel.addEventListener('abort', abort, { once: true, signal: controller.signal });
			sleepWithAbort(30_000, controller.signal).then(abort, abort);
			try {
				JSON.parse(
					await (
						await fetch(url(i), {
							method: 'POST',
							headers: headers(),
							body,
							signal: controller.signal,
						})
					).text(),
				);
			} finally {
				controller.abort();
			}
		},
	'fetch(url, init) + Headers, no signal, text + JSON.parse': async (i) => {
		JSON.parse(await (await fetch(url(i), { method: 'POST', headers: headers(), body })).text());
	},
	'fetch(new Request(url, init)) + Headers + AbortSignal.timeout, text + JSON.parse — gloo-net Request':
		async (i) => {
			const request = new Request(url(i), {
				method: 'POST',
				headers: headers(),
				body,
				signal: AbortSignal.timeout(30_000),
			});
			JSON.parse(await (await fetch(request)).text());
		},
};

const samples = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
for (const run of Object.values(variants)) for (let i = 0; i < 200; i++) await run(i); // warm up
for (let round = 0; round < ROUNDS; round++) {
	for (const [name, run] of Object.entries(variants)) {
		const started = performance.now();
		for (let i = 0; i < REQUESTS; i++) await run(i);
		samples[name].push(((performance.now() - started) / REQUESTS) * 1000);
	}
}
sim.kill();
const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
console.log(
	`Node ${process.version}, ${ROUNDS} rounds × ${REQUESTS} sequential requests, median µs per request:`,
);
for (const [name, values] of Object.entries(samples))
	console.log(`  ${median(values).toFixed(0).padStart(5)} µs  ${name}`);
