// Tests of the simulator itself, over real HTTP with the global fetch. Run: node --test tests/simulator/

import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
	startSimulator,
	DEMO_DEVICES,
	DEFAULT_API_KEY,
	FAULT_KINDS,
	generatedDevice,
} from '../../support/simulator/sparkbot-simulator.mjs';
import { pngSize, readQrPng } from './qr.mjs';

const SALES = DEMO_DEVICES.find((d) => d.alias === 'Sales').id; // online
const SUPPORT = DEMO_DEVICES.find((d) => d.alias === 'Support').id; // offline = stopped
const BILLING = DEMO_DEVICES.find((d) => d.forbidden).id;
const SCANNABLE = DEMO_DEVICES.find((d) => d.session.status === 'authorize').id;
const UNKNOWN = '0123456789abcdef01234567';

/** Resolves once `predicate()` holds; polls without a fixed sleep so slow machines don't flake. */
async function until(predicate) {
	while (!predicate()) await new Promise((resolve) => setImmediate(resolve));
}

/** A small client: JSON by default, the right key unless told otherwise; `null` leaves a header out. */
function api(
	sim,
	path,
	{ method = 'GET', token = sim.apiKey, body, contentType = 'application/json', signal } = {},
) {
	const headers = { Accept: 'application/json' };
	if (token !== null) headers.Token = token;
	if (body !== undefined && contentType !== null) headers['Content-Type'] = contentType;
	// Bytes, not a string: fetch would otherwise add its own text/plain Content-Type.
	const payload =
		body === undefined
			? undefined
			: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
	return fetch(`${sim.baseUrl}${path}`, { method, headers, body: payload, signal });
}

const post = (sim, path, body, options = {}) =>
	api(sim, path, { method: 'POST', body, ...options });

async function expectError(responsePromise, status, error) {
	const response = await responsePromise;
	assert.equal(response.status, status);
	assert.match(response.headers.get('content-type'), /^application\/json/);
	const body = await response.json();
	assert.deepEqual(Object.keys(body).sort(), ['error', 'message', 'status']);
	assert.equal(body.status, status);
	assert.equal(body.error, error);
	assert.equal(typeof body.message, 'string');
	return { response, body };
}

