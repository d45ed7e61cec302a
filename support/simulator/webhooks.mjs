// The simulator's webhooks (the contract's *Extension: webhooks*): the registry behind
// `/v1/webhooks`, and deliveries — a POST of every session change to each webhook that wants
// `session:status`, signed with its secret, retried on anything but a 2xx within the timeout
// (after 1 s, 5 s, 30 s, 2 min and 10 min, scaled by the simulator's timeScale). Tests make
// the rest happen through `deliver()` (or `POST /__sim/deliveries`): a change sent again with
// the same delivery ID (a retry, a duplicate), an older change after a newer one (out of order),
// the same bytes and headers again (a replay), a timestamp from long ago, a forged signature.
import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';

/** The events a webhook may ask for. */
export const WEBHOOK_EVENTS = Object.freeze(['session:status']);
/** SparkBot's retry schedule of a delivery without a 2xx, in ms (before timeScale). */
export const RETRY_DELAYS_MS = Object.freeze([1_000, 5_000, 30_000, 120_000, 600_000]);
/** How long a delivery waits for an answer, in ms (before timeScale, at least 1 s). */
export const DELIVERY_TIMEOUT_MS = 10_000;
/** How `deliver()` may sign: as SparkBot does, or forged in one of these ways. */
export const SIGNATURES = Object.freeze([
	'valid',
	'wrong',
	'missing',
	'otherSecret',
	'noTimestamp',
]);

const hexId = () => randomBytes(12).toString('hex');
const isoSeconds = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The signature header of `body` (bytes) at `timestamp` (unix seconds, text) with `secret`. */
export function signDelivery(secret, timestamp, body) {
	const mac = createHmac('sha256', secret);
	mac.update(`${timestamp}.`);
	mac.update(body);
	return `sha256=${mac.digest('hex')}`;
}

/**
 * The webhook registry and its deliveries. `sleep(ms)` is the simulator's cancellable pause,
 * `timeScale` scales the retry schedule and timeout, `log` its log, `wire(device)` a device as
 * the contract lists it.
 */
