// SparkBot API simulator: a local HTTP server that implements the v1 wire contract
// (summarised in the project README) plus test hooks — injectable faults, a request log and control
// endpoints under /__sim/ for other processes. Node 20+; `qrcode` (a dev dependency) draws the
// QR codes of `/scan`, loaded on the first one: `npm test` and `npm start` start this module before
// their set-up has installed the npm packages of a fresh clone. Webhooks and their deliveries are
// in webhooks.mjs.

import http from 'node:http';
import https from 'node:https';
import { randomBytes, timingSafeEqual } from 'node:crypto';

import { createWebhooks } from './webhooks.mjs';

/** `qrcode`, imported on the first scan (see the header). */
let qrCodeModule;
async function qrCodeLibrary() {
	qrCodeModule ??= import('qrcode').then((module) => module.default);
	return qrCodeModule;
}

export const DEFAULT_API_KEY = 'sparkbot-demo-key';

/** How long a `wait: true` request may be held before it is answered 504, before `timeScale`. */
export const WAIT_WINDOW_MS = Object.freeze({ reboot: 90_000, reset: 120_000 });

export const FAULT_ROUTES = Object.freeze(['list', 'get', 'reboot', 'reset', 'scan', '*']);
export const FAULT_KINDS = Object.freeze([
	'hang',
	'drop',
	'html502',
	'empty500',
	'empty503',
	'truncated',
	'rateLimit',
	'internal',
	'unavailable',
	'notJson200',
	'array200',
	'null200',
	'busy',
	'stopped',
	'forbidden',
	'sessionTimeout',
	'badRequest',
	'delay',
	'status',
	'oversized',
	'invalidUtf8',
	'deepJson',
	// Get QR Code: a 200 whose image is missing, not a PNG, or a data URL that is not base64.
	'qrNoImage',
	'qrNotPng',
	'qrNotBase64',
]);

/** How long a QR code works before `/scan` gives a new one (the contract: about 20–60 s). */
export const QR_LIFETIME_MS = 40_000;

/** These act on the bare connection, so they apply even to requests that would fail auth. */
const PRE_AUTH_FAULTS = new Set(['hang', 'drop']);

/** The contract's `error` code for each status; `status` faults outside it use a generic code. */
const ERROR_CODES = {
	400: 'invalid_request',
	401: 'unauthorized',
	403: 'forbidden',
	404: 'device_not_found',
	409: 'session_busy',
	429: 'rate_limited',
	500: 'internal_error',
	503: 'unavailable',
	504: 'session_timeout',
};

const OPERATION_FIELDS = {
	reboot: ['force', 'wait', 'sync'],
	reset: ['deleteAllData', 'wait', 'emptyQueue'],
};
/** The contract's session statuses. */
export const SESSION_STATUSES = Object.freeze([
	'online',
	'offline',
	'timeout',
	'authorize',
	'connecting',
	'rebooting',
	'resetting',
]);
const TRANSITIONAL_STATUS = { reboot: 'rebooting', reset: 'resetting' };

const JSON_TYPE = 'application/json; charset=utf-8';
const REDACTED = '***';
const DEVICE_ID = /^[0-9a-f]{24}$/;
const MAX_BODY_BYTES = 1 << 20;
const MAX_TIMER_MS = 2 ** 31 - 1; // setTimeout fires at once beyond this
const MAX_GENERATED_DEVICES = 9999; // generated phone numbers have four free digits

const NGINX_502 = `<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx</center>
</body>
</html>
`;

/**
 * The demo account. Fields outside the contract are deliberate: `plan`, `tags` and
 * `session.qrExpiresAt` are "unknown" fields clients must pass through. `forbidden` and
 * `queuedMessages` are simulator state and never serialized.
 *
 * - Sales: online, 3 queued messages, extra `plan`.
 * - Support: session offline (stopped: reboot needs `force`), 12 queued messages, extra `tags`.
 * - (alias null): session authorize, extra nested `session.qrExpiresAt`.
 * - (alias ""): session timeout, 1 queued message.
 * - Onboarding: `phone: null` (never connected), status pending, session connecting.
 * - Billing: status disabled, session offline, and the one `forbidden` device (POSTs → 403).
 */
export const DEMO_DEVICES = deepFreeze([
	device('6523a1f0c2d4e5f60718293a', 'Sales', '+14155550100', 'operative', 'online', {
		updatedAt: '2026-11-21T10:15:00Z',
		more: { plan: { tier: 'pro', limits: { daily: 1000 } }, queuedMessages: 3 },
	}),
	device('6523a2b4c2d4e5f60718293b', 'Support', '+442071838750', 'operative', 'offline', {
		updatedAt: '2026-11-20T18:02:11Z',
		more: { tags: ['support', 'emea'], queuedMessages: 12 },
	}),
	device('6523a3c8c2d4e5f60718293c', null, '+4915112345678', 'operative', 'authorize', {
		updatedAt: '2026-11-21T09:41:27Z',
		session: { qrExpiresAt: '2026-11-21T09:42:27Z' },
	}),
	device('6523a4dcc2d4e5f60718293d', '', '+34612345678', 'operative', 'timeout', {
		updatedAt: '2026-11-19T07:30:00Z',
		more: { queuedMessages: 1 },
	}),
	device('6523a5f0c2d4e5f60718293e', 'Onboarding', null, 'pending', 'connecting', {
		updatedAt: '2026-11-21T10:02:45Z',
	}),
	device('6523a704c2d4e5f60718293f', 'Billing', '+5511912345678', 'disabled', 'offline', {
		updatedAt: '2026-10-02T12:00:00Z',
		more: { plan: { tier: 'free', limits: { daily: 0 } }, forbidden: true },
	}),
]);

