// A WebAssembly trap inside the core must not poison the node: the execution that hit it fails
// with a clear node error (at once, not never), and the next one runs on a fresh instance.
//
// The Rust core never panics on any input (see the fuzz tests), so the trap is forced: before the
// package loads, `WebAssembly.Instance` is wrapped so that a chosen export of the core's instance
// first calls a real `unreachable` instruction — the same `RuntimeError` a trap in the core throws.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';

import { DEMO_DEVICES } from '../../support/simulator/sparkbot-simulator.mjs';
import { NodeOperationError, params, suite, workflow } from './harness.mjs';

// (module (func (export "trap") unreachable))
// prettier-ignore
const TRAP_MODULE = new Uint8Array([
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
	0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // types: () -> ()
	0x03, 0x02, 0x01, 0x00, // functions: one of type 0
	0x07, 0x08, 0x01, 0x04, 0x74, 0x72, 0x61, 0x70, 0x00, 0x00, // export "trap"
	0x0a, 0x05, 0x01, 0x03, 0x00, 0x00, 0x0b, // code: unreachable, end
]);

const RealInstance = WebAssembly.Instance;
const trap = new RealInstance(new WebAssembly.Module(TRAP_MODULE)).exports.trap;
/** Export names of the core's instances, and which one traps next (once). */
let armed;
let instances = 0;

WebAssembly.Instance = function Instance(module, imports) {
	const real = new RealInstance(module, imports);
	instances += 1;
	const exports = {};
	for (const [name, value] of Object.entries(real.exports)) {
		exports[name] =
			typeof value !== 'function'
				? value
				: (...args) => {
						if (armed?.(name)) {
							armed = undefined;
							trap();
						}
						return value(...args);
					};
	}
	return { exports };
};

// (the package loads in the suite's `before`, with the wrapper above in place)
const pkg = suite();
const online = DEMO_DEVICES.find(
	(d) => d.session?.status === 'online' && !d.forbidden && d.status === 'operative',
);

after(() => {
	WebAssembly.Instance = RealInstance;
});

function execute(items, continueOnFail = false) {
	return pkg.run(items, { continueOnFail });
}

async function works() {
	const [[out]] = await execute([params('reboot', online.id)]);
	assert.equal(out.json.status, 'rebooting');
}

test('the forced trap is a real one', () => {
	assert.throws(() => trap(), WebAssembly.RuntimeError);
});

test('a trap while the core reads the items: a clear node error, then a fresh instance', async () => {
	await works();
	assert.equal(instances, 1);
	armed = (name) => name === 'executeItems';
	const error = await execute([params('reboot', online.id)]).then(
		() => assert.fail('expected the node to throw'),
		(e) => e,
	);
	assert.ok(error instanceof NodeOperationError, `${error.constructor.name}: ${error.message}`);
	assert.match(
		error.message,
		/^The SparkBot node stopped with an internal error \(RuntimeError: unreachable\); it has been restarted, run the workflow again$/,
	);
	assert.match(error.description, /replaced by a fresh one/);
	await works();
	assert.equal(instances, 2, 'the next execution instantiated the module afresh');
});

test('a trap while a request is in flight: the execution fails at once (continue-on-fail: every item), then a fresh instance', async () => {
	pkg.sim.clearRequests();
	// The first closure the core runs after it was called is its task queue, which polls the batch.
	armed = (name) => name.includes('closure');
	const started = performance.now();
	const [out] = await execute(
		[params('reboot', online.id), params('reboot', DEMO_DEVICES[1].id)],
		true,
	);
	assert.ok(performance.now() - started < 1_000, 'failed at once, did not hang');
	assert.equal(out.length, 2);
	out.forEach((item, i) => {
		assert.deepEqual(item.pairedItem, { item: i });
		assert.match(item.json.error, /stopped with an internal error/);
	});
	await works();
	assert.equal(instances, 3);
});