describe('sparkbot simulator', () => {
	let sim;
	before(async () => {
		sim = await startSimulator({ devices: 44, timeScale: 0.001 });
	});
	after(() => sim.close());
	beforeEach(() => sim.reset());

	describe('GET /devices', () => {
		it('lists the first page by default, in seed order, with X-Total-Count', async () => {
			const response = await api(sim, '/devices');
			assert.equal(response.status, 200);
			assert.equal(response.headers.get('x-total-count'), '50');
			const devices = await response.json();
			assert.equal(devices.length, 20);
			assert.deepEqual(
				devices.slice(0, 6).map((d) => d.id),
				DEMO_DEVICES.map((d) => d.id),
			);
			assert.equal(devices[6].id, generatedDevice(1).id);
			assert.equal(devices[6].alias, 'Number 001');
		});

		it('serializes the contract fields and unknown extras, never internal state', async () => {
			const devices = await (await api(sim, '/devices?size=6')).json();
			const byAlias = (alias) => devices.find((d) => d.alias === alias);
			assert.deepEqual(byAlias('Sales').plan, { tier: 'pro', limits: { daily: 1000 } });
			assert.deepEqual(byAlias('Support').tags, ['support', 'emea']);
			assert.ok(devices.some((d) => d.alias === null) && devices.some((d) => d.alias === ''));
			assert.equal(byAlias('Onboarding').phone, null);
			assert.equal(byAlias('Billing').status, 'disabled');
			for (const device of devices) {
				assert.ok(!('forbidden' in device) && !('queuedMessages' in device));
				assert.ok(device.phone === null || /^\+[1-9]\d{6,14}$/.test(device.phone));
			}
		});

		it('pages through every device; an exact multiple ends with an empty page', async () => {
			const seen = [];
			for (let page = 0; ; page += 1) {
				const batch = await (await api(sim, `/devices?page=${page}&size=10`)).json();
				seen.push(...batch);
				if (batch.length < 10) {
					assert.equal(page, 5);
					assert.equal(batch.length, 0);
					break;
				}
			}
			assert.deepEqual(
				seen.map((d) => d.id),
				[...sim.devices.keys()],
			);
			const last = await (await api(sim, '/devices?page=2&size=20')).json();
			assert.equal(last.length, 10);
		});

		for (const query of [
			'size=0',
			'size=101',
			'size=abc',
			'size=1.5',
			'size=',
			'page=-1',
			'page=x',
			'page=1&page=2',
		]) {
			it(`answers 400 invalid_request for ${query}`, () =>
				expectError(api(sim, `/devices?${query}`), 400, 'invalid_request'));
		}
	});

	describe('auth and routing', () => {
		for (const [label, token] of [
			['missing', null],
			['empty', ''],
			['wrong', 'nope'],
		]) {
			it(`answers 401 for a ${label} key without echoing it`, async () => {
				const { body } = await expectError(api(sim, '/devices', { token }), 401, 'unauthorized');
				if (token) assert.ok(!body.message.includes(token));
			});
		}

		it('checks auth before routing and validation on /v1', async () => {
			await expectError(api(sim, '/nowhere', { token: 'nope' }), 401, 'unauthorized');
			await expectError(
				post(sim, `/devices/${SALES}/reboot`, '[', { token: 'nope' }),
				401,
				'unauthorized',
			);
		});

		for (const path of [
			'//v1/devices',
			'/v1//devices',
			'/v1/devices/',
			`/v1/devices/${SALES}/reboot/now`,
			'/v2/devices',
			'/v1',
		]) {
			it(`answers 404 not_found for ${path}`, async () => {
				const response = await fetch(`${sim.origin}${path}`, { headers: { Token: sim.apiKey } });
				assert.equal(response.status, 404);
				assert.equal((await response.json()).error, 'not_found');
			});
		}

		it('answers 405 with Allow for a wrong method', async () => {
			const { response } = await expectError(
				api(sim, '/devices', { method: 'DELETE' }),
				405,
				'method_not_allowed',
			);
			assert.equal(response.headers.get('allow'), 'GET');
			await expectError(api(sim, `/devices/${SALES}/reboot`), 405, 'method_not_allowed');
		});
	});

	describe('GET /devices/{id}', () => {
		it('returns one device', async () => {
			const response = await api(sim, `/devices/${SALES}`);
			assert.equal(response.status, 200);
			const device = await response.json();
			assert.equal(device.alias, 'Sales');
			assert.equal(device.session.status, 'online');
		});

		it('answers 404 device_not_found for an unknown id', async () => {
			const { body } = await expectError(api(sim, `/devices/${UNKNOWN}`), 404, 'device_not_found');
			assert.equal(body.message, `Device ${UNKNOWN} not found`);
		});

		it('answers 404 for a malformed id without echoing control characters', async () => {
			const { body } = await expectError(
				api(sim, '/devices/ab%0A%1B%3Cx'),
				404,
				'device_not_found',
			);
			assert.equal(body.message, 'Device ab???x not found');
		});
	});

	describe('GET /devices/{id}/scan', () => {
		it('answers a real, scannable PNG of qr while the session is authorize', async () => {
			const response = await api(sim, `/devices/${SCANNABLE}/scan`);
			assert.equal(response.status, 200);
			const body = await response.json();
			assert.deepEqual(Object.keys(body), ['id', 'qr', 'image', 'expiresAt', 'session']);
			assert.equal(body.id, SCANNABLE);
			assert.match(body.qr, /^2@[A-Za-z0-9+/=]+(,[A-Za-z0-9+/=]+){3}$/);
			assert.match(body.expiresAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
			assert.equal(body.session.status, 'authorize');
			const [, base64] = body.image.match(/^data:image\/png;base64,(.+)$/);
			const png = Buffer.from(base64, 'base64');
			assert.equal(readQrPng(png), body.qr, 'the PNG decodes to qr');
			const { width, height } = pngSize(png);
			assert.ok(width >= 256 && height >= 256);
			assert.deepEqual(sim.qrCode(SCANNABLE).qr, body.qr);
		});

		it('keeps a code until it expires, then draws a new one', async () => {
			const first = await (await api(sim, `/devices/${SCANNABLE}/scan`)).json();
			const again = await (await api(sim, `/devices/${SCANNABLE}/scan`)).json();
			assert.equal(again.qr, first.qr);
			sim.expireQrCode(SCANNABLE);
			const renewed = await (await api(sim, `/devices/${SCANNABLE}/scan`)).json();
			assert.notEqual(renewed.qr, first.qr);
			assert.equal(readQrPng(Buffer.from(renewed.image.split(',')[1], 'base64')), renewed.qr);
		});

		it('409 scan_not_needed in any other status, naming it; 404 and 403 as elsewhere', async () => {
			const { body } = await expectError(
				api(sim, `/devices/${SALES}/scan`),
				409,
				'scan_not_needed',
			);
			assert.match(body.message, /is online, not waiting for a QR scan/);
			await expectError(api(sim, `/devices/${UNKNOWN}/scan`), 404, 'device_not_found');
			await expectError(api(sim, `/devices/${BILLING}/scan`), 403, 'forbidden');
			sim.setSessionStatus(SALES, 'authorize');
			assert.equal((await api(sim, `/devices/${SALES}/scan`)).status, 200);
		});
	});

	describe('chat stand-in (/__sim/telegram)', () => {
		it('keeps a photo sent as multipart and a message sent as JSON', async () => {
			const form = new FormData();
			form.append('chat_id', '4242');
			form.append('caption', 'Scan me');
			form.append('photo', new Blob([Buffer.from('PNGBYTES')], { type: 'image/png' }), 'a-qr.png');
			const photo = await fetch(`${sim.telegramBaseUrl}/botTOKEN/sendPhoto`, {
				method: 'POST',
				body: form,
			});
			assert.equal(photo.status, 200);
			assert.equal((await photo.json()).ok, true);
			const message = await fetch(`${sim.telegramBaseUrl}/botTOKEN/sendMessage`, {
				method: 'POST',
				headers: { 'Content-Type': 'application/json' },
				body: JSON.stringify({ chat_id: 4242, text: 'hello' }),
			});
			assert.equal(message.status, 200);
			assert.equal(sim.chat.length, 2);
			assert.deepEqual(
				{ ...sim.chat[0], at: 0, photo: sim.chat[0].photo.toString() },
				{
					method: 'sendPhoto',
					chatId: '4242',
					text: undefined,
					caption: 'Scan me',
					fileName: 'a-qr.png',
					contentType: 'image/png',
					photo: 'PNGBYTES',
					at: 0,
				},
			);
			assert.equal(sim.chat[1].text, 'hello');
			assert.equal(sim.chat[1].chatId, '4242');
			const listed = await (await fetch(`${sim.origin}/__sim/chat`)).json();
			assert.equal(Buffer.from(listed[0].photo, 'base64').toString(), 'PNGBYTES');
			sim.reset();
			assert.equal(sim.chat.length, 0);
		});
	});

	describe('POST bodies', () => {
		const cases = [
			['no Content-Type', '{}', null],
			['text/plain', '{}', 'text/plain'],
			['an empty body', '', 'application/json'],
			['invalid JSON', '{"force":', 'application/json'],
			['an array', '[]', 'application/json'],
			['null', 'null', 'application/json'],
			['a number', '1', 'application/json'],
			['an unknown field', '{"force":true,"hard":true}', 'application/json'],
			['a reset field on reboot', '{"emptyQueue":true}', 'application/json'],
			['a non-boolean', '{"wait":"true"}', 'application/json'],
		];
		for (const [label, body, contentType] of cases) {
			it(`answers 400 invalid_request for ${label}`, () =>
				expectError(
					post(sim, `/devices/${SALES}/reboot`, body, { contentType }),
					400,
					'invalid_request',
				));
		}

		it('names the offending field', async () => {
			const unknown = await expectError(
				post(sim, `/devices/${SALES}/reset`, { force: true }),
				400,
				'invalid_request',
			);
			assert.match(unknown.body.message, /"force"/);
			const typed = await expectError(
				post(sim, `/devices/${SALES}/reset`, { wait: 1 }),
				400,
				'invalid_request',
			);
			assert.match(typed.body.message, /"wait"/);
		});

		it('accepts a charset parameter on the media type', async () => {
			const response = await post(
				sim,
				`/devices/${SALES}/reboot`,
				{},
				{ contentType: 'application/json; charset=utf-8' },
			);
			assert.equal(response.status, 200);
		});
	});

	describe('reboot', () => {
		it('starts a reboot and answers the contract body plus extras', async () => {
			const response = await post(sim, `/devices/${SALES}/reboot`, { sync: true });
			assert.equal(response.status, 200);
			const body = await response.json();
			assert.deepEqual(Object.keys(body), [
				'id',
				'operation',
				'status',
				'waited',
				'synced',
				'session',
				'message',
				'requestId',
				'meta',
			]);
			assert.equal(body.id, SALES);
			assert.equal(body.operation, 'reboot');
			assert.equal(body.status, 'rebooting');
			assert.equal(body.session.status, 'rebooting');
			assert.equal(body.waited, false);
			assert.equal(body.synced, true);
			assert.equal(body.message, 'Session reboot started');
			assert.deepEqual(body.meta, { region: 'sim', simulated: true });
			assert.notEqual(body.session.updatedAt, '2026-11-21T10:15:00Z');
			// settleMs 0: the session is online again straight away.
			assert.equal((await (await api(sim, `/devices/${SALES}`)).json()).session.status, 'online');
		});

		it('refuses a stopped session without force, naming force', async () => {
			const { body } = await expectError(
				post(sim, `/devices/${SUPPORT}/reboot`, {}),
				409,
				'session_stopped',
			);
			assert.match(body.message, /stopped/);
			assert.match(body.message, /force/);
			const forced = await post(sim, `/devices/${SUPPORT}/reboot`, { force: true });
			assert.equal(forced.status, 200);
			assert.equal((await forced.json()).synced, false);
		});

		it('answers 403 forbidden for the forbidden device, yet still lists it', async () => {
			await expectError(post(sim, `/devices/${BILLING}/reboot`, { force: true }), 403, 'forbidden');
			await expectError(post(sim, `/devices/${BILLING}/reset`, {}), 403, 'forbidden');
			assert.equal((await api(sim, `/devices/${BILLING}`)).status, 200);
		});

		it('answers 404 for an unknown device', () =>
			expectError(post(sim, `/devices/${UNKNOWN}/reboot`, {}), 404, 'device_not_found'));
	});

	describe('reset', () => {
		it('reports and empties the queue only when asked', async () => {
			const kept = await (
				await post(sim, `/devices/${SUPPORT}/reset`, { deleteAllData: true })
			).json();
			assert.deepEqual(Object.keys(kept), [
				'id',
				'operation',
				'status',
				'waited',
				'deletedData',
				'deletedQueuedMessages',
				'session',
				'message',
				'requestId',
				'meta',
			]);
			assert.equal(kept.operation, 'reset');
			assert.equal(kept.status, 'resetting');
			assert.equal(kept.deletedData, true);
			assert.equal(kept.deletedQueuedMessages, 0);
			const emptied = await (
				await post(sim, `/devices/${SUPPORT}/reset`, { emptyQueue: true })
			).json();
			assert.equal(emptied.deletedData, false);
			assert.equal(emptied.deletedQueuedMessages, 12);
			const again = await (
				await post(sim, `/devices/${SUPPORT}/reset`, { emptyQueue: true })
			).json();
			assert.equal(again.deletedQueuedMessages, 0);
		});
	});

	describe('wait', () => {
		it('holds the answer for the ready time, and the device is busy meanwhile', async () => {
			const started = Date.now();
			const held = post(sim, `/devices/${SALES}/reboot`, { wait: true });
			await until(() => sim.devices.get(SALES).session.status === 'rebooting');
			await expectError(post(sim, `/devices/${SALES}/reset`, {}), 409, 'session_busy');
			const response = await held;
			assert.ok(Date.now() - started >= 45, 'held for waitMs (50)');
			assert.equal(response.status, 200);
			const body = await response.json();
			assert.equal(body.status, 'online');
			assert.equal(body.waited, true);
			assert.equal(body.session.status, 'online');
			assert.equal((await post(sim, `/devices/${SALES}/reboot`, {})).status, 200, 'free again');
		});

		it('answers 504 session_timeout after the (scaled) window when the device is not ready in time', async () => {
			sim.setDeviceReadyMs(SALES, 60_000);
			const started = Date.now();
			await expectError(
				post(sim, `/devices/${SALES}/reboot`, { wait: true }),
				504,
				'session_timeout',
			);
			const elapsed = Date.now() - started;
			assert.ok(elapsed >= 85 && elapsed < 1000, `held ${elapsed} ms for a 90 ms window`);
			assert.equal(sim.devices.get(SALES).session.status, 'timeout');
			// The reset window is longer: 120 ms here.
			const resetStarted = Date.now();
			await expectError(
				post(sim, `/devices/${SALES}/reset`, { wait: true }),
				504,
				'session_timeout',
			);
			assert.ok(Date.now() - resetStarted >= 115);
		});
	});

	describe('faults', () => {
		const exercised = new Set();
		const fault = (spec) => {
			const added = sim.setFault(spec);
			exercised.add(added.fault);
			return added;
		};
		const list = (options) => api(sim, '/devices', options);

		it('hang: never answers until the client gives up', async () => {
			fault({ route: 'list', fault: 'hang' });
			await assert.rejects(list({ signal: AbortSignal.timeout(100) }), { name: 'TimeoutError' });
			await new Promise((resolve) => setTimeout(resolve, 50));
			assert.ok(
				sim.requests.at(-1).abortedAt >= sim.requests.at(-1).at + 90,
				'the log says the client gave up',
			);
		});

		it('drop: closes the connection without an answer, even before auth', async () => {
			fault({ fault: 'drop', times: 1 });
			await assert.rejects(list({ token: 'nope' }), TypeError);
			assert.equal((await list()).status, 200, 'times: 1 is used up');
		});

		it('html502: an nginx HTML page', async () => {
			fault({ fault: 'html502' });
			const response = await list();
			assert.equal(response.status, 502);
			assert.match(response.headers.get('content-type'), /^text\/html/);
			assert.match(await response.text(), /<h1>502 Bad Gateway<\/h1>/);
		});

		for (const [kind, status] of [
			['empty500', 500],
			['empty503', 503],
		]) {
			it(`${kind}: an empty body`, async () => {
				fault({ fault: kind, retryAfter: 2 });
				const response = await list();
				assert.equal(response.status, status);
				assert.equal(response.headers.get('content-length'), '0');
				assert.equal(await response.text(), '');
				assert.equal(response.headers.get('retry-after'), kind === 'empty503' ? '2' : null);
			});
		}

		for (const chunked of [false, true]) {
			it(`oversized${chunked ? ' (chunked)' : ''}: a 200 JSON body of the asked size`, async () => {
				fault({ route: 'get', fault: 'oversized', bytes: 100_000, chunked });
				const response = await api(sim, `/devices/${SALES}`);
				assert.equal(response.status, 200);
				assert.equal(response.headers.get('content-length'), chunked ? null : '100000');
				const body = await response.json();
				assert.equal(body.padding.length, 100_000 - '{"padding":""}'.length);
			});
		}

		it('invalidUtf8: the device JSON with bytes that are not UTF-8 in a string', async () => {
			fault({ route: 'get', fault: 'invalidUtf8' });
			const bytes = Buffer.from(await (await api(sim, `/devices/${SALES}`)).arrayBuffer());
			assert.ok(bytes.includes(Buffer.from([0xff, 0xc3])));
			assert.equal(JSON.parse(bytes.toString('utf8')).id, SALES);
		});

		it('deepJson: arrays nested as deep as asked', async () => {
			fault({ route: 'get', fault: 'deepJson', depth: 3 });
			assert.deepEqual(await (await api(sim, `/devices/${SALES}`)).json(), { deep: [[[]]] });
		});

		it('truncated: half the announced JSON, then the socket closes', async () => {
			fault({ route: 'get', fault: 'truncated' });
			const response = await api(sim, `/devices/${SALES}`);
			assert.equal(response.status, 200);
			assert.match(response.headers.get('content-type'), /^application\/json/);
			await assert.rejects(response.text());
		});

		it('rateLimit: 429 with Retry-After (default 1)', async () => {
			fault({ fault: 'rateLimit', times: 1 });
			fault({ fault: 'rateLimit', retryAfter: 7, times: 1 });
			const first = await expectError(list(), 429, 'rate_limited');
			assert.equal(first.response.headers.get('retry-after'), '1');
			const second = await expectError(list(), 429, 'rate_limited');
			assert.equal(second.response.headers.get('retry-after'), '7');
		});

		it('internal and unavailable: JSON 500 and 503', async () => {
			fault({ fault: 'internal', times: 1 });
			fault({ fault: 'unavailable', retryAfter: 3, times: 1 });
			await expectError(list(), 500, 'internal_error');
			const { response } = await expectError(list(), 503, 'unavailable');
			assert.equal(response.headers.get('retry-after'), '3');
		});

		it('notJson200, array200, null200: odd 200 bodies', async () => {
			fault({ fault: 'notJson200', times: 1 });
			fault({ fault: 'array200', times: 1 });
			fault({ fault: 'null200', times: 1 });
			const text = await list();
			assert.equal(text.status, 200);
			await assert.rejects(text.json(), SyntaxError);
			assert.deepEqual(await (await list()).json(), []);
			assert.equal(await (await list()).json(), null);
		});

		for (const [kind, status, error] of [
			['busy', 409, 'session_busy'],
			['stopped', 409, 'session_stopped'],
			['forbidden', 403, 'forbidden'],
			['sessionTimeout', 504, 'session_timeout'],
			['badRequest', 400, 'invalid_request'],
		]) {
			it(`${kind}: ${status} ${error} at once`, async () => {
				fault({ route: 'reboot', deviceId: SALES, fault: kind });
				await expectError(post(sim, `/devices/${SALES}/reboot`, { wait: true }), status, error);
				assert.deepEqual(
					sim.devices.get(SALES).session,
					DEMO_DEVICES[0].session,
					'answered without a reboot',
				);
				assert.equal(
					(await post(sim, `/devices/${SUPPORT}/reboot`, { force: true })).status,
					200,
					'other devices unaffected',
				);
			});
		}

		it('qrNoImage, qrNotPng, qrNotBase64: a /scan answer with a broken image', async () => {
			fault({ route: 'scan', fault: 'qrNoImage', times: 1 });
			fault({ route: 'scan', fault: 'qrNotPng', times: 1 });
			fault({ route: 'scan', fault: 'qrNotBase64', times: 1 });
			const scan = async () => (await api(sim, `/devices/${SCANNABLE}/scan`)).json();
			const noImage = await scan();
			assert.equal(noImage.image, undefined);
			assert.equal(typeof noImage.qr, 'string');
			assert.match((await scan()).image, /^data:image\/png;base64,R0lGOD/, 'a GIF called PNG');
			assert.match((await scan()).image, /^data:image\/png,iVBOR/, 'no ;base64');
			assert.match((await scan()).image, /^data:image\/png;base64,iVBOR/, 'then a good one');
		});

		it('delay: answers normally after delayMs', async () => {
			fault({ route: 'get', fault: 'delay', delayMs: 60 });
			const started = Date.now();
			const response = await api(sim, `/devices/${SALES}`);
			assert.equal(response.status, 200);
			assert.ok(Date.now() - started >= 55);
		});

		it('status: any error status with the contract body shape', async () => {
			fault({ fault: 'status', status: 418, times: 1 });
			fault({ fault: 'status', status: 503, retryAfter: 4, times: 1 });
			await expectError(list(), 418, 'simulated_error');
			const { response } = await expectError(list(), 503, 'unavailable');
			assert.equal(response.headers.get('retry-after'), '4');
		});

		it('applies after auth, matches route and device, counts down times', async () => {
			fault({ route: 'get', deviceId: SUPPORT, fault: 'internal', times: 2 });
			await expectError(api(sim, `/devices/${SUPPORT}`, { token: 'nope' }), 401, 'unauthorized');
			assert.equal(sim.faults[0].times, 2, 'a 401 does not use up the fault');
			assert.equal((await api(sim, `/devices/${SALES}`)).status, 200);
			assert.equal((await list()).status, 200);
			await expectError(api(sim, `/devices/${SUPPORT}`), 500, 'internal_error');
			await expectError(api(sim, `/devices/${SUPPORT}`), 500, 'internal_error');
			assert.equal((await api(sim, `/devices/${SUPPORT}`)).status, 200);
			assert.equal(sim.faults.length, 0);
		});

		it('the first matching active fault wins', async () => {
			fault({ route: 'list', fault: 'internal', times: 1 });
			fault({ route: '*', fault: 'badRequest' });
			await expectError(list(), 500, 'internal_error');
			await expectError(list(), 400, 'invalid_request');
			sim.clearFaults();
			assert.equal((await list()).status, 200);
		});

		it('rejects an invalid fault spec', () => {
			assert.throws(() => fault({ fault: 'explode' }), TypeError);
			assert.throws(() => fault({ fault: 'status' }), RangeError);
			assert.throws(() => fault({ fault: 'internal', route: 'delete' }), TypeError);
			assert.throws(() => fault({ fault: 'internal', time: 1 }), /unknown fault spec field "time"/);
		});

		it('exercised every fault kind above', () => {
			assert.deepEqual([...exercised].sort(), [...FAULT_KINDS].sort());
		});
	});

	describe('request log', () => {
		it('records method, path, query, headers and body, never the token', async () => {
			await api(sim, '/devices?page=1&size=5');
			await post(sim, `/devices/${SALES}/reboot`, { force: true }, { token: 'wrong-key' });
			await api(sim, '/devices', { token: null });
			const [list, reboot, anonymous] = sim.requests;
			assert.equal(list.method, 'GET');
			assert.equal(list.path, '/v1/devices');
			assert.deepEqual(list.query, { page: '1', size: '5' });
			assert.equal(list.headers.accept, 'application/json');
			assert.equal(list.headers.token, '<redacted:ok>');
			assert.ok(!('body' in list));
			assert.equal(typeof list.at, 'number');
			assert.equal(reboot.headers.token, '<redacted:wrong>');
			assert.equal(reboot.headers['content-type'], 'application/json');
			assert.deepEqual(reboot.body, { force: true });
			assert.ok(!('token' in anonymous.headers));
			const logged = JSON.stringify(sim.requests);
			assert.ok(!logged.includes(DEFAULT_API_KEY) && !logged.includes('wrong-key'));
			sim.clearRequests();
			assert.equal(sim.requests.length, 0);
		});

		it('scrubs the key wherever a client leaks it', async () => {
			await api(sim, `/devices?key=${sim.apiKey}`);
			assert.equal(sim.requests[0].query.key, '***');
		});
	});

	describe('control endpoints', () => {
		const control = (path, method = 'GET', body) =>
			fetch(`${sim.origin}/__sim${path}`, { method, body: body && JSON.stringify(body) });

		it('health, faults, requests, reset and ready-ms work without auth', async () => {
			assert.deepEqual(await (await control('/health')).json(), { ok: true });

			const added = await control('/faults', 'POST', {
				route: 'list',
				fault: 'internal',
				times: 1,
			});
			assert.equal(added.status, 201);
			assert.equal((await added.json()).fault.fault, 'internal');
			assert.equal((await control('/faults')).status, 200);
			await expectError(api(sim, '/devices'), 500, 'internal_error');
			await control('/faults', 'POST', { fault: 'busy' });
			assert.equal((await control('/faults', 'DELETE')).status, 200);
			assert.equal((await api(sim, '/devices')).status, 200);
			await expectError(control('/faults', 'POST', { fault: 'nope' }), 400, 'invalid_request');

			const logged = await (await control('/requests')).json();
			assert.equal(logged.length, 2);
			assert.equal(logged[0].headers.token, '<redacted:ok>');
			await control('/requests', 'DELETE');
			assert.deepEqual(await (await control('/requests')).json(), []);

			assert.equal(
				(await control(`/devices/${SALES}/ready-ms`, 'POST', { ms: 60_000 })).status,
				200,
			);
			await expectError(
				post(sim, `/devices/${SALES}/reboot`, { wait: true }),
				504,
				'session_timeout',
			);
			assert.equal((await control(`/devices/${SALES}/ready-ms`, 'POST', { ms: null })).status, 200);
			assert.equal((await post(sim, `/devices/${SALES}/reboot`, { wait: true })).status, 200);
			await expectError(
				control(`/devices/${UNKNOWN}/ready-ms`, 'POST', { ms: 5 }),
				404,
				'device_not_found',
			);
			await expectError(
				control(`/devices/${SALES}/ready-ms`, 'POST', { ms: -1 }),
				400,
				'invalid_request',
			);

			assert.equal(sim.devices.get(SALES).session.updatedAt === '2026-11-21T10:15:00Z', false);
			assert.equal((await control('/reset', 'POST')).status, 200);
			assert.equal(sim.devices.get(SALES).session.updatedAt, '2026-11-21T10:15:00Z');
			assert.equal(sim.requests.length, 0);
			await expectError(control('/nothing'), 404, 'not_found');
		});
	});
});

describe('settleMs', () => {
	let sim;
	before(async () => {
		sim = await startSimulator({ settleMs: 150 });
	});
	after(() => sim.close());

	it('keeps the device rebooting and busy until it settles', async () => {
		const response = await post(sim, `/devices/${SALES}/reboot`, {});
		assert.equal((await response.json()).status, 'rebooting');
		assert.equal((await (await api(sim, `/devices/${SALES}`)).json()).session.status, 'rebooting');
		await expectError(post(sim, `/devices/${SALES}/reset`, {}), 409, 'session_busy');
		await new Promise((resolve) => setTimeout(resolve, 200));
		assert.equal((await (await api(sim, `/devices/${SALES}`)).json()).session.status, 'online');
	});
});

describe('close()', () => {
	it('ends hung and held requests at once', async () => {
		const sim = await startSimulator({ apiKey: 'other-key', waitMs: 60_000 });
		sim.setFault({ route: 'list', fault: 'hang' });
		// Expectations attached now: both reject during close(), before the awaits below.
		const hung = assert.rejects(api(sim, '/devices'));
		const held = assert.rejects(post(sim, `/devices/${SALES}/reboot`, { wait: true }));
		await until(() => sim.requests.length === 2);
		const started = Date.now();
		await sim.close();
		assert.ok(Date.now() - started < 200);
		await Promise.all([hung, held]);
		await sim.close(); // idempotent
	});
});

describe('cli', () => {
	it('prints the URL line first, serves, and exits 0 on SIGTERM', async () => {
		const cli = fileURLToPath(new URL('../../support/simulator/cli.mjs', import.meta.url));
		const child = spawn(process.execPath, [cli, '--devices', '2', '--time-scale', '0.01'], {
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		const exited = new Promise((resolve) =>
			child.on('exit', (code, signal) => resolve({ code, signal })),
		);
		let stdout = '';
		const firstLine = await new Promise((resolve, reject) => {
			child.stdout.on('data', (chunk) => {
				stdout += chunk;
				if (stdout.includes('\n')) resolve(stdout.split('\n')[0]);
			});
			child.once('exit', () => reject(new Error(`cli exited early: ${stdout}`)));
		});
		const match = /^SPARKBOT_SIMULATOR_URL=(http:\/\/127\.0\.0\.1:\d+\/v1)$/.exec(firstLine);
		assert.ok(match, firstLine);
		const response = await fetch(`${match[1]}/devices`, {
			headers: { Token: DEFAULT_API_KEY, Accept: 'application/json' },
		});
		assert.equal(response.headers.get('x-total-count'), '8');
		await response.arrayBuffer();
		child.kill('SIGTERM');
		assert.deepEqual(await exited, { code: 0, signal: null });
	});

	it('refuses a bad option with exit code 2', async () => {
		const cli = fileURLToPath(new URL('../../support/simulator/cli.mjs', import.meta.url));
		const child = spawn(process.execPath, [cli, '--devices', 'many'], { stdio: 'ignore' });
		const code = await new Promise((resolve) => child.on('exit', resolve));
		assert.equal(code, 2);
	});
});