/** The n-th (1-based) generated device: deterministic, so tests can name it. */
export function generatedDevice(n) {
	return device(
		`65300000${n.toString(16).padStart(16, '0')}`,
		`Number ${String(n).padStart(3, '0')}`,
		`+1202555${String(n).padStart(4, '0')}`,
		'operative',
		'online',
		{ updatedAt: '2026-11-21T09:00:00Z' },
	);
}

/**
 * A device as the contract's `GET /devices` lists it, fields in that order: `session` gets
 * `sessionStatus`, `updatedAt` and the fields of `session`; `more` follows the contract's fields.
 */
function device(id, alias, phone, status, sessionStatus, { updatedAt, session = {}, more = {} }) {
	return {
		id,
		alias,
		phone,
		status,
		session: { status: sessionStatus, updatedAt, ...session },
		...more,
	};
}

/** An answer the simulator gives on purpose; anything else thrown is a simulator bug. */
class ApiError extends Error {
	constructor(status, code, message, headers = {}) {
		super(message);
		this.status = status;
		this.code = code;
		this.headers = headers;
	}
}

const invalidRequest = (message) => new ApiError(400, 'invalid_request', message);

/**
 * Starts a simulator. Options: `port` (0 = any free port), `host` ('127.0.0.1'), `apiKey`,
 * `devices` (extra generated devices), `waitMs` (default ready time of a held request, 50),
 * `timeScale` (multiplies the 90 s / 120 s wait windows, 1), `settleMs` (how long a non-wait
 * reboot/reset stays in progress, 0), `verbose` and `logger` (a line sink, default stderr),
 * `tls` (`{ key, cert }`: serve https with that certificate) and `publicHost` (the host name in
 * `origin` and `baseUrl`, e.g. one only a test proxy resolves; default the listening address).
 */
