// WhatsApp Session → Get QR Code, as the built package runs it: the number by list, ID or phone,
// the JSON and the PNG as n8n binary data — which the tests decode as a phone's camera would and
// compare with the code the simulator drew — and every error a user can meet on the way.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { rng } from '../../scripts/lib/random.mjs';
import { DEMO_DEVICES, SESSION_STATUSES } from '../../support/simulator/sparkbot-simulator.mjs';
import { pngSize, readQrPng } from '../simulator/qr.mjs';
import {
	NodeApiError,
	NodeOperationError,
	assertNoSecret,
	locator,
	suite,
	workflow,
} from './harness.mjs';

const SECRET = 'sk-live-qr-51c0-DO-NOT-LEAK';
const t = suite({ apiKey: SECRET, resetEach: true });
const { run, thrownBy, produced } = t;

const [sales, support, unnamed, , onboarding, billing] = DEMO_DEVICES;
const RUNS = Number(process.env.QR_RUNS ?? 60);
const SEED = Number(process.env.QR_SEED ?? 20261203);
const scans = () => t.sim.requests.filter((r) => r.path.endsWith('/scan'));

/** One Get QR Code item. */
function qrCode(device, extra = {}) {
	return { resource: 'whatsappSession', operation: 'getQrCode', device, ...extra };
}

/** The PNG of an output item's binary field, as bytes. */
function png(item, field = 'data') {
	const binary = item.binary?.[field];
	assert.ok(binary, `binary field ${field} in ${JSON.stringify(Object.keys(item.binary ?? {}))}`);
	return Buffer.from(binary.data, 'base64');
}