export function createWebhooks({ sleep, timeScale, log, wire }) {
	const webhooks = new Map(); // id → { id, url, events, secret, createdAt }
	/** Every attempt: `{ deliveryId, webhookId, kind, attempt, status, error, at, ms, headers }`. */
	const attempts = [];
	/** The deliveries made, by ID: `{ delivery, body (bytes) }`. */
	const made = new Map();
	let closed = false;
	let paused = false;
	const held = [];
	/** Automatic deliveries still being made (a first attempt or retries to come). */
	let inProgress = 0;

	const toWire = ({ secret: _secret, ...webhook }) => structuredClone(webhook);

	function validate(body) {
		const problems = [];
		if (body === null || typeof body !== 'object' || Array.isArray(body))
			return ['the body must be a JSON object'];
		let url;
		try {
			url = new URL(body.url);
		} catch {
			problems.push('url must be an http(s) URL');
		}
		if (url && !['http:', 'https:'].includes(url.protocol))
			problems.push('url must be an http(s) URL');
		if (
			!Array.isArray(body.events) ||
			body.events.length === 0 ||
			body.events.some((event) => !WEBHOOK_EVENTS.includes(event))
		)
			problems.push(`events must be a non-empty list of ${WEBHOOK_EVENTS.join(', ')}`);
		if (typeof body.secret !== 'string' || body.secret.length < 16)
			problems.push('secret must be a text of at least 16 characters');
		const unknown = Object.keys(body).filter((k) => !['url', 'events', 'secret'].includes(k));
		if (unknown.length) problems.push(`unknown field ${unknown[0]}`);
		return problems;
	}

	/** `POST /webhooks`: the new webhook, or the problems. */
	function create(body) {
		const problems = validate(body);
		if (problems.length) return { problems };
		const webhook = {
			id: hexId(),
			url: body.url,
			events: [...body.events],
			secret: body.secret,
			createdAt: isoSeconds(Date.now()),
		};
		webhooks.set(webhook.id, webhook);
		log(`[sparkbot-sim] webhook ${webhook.id} registered for ${webhook.url}`);
		return { webhook: toWire(webhook) };
	}

	function remove(id) {
		const existed = webhooks.delete(id);
		if (existed) log(`[sparkbot-sim] webhook ${id} deleted`);
		return existed;
	}

	/** One POST of `body` with `headers` to `url`: its status, or the error. */
	function post(url, headers, body, timeoutMs) {
		return new Promise((resolve) => {
			const started = Date.now();
			const target = new URL(url);
			const client = target.protocol === 'https:' ? https : http;
			const req = client.request(
				target,
				{
					method: 'POST',
					headers: {
						'Content-Type': 'application/json',
						'Content-Length': body.length,
						'User-Agent': 'SparkBot-Webhooks/1 (simulator)',
						...headers,
					},
					agent: false,
					timeout: timeoutMs,
				},
				(res) => {
					res.resume();
					res.on('end', () => resolve({ status: res.statusCode, ms: Date.now() - started }));
					res.on('error', (error) =>
						resolve({ status: res.statusCode, error: error.message, ms: Date.now() - started }),
					);
				},
			);
			req.on('timeout', () => req.destroy(new Error('no answer within the timeout')));
			req.on('error', (error) => resolve({ error: error.message, ms: Date.now() - started }));
			req.end(body);
		});
	}

	/** The headers of one attempt, signed as `signature` says. */
	function headersFor(webhook, delivery, body, { signature = 'valid', timestampOffsetSecs = 0 }) {
		const timestamp = String(Math.floor(Date.now() / 1000) + timestampOffsetSecs);
		const headers = {
			'X-SparkBot-Event': delivery.event,
			'X-SparkBot-Delivery': delivery.id,
			'X-SparkBot-Timestamp': timestamp,
		};
		const good = signDelivery(webhook.secret, timestamp, body);
		if (signature === 'valid') headers['X-SparkBot-Signature'] = good;
		if (signature === 'wrong') headers['X-SparkBot-Signature'] = `sha256=${'0'.repeat(64)}`;
		if (signature === 'otherSecret')
			headers['X-SparkBot-Signature'] = signDelivery('a-secret-that-is-not-it', timestamp, body);
		if (signature === 'noTimestamp') {
			headers['X-SparkBot-Signature'] = good;
			delete headers['X-SparkBot-Timestamp'];
		}
		return headers;
	}

	async function attempt(webhook, delivery, body, kind, number, options = {}, headers) {
		const sent = headers ?? headersFor(webhook, delivery, body, options);
		// n8n's answer takes n8n's time, not SparkBot's: the contract's 10 s whatever the time
		// scale (the retries' delays are scaled).
		const timeoutMs = DELIVERY_TIMEOUT_MS;
		const outcome = await post(webhook.url, sent, body, timeoutMs);
		const record = {
			deliveryId: delivery.id,
			webhookId: webhook.id,
			deviceId: delivery.device.id,
			status: outcome.status,
			error: outcome.error,
			kind,
			attempt: number,
			at: Date.now(),
			ms: outcome.ms,
			headers: sent,
		};
		attempts.push(record);
		log(
			`[sparkbot-sim] delivery ${delivery.id} (${kind} #${number}) → ${webhook.url}: ${outcome.status ?? outcome.error} (${outcome.ms} ms)`,
		);
		return record;
	}

	/** A delivery of `device`'s change, as the contract writes it. */
	function makeDelivery(device, { status, previousStatus, updatedAt, created, id }) {
		const wired = wire(device);
		const delivery = {
			id: id ?? hexId(),
			event: 'session:status',
			created: created ?? isoSeconds(Date.now()),
			device: { id: wired.id, alias: wired.alias, phone: wired.phone },
			data: {
				status: status ?? wired.session.status,
				previousStatus: previousStatus ?? null,
				// A change a test makes up happened now, unless it says when.
				updatedAt:
					updatedAt ?? (status === undefined ? wired.session.updatedAt : isoSeconds(Date.now())),
			},
		};
		const body = Buffer.from(JSON.stringify(delivery));
		made.set(delivery.id, { delivery, body });
		return { delivery, body };
	}

	/** Delivers until a 2xx, on SparkBot's schedule; stops when the simulator closes. */
	async function deliverWithRetries(webhook, delivery, body) {
		inProgress++;
		try {
			for (let number = 0; number <= RETRY_DELAYS_MS.length; number++) {
				if (number > 0) await sleep(RETRY_DELAYS_MS[number - 1] * timeScale);
				if (closed || !webhooks.has(webhook.id)) return;
				const record = await attempt(
					webhook,
					delivery,
					body,
					number === 0 ? 'change' : 'retry',
					number + 1,
				);
				if (record.status >= 200 && record.status < 300) return;
			}
		} finally {
			inProgress--;
		}
	}

	/** A session changed: one delivery to each webhook that wants it (not awaited). */
	function sessionChanged(device, previousStatus) {
		for (const webhook of webhooks.values()) {
			if (!webhook.events.includes('session:status')) continue;
			const { delivery, body } = makeDelivery(device, { previousStatus });
			const send = () => void deliverWithRetries(webhook, delivery, body);
			if (paused) held.push(send);
			else send();
		}
	}

	/**
	 * Sends a delivery now, as a test asks (`POST /__sim/deliveries`): of `deviceId`'s session —
	 * its current status, or `status`, `previousStatus`, `updatedAt`, `created` as given — to
	 * `webhookId` (default: every webhook); with delivery ID `id` (a retry or duplicate of an
	 * earlier one: its exact body), signed as `signature` says, its timestamp `timestampOffsetSecs`
	 * from now; `copies` times in a row (each signed afresh, as SparkBot's retries are), or with
	 * `replay` the first attempt's bytes and headers again. Resolves with the attempts.
	 */
	async function deliver(spec, findDevice) {
		const {
			webhookId,
			deviceId,
			id,
			signature = 'valid',
			timestampOffsetSecs = 0,
			copies = 1,
			replay = false,
			...change
		} = spec ?? {};
		if (!SIGNATURES.includes(signature))
			throw new TypeError(`signature must be one of ${SIGNATURES.join(', ')}`);
		if (!Number.isInteger(copies) || copies < 1 || copies > 20)
			throw new RangeError('copies must be an integer 1..20');
		if (!Number.isInteger(timestampOffsetSecs))
			throw new TypeError('timestampOffsetSecs must be an integer');
		const targets = webhookId === undefined ? [...webhooks.values()] : [webhooks.get(webhookId)];
		if (targets.some((w) => w === undefined)) throw new RangeError(`no webhook ${webhookId}`);
		let made_;
		if (id !== undefined && made.has(id) && Object.keys(change).length === 0) made_ = made.get(id);
		else made_ = makeDelivery(findDevice(deviceId), { ...change, id });
		const { delivery, body } = made_;
		const results = [];
		for (const webhook of targets) {
			let first;
			for (let copy = 1; copy <= copies; copy++) {
				const options = { signature, timestampOffsetSecs };
				const headers = replay && first ? first.headers : undefined;
				const record = await attempt(webhook, delivery, body, 'manual', copy, options, headers);
				first ??= record;
				results.push(record);
			}
		}
		return { delivery, attempts: results };
	}

	return {
		webhooks,
		attempts,
		create,
		remove,
		list: () => [...webhooks.values()].map(toWire),
		get: (id) => (webhooks.has(id) ? toWire(webhooks.get(id)) : undefined),
		sessionChanged,
		deliver,
		/** How many automatic deliveries are still being made (held ones included). */
		inProgress: () => inProgress + held.length,
		/** Holds automatic deliveries (as a slow SparkBot would) until `resume()`. */
		pause() {
			paused = true;
		},
		/** Sends the held deliveries, newest first when `reversed` (out of order). */
		resume({ reversed = false } = {}) {
			paused = false;
			const sends = held.splice(0);
			for (const send of reversed ? sends.reverse() : sends) send();
		},
		reset() {
			webhooks.clear();
			attempts.length = 0;
			made.clear();
			held.length = 0;
			paused = false;
		},
		close() {
			closed = true;
		},
	};
}