export async function startSimulator(options = {}) {
	const config = readOptions(options);
	const devices = new Map(); // id → device (with internal fields); replaced entries on reset()
	const requests = [];
	const faults = [];
	const readyMsOverrides = new Map();
	const qrCodes = new Map(); // id → { qr, expiresAt } of a session in authorize
	const chat = []; // what workflows sent to the chat stand-in (/__sim/telegram)
	const operations = new Map(); // id → token of the reboot/reset in progress (the device is busy)
	const timers = new Set();
	let requestSeq = 0;
	let faultSeq = 0;

	const scrub = (text) => text.split(config.apiKey).join(REDACTED);
	const log = config.verbose ? config.logger : () => {};
	const hooks = createWebhooks({ sleep, timeScale: config.timeScale, log, wire: toWire });

	function seedDevices() {
		devices.clear();
		const generated = Array.from({ length: config.extraDevices }, (_, i) => generatedDevice(i + 1));
		for (const device of [...DEMO_DEVICES, ...generated])
			devices.set(device.id, structuredClone(device));
	}

	/** A promise for `ms` later whose timer close() can cancel (the promise then never settles). */
	function sleep(ms) {
		return new Promise((resolve) => {
			const timer = setTimeout(
				() => {
					timers.delete(timer);
					resolve();
				},
				Math.min(ms, MAX_TIMER_MS),
			);
			timers.add(timer);
		});
	}

	// ---- request handling -------------------------------------------------------------------

	async function handle(req, res) {
		const startedAt = Date.now();
		if (config.verbose) {
			res.on('close', () => {
				const outcome = res.writableFinished ? res.statusCode : 'no response';
				const token = req.headers.token === undefined ? '' : ` Token=${REDACTED}`;
				log(
					`[sparkbot-sim] ${req.method} ${scrub(req.url)} -> ${outcome} (${Date.now() - startedAt} ms)${token}`,
				);
			});
		}
		try {
			const body = await readBody(req);
			const [path, search = ''] = splitOnce(req.url, '?');
			if (path.startsWith('/__sim/')) return await handleControl(req, res, path, body);

			const query = new URLSearchParams(search);
			const tokenState = authState(req.headers.token);
			const record = recordRequest(req, path, query, body, tokenState, startedAt);
			// A client that gives up (aborts, times out, is cancelled) before the answer is complete.
			res.on('close', () => {
				if (res.writableFinished) record.answeredAt = Date.now();
				else record.abortedAt = Date.now();
			});

			const route = matchRoute(req.method, path);
			if (!route) throw notFound(req.method, path);

			// The first matching fault wins; all but hang/drop wait until the request passed auth.
			const fault = faults.find((candidate) => faultMatches(candidate, route));
			if (fault && PRE_AUTH_FAULTS.has(fault.fault)) {
				consumeFault(fault);
				if (fault.fault === 'drop') req.socket.destroy();
				return; // hang: never answer; the client or close() ends the connection
			}
			if (tokenState !== 'ok')
				throw new ApiError(401, 'unauthorized', 'Missing or invalid API key (header "Token")');
			if (fault) {
				consumeFault(fault);
				if (await applyFault(fault, route, res)) return;
			}

			if (!route.allow) throw notFound(req.method, path);
			if (!route.name) {
				throw new ApiError(
					405,
					'method_not_allowed',
					`Method ${req.method} is not allowed here; use ${route.allow}`,
					{
						Allow: route.allow,
					},
				);
			}
			if (route.name === 'list') return await listDevices(query, res);
			if (route.name === 'get') return sendJson(res, 200, toWire(findDevice(route.deviceId)));
			if (route.name === 'scan') return sendJson(res, 200, await scan(route.deviceId));
			if (route.name === 'listWebhooks') return sendJson(res, 200, hooks.list());
			if (route.name === 'createWebhook') return createWebhook(req, body, res);
			if (route.name === 'getWebhook' || route.name === 'deleteWebhook') {
				const id = route.webhookId;
				const found = hooks.get(id);
				if (!found)
					throw new ApiError(404, 'webhook_not_found', `Webhook ${safeText(id)} not found`);
				if (route.name === 'getWebhook') return sendJson(res, 200, found);
				hooks.remove(id);
				res.writeHead(204);
				return res.end();
			}
			return await operate(route.name, route.deviceId, req.headers['content-type'], body, res);
		} catch (error) {
			if (error instanceof ApiError) return sendError(res, error);
			if (req.socket.destroyed) return; // the client went away while we read its body
			config.logger(`[sparkbot-sim] bug: ${error?.stack ?? error}`);
			sendError(res, new ApiError(500, 'internal_error', 'Simulator error'));
		}
	}

	function recordRequest(req, path, query, body, tokenState, at) {
		// The token's value never enters the log; only whether it matched.
		const headers = Object.fromEntries(
			Object.entries(req.headers).map(([name, value]) => [
				name,
				name === 'token' ? `<redacted:${tokenState}>` : scrubDeep(value),
			]),
		);
		const record = {
			method: req.method,
			path: scrub(path),
			query: scrubDeep(queryObject(query)),
			headers,
			at,
		};
		if (body.length > 0) record.body = scrubDeep(parseLoosely(body));
		requests.push(record);
		return record;
	}

	function scrubDeep(value) {
		if (typeof value === 'string') return scrub(value);
		if (Array.isArray(value)) return value.map(scrubDeep);
		if (value !== null && typeof value === 'object') {
			return Object.fromEntries(Object.entries(value).map(([k, v]) => [scrub(k), scrubDeep(v)]));
		}
		return value;
	}

	function authState(token) {
		if (token === undefined) return 'missing';
		const given = Buffer.from(token);
		const expected = Buffer.from(config.apiKey);
		return given.length === expected.length && timingSafeEqual(given, expected) ? 'ok' : 'wrong';
	}

	function notFound(method, path) {
		return new ApiError(404, 'not_found', `No such endpoint: ${method} ${safeText(scrub(path))}`);
	}

	// ---- devices ------------------------------------------------------------------------------

	async function listDevices(query, res) {
		const page = integerParam(query, 'page', 0, 0, Number.MAX_SAFE_INTEGER, 'an integer >= 0');
		const size = integerParam(query, 'size', 20, 1, 100, 'an integer from 1 to 100');
		// A large account's pages take time to build (pageLatencyMs); pages asked for together are
		// built together, as a real service would.
		if (config.pageLatencyMs > 0) await sleep(config.pageLatencyMs);
		const all = [...devices.values()];
		const start = page * size;
		sendJson(res, 200, all.slice(start, start + size).map(toWire), {
			'X-Total-Count': String(all.length),
		});
	}

	function findDevice(id) {
		const device = DEVICE_ID.test(id) ? devices.get(id) : undefined;
		if (!device)
			throw new ApiError(404, 'device_not_found', `Device ${safeText(scrub(id))} not found`);
		return device;
	}

	async function operate(kind, id, contentType, body, res) {
		const device = findDevice(id);
		if (device.forbidden) throw forbiddenError(id);
		const flags = parseOperationBody(kind, contentType, body);
		if (operations.has(id)) throw busyError(id);
		if (kind === 'reboot' && device.session.status === 'offline' && !flags.force)
			throw stoppedError(id);

		const operation = Symbol(kind); // identity: a late timer only frees the device if it still owns it
		operations.set(id, operation);
		setSession(device, TRANSITIONAL_STATUS[kind]);
		const deletedQueuedMessages =
			kind === 'reset' && flags.emptyQueue ? (device.queuedMessages ?? 0) : 0;
		if (deletedQueuedMessages > 0) device.queuedMessages = 0;

		const finish = (sessionStatus) => {
			setSession(device, sessionStatus);
			if (operations.get(id) === operation) operations.delete(id);
		};
		const reply = (waited) => {
			const outcome =
				kind === 'reboot'
					? { synced: flags.sync }
					: { deletedData: flags.deleteAllData, deletedQueuedMessages };
			return {
				id,
				operation: kind,
				status: device.session.status,
				waited,
				...outcome,
				session: structuredClone(device.session),
				message: waited
					? `Session ${kind} finished; the session is online`
					: `Session ${kind} started`,
				requestId: `sim-req-${String(++requestSeq).padStart(6, '0')}`,
				meta: { region: 'sim', simulated: true },
			};
		};

		if (!flags.wait) {
			sendJson(res, 200, reply(false));
			if (config.settleMs > 0) sleep(config.settleMs).then(() => finish('online'));
			else finish('online');
			return;
		}

		const windowMs = WAIT_WINDOW_MS[kind] * config.timeScale;
		const readyMs = readyMsOverrides.get(id) ?? config.waitMs;
		if (readyMs <= windowMs) {
			await sleep(readyMs);
			finish('online');
			sendJson(res, 200, reply(true));
			return;
		}
		await sleep(windowMs);
		// The service gave up on this attempt: the device is free again and its session timed out.
		finish('timeout');
		throw sessionTimeoutError(id, windowMs);
	}

	/** Keeps a message sent to the chat stand-in and answers as Telegram's Bot API does. */
	function receiveChat(req, res, method, body) {
		const type = req.headers['content-type'] ?? '';
		const form = parseMultipart(body, type);
		const fields =
			form ??
			(/^application\/json/i.test(type)
				? parseControlBody(body)
				: Object.fromEntries(new URLSearchParams(body.toString())));
		if (!isPlainObject(fields))
			throw invalidRequest('a chat message must be a form or a JSON object');
		const text = (name) => {
			const field = fields[name];
			return field?.data ? field.data.toString() : field === undefined ? undefined : String(field);
		};
		const photo = form?.photo;
		const message = {
			method,
			chatId: text('chat_id'),
			text: text('text'),
			caption: text('caption'),
			fileName: photo?.filename,
			contentType: photo?.type,
			photo: photo?.data,
			at: Date.now(),
		};
		chat.push(message);
		log(`[sparkbot-sim] chat ${method} to ${message.chatId}${photo ? ` (${photo.filename})` : ''}`);
		sendJson(res, 200, {
			ok: true,
			result: { message_id: chat.length, chat: { id: Number(message.chatId) || 0 }, date: 0 },
		});
	}

	/** The QR code of a session in `authorize`, renewed once it expired. */
	async function scan(id) {
		const device = findDevice(id);
		if (device.forbidden) throw forbiddenError(id);
		const status = device.session?.status;
		if (status !== 'authorize') {
			throw new ApiError(
				409,
				'scan_not_needed',
				`The session of device ${id} is ${status}, not waiting for a QR scan: there is nothing to scan`,
			);
		}
		let code = qrCodes.get(id);
		if (!code || Date.now() >= code.expiresAt) {
			const part = (bytes) => randomBytes(bytes).toString('base64');
			code = {
				qr: `2@${part(36)},${part(32)},${part(32)},${part(32)}`,
				expiresAt: Date.now() + config.qrLifetimeMs,
			};
			qrCodes.set(id, code);
		}
		return {
			id,
			qr: code.qr,
			image: await (
				await qrCodeLibrary()
			).toDataURL(code.qr, {
				type: 'image/png',
				width: 320,
				margin: 2,
				errorCorrectionLevel: 'M',
			}),
			expiresAt: new Date(code.expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
			session: structuredClone(device.session),
		};
	}

	function createWebhook(req, body, res) {
		if (!/^application\/json(\s*;|$)/i.test(req.headers['content-type'] ?? ''))
			throw new ApiError(400, 'invalid_request', 'Content-Type must be application/json');
		let parsed;
		try {
			parsed = JSON.parse(body.toString('utf8'));
		} catch {
			throw new ApiError(400, 'invalid_request', 'The body is not valid JSON');
		}
		const { webhook, problems } = hooks.create(parsed);
		if (problems) throw new ApiError(400, 'invalid_request', problems.join('; '));
		return sendJson(res, 201, webhook);
	}

	function setSession(device, status) {
		const previous = device.session?.status;
		device.session = {
			...device.session,
			status,
			updatedAt: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
		};
		if (status !== previous) hooks.sessionChanged(device, previous);
	}

	// ---- faults -------------------------------------------------------------------------------

	function setFault(spec) {
		const fault = { id: ++faultSeq, ...normalizeFault(spec) };
		faults.push(fault);
		return fault;
	}

	function faultMatches(fault, route) {
		if (fault.route !== '*' && fault.route !== route.name) return false;
		return fault.deviceId === undefined || fault.deviceId === route.deviceId;
	}

	function consumeFault(fault) {
		if (fault.times === null) return;
		fault.times -= 1;
		const at = faults.indexOf(fault);
		if (fault.times <= 0 && at !== -1) faults.splice(at, 1);
	}

	/** Answers as the fault says; returns false when normal handling should go on (`delay`). */
	async function applyFault(fault, route, res) {
		const id = route.deviceId;
		const retryAfter =
			fault.retryAfter === undefined ? {} : { 'Retry-After': String(fault.retryAfter) };
		switch (fault.fault) {
			case 'delay':
				await sleep(fault.delayMs);
				return false;
			case 'html502':
				sendRaw(res, 502, 'text/html', NGINX_502, { Server: 'nginx' });
				return true;
			case 'empty500':
				sendRaw(res, 500, undefined, '');
				return true;
			case 'empty503':
				sendRaw(res, 503, undefined, '', retryAfter);
				return true;
			case 'truncated': {
				const device = id === undefined ? undefined : devices.get(id);
				const payload = device ? toWire(device) : [...devices.values()].slice(0, 20).map(toWire);
				const bytes = Buffer.from(JSON.stringify(payload));
				res.writeHead(200, { 'Content-Type': JSON_TYPE, 'Content-Length': bytes.length });
				res.write(bytes.subarray(0, bytes.length >> 1), () => res.destroy());
				return true;
			}
			case 'notJson200':
				sendRaw(res, 200, 'text/plain; charset=utf-8', 'OK');
				return true;
			case 'qrNoImage':
			case 'qrNotPng':
			case 'qrNotBase64': {
				const { image, ...answer } = await scan(id);
				if (fault.fault === 'qrNotPng')
					answer.image =
						'data:image/png;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7';
				if (fault.fault === 'qrNotBase64') answer.image = `data:image/png,${image.split(',')[1]}`;
				sendJson(res, 200, answer);
				return true;
			}
			case 'oversized': {
				// 200 JSON of `bytes` bytes (default 11 MiB): with Content-Length, or chunked without it.
				const size = fault.bytes ?? 11 * 1024 * 1024;
				const head = Buffer.from('{"padding":"');
				const tail = Buffer.from('"}');
				const body = Buffer.alloc(Math.max(size, head.length + tail.length), 'x');
				head.copy(body, 0);
				tail.copy(body, body.length - tail.length);
				const headers = {
					'Content-Type': JSON_TYPE,
					...(fault.chunked ? {} : { 'Content-Length': body.length }),
				};
				res.writeHead(200, headers);
				res.on('error', () => {}); // the client may stop reading and close the socket
				for (let at = 0; at < body.length && !res.destroyed; at += 64 * 1024)
					res.write(body.subarray(at, at + 64 * 1024));
				res.end();
				return true;
			}
			case 'invalidUtf8': {
				// 200, the device's answer with bytes that are not UTF-8 inside a string.
				const text = JSON.stringify({
					...(devices.get(id) ? toWire(devices.get(id)) : {}),
					note: '@@',
				});
				const bytes = Buffer.from(text);
				const at = bytes.indexOf('@@');
				bytes[at] = 0xff;
				bytes[at + 1] = 0xc3;
				sendRaw(res, 200, JSON_TYPE, bytes);
				return true;
			}
			case 'deepJson':
				// 200 with arrays nested `depth` levels (default 100,000).
				sendRaw(
					res,
					200,
					JSON_TYPE,
					`{"deep":${'['.repeat(fault.depth ?? 100_000)}${']'.repeat(fault.depth ?? 100_000)}}`,
				);
				return true;
			case 'array200':
				sendRaw(res, 200, JSON_TYPE, '[]');
				return true;
			case 'null200':
				sendRaw(res, 200, JSON_TYPE, 'null');
				return true;
			case 'rateLimit': {
				const seconds = fault.retryAfter ?? 1;
				throw new ApiError(429, 'rate_limited', `Too many requests; retry after ${seconds} s`, {
					'Retry-After': String(seconds),
				});
			}
			case 'internal':
				throw new ApiError(500, 'internal_error', 'Internal error (simulated)');
			case 'unavailable':
				throw new ApiError(
					503,
					'unavailable',
					'Service temporarily unavailable (simulated)',
					retryAfter,
				);
			case 'busy':
				throw busyError(id);
			case 'stopped':
				throw stoppedError(id);
			case 'forbidden':
				throw forbiddenError(id);
			case 'sessionTimeout':
				throw sessionTimeoutError(id, WAIT_WINDOW_MS[route.name] ?? WAIT_WINDOW_MS.reboot);
			case 'badRequest':
				throw invalidRequest('Invalid request (simulated)');
			case 'status':
				throw new ApiError(
					fault.status,
					ERROR_CODES[fault.status] ?? 'simulated_error',
					`Simulated HTTP ${fault.status}`,
					retryAfter,
				);
			default:
				throw new Error(`unhandled fault ${fault.fault}`);
		}
	}

	// ---- control endpoints (/__sim/, no auth) -------------------------------------------------

	/** The per-device control routes: `[what, an example body, how it is applied]`. */
	const DEVICE_CONTROLS = [
		['session', '{"status": "offline"}', (id, spec) => setSessionStatus(id, spec.status)],
		['ready-ms', '{"ms": 5000}', (id, spec) => setDeviceReadyMs(id, spec.ms)],
	];

	async function handleControl(req, res, path, body) {
		const ok = () => sendJson(res, 200, { ok: true });
		const endpoint = `${req.method} ${path}`;
		try {
			switch (endpoint) {
				case 'GET /__sim/health':
					return ok();
				case 'GET /__sim/faults':
					return sendJson(res, 200, faults);
				case 'POST /__sim/faults':
					return sendJson(res, 201, { ok: true, fault: setFault(parseControlBody(body)) });
				case 'DELETE /__sim/faults':
					clearFaults();
					return ok();
				case 'GET /__sim/requests':
					return sendJson(res, 200, requests);
				case 'DELETE /__sim/requests':
					clearRequests();
					return ok();
				case 'POST /__sim/reset':
					reset();
					return ok();
				case 'GET /__sim/webhooks':
					return sendJson(res, 200, hooks.list());
				case 'GET /__sim/deliveries':
					return sendJson(res, 200, hooks.attempts);
				case 'POST /__sim/deliveries':
					return sendJson(res, 200, await hooks.deliver(parseControlBody(body), findDevice));
				case 'GET /__sim/chat':
					return sendJson(
						res,
						200,
						chat.map(({ photo, ...message }) => ({
							...message,
							photo: photo?.toString('base64'),
						})),
					);
			}
			// A chat a workflow tells a person in: a Telegram Bot API stand-in (the Telegram
			// credential's Base URL set to <origin>/__sim/telegram). It keeps what it is sent.
			const telegram =
				req.method === 'POST' &&
				path.match(/^\/__sim\/telegram\/bot([^/]+)\/(sendPhoto|sendMessage)$/);
			if (telegram) return receiveChat(req, res, telegram[2], body);
			// POST /__sim/devices/:id/<what>: a JSON object like the example, applied to that device.
			const match = req.method === 'POST' && path.match(/^\/__sim\/devices\/([^/]+)\/([^/]+)$/);
			const control = match && DEVICE_CONTROLS.find(([what]) => what === match[2]);
			if (control) {
				const [, example, apply] = control;
				const spec = parseControlBody(body);
				if (!isPlainObject(spec)) throw new TypeError(`body must be a JSON object like ${example}`);
				apply(decodeSegment(match[1]), spec);
				return ok();
			}
		} catch (error) {
			if (error instanceof TypeError || error instanceof RangeError)
				throw invalidRequest(error.message);
			throw error;
		}
		throw notFound(req.method, path);
	}

	/**
	 * A session changes on its own, as a real one does (it drops, needs a QR scan, …): its status
	 * and `updatedAt` change. A reboot or reset brings it back online.
	 */
	function setSessionStatus(id, status) {
		const device = findDevice(id);
		if (!SESSION_STATUSES.includes(status)) {
			throw new RangeError(`status must be one of ${SESSION_STATUSES.join(', ')}`);
		}
		setSession(device, status);
	}

	function setDeviceReadyMs(id, ms) {
		findDevice(id);
		if (ms === null || ms === undefined) return void readyMsOverrides.delete(id);
		if (typeof ms !== 'number' || !(ms >= 0))
			throw new RangeError('ms must be a number >= 0 (or null to clear)');
		readyMsOverrides.set(id, ms);
	}

	// ---- lifecycle ----------------------------------------------------------------------------

	function clearFaults() {
		faults.length = 0;
	}

	function clearRequests() {
		requests.length = 0;
	}

	/** Back to the seed: devices, faults, request log, ready-time overrides and busy state. */
	function reset() {
		seedDevices();
		clearFaults();
		clearRequests();
		readyMsOverrides.clear();
		operations.clear();
		qrCodes.clear();
		chat.length = 0;
		hooks.reset();
		requestSeq = 0;
	}

	seedDevices();
	const server = config.tls
		? https.createServer(config.tls, (req, res) => void handle(req, res))
		: http.createServer((req, res) => void handle(req, res));
	await new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen({ port: config.port, host: config.host }, () => {
			server.off('error', reject);
			resolve();
		});
	});

	const { port } = server.address();
	const scheme = config.tls ? 'https' : 'http';
	const origin = `${scheme}://${config.publicHost ?? originHost(config.host)}:${port}`;
	let closing;

	return {
		port,
		origin,
		baseUrl: `${origin}/v1`,
		apiKey: config.apiKey,
		devices,
		requests,
		faults,
		setFault,
		clearFaults,
		clearRequests,
		reset,
		setDeviceReadyMs,
		setSessionStatus,
		/** What workflows sent to the chat stand-in: `{ method, chatId, text, caption, fileName, contentType, photo (bytes), at }`. */
		chat,
		/** The Base URL a Telegram credential uses to reach the chat stand-in. */
		telegramBaseUrl: `${origin}/__sim/telegram`,
		/** The QR code `/scan` gives for device `id` now (`{ qr, expiresAt }`), if it gave one. */
		qrCode: (id) => qrCodes.get(id),
		/** Makes the QR code of device `id` expire: the next `/scan` draws a new one. */
		expireQrCode(id) {
			const code = qrCodes.get(id);
			if (code) code.expiresAt = Date.now();
		},
		/** The registered webhooks, as `GET /webhooks` lists them. */
		webhooks: () => hooks.list(),
		/** The webhooks with their secrets (tests sign deliveries of their own with them). */
		webhookSecrets: () => [...hooks.webhooks.values()].map(({ id, secret }) => ({ id, secret })),
		/** Every delivery attempt: `{ deliveryId, webhookId, deviceId, kind, attempt, status, error, at, ms, headers }`. */
		deliveries: hooks.attempts,
		/** How many automatic deliveries SparkBot is still making: first attempts or retries to come. */
		deliveriesInProgress: () => hooks.inProgress(),
		/** Sends a delivery as a test asks (see `deliver` in webhooks.mjs). */
		deliver: (spec) => hooks.deliver(spec, findDevice),
		/** Holds automatic deliveries until `resumeDeliveries({ reversed })`. */
		pauseDeliveries: () => hooks.pause(),
		resumeDeliveries: (options) => hooks.resume(options),
		/** Stops at once: cancels every timer and destroys every socket, held or hung ones too. */
		close() {
			hooks.close();
			closing ??= new Promise((resolve) => {
				for (const timer of timers) clearTimeout(timer);
				timers.clear();
				server.close(() => resolve());
				server.closeAllConnections();
			});
			return closing;
		},
	};
}

