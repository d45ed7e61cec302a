// A model of what a run of the node must produce, for random batches: each item is a valid
// number, an invalid WhatsApp Number, an unknown or forbidden number, a number under one of the
// simulator's fault modes, or (package tier) parameters n8n cannot resolve. The model says what
// each item ends as and how many requests it takes; `check` compares a run with it:
//   - continue-on-fail: exactly one output per item, in order, paired, each the item's own answer
//     or its own error (code, httpCode, attempts);
//   - without it: every item succeeded, or the run failed with the first failing item in input
//     order — an invalid item means nothing was sent at all, a refused one that nothing was sent
//     after it (at Concurrency 1 nothing after it in input order).
// Both tiers use it: tests/dist/model.test.mjs (the package, many batches) and the e2e suite
// (real n8n, a few).
import assert from 'node:assert/strict';

import { DEMO_DEVICES, generatedDevice } from '../support/simulator/sparkbot-simulator.mjs';
import { FAULT_MODES } from './fault-modes.mjs';

/** Fault modes that answer at once (no hang, delay or 10 MB body), with their outcome and requests. */
const QUICK_FAULTS = FAULT_MODES.filter(
	([name, spec]) =>
		spec && spec !== 'invalid' && !['hang', 'delay'].includes(name) && spec.fault !== 'oversized',
);
const INVALID = [
	'',
	'nope',
	'6523A1F0C2D4E5F60718293A',
	'+14155550100',
	'6523a1f0c2d4e5f6071829/a',
];
const FORBIDDEN = DEMO_DEVICES.find((d) => d.forbidden);

/**
 * A random batch of 1 to `maxItems` items over `devices` generated numbers of the simulator.
 * `unreadable`: whether items may be parameters n8n cannot resolve (package tier only).
 */
export function randomBatch(r, { devices, maxItems = 12, unreadable = false }) {
	const count = 1 + r.int(maxItems);
	const free = Array.from({ length: devices }, (_, i) => generatedDevice(i + 1).id);
	const take = () => free.splice(r.int(free.length), 1)[0];
	const items = [];
	for (let i = 0; i < count; i++) {
		const roll = r.next();
		if (roll < 0.4) items.push({ kind: 'ok', device: take(), outcome: 'ok', sends: 1 });
		else if (roll < 0.5)
			items.push({
				kind: 'invalid',
				device: r.pick(INVALID),
				outcome: 'SPARKBOT_INVALID_PARAMETER',
				sends: 0,
				validation: true,
			});
		else if (roll < 0.57)
			items.push({
				kind: 'unknown',
				device: `ffff${r.int(1e8).toString(16).padStart(20, '0')}`,
				outcome: 'SPARKBOT_DEVICE_NOT_FOUND',
				sends: 1,
			});
		else if (roll < 0.62)
			items.push({
				kind: 'forbidden',
				device: FORBIDDEN.id,
				outcome: 'SPARKBOT_FORBIDDEN',
				sends: 1,
			});
		else if (roll < 0.67 && unreadable)
			items.push({
				kind: 'unreadable',
				device: null,
				outcome: 'SPARKBOT_INVALID_PARAMETER',
				sends: 0,
				validation: true,
			});
		else {
			const [name, spec, outcome, sends] = r.pick(QUICK_FAULTS);
			items.push({ kind: name, device: take(), fault: spec, outcome, sends });
		}
	}
	return { items, continueOnFail: r.chance(0.5), concurrency: 1 + r.int(10) };
}

/** The faults to set on the simulator for `batch`. */
export function faultsOf(batch) {
	return batch.items
		.filter((item) => item.fault)
		.map((item) => ({ route: 'reboot', deviceId: item.device, ...item.fault }));
}

/** A short description of the batch, for failure messages. */
export function describeBatch(batch) {
	return `continueOnFail ${batch.continueOnFail}, Concurrency ${batch.concurrency}: ${batch.items.map((item) => item.kind).join(', ')}`;
}

/**
 * Checks a run against the model. `run` is `{ out }` (the node's items: `{ json, pairedItem }`)
 * or `{ error: { itemIndex, message, api } }`; `requests` the simulator's log of the run.
 */
