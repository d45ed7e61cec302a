// Version 2 of the node, as the built package runs it: the WhatsApp Number picked From List, By
// ID or By Phone (a resource locator), the WhatsApp Number resource (Get, Get Many), the
// list's search, and listing a large account with its pages read concurrently.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { DEMO_DEVICES, generatedDevice } from '../../support/simulator/sparkbot-simulator.mjs';
import {
	NodeOperationError,
	assertNoSecret,
	loadOptionsContext,
	locator,
	params,
	dist,
	root,
	suite,
} from './harness.mjs';

const SECRET = 'sk-live-v2-9d3e-DO-NOT-LEAK';
const EXTRA = 1_006; // with the six demo numbers: 1,012, eleven pages of 100
const t = suite({ apiKey: SECRET, devices: EXTRA, resetEach: true });
const { run, thrownBy, produced } = t;

const [sales, support, , , onboarding, billing] = DEMO_DEVICES;
const number = (n) => generatedDevice(n);
const posts = () => t.sim.requests.filter((r) => r.method === 'POST');
const pages = () => t.sim.requests.filter((r) => r.method === 'GET' && r.path === '/v1/devices');

function reads(operation, extra = {}) {
	return { resource: 'whatsappNumber', operation, ...extra };
}

describe('the description', () => {
	test('version 1 and 2, 2 for new nodes; every parameter the shim reads', async () => {
		const generated = JSON.parse(
			readFileSync(join(root, 'node-descriptor/SparkBot.description.json'), 'utf8'),
		);
		assert.deepEqual(t.node.description.version, [1, 2]);
		assert.equal(t.node.description.defaultVersion, 2);
		const shim = await import(join(dist, 'dist/nodes/SparkBot/SparkBot.node.js'));
		const names = new Set(
			generated.properties.filter((p) => p.type !== 'notice').map((p) => p.name),
		);
		assert.deepEqual(new Set(shim.ITEM_PARAMETERS), names, 'the shim reads every parameter');
		assert.equal(typeof t.node.methods.listSearch.getDevices, 'function');
		assert.equal(typeof t.node.methods.loadOptions.getDevices, 'function');
	});
});