/** Checks one output item against the number and the code the simulator gave it. */
function assertQrItem(item, device, { field = 'data', fileName } = {}) {
	const code = t.sim.qrCode(device.id);
	assert.ok(code, `the simulator drew a code for ${device.id}`);
	const expected = { id: device.id };
	if (device.alias) expected.alias = device.alias;
	if (device.phone) expected.phone = device.phone;
	assert.deepEqual(item.json, {
		...expected,
		qr: code.qr,
		expiresAt: new Date(code.expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
		session: t.sim.devices.get(device.id).session,
	});
	const binary = item.binary[field];
	assert.equal(binary.mimeType, 'image/png');
	assert.equal(binary.fileExtension, 'png');
	if (fileName) assert.equal(binary.fileName, fileName);
	const bytes = png(item, field);
	assert.equal(readQrPng(bytes), code.qr, 'the PNG decodes to the code SparkBot gave');
	const { width, height } = pngSize(bytes);
	assert.ok(width >= 256 && height >= 256, `${width}×${height}`);
}

describe('Get QR Code', () => {
	test('by list, ID and phone: the JSON, and a PNG that decodes to the code', async () => {
		t.sim.setSessionStatus(sales.id, 'authorize');
		const [out] = await run([
			qrCode(locator('list', sales.id)),
			qrCode(locator('id', ` ${unnamed.id} `)),
			qrCode(locator('phone', '+1 (415) 555-0100')),
		]);
		assert.equal(out.length, 3);
		assertQrItem(out[0], sales, { fileName: 'sales-+14155550100-qr.png' });
		assertQrItem(out[1], unnamed, { fileName: '+4915112345678-qr.png' });
		assertQrItem(out[2], sales, { fileName: 'sales-+14155550100-qr.png' });
		out.forEach((item, i) => assert.deepEqual(item.pairedItem, { item: i }));
		assert.equal(scans().length, 3);
		assert.ok(
			t.sim.requests.every((r) => r.method === 'GET'),
			'Get QR Code only reads',
		);
	});

	test('the code changes once it expires, and the PNG with it', async () => {
		const [[first]] = await run([qrCode(locator('id', unnamed.id))]);
		const before = first.json.qr;
		assert.equal(readQrPng(png(first)), before);
		const [[again]] = await run([qrCode(locator('id', unnamed.id))]);
		assert.equal(again.json.qr, before, 'the same code while it lasts');
		t.sim.expireQrCode(unnamed.id);
		const [[renewed]] = await run([qrCode(locator('id', unnamed.id))]);
		assert.notEqual(renewed.json.qr, before);
		assertQrItem(renewed, unnamed);
	});

	test('Put Output File in Field names the binary field; empty means data', async () => {
		const [out] = await run([
			qrCode(locator('id', unnamed.id), { binaryPropertyName: 'qrPng' }),
			qrCode(locator('id', unnamed.id), { binaryPropertyName: '  ' }),
			qrCode(locator('id', unnamed.id)),
		]);
		assert.deepEqual(Object.keys(out[0].binary), ['qrPng']);
		assertQrItem(out[0], unnamed, { field: 'qrPng' });
		assert.deepEqual(Object.keys(out[1].binary), ['data']);
		assert.deepEqual(Object.keys(out[2].binary), ['data'], "n8n's default");
	});

	test('a bad field name is refused before anything is sent, naming the field', async () => {
		const [out] = await run(
			[
				qrCode(locator('id', unnamed.id)),
				qrCode(locator('id', unnamed.id), { binaryPropertyName: 42 }),
				qrCode(locator('id', unnamed.id), { binaryPropertyName: 'a\nb' }),
			],
			{ continueOnFail: true },
		);
		assertQrItem(out[0], unnamed);
		assert.equal(out[1].json.code, 'SPARKBOT_INVALID_PARAMETER');
		assert.match(out[1].json.error, /^Put Output File in Field: must be a field name \(text\)/);
		assert.match(out[2].json.error, /^Put Output File in Field: must be a field name of at most/);
		assert.equal(out[1].binary, undefined);
		assert.equal(scans().length, 1, 'only the valid item asked SparkBot');
	});

	test('a session that needs no scan: an error naming its status, first, middle or last', async () => {
		for (const at of [0, 1, 2]) {
			t.sim.reset();
			const items = [unnamed, unnamed, unnamed].map((d) => qrCode(locator('id', d.id)));
			items[at] = qrCode(locator('id', support.id));
			const [out] = await run(items, { continueOnFail: true });
			assert.equal(out.length, 3);
			out.forEach((item, i) => {
				assert.deepEqual(item.pairedItem, { item: i });
				if (i !== at) return assertQrItem(item, unnamed);
				assert.equal(item.json.code, 'SPARKBOT_SCAN_NOT_NEEDED');
				assert.equal(item.json.httpCode, 409);
				assert.match(item.json.error, /^Nothing to scan for WhatsApp number 6523a2b4/);
				assert.match(item.json.error, /is offline, not waiting for a QR scan/);
				assert.match(item.json.description, /session status authorize/);
				assert.equal(item.binary, undefined, 'no file on an error item');
			});
		}
		const error = await thrownBy([
			qrCode(locator('id', unnamed.id)),
			qrCode(locator('phone', unnamed.phone)),
			qrCode(locator('id', onboarding.id)),
		]);
		assert.ok(error instanceof NodeApiError, error.constructor.name);
		assert.equal(error.context.itemIndex, 2);
		assert.equal(error.httpCode, '409');
		assert.match(error.message, /is connecting, not waiting for a QR scan/);
	});

	test('a malformed answer is an error that says so, never a broken file', async () => {
		const cases = [
			['qrNoImage', 'the QR code answer has no image'],
			['qrNotPng', 'the QR code answer has an image that is not a PNG'],
			['qrNotBase64', 'the QR code answer has an image that is a data URL that is not base64'],
		];
		for (const [fault, problem] of cases) {
			t.sim.reset();
			t.sim.setFault({ route: 'scan', deviceId: unnamed.id, fault });
			const [out] = await run(
				[qrCode(locator('id', sales.id)), qrCode(locator('id', unnamed.id))],
				{ continueOnFail: true },
			);
			assert.equal(out[0].json.code, 'SPARKBOT_SCAN_NOT_NEEDED');
			assert.equal(out[1].json.code, 'SPARKBOT_INVALID_RESPONSE', fault);
			assert.ok(out[1].json.error.includes(problem), `${fault}: ${out[1].json.error}`);
			assert.equal(out[1].binary, undefined);
			const thrown = await thrownBy([qrCode(locator('id', unnamed.id))]);
			assert.ok(thrown instanceof NodeApiError || thrown instanceof NodeOperationError);
			assert.ok(thrown.message.includes(problem), thrown.message);
		}
	});

	test('as an AI tool: the JSON without the code text, the PNG still a file', async () => {
		const [[item]] = await run([qrCode(locator('id', unnamed.id))], {
			nodeType: 'n8n-nodes-sparkbot.sparkBotTool',
		});
		assert.equal(item.json.qr, undefined, 'the text of the code stays out of the model input');
		assert.match(item.json.qrCode, /not shown/);
		assert.equal(item.json.id, unnamed.id);
		assert.equal(readQrPng(png(item)), t.sim.qrCode(unnamed.id).qr);
	});

	test(`${RUNS} random batches give what the model says (seed ${SEED})`, async () => {
		const r = rng(SEED);
		const UNKNOWN = '6523ffffc2d4e5f607182999';
		const FAULTS = ['qrNoImage', 'qrNotPng', 'qrNotBase64'];
		for (let run_ = 0; run_ < RUNS; run_++) {
			t.sim.reset();
			// Every number gets a random session status; some answers of /scan are malformed.
			const status = new Map(DEMO_DEVICES.map((d) => [d.id, r.pick(SESSION_STATUSES)]));
			for (const [id, s] of status) t.sim.setSessionStatus(id, s);
			const faulty = new Map();
			for (const d of DEMO_DEVICES) if (r.chance(0.15)) faulty.set(d.id, r.pick(FAULTS));
			for (const [deviceId, fault] of faulty)
				t.sim.setFault({ route: 'scan', deviceId, fault, times: null });
			const continueOnFail = r.chance(0.6);
			const items = [];
			const expected = []; // per item: { field, id } or { code, before: true when no request }
			for (let n = 1 + r.int(6); n > 0; n--) {
				const device = r.pick([...DEMO_DEVICES, { id: UNKNOWN }]);
				const mode = device.phone && r.chance(0.3) ? 'phone' : r.pick(['list', 'id']);
				const field = r.pick([undefined, 'data', 'qr', ' png ', 7]);
				items.push(
					qrCode(locator(mode, mode === 'phone' ? device.phone : device.id), {
						...(field === undefined ? {} : { binaryPropertyName: field }),
					}),
				);
				const s = status.get(device.id);
				expected.push(
					field === 7
						? { code: 'SPARKBOT_INVALID_PARAMETER', before: true }
						: device.id === UNKNOWN
							? { code: 'SPARKBOT_DEVICE_NOT_FOUND' }
							: device.id === billing.id
								? { code: 'SPARKBOT_FORBIDDEN' }
								: s !== 'authorize'
									? { code: 'SPARKBOT_SCAN_NOT_NEEDED', status: s }
									: faulty.has(device.id)
										? { code: 'SPARKBOT_INVALID_RESPONSE' }
										: { id: device.id, field: (field ?? 'data').trim() },
				);
			}
			const context = `run ${run_} of seed ${SEED}: ${JSON.stringify({ items, expected, continueOnFail })}`;
			let out;
			try {
				[out] = await run(items, { continueOnFail });
			} catch (error) {
				assert.ok(!continueOnFail, `${context}: ${error.message}`);
				const invalid = expected.findIndex((e) => e.before);
				const first = invalid >= 0 ? invalid : expected.findIndex((e) => e.code);
				assert.equal(error.context?.itemIndex, first, context);
				assert.ok(error.message.length > 0 && !error.message.includes(SECRET));
				if (invalid >= 0) {
					assert.ok(error instanceof workflow.NodeOperationError, context);
					assert.equal(scans().length, 0, `${context}: nothing sent`);
				}
				continue;
			}
			assert.ok(continueOnFail || expected.every((e) => !e.code), `${context}: no error thrown`);
			assert.equal(out.length, items.length, context);
			out.forEach((item, i) => {
				const want = expected[i];
				assert.deepEqual(item.pairedItem, { item: i }, context);
				if (want.code) {
					assert.equal(item.json.code, want.code, `${context}: item ${i}`);
					assert.equal(item.binary, undefined);
					if (want.status) assert.match(item.json.error, new RegExp(`is ${want.status},`));
					return;
				}
				assert.equal(item.json.id, want.id, context);
				assert.deepEqual(Object.keys(item.binary), [want.field], context);
				assert.equal(readQrPng(png(item, want.field)), t.sim.qrCode(want.id).qr, context);
				assert.equal(item.json.qr, t.sim.qrCode(want.id).qr, context);
			});
		}
	});

	test('the API key is in no output or error', () => {
		assert.ok(assertNoSecret(produced, SECRET) > 0);
	});
});
