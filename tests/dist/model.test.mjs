// Model-based test of the built package: random batches — valid, invalid, unknown and forbidden
// numbers, simulator faults, unreadable parameters, continue-on-fail on or off, Concurrency 1 to
// 10 — each compared with the model in tests/model.mjs of what the user must see.
//
//   MODEL_RUNS=2000 MODEL_SEED=7 node --test tests/dist/model.test.mjs
import { after, before, test } from 'node:test';

import { rng } from '../../scripts/lib/random.mjs';
import { startSimulator } from '../simulator/sparkbot-simulator.mjs';
import { check, describeBatch, faultsOf, randomBatch } from '../model.mjs';
import { NODE_PATH, loadClass, params, runner, workflow } from './harness.mjs';

const RUNS = Number(process.env.MODEL_RUNS ?? 400);
const SEED = Number(process.env.MODEL_SEED ?? 20261129);
const DEVICES = 60;

let sim;
let sparkBot;
let credentials;
const { run } = runner({ node: () => sparkBot, credentials: () => credentials, produced: [] });

before(async () => {
	sim = await startSimulator({ devices: DEVICES, timeScale: 0.01, waitMs: 5 });
	credentials = { apiKey: sim.apiKey, baseUrl: sim.baseUrl };
	sparkBot = loadClass(NODE_PATH);
});

after(async () => {
	await sim?.close();
});

test(`${RUNS} random batches behave as the model says (seed ${SEED})`, async (t) => {
	const r = rng(SEED);
	let failedRuns = 0;
	for (let i = 0; i < RUNS; i++) {
		const batch = randomBatch(r, { devices: DEVICES, unreadable: true });
		sim.reset();
		for (const fault of faultsOf(batch)) sim.setFault(fault);
		const items = batch.items.map((item) =>
			item.kind === 'unreadable' ? new Error(`ReferenceError: item ${i} is not defined`) : params('reboot', item.device, { concurrency: batch.concurrency, timeout: 5 }),
		);
		let outcome;
		try {
			const [out] = await run(items, { continueOnFail: batch.continueOnFail });
			outcome = { out };
		} catch (error) {
			outcome = { error: { itemIndex: error.context?.itemIndex, message: error.message, api: error instanceof workflow.NodeApiError } };
		}
		try {
			check(batch, outcome, sim.requests);
		} catch (error) {
			failedRuns++;
			t.diagnostic(`run ${i} of seed ${SEED} (${describeBatch(batch)})`);
			throw error;
		}
	}
	t.diagnostic(`${RUNS} batches, ${failedRuns} failed`);
});
