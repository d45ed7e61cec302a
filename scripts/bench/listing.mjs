// The listing benchmark: a large account (1,012 numbers, eleven pages of 100, each page taking
// 100 ms to answer) read by the built package — Get Many with Return All, version 1's dropdown
// and one poll of SparkBot Trigger — against reading the same pages one after another with a
// plain `fetch` loop. Goals (issues 13 and 14): the whole list in ≤ 0.45 s and ≤ 0.45 × the
// sequential read, in at most ceil(1,012 / 100) = 11 page requests.
//
// Runs the package in this process (dist/ must be built) against an in-process simulator, so
// that the page requests can be counted. `node scripts/bench/listing.mjs [--repeats N]` alone,
// or as part of `npm run bench`.
import { parseArgs } from 'node:util';

import { startSimulator } from '../../support/simulator/sparkbot-simulator.mjs';
import {
	NODE_PATH,
	TRIGGER_PATH,
	executeContext,
	loadClass,
	loadOptionsContext,
	pollContext,
} from '../../support/package.mjs';

/** Numbers the simulator adds to its six demo numbers: 1,012 in all. */
const EXTRA = 1_006;
const PAGE_LATENCY_MS = 100;
const API_KEY = 'bench-listing-key';

const median = (values) => {
	const sorted = [...values].sort((a, b) => a - b);
	const mid = Math.floor(sorted.length / 2);
	return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/**
 * Measures each way of reading the account `repeats` times (interleaved) and returns, per way,
 * the median milliseconds and the page requests of one read.
 */
export async function benchListing({ repeats = 7, log = console.log } = {}) {
	const sim = await startSimulator({
		apiKey: API_KEY,
		devices: EXTRA,
		pageLatencyMs: PAGE_LATENCY_MS,
	});
	try {
		const credentials = { apiKey: API_KEY, baseUrl: sim.baseUrl };
		const node = loadClass(NODE_PATH);
		const trigger = loadClass(TRIGGER_PATH);
		const staticData = {};
		const poll = () => trigger.poll.call(pollContext({ credentials, staticData }));
		await poll(); // the baseline; every later poll compares with it
		const total = sim.devices.size;

		const ways = {
			sequential: async () => {
				// The reference: page after page until a short one, as a client without
				// X-Total-Count would read it.
				let count = 0;
				for (let page = 0; ; page++) {
					const response = await fetch(`${sim.baseUrl}/devices?page=${page}&size=100`, {
						headers: { Token: API_KEY, Accept: 'application/json' },
					});
					const devices = await response.json();
					count += devices.length;
					if (devices.length < 100) break;
				}
				return count;
			},
			getMany: async () => {
				const items = [{ resource: 'whatsappNumber', operation: 'getAll', returnAll: true }];
				const [out] = await node.execute.call(executeContext({ items, credentials }));
				return out.length;
			},
			dropdown: async () =>
				(await node.methods.loadOptions.getDevices.call(loadOptionsContext({ credentials })))
					.length,
			triggerPoll: async () => {
				const out = await poll();
				if (out !== null) throw new Error('a poll without changes reported something');
				return total;
			},
		};
		const times = Object.fromEntries(Object.keys(ways).map((way) => [way, []]));
		const pages = {};
		for (let repeat = 0; repeat < repeats; repeat++) {
			for (const [way, read] of Object.entries(ways)) {
				sim.clearRequests();
				const started = performance.now();
				const count = await read();
				times[way].push(performance.now() - started);
				if (count !== total) throw new Error(`${way} read ${count} of ${total} numbers`);
				pages[way] = sim.requests.filter((r) => r.path === '/v1/devices').length;
			}
		}
		const result = { numbers: total, pageLatencyMs: PAGE_LATENCY_MS, repeats, ways: {} };
		for (const way of Object.keys(ways))
			result.ways[way] = { ms: median(times[way]), pages: pages[way], samples: times[way] };
		const sequential = result.ways.sequential.ms;
		log(
			`Listing ${total} numbers, ${PAGE_LATENCY_MS} ms a page (median of ${repeats}; goal ≤ 450 ms, ≤ 0.45 × page after page):`,
		);
		for (const [way, { ms, pages: requests }] of Object.entries(result.ways)) {
			log(
				`  ${way.padEnd(11)} ${ms.toFixed(0).padStart(5)} ms  ${String(requests).padStart(2)} page requests  ${(ms / sequential).toFixed(2)} × page after page`,
			);
		}
		return result;
	} finally {
		await sim.close();
	}
}

if (import.meta.url === `file://${process.argv[1]}`) {
	const { values } = parseArgs({ options: { repeats: { type: 'string', default: '7' } } });
	await benchListing({ repeats: Number(values.repeats) });
}