// ---- helpers without simulator state ----------------------------------------------------------

function readOptions(options) {
	const {
		port = 0,
		host = '127.0.0.1',
		apiKey = DEFAULT_API_KEY,
		devices = 0,
		waitMs = 50,
		timeScale = 1,
		settleMs = 0,
		pageLatencyMs = 0,
		qrLifetimeMs = QR_LIFETIME_MS,
		verbose = false,
		logger = (line) => process.stderr.write(`${line}\n`),
		tls,
		publicHost,
	} = options;
	if (tls !== undefined && (typeof tls?.key !== 'string' || typeof tls?.cert !== 'string'))
		throw new TypeError('tls must be { key, cert } (PEM texts)');
	if (publicHost !== undefined && !/^[a-z0-9.-]+$/i.test(publicHost))
		throw new TypeError('publicHost must be a host name');
	if (!Number.isInteger(port) || port < 0 || port > 65535)
		throw new RangeError('port must be an integer 0..65535');
	if (typeof apiKey !== 'string' || apiKey === '')
		throw new TypeError('apiKey must be a non-empty string');
	if (!Number.isInteger(devices) || devices < 0 || devices > MAX_GENERATED_DEVICES) {
		throw new RangeError(`devices must be an integer 0..${MAX_GENERATED_DEVICES}`);
	}
	if (!(Number.isFinite(waitMs) && waitMs >= 0))
		throw new RangeError('waitMs must be a number >= 0');
	if (!(Number.isFinite(timeScale) && timeScale > 0))
		throw new RangeError('timeScale must be a number > 0');
	if (!(Number.isFinite(settleMs) && settleMs >= 0))
		throw new RangeError('settleMs must be a number >= 0');
	if (!(Number.isFinite(pageLatencyMs) && pageLatencyMs >= 0))
		throw new RangeError('pageLatencyMs must be a number >= 0');
	if (!(Number.isFinite(qrLifetimeMs) && qrLifetimeMs > 0))
		throw new RangeError('qrLifetimeMs must be a number > 0');
	return {
		port,
		host,
		apiKey,
		extraDevices: devices,
		waitMs,
		timeScale,
		settleMs,
		pageLatencyMs,
		qrLifetimeMs,
		verbose,
		logger,
		tls,
		publicHost,
	};
}

