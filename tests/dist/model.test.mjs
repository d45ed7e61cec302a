// Model-based test of the built package: random batches — valid, invalid, unknown and forbidden
// numbers, simulator faults, unreadable parameters, continue-on-fail on or off, Concurrency 1 to
// 10 — each compared with the model in tests/model.mjs of what the user must see.
//
//   MODEL_RUNS=2000 MODEL_SEED=7 node --test tests/dist/model.test.mjs
import { test } from 'node:test';

import { rng } from '../../scripts/lib/random.mjs';
import { check, describeBatch, faultsOf, randomBatch } from '../model.mjs';
import { params, suite, workflow } from './harness.mjs';

const RUNS = Number(process.env.MODEL_RUNS ?? 400);
const SEED = Number(process.env.MODEL_SEED ?? 20261129);
const DEVICES = 60;

const pkg = suite({ devices: DEVICES, waitMs: 5 });
const { run } = pkg;

test(`${RUNS} random batches behave as the model says (seed ${SEED})`, async (t) => {
	const r = rng(SEED);
	let failedRuns = 0;
	for (let i = 0; i < RUNS; i++) {
		const batch = randomBatch(r, { devices: DEVICES, unreadable: true });
		pkg.sim.reset();
		for (const fault of faultsOf(batch)) pkg.sim.setFault(fault);
		const items = batch.items.map((item) =>
			item.kind === 'unreadable'
				? new Error(`ReferenceError: item ${i} is not defined`)
				: params('reboot', item.device, { concurrency: batch.concurrency, timeout: 5 }),
		);
		let outcome;
		try {
			const [out] = await run(items, { continueOnFail: batch.continueOnFail });
			outcome = { out };
		} catch (error) {
			outcome = {
				error: {
					itemIndex: error.context?.itemIndex,
					message: error.message,
					api: error instanceof workflow.NodeApiError,
				},
			};
		}
		try {
			check(batch, outcome, pkg.sim.requests);
		} catch (error) {
			failedRuns++;
			t.diagnostic(`run ${i} of seed ${SEED} (${describeBatch(batch)})`);
			throw error;
		}
	}
	t.diagnostic(`${RUNS} batches, ${failedRuns} failed`);
});
