// Fuzzing the wasm boundary from JS: the built node is run with random parameter values and
// credentials of every JS type — null, undefined, huge strings, lone surrogates, deep nesting,
// cycles, symbols, BigInts, functions, proxies and getters that throw, sparse and huge arrays.
// Whatever comes in, the node must answer with its own errors (or outputs): never a crash of the
// core, never a hang, one output per item when continue-on-fail is on.
//
//   FUZZ_RUNS=20000 FUZZ_SEED=123 node --test tests/dist/fuzz.test.mjs   (npm run fuzz)
// A failure prints its seed and run; keep a failing input as a case in REGRESSIONS below.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { DEMO_DEVICES } from '../../support/simulator/sparkbot-simulator.mjs';
import { rng } from '../../scripts/lib/random.mjs';
import {
	NodeApiError,
	NodeOperationError,
	executeContext,
	loadOptionsContext,
	suite,
} from './harness.mjs';

const RUNS = Number(process.env.FUZZ_RUNS ?? 400);
const SEED = Number(process.env.FUZZ_SEED ?? 20261122);
const RUN_LIMIT_MS = 10_000;

const pkg = suite({ timeScale: 0.0001, waitMs: 1 });

const throwing = () => {
	throw new Error('trap from a getter');
};
const throwingProxy = () =>
	new Proxy(
		{},
		{ get: throwing, ownKeys: throwing, getOwnPropertyDescriptor: throwing, has: throwing },
	);

function randomText(r) {
	switch (r.int(9)) {
		case 0:
			return '';
		case 1:
			return DEMO_DEVICES[r.int(DEMO_DEVICES.length)].id;
		case 2:
			return `${DEMO_DEVICES[0].id}${r.pick(['?x', '#', '/..', ' ', '\u0000', 'A'])}`;
		case 3:
			return '\uD800\uDFFF\uD800'.repeat(r.int(5)); // lone surrogates
		case 4:
			return 'x'.repeat(r.pick([1 << 20, (1 << 20) + 1, 5_000_000]));
		case 5:
			return `={{ $json.${r.pick(['id', 'x'])} }}`;
		case 6:
			return String.fromCharCode(...Array.from({ length: r.int(40) }, () => r.int(0x3000)));
		case 7:
			return r.pick([
				'reboot',
				'reset',
				'whatsappSession',
				'http://10.0.0.1/v1',
				'https://',
				'true',
			]);
		default:
			return Math.random.toString();
	}
}

function randomValue(r, depth = 0) {
	const kind = r.int(depth > 3 ? 8 : 16);
	switch (kind) {
		case 0:
			return undefined;
		case 1:
			return null;
		case 2:
			return r.next() < 0.5;
		case 3:
			return r.pick([
				0,
				-0,
				NaN,
				Infinity,
				-Infinity,
				1e308,
				-1,
				0.5,
				51,
				2 ** 53 + 2,
				300.0001,
				1,
				50,
			]);
		case 4:
			return r.int(1000) - 500;
		case 5:
		case 6:
		case 7:
			return randomText(r);
		case 8:
			return Symbol('s');
		case 9:
			return 10n ** BigInt(r.int(30));
		case 10:
			return r.pick([
				() => 1,
				throwingProxy(),
				Object.defineProperty({}, 'x', { get: throwing, enumerable: true }),
			]);
		case 11: {
			const nested = [];
			let inner = nested;
			for (let i = 0; i < r.pick([33, 1_000, 100_000]); i++) inner = inner[0] = [];
			return nested;
		}
		case 12: {
			const array = [];
			array.length = r.pick([10_001, 2 ** 32 - 1, 3]);
			return array;
		}
		case 13: {
			const cyclic = { a: 1 };
			cyclic.self = cyclic;
			return cyclic;
		}
		case 14:
			return Object.fromEntries(
				Array.from({ length: r.pick([2, 10_001]) }, (_, i) => [`k${i}`, i]),
			);
		default:
			return randomOptions(r, depth + 1);
	}
}

const OPTION_NAMES = [
	'forceReboot',
	'forceSync',
	'waitForSession',
	'deleteAllData',
	'emptyQueue',
	'timeout',
	'retry',
	'concurrency',
	'includeAttempts',
	'unknown',
];

function randomOptions(r, depth) {
	const options = {};
	for (let i = r.int(4); i > 0; i--)
		options[r.pick(OPTION_NAMES)] =
			r.next() < 0.5 ? r.pick([true, false, 1, 0.01, 5]) : randomValue(r, depth + 1);
	return options;
}

/** One item's parameters: mostly plausible, each field sometimes anything at all. */
function randomParameters(r) {
	const wild = () => r.next() < 0.3;
	return {
		resource: wild() ? randomValue(r) : 'whatsappSession',
		operation: wild() ? randomValue(r) : r.pick(['reboot', 'reset']),
		device: wild() ? randomValue(r) : DEMO_DEVICES[r.int(DEMO_DEVICES.length)].id,
		options: wild() ? randomValue(r) : randomOptions(r, 0),
	};
}