/** The fields of a fault spec (POST /__sim/faults), in the order a normalized fault lists them. */
const FAULT_FIELDS = [
	'route',
	'deviceId',
	'fault',
	'times',
	'retryAfter',
	'status',
	'delayMs',
	'bytes',
	'chunked',
	'depth',
];

function normalizeFault(spec) {
	if (!isPlainObject(spec)) throw new TypeError('a fault spec must be an object');
	const unknown = Object.keys(spec).find((key) => !FAULT_FIELDS.includes(key));
	if (unknown !== undefined)
		throw new TypeError(
			`unknown fault spec field "${unknown}"; allowed: ${FAULT_FIELDS.join(', ')}`,
		);
	const fields = Object.fromEntries(FAULT_FIELDS.map((name) => [name, spec[name]]));
	const { deviceId, fault, times, retryAfter, status, delayMs, bytes, chunked, depth } = fields;
	const route = fields.route === undefined ? '*' : fields.route;
	if (!FAULT_ROUTES.includes(route))
		throw new TypeError(`route must be one of ${FAULT_ROUTES.join(', ')}`);
	if (!FAULT_KINDS.includes(fault))
		throw new TypeError(`fault must be one of ${FAULT_KINDS.join(', ')}`);
	if (deviceId !== undefined && typeof deviceId !== 'string')
		throw new TypeError('deviceId must be a string');
	if (times !== undefined && times !== null && !(Number.isInteger(times) && times > 0)) {
		throw new RangeError('times must be a positive integer (omit it for unlimited)');
	}
	if (retryAfter !== undefined && !(Number.isInteger(retryAfter) && retryAfter >= 0)) {
		throw new RangeError('retryAfter must be an integer number of seconds >= 0');
	}
	if (fault === 'status' && !(Number.isInteger(status) && status >= 400 && status <= 599)) {
		throw new RangeError('a status fault needs status: an integer 400..599');
	}
	if (fault === 'delay' && !(Number.isFinite(delayMs) && delayMs >= 0)) {
		throw new RangeError('a delay fault needs delayMs: a number >= 0');
	}
	for (const [name, value] of [
		['bytes', bytes],
		['depth', depth],
	]) {
		if (
			value !== undefined &&
			!(Number.isInteger(value) && value > 0 && value <= 256 * 1024 * 1024)
		) {
			throw new RangeError(`${name} must be a positive integer`);
		}
	}
	if (chunked !== undefined && typeof chunked !== 'boolean')
		throw new TypeError('chunked must be a boolean');
	return { ...fields, route, times: times ?? null };
}

