// The SparkBot node without n8n around it: the packed node file called with a minimal execute
// context (parameters already resolved, no expression engine), making the benchmark's reboots
// through n8n's own request function (the one `this.helpers.httpRequest` ends in, from the
// n8n under test). Between the floor and the node inside n8n, it splits the difference into the
// node's own cost and n8n's per-item cost.
//
//   NODE_PATH=<n8n's node_modules> node node-outside-n8n.cjs <SparkBot.node.js> <baseUrl> <apiKey> <idsJsonFile> <N>[,<N>…]
// Prints one JSON line: { "<N>": milliseconds, … }.
'use strict';

const { readFileSync } = require('node:fs');

async function main() {
	const [nodeFile, baseUrl, apiKey, idsFile, sizes] = process.argv.slice(2);
	const ids = JSON.parse(readFileSync(idsFile, 'utf8'));
	const { SparkBot } = require(nodeFile);
	const node = new SparkBot();
	const { httpRequest } = require('@n8n/backend-network/testing');
	const context = (n) => {
		const params = (i) => ({
			resource: 'whatsappSession',
			operation: 'reboot',
			device: ids[i % ids.length],
			options: {},
		});
		return {
			getInputData: () => Array.from({ length: n }, () => ({ json: {} })),
			getNodeParameter: (name, i) => params(i)[name],
			getCredentials: async () => ({ apiKey, baseUrl }),
			// `device` differs per item: n8n stores it as an expression.
			getNode: () => ({
				name: 'SparkBot',
				type: 'n8n-nodes-sparkbot.sparkBot',
				typeVersion: 1,
				parameters: { device: '={{ $json.id }}' },
			}),
			continueOnFail: () => false,
			helpers: { httpRequest },
		};
	};
	const run = async (n) => {
		const started = performance.now();
		const [out] = await node.execute.call(context(n));
		if (out.length !== n || out.some((item) => item.json.status !== 'rebooting'))
			throw new Error(`unexpected output ${JSON.stringify(out[0])}`);
		return performance.now() - started;
	};
	await run(2_000); // warm up like the floor (fetch-floor.mjs)
	const times = {};
	for (const n of sizes.split(',').map(Number)) times[n] = await run(n);
	console.log(JSON.stringify(times));
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
