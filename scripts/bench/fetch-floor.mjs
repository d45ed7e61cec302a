// The floor of the benchmark: the same reboot requests the SparkBot node makes, from a plain
// `fetch` loop, one after another — no n8n, no wasm. Run with the Node that runs n8n.
//
//   node fetch-floor.mjs <baseUrl> <apiKey> <idsJsonFile> <N>[,<N>…]
// Prints one JSON line: { "<N>": milliseconds, … }.
import { readFileSync } from 'node:fs';

const [baseUrl, apiKey, idsFile, sizes] = process.argv.slice(2);
const ids = JSON.parse(readFileSync(idsFile, 'utf8'));
const body = JSON.stringify({ force: false, sync: false, wait: false });
const headers = { Token: apiKey, Accept: 'application/json', 'Content-Type': 'application/json' };

async function loop(n) {
	const started = performance.now();
	for (let i = 0; i < n; i++) {
		const response = await fetch(`${baseUrl}/devices/${ids[i % ids.length]}/reboot`, {
			method: 'POST',
			headers,
			body,
		});
		const json = await response.json();
		if (response.status !== 200) throw new Error(`${response.status}: ${JSON.stringify(json)}`);
	}
	return performance.now() - started;
}

// Warm the connection pool and the JIT (2,000 requests), as n8n's process is warm by the time
// a node runs: a cold floor would flatter every node measured against it.
await loop(2_000);
const times = {};
for (const n of sizes.split(',').map(Number)) times[n] = await loop(n);
console.log(JSON.stringify(times));