/**
 * Maps a path to its API route. Returns undefined outside /v1 (plain 404, no auth), otherwise
 * `{ name, allow, deviceId }`: `allow` is the method the path takes (undefined: no such
 * endpoint), `name` is set only when the method is the allowed one. Empty segments (`//`, a
 * trailing `/`) never match: the contract says clients must not produce them.
 */
function matchRoute(method, path) {
	const segments = path.split('/').slice(1);
	if (segments[0] !== 'v1') return undefined;
	const [, collection, rawId, action, ...rest] = segments;
	const noRoute = { name: undefined, allow: undefined, deviceId: undefined };
	if (collection === 'webhooks' && !segments.includes('') && action === undefined) {
		if (rawId === undefined) {
			const name = { GET: 'listWebhooks', POST: 'createWebhook' }[method];
			return { name, allow: 'GET, POST', deviceId: undefined };
		}
		const name = { GET: 'getWebhook', DELETE: 'deleteWebhook' }[method];
		return { name, allow: 'GET, DELETE', deviceId: undefined, webhookId: decodeSegment(rawId) };
	}
	if (segments.includes('') || collection !== 'devices' || rest.length > 0) return noRoute;
	const deviceId = rawId === undefined ? undefined : decodeSegment(rawId);
	const route = (name, allow) => ({ name: method === allow ? name : undefined, allow, deviceId });
	if (rawId === undefined) return route('list', 'GET');
	if (action === undefined) return route('get', 'GET');
	if (action === 'reboot' || action === 'reset') return route(action, 'POST');
	if (action === 'scan') return route('scan', 'GET');
	return noRoute;
}