function randomCredentials(r) {
	const good = { apiKey: pkg.sim.apiKey, baseUrl: pkg.sim.baseUrl };
	if (r.next() < 0.7) return good;
	const field = r.pick(['apiKey', 'baseUrl', 'allowInsecureHttp']);
	return { ...good, [field]: randomValue(r) };
}

function describe(value, depth = 0) {
	if (typeof value === 'symbol' || typeof value === 'bigint' || typeof value === 'function')
		return String(value);
	if (typeof value === 'string')
		return value.length > 80 ? `<text of ${value.length}>` : JSON.stringify(value);
	if (value === null || typeof value !== 'object') return String(value);
	if (depth > 2) return '…';
	try {
		if (Array.isArray(value)) return `[${value.length} items]`;
		return `{${Object.keys(value)
			.slice(0, 6)
			.map((k) => `${k}: ${describe(value[k], depth + 1)}`)
			.join(', ')}}`;
	} catch {
		return '<throwing object>';
	}
}

/**
 * An execution context whose parameters are all expressions (so the node reads every one for
 * every item) resolving to the fuzzed values.
 */
function fuzzContext(items, credentials, continueOnFail) {
	const names = ['resource', 'operation', 'device', 'options'];
	const base = executeContext({ items: [], credentials, continueOnFail });
	const node = {
		...base.getNode(),
		parameters: Object.fromEntries(names.map((name) => [name, `={{ $json.${name} }}`])),
	};
	return {
		...base,
		getInputData: () => items.map((_, i) => ({ json: { index: i } })),
		getNodeParameter: (name, itemIndex, fallback) => items[itemIndex][name] ?? fallback,
		getNode: () => node,
	};
}

/** Runs one fuzz input through the node and checks the answer's shape. */
async function check(items, credentials, continueOnFail) {
	const context = fuzzContext(items, credentials, continueOnFail);
	const outcome = await Promise.race([
		pkg.node.execute.call(context).then(
			(output) => ({ output }),
			(error) => ({ error }),
		),
		new Promise((resolve) => setTimeout(() => resolve({ hung: true }), RUN_LIMIT_MS).unref()),
	]);
	assert.ok(!outcome.hung, `no answer within ${RUN_LIMIT_MS} ms`);
	if (outcome.error) {
		const { error } = outcome;
		assert.ok(!continueOnFail, `threw with continue-on-fail: ${error.message}`);
		assert.ok(
			error instanceof NodeOperationError || error instanceof NodeApiError,
			`${error.constructor.name}: ${error.message}`,
		);
		assert.ok(error.message.length > 0);
		assert.doesNotMatch(
			error.message,
			/internal error|RuntimeError|unreachable/,
			'the core crashed',
		);
		return;
	}
	const [output] = outcome.output;
	if (continueOnFail) assert.equal(output.length, items.length, 'one output per item');
	output.forEach((item, i) => {
		assert.deepEqual(item.pairedItem, { item: i });
		assert.equal(typeof item.json, 'object');
		if ('error' in item.json) {
			assert.equal(typeof item.json.error, 'string');
			assert.doesNotMatch(
				item.json.error,
				/internal error|RuntimeError|unreachable/,
				'the core crashed',
			);
		}
	});
}

/** Inputs that once broke something (none so far); each stays a case forever. */
const REGRESSIONS = [];

test(`${RUNS} random executions (seed ${SEED}): only the node's own errors, never a crash or a hang`, async () => {
	const r = rng(SEED);
	for (let run = 0; run < RUNS; run++) {
		const items = Array.from({ length: 1 + r.int(4) }, () => randomParameters(r));
		const credentials = randomCredentials(r);
		const continueOnFail = r.next() < 0.5;
		try {
			await check(items, credentials, continueOnFail);
		} catch (error) {
			error.message = `run ${run} (seed ${SEED}): ${error.message}\nitems: ${items.map((item) => describe(item)).join('\n       ')}\ncredentials: ${describe(credentials)}`;
			throw error;
		}
	}
	pkg.sim.reset();
});

test('regressions', async () => {
	for (const { items, credentials, continueOnFail } of REGRESSIONS)
		await check(items, credentials, continueOnFail);
});

test('getDevices with random credentials: a node error or the list, never a crash', async () => {
	const r = rng(SEED ^ 0x5bd1e995);
	for (let run = 0; run < Math.min(RUNS, 200); run++) {
		const credentials = randomCredentials(r);
		try {
			const list = await pkg.node.methods.loadOptions.getDevices.call(
				loadOptionsContext({ credentials }),
			);
			assert.ok(Array.isArray(list));
		} catch (error) {
			assert.ok(
				error instanceof NodeOperationError || error instanceof NodeApiError,
				`run ${run}: ${error.constructor.name}: ${error.message} (${describe(credentials)})`,
			);
			assert.doesNotMatch(error.message, /internal error|RuntimeError/, `run ${run}`);
		}
	}
});
