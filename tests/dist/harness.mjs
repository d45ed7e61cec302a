// What every package suite needs: \`suite()\` (a simulator, the loaded node, a run helper) and
// \`assertNoSecret()\`, the suites' final search for the API key. Loading and driving the built
// package as n8n does is support/package.mjs, re-exported here.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach } from 'node:test';

import { startSimulator } from '../../support/simulator/sparkbot-simulator.mjs';
import { NODE_PATH, dist, executeContext, loadClass } from '../../support/package.mjs';

export * from '../../support/package.mjs';

/**
 * Registers the hooks of a package suite, for the file that calls it: `before` checks that dist/ is
 * built, starts a SparkBot simulator (`apiKey`, `devices`, `timeScale`, `waitMs`, `pageLatencyMs`:
 * its options) and
 * loads the node; `after` closes the simulator; with `resetEach`, `beforeEach` puts the simulator
 * back to its seed (devices, faults, request log). Returns
 *   sim, node, credentials   the simulator, the SparkBot node and the credential `{ apiKey, baseUrl }`
 *                            (`credentials(sim)` makes another one), once `before` ran
 *   run(items, { continueOnFail, onError, creds, cancelSignal, nodeType })  the node's `execute` with
 *                            executeContext(): resolves its output
 *   thrownBy(items, options) the error of a run that must fail
 *   produced                 every output and error of run/thrownBy (the suite adds what else the
 *                            node gave it), for assertNoSecret() at the end
 */
export function suite({
	apiKey,
	devices = 0,
	timeScale = 0.01,
	waitMs = 20,
	pageLatencyMs = 0,
	credentials = (sim) => ({ apiKey: sim.apiKey, baseUrl: sim.baseUrl }),
	resetEach = false,
} = {}) {
	let sim;
	let node;
	let creds;
	const produced = [];

	before(async () => {
		assert.ok(existsSync(join(dist, NODE_PATH)), 'dist/ is missing: run `npm run build`');
		sim = await startSimulator({ apiKey, devices, timeScale, waitMs, pageLatencyMs });
		creds = credentials(sim);
		node = loadClass(NODE_PATH);
	});
	after(async () => {
		await sim?.close();
	});
	if (resetEach) beforeEach(() => sim.reset());

	async function run(
		items,
		{ continueOnFail = false, onError, creds: runCreds = creds, cancelSignal, nodeType } = {},
	) {
		try {
			const output = await node.execute.call(
				executeContext({
					items,
					credentials: runCreds,
					continueOnFail,
					onError,
					cancelSignal,
					nodeType,
				}),
			);
			produced.push(output);
			return output;
		} catch (error) {
			produced.push(error);
			throw error;
		}
	}
	async function thrownBy(items, options) {
		try {
			await run(items, options);
		} catch (error) {
			return error;
		}
		throw new Error('expected the node to throw');
	}

	return {
		get sim() {
			return sim;
		},
		get node() {
			return node;
		},
		get credentials() {
			return creds;
		},
		run,
		thrownBy,
		produced,
	};
}

/**
 * Asserts that `secret` is in nothing of `produced` (outputs, errors, option lists): not in any
 * string reachable through own properties (non-enumerable ones too: an error's message, stack,
 * description, context, errorResponse, cause …) nor in JSON.stringify of each. Returns how many
 * strings it searched.
 */
export function assertNoSecret(produced, secret) {
	const seen = new WeakSet();
	const texts = [];
	const collect = (value) => {
		if (value === null || value === undefined) return;
		if (typeof value !== 'object') return texts.push(String(value));
		if (seen.has(value)) return;
		seen.add(value);
		if (value instanceof Error)
			texts.push(value.message, value.stack ?? '', String(value.description ?? ''));
		for (const key of Object.getOwnPropertyNames(value)) {
			try {
				collect(value[key]);
			} catch {
				// a getter that throws holds nothing to leak
			}
		}
	};
	for (const thing of produced) {
		collect(thing);
		try {
			texts.push(JSON.stringify(thing) ?? '');
		} catch {
			// a cycle: its parts are collected above
		}
	}
	const leaked = texts.find((text) => text.includes(secret));
	assert.equal(leaked, undefined, `the key leaked in: ${String(leaked).slice(0, 200)}`);
	return texts.length;
}