/** The parts of a multipart/form-data body: name → `{ filename, type, data }` (bytes). */
function parseMultipart(body, contentType) {
	const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
	if (!boundary) return undefined;
	const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
	const bytes = Buffer.from(body);
	const parts = {};
	let at = bytes.indexOf(delimiter);
	while (at !== -1) {
		const start = at + delimiter.length;
		if (bytes.subarray(start, start + 2).toString() === '--') break;
		const next = bytes.indexOf(delimiter, start);
		if (next === -1) break;
		const part = bytes.subarray(start + 2, next - 2); // the CRLFs around the part
		const headEnd = part.indexOf('\r\n\r\n');
		const head = part.subarray(0, headEnd).toString();
		const name = /name="([^"]*)"/.exec(head)?.[1];
		if (name !== undefined) {
			parts[name] = {
				filename: /filename="([^"]*)"/.exec(head)?.[1],
				type: /content-type:\s*([^\r\n]+)/i.exec(head)?.[1],
				data: part.subarray(headEnd + 4),
			};
		}
		at = next;
	}
	return parts;
}

function parseOperationBody(kind, contentType, body) {
	if (mediaType(contentType) !== 'application/json')
		throw invalidRequest('Content-Type must be application/json');
	if (body.length === 0)
		throw invalidRequest('Request body is empty; send a JSON object such as {}');
	let value;
	try {
		value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
	} catch {
		throw invalidRequest('Request body is not valid JSON');
	}
	if (!isPlainObject(value)) throw invalidRequest('Request body must be a JSON object');
	const allowed = OPERATION_FIELDS[kind];
	const flags = Object.fromEntries(allowed.map((field) => [field, false]));
	for (const [field, flag] of Object.entries(value)) {
		if (!allowed.includes(field)) {
			throw invalidRequest(
				`Unknown field "${safeText(field)}" for ${kind}; allowed: ${allowed.join(', ')}`,
			);
		}
		if (typeof flag !== 'boolean') throw invalidRequest(`Field "${field}" must be a boolean`);
		flags[field] = flag;
	}
	return flags;
}

