// A core that cannot start says why and what to do — the same on every call, in the node, the
// list search, the trigger and the credential Test — and the next call after the cause is gone
// works. The causes are forced before the package loads: a runtime without AbortSignal.any (Node
// < 20.3), and an instantiation that fails with the LinkError n8n ≥ 2.34 gave the versions that
// imported a helper n8n-workflow no longer has.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';

import { DEMO_DEVICES } from '../../support/simulator/sparkbot-simulator.mjs';
import {
	NodeOperationError,
	TRIGGER_PATH,
	credentialTestContext,
	loadClass,
	loadOptionsContext,
	packageJson,
	params,
	pollContext,
	suite,
} from './harness.mjs';

const RealInstance = WebAssembly.Instance;
const realAny = AbortSignal.any;
/** The error the next instantiations throw, while set. */
let failWith;
let instances = 0;
WebAssembly.Instance = function Instance(module, imports) {
	if (failWith) throw failWith;
	instances += 1;
	return new RealInstance(module, imports);
};

const pkg = suite();
const online = DEMO_DEVICES.find(
	(d) => d.session?.status === 'online' && !d.forbidden && d.status === 'operative',
);

after(() => {
	WebAssembly.Instance = RealInstance;
	AbortSignal.any = realAny;
});

/** The messages of a reboot, the list search, a trigger poll and the credential Test. */
async function everySurface() {
	const context = loadOptionsContext({ credentials: pkg.credentials });
	const reason = (promise) =>
		promise.then(
			() => assert.fail('expected a failure'),
			(error) => error,
		);
	const node = await reason(pkg.run([params('reboot', online.id)]));
	assert.ok(node instanceof NodeOperationError, node.constructor.name);
	const search = await reason(pkg.node.methods.listSearch.getDevices.call(context));
	const poll = await reason(
		loadClass(TRIGGER_PATH).poll.call(
			pollContext({ credentials: pkg.credentials, staticData: {} }),
		),
	);
	const tested = await pkg.node.methods.credentialTest.sparkBotApiTest.call(
		credentialTestContext(),
		{ id: 'c', name: 'SparkBot', type: 'sparkBotApi', data: pkg.credentials },
	);
	assert.equal(tested.status, 'Error');
	return { node, messages: [node.message, search.message, poll.message, tested.message] };
}

test('a runtime without AbortSignal.any: named, with the versions the package needs', async () => {
	AbortSignal.any = undefined;
	const { node, messages } = await everySurface();
	AbortSignal.any = realAny;
	const expected =
		'The SparkBot node cannot start its core on this n8n (Error: this Node.js lacks AbortSignal.any); update n8n-nodes-sparkbot and restart n8n';
	assert.deepEqual(messages, [expected, expected, expected, expected]);
	assert.match(
		node.description,
		new RegExp(
			`^n8n-nodes-sparkbot ${packageJson.version.replaceAll('.', '\\.')} needs n8n 1\\.123 or newer on Node\\.js 20\\.15 or newer \\(this is Node\\.js(/\\d+| 20 or older)`,
		),
	);
	assert.match(node.description, /Settings → Community Nodes → Update/);
	assert.match(node.description, /Nothing was sent to SparkBot\.$/);
	assert.equal(instances, 0);
	assert.equal(pkg.sim.requests.length, 0);
});

test('an instantiation that fails (a LinkError): the same message on every call and surface, then a working core once the cause is gone', async () => {
	failWith = new WebAssembly.LinkError(
		'WebAssembly.Instance(): Import #4 "n8n-workflow" "sleepWithAbort": function import requires a callable',
	);
	const first = await everySurface();
	const second = await everySurface();
	const expected =
		'The SparkBot node cannot start its core on this n8n (LinkError: WebAssembly.Instance(): Import #4 "n8n-workflow" "sleepWithAbort": function import requires a callable); update n8n-nodes-sparkbot and restart n8n';
	assert.deepEqual(first.messages, Array(4).fill(expected));
	assert.deepEqual(second.messages, first.messages, 'the same message on the next calls');

	const [out] = await pkg.run([params('reboot', online.id), params('reboot', online.id)], {
		continueOnFail: true,
	});
	assert.deepEqual(
		out.map((item) => [item.json.code, item.pairedItem.item]),
		[
			['SPARKBOT_CORE_UNAVAILABLE', 0],
			['SPARKBOT_CORE_UNAVAILABLE', 1],
		],
	);
	assert.equal(pkg.sim.requests.length, 0, 'nothing was sent');

	failWith = undefined;
	const [[ok]] = await pkg.run([params('reboot', online.id)]);
	assert.equal(ok.json.id, online.id);
	assert.equal(instances, 1);
});
