// What loading the package costs a Node process, the way n8n loads it: `require` of the node
// file and `new SparkBot()`; whether that compiles any wasm (it must not); then what the first
// execution adds for compiling and instantiating the module (first minus second run of an item
// that fails validation, so nothing goes on the network).
//
//   NODE_PATH=<n8n's node_modules> node package-load.cjs <path to SparkBot.node.js>
// Prints one JSON line: { requireMs, compiledOnLoad, firstRunMs, secondRunMs, instantiateMs }.
'use strict';

const compiled = { count: 0 };
for (const name of ['Module', 'compile', 'instantiate']) {
	const original = WebAssembly[name];
	WebAssembly[name] = new Proxy(original, {
		apply(target, self, args) {
			compiled.count += 1;
			return Reflect.apply(target, self, args);
		},
		construct(target, args) {
			compiled.count += 1;
			return Reflect.construct(target, args);
		},
	});
}

async function main() {
	// n8n has its n8n-workflow loaded long before it loads community packages: load the copy the
	// node file will resolve, so that only the package itself is timed.
	const nodeFile = process.argv[2];
	require(require.resolve('n8n-workflow', { paths: [require('node:path').dirname(nodeFile)] }));
	const started = performance.now();
	const { SparkBot } = require(nodeFile);
	const node = new SparkBot();
	const requireMs = performance.now() - started;
	const compiledOnLoad = compiled.count;

	const context = {
		getInputData: () => [{ json: {} }],
		getNodeParameter: (name) =>
			({ resource: 'whatsappSession', operation: 'reboot', device: 'not-a-device', options: {} })[
				name
			],
		getCredentials: async () => ({ apiKey: 'k', baseUrl: 'http://127.0.0.1:9/v1' }),
		getNode: () => ({
			name: 'SparkBot',
			type: 'n8n-nodes-sparkbot.sparkBot',
			typeVersion: 1,
			parameters: {},
		}),
		continueOnFail: () => true,
		// Never called: the item is refused before anything is sent.
		helpers: { httpRequest: () => Promise.reject(new Error('not expected')) },
	};
	const time = async () => {
		const at = performance.now();
		const [[out]] = await node.execute.call(context);
		if (!/^WhatsApp Number: /.test(out.json.error))
			throw new Error(`unexpected output ${JSON.stringify(out)}`);
		return performance.now() - at;
	};
	const firstRunMs = await time();
	const secondRunMs = await time();
	console.log(
		JSON.stringify({
			requireMs,
			compiledOnLoad,
			compiledAfterRuns: compiled.count,
			firstRunMs,
			secondRunMs,
			instantiateMs: firstRunMs - secondRunMs,
		}),
	);
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