function parseControlBody(body) {
	if (body.length === 0) return {};
	try {
		return JSON.parse(body.toString('utf8'));
	} catch {
		throw invalidRequest('Control request body is not valid JSON');
	}
}

function integerParam(query, name, fallback, min, max, expected) {
	const values = query.getAll(name);
	if (values.length === 0) return fallback;
	const number = Number(values[0]);
	if (
		values.length > 1 ||
		!/^\d+$/.test(values[0]) ||
		!Number.isSafeInteger(number) ||
		number < min ||
		number > max
	) {
		throw invalidRequest(`Query parameter "${name}" must be ${expected}, given once`);
	}
	return number;
}

async function readBody(req) {
	const chunks = [];
	let size = 0;
	for await (const chunk of req) {
		size += chunk.length;
		if (size <= MAX_BODY_BYTES) chunks.push(chunk); // past the cap keep draining, then refuse
	}
	if (size > MAX_BODY_BYTES) throw invalidRequest('Request body is larger than 1 MiB');
	return Buffer.concat(chunks);
}

/** Device fields that are simulator state, not part of the wire object. */
function toWire({ forbidden, queuedMessages, ...device }) {
	return device;
}

function sendJson(res, status, value, headers = {}) {
	sendRaw(res, status, JSON_TYPE, JSON.stringify(value), headers);
}

function sendError(res, { status, code, message, headers }) {
	sendJson(res, status, { status, error: code, message }, headers);
}

function sendRaw(res, status, contentType, text, headers = {}) {
	// A held answer may find its client gone; there is nobody left to answer then.
	if (res.headersSent || res.destroyed || res.req.socket.destroyed) return;
	const body = Buffer.from(text);
	res.writeHead(status, {
		...(contentType && { 'Content-Type': contentType }),
		'Content-Length': body.length,
		...headers,
	});
	res.end(body);
}

function busyError(id) {
	return new ApiError(
		409,
		'session_busy',
		`Another reboot or reset of device ${describeId(id)} is in progress`,
	);
}

function stoppedError(id) {
	return new ApiError(
		409,
		'session_stopped',
		`The session of device ${describeId(id)} is stopped; reboot with "force": true to start it`,
	);
}

function forbiddenError(id) {
	return new ApiError(403, 'forbidden', `This API key may not act on device ${describeId(id)}`);
}

function sessionTimeoutError(id, windowMs) {
	const seconds = Number((windowMs / 1000).toFixed(3));
	return new ApiError(
		504,
		'session_timeout',
		`The session of device ${describeId(id)} did not become available within ${seconds} s`,
	);
}

function describeId(id) {
	return id === undefined ? '(none)' : safeText(id);
}

/** Echo-safe text: no control or markup characters, bounded length. */
function safeText(text) {
	const clean = text.replace(/[^\w.~*\/%-]/g, '?');
	return clean.length > 64 ? `${clean.slice(0, 64)}...` : clean;
}

function decodeSegment(segment) {
	try {
		return decodeURIComponent(segment);
	} catch {
		return segment;
	}
}

function splitOnce(text, separator) {
	const at = text.indexOf(separator);
	return at === -1 ? [text] : [text.slice(0, at), text.slice(at + 1)];
}

function mediaType(contentType) {
	return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

/** Query parameters as a plain object; a repeated name maps to an array of its values. */
function queryObject(query) {
	const grouped = new Map();
	for (const [key, value] of query)
		grouped.set(key, grouped.has(key) ? [grouped.get(key), value].flat() : value);
	return Object.fromEntries(grouped);
}

function parseLoosely(body) {
	const text = body.toString('utf8');
	try {
		return JSON.parse(text);
	} catch {
		return text;
	}
}

function originHost(host) {
	if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
	return host.includes(':') ? `[${host}]` : host;
}

function isPlainObject(value) {
	return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function deepFreeze(value) {
	if (value !== null && typeof value === 'object') {
		Object.values(value).forEach(deepFreeze);
		Object.freeze(value);
	}
	return value;
}