describe('WhatsApp Number, version 2', () => {
	test('From List, By ID and By Phone reach the same number; expressions too', async () => {
		const items = [
			params('reboot', locator('list', sales.id)),
			params('reboot', locator('id', ` ${support.id} `), { forceReboot: true }),
			params('reboot', locator('phone', number(700).phone)),
			params('reboot', locator('phone', ` ${number(3).phone}`)),
		];
		const [out] = await run(items);
		assert.deepEqual(
			out.map((o) => o.json.id),
			[sales.id, support.id, number(700).id, number(3).id],
		);
		out.forEach((o, i) => assert.deepEqual(o.pairedItem, { item: i }));
		assert.equal(pages().length, 11, 'one listing of the account for both phone items');
	});

	test('a phone no number of the account has: its own error, nothing sent for it', async () => {
		const [out] = await run(
			[
				params('reboot', locator('phone', '+19995550000')),
				params('reboot', locator('id', sales.id)),
			],
			{ continueOnFail: true },
		);
		assert.equal(out[0].json.code, 'SPARKBOT_PHONE_NOT_FOUND');
		assert.equal(
			out[0].json.error,
			'WhatsApp Number: no number of this SparkBot account has the phone +19995550000',
		);
		assert.deepEqual(
			posts().map((r) => r.path),
			[`/v1/devices/${sales.id}/reboot`],
		);
	});

	test('without continue-on-fail an unknown phone fails the run before anything is sent', async () => {
		const error = await thrownBy([
			params('reboot', locator('id', sales.id)),
			params('reboot', locator('phone', '+19995550000')),
		]);
		assert.ok(error instanceof NodeOperationError);
		assert.equal(error.context.itemIndex, 1);
		assert.equal(posts().length, 0);
	});

	test('By Phone with the usual separators: +1 (202) 555-0700, +1-202-555-0003, +1.202…', async () => {
		const spaced = (phone, [a, b, c]) =>
			phone.replace(/^\+(\d)(\d{3})(\d{3})(\d+)$/, `+$1${a}$2${b}$3${c}$4`);
		const items = [
			params('reboot', locator('phone', spaced(number(700).phone, [' (', ') ', '-']))),
			params('reboot', locator('phone', spaced(number(3).phone, ['-', '-', '-']))),
			params('reboot', locator('phone', spaced(number(4).phone, ['.', '.', '.']))),
		];
		assert.match(items[0].device.value, /^\+1 \(\d{3}\) \d{3}-\d+$/);
		const [out] = await run(items);
		assert.deepEqual(
			out.map((o) => o.json.id),
			[number(700).id, number(3).id, number(4).id],
		);
	});

	for (const [value, message] of [
		[
			'14155550100',
			/"14155550100" is not a phone number in international format: .* — add \+ and the country code$/,
		],
		['+1 415 55', /is not a phone number in international format/],
		['', /^WhatsApp Number: is empty; give a phone number/],
		[
			sales.id,
			/^WhatsApp Number: "[0-9a-f]{24}" is a device ID, not a phone number; switch the WhatsApp Number to By ID$/,
		],
	]) {
		test(`By Phone ${JSON.stringify(value)}: refused before any request`, async () => {
			const error = await thrownBy([params('reboot', locator('phone', value))]);
			assert.match(error.message, message);
			assert.equal(t.sim.requests.length, 0);
		});
	}

	test('By ID with a phone number says to use By Phone', async () => {
		const error = await thrownBy([params('reboot', locator('id', sales.phone))]);
		assert.match(
			error.message,
			/looks like a phone number, not a device ID; pick the number in the Phone mode/,
		);
	});

	test('numbers and true/false given as text, as webhooks and sheets give them, read as n8n reads them', async () => {
		const [out] = await run([
			params('reboot', locator('id', sales.id), {
				forceReboot: 'true',
				waitForSession: 'FALSE',
				forceSync: '1',
				timeout: '30',
				includeAttempts: 'true',
			}),
			reads('getAll', { limit: '3' }),
		]);
		assert.equal(out[0].json.attempts, 1);
		assert.deepEqual(posts()[0].body, { force: true, sync: true, wait: false });
		assert.equal(out.length, 1 + 3, 'Get Many with Limit "3": three numbers');
		const error = await thrownBy([reads('getAll', { limit: null })]);
		assert.equal(
			error.message,
			'Limit: the expression gave no value (null); give a whole number of at least 1, or turn on Return All',
		);
		const refused = await thrownBy([
			params('reboot', locator('id', sales.id), { forceReboot: 'yes' }),
		]);
		assert.equal(refused.message, 'Force Reboot: must be true or false, got "yes"');
	});
});