export function check(batch, run, requests) {
	const label = describeBatch(batch);
	const posts = requests.filter((request) => request.method === 'POST');
	const sentTo = (device) =>
		posts.filter((request) => request.path === `/v1/devices/${device}/reboot`);
	const expectedSends = (items) => {
		const sends = new Map();
		for (const item of items)
			if (item.device && item.sends)
				sends.set(item.device, (sends.get(item.device) ?? 0) + item.sends);
		return sends;
	};

	if (batch.continueOnFail || batch.items.every((item) => item.outcome === 'ok')) {
		assert.ok(run.out, `${label}: the run succeeded (${run.error?.message})`);
		assert.equal(run.out.length, batch.items.length, `${label}: one output per item`);
		batch.items.forEach((item, i) => {
			const { json, pairedItem } = run.out[i];
			assert.deepEqual(pairedItem, { item: i }, `${label}: item ${i} paired`);
			if (item.outcome === 'ok') {
				assert.equal(
					json.id,
					item.device,
					`${label}: item ${i} (${item.kind}) is its own answer: ${JSON.stringify(json).slice(0, 200)}`,
				);
			} else {
				assert.equal(json.code, item.outcome, `${label}: item ${i} (${item.kind}): ${json.error}`);
				assert.equal(typeof json.error, 'string');
				if (item.kind !== 'unreadable')
					assert.equal(json.attempts, item.sends, `${label}: item ${i} (${item.kind}) attempts`);
			}
		});
		for (const [device, sends] of expectedSends(batch.items)) {
			assert.equal(sentTo(device).length, sends, `${label}: requests to ${device}`);
		}
		assert.equal(
			posts.length,
			[...expectedSends(batch.items).values()].reduce((a, b) => a + b, 0),
			`${label}: nothing else was sent`,
		);
		return;
	}

	assert.ok(run.error, `${label}: the run failed`);
	const firstInvalid = batch.items.findIndex((item) => item.validation);
	if (firstInvalid !== -1) {
		assert.equal(
			run.error.itemIndex,
			firstInvalid,
			`${label}: the first invalid item (${run.error.message})`,
		);
		assert.equal(run.error.api, false, `${label}: an input problem`);
		assert.equal(posts.length, 0, `${label}: validated before anything was sent`);
		return;
	}
	// The first item to fail in input order — unless it fails only after retries (SparkBot kept
	// answering that it did not act) and a later item failed meanwhile: the run stops at once, no
	// retry is sent any more, and an item cut short did not run. So at Concurrency > 1 the
	// reported item may come after such items, never after any other failure.
	const first = batch.items.findIndex((item) => item.outcome !== 'ok');
	const cuttable = (item) => item.sends > 1;
	const failing = run.error.itemIndex;
	if (batch.concurrency === 1) {
		assert.equal(
			failing,
			first,
			`${label}: the first refused item in input order (${run.error.message})`,
		);
	} else {
		assert.ok(
			failing >= first && batch.items[failing]?.outcome !== 'ok',
			`${label}: a refused item is reported (${failing}: ${run.error.message})`,
		);
		batch.items.slice(first, failing).forEach((item, i) => {
			assert.ok(
				item.outcome === 'ok' || cuttable(item),
				`${label}: item ${first + i} (${item.kind}) failed before the reported one`,
			);
		});
	}
	assert.equal(run.error.api, true, `${label}: an API problem`);
	for (const item of batch.items.slice(0, failing + 1)) {
		if (!item.device || !item.sends) continue;
		const made = sentTo(item.device).length;
		const expected = batch.items
			.slice(0, failing + 1)
			.filter((other) => other.device === item.device)
			.reduce((sum, other) => sum + other.sends, 0);
		if (
			batch.items.slice(0, failing).some((other) => other.device === item.device && cuttable(other))
		) {
			assert.ok(
				made >= 1 && made <= expected,
				`${label}: ${item.kind} item ran until the run stopped (${made} of ${expected})`,
			);
		} else {
			assert.equal(
				made,
				expected,
				`${label}: items up to the failing one ran (${item.kind}, ${item.device})`,
			);
		}
	}
	const later = batch.items
		.slice(failing + 1)
		.filter(
			(item) =>
				item.device &&
				!batch.items.slice(0, failing + 1).some((before) => before.device === item.device),
		);
	for (const item of later) {
		if (batch.concurrency === 1)
			assert.equal(sentTo(item.device).length, 0, `${label}: nothing after the failing item`);
		else
			assert.ok(
				sentTo(item.device).length <= item.sends,
				`${label}: an item after the failure is sent at most as far as it got`,
			);
	}
	if (batch.concurrency > 1) {
		const failedAnswer = Math.max(
			...sentTo(batch.items[failing].device).map((r) => r.answeredAt ?? r.abortedAt ?? r.at),
		);
		for (const item of later) {
			for (const request of sentTo(item.device)) {
				assert.ok(
					request.at <= failedAnswer + 50,
					`${label}: ${item.device} was sent ${request.at - failedAnswer} ms after the failure was known`,
				);
			}
		}
	}
}