describe('resource WhatsApp Number', () => {
	test('Get: the device as SparkBot sends it, by ID or phone; an unknown one is 404', async () => {
		const [out] = await run(
			[
				reads('get', { device: locator('id', sales.id) }),
				reads('get', { device: locator('phone', billing.phone) }),
				reads('get', { device: locator('id', 'ffffffffffffffffffffffff') }),
			],
			{ continueOnFail: true },
		);
		const { forbidden, queuedMessages, ...wire } = structuredClone(sales);
		assert.deepEqual(out[0].json, wire, 'unknown fields included (plan), nothing added');
		assert.equal(out[1].json.id, billing.id);
		assert.equal(out[2].json.code, 'SPARKBOT_DEVICE_NOT_FOUND');
		assert.equal(posts().length, 0, 'reads only');
	});

	test('Get Many: Limit 50 by default, one page request', async () => {
		const [out] = await run([reads('getAll')]);
		assert.equal(out.length, 50);
		assert.deepEqual(
			out.map((o) => o.json.id),
			[...t.sim.devices.keys()].slice(0, 50),
			"the service's order",
		);
		out.forEach((o) => assert.deepEqual(o.pairedItem, { item: 0 }));
		assert.deepEqual(
			pages().map((r) => r.query),
			[{ page: '0', size: '50' }],
		);
	});

	test('Get Many with Return All: every number, ceil(n / 100) page requests', async () => {
		const [out] = await run([reads('getAll', { returnAll: true })]);
		assert.equal(out.length, DEMO_DEVICES.length + EXTRA);
		assert.equal(new Set(out.map((o) => o.json.id)).size, out.length);
		assert.equal(pages().length, 11);
	});

	test('Get Many with filters: number status and session status, and a limit', async () => {
		t.sim.setSessionStatus(number(10).id, 'offline');
		t.sim.setSessionStatus(number(500).id, 'offline');
		const [out] = await run([
			reads('getAll', {
				returnAll: true,
				filters: { sessionStatus: ['offline'], status: ['operative'] },
			}),
			reads('getAll', { limit: 1, filters: { sessionStatus: ['offline'] } }),
		]);
		const [first, second] = [
			out.filter((o) => o.pairedItem.item === 0),
			out.filter((o) => o.pairedItem.item === 1),
		];
		assert.deepEqual(
			first.map((o) => o.json.id),
			[support.id, number(10).id, number(500).id],
		);
		assert.deepEqual(
			second.map((o) => o.json.id),
			[support.id],
		);
		assert.ok(!first.some((o) => o.json.id === billing.id), 'disabled Billing is filtered out');
	});

	test('a filter value that is not a status: a clear error naming it', async () => {
		const error = await thrownBy([reads('getAll', { filters: { sessionStatus: ['asleep'] } })]);
		assert.match(error.message, /^Session Status: "asleep" is not one of online, offline/);
		assert.equal(t.sim.requests.length, 0);
	});
});

describe('the list: search and pages', () => {
	const search = (filter, token) =>
		t.node.methods.listSearch.getDevices.call(
			loadOptionsContext({ credentials: t.credentials }),
			filter,
			token,
		);

	test('without a filter: one page request, labelled, with a token for the next page', async () => {
		const first = await search();
		produced.push(first);
		assert.equal(first.results.length, 100);
		assert.equal(first.paginationToken, '1');
		assert.equal(first.results[0].name, `${sales.alias} (${sales.phone})`);
		assert.equal(first.results[0].value, sales.id);
		assert.match(first.results[0].description, /^Session: online/);
		assert.equal(pages().length, 1);
		const last = await search('', '10');
		assert.equal(last.results.length, 12);
		assert.equal(last.paginationToken, undefined);
	});

	test('with a filter: alias, phone (digits only too; the start of it after a +) and ID, case-insensitively', async () => {
		for (const [filter, expected] of [
			// +34 is Spain's code: the one Spanish number, not the phones with 34 inside them.
			['+34', DEMO_DEVICES.filter((d) => d.phone?.startsWith('+34')).map((d) => d.id)],
			['+1 202 555 0998', [number(998).id]],
			['sales', [sales.id]],
			['ONBOARD', [onboarding.id]],
			[number(998).phone.slice(-7), [number(998).id]],
			[number(998).id.slice(-10).toUpperCase(), [number(998).id]],
			['(202) 555-0998', [number(998).id]],
		]) {
			const found = await search(filter);
			assert.deepEqual(
				found.results.map((r) => r.value),
				expected,
				filter,
			);
		}
	});

	test('version 1 dropdown: every number, 11 page requests, pages after the first together', async () => {
		const options = await t.node.methods.loadOptions.getDevices.call(
			loadOptionsContext({ credentials: t.credentials }),
		);
		assert.equal(options.length, DEMO_DEVICES.length + EXTRA);
		assert.equal(pages().length, 11);
		const names = options.map((o) => o.name);
		assert.ok(
			names.indexOf('Number 009 (+12025550009)') < names.indexOf('Number 010 (+12025550010)'),
		);
	});
});

test('no output or error of this suite holds the API key', () => {
	assertNoSecret(produced, SECRET);
});
