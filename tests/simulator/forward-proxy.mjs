// A forward HTTP proxy for the tests, the kind n8n's HTTP_PROXY / HTTPS_PROXY / ALL_PROXY point
// at: plain-HTTP requests in absolute form (`POST http://host/path HTTP/1.1`) are forwarded, and
// `CONNECT host:port` opens a tunnel (https). It can be the only way to a host: `hosts` maps names
// that resolve nowhere else (`sparkbot.test`) to an address. It can ask for credentials
// (`auth: 'user:password'` → 407 without them) or refuse every request with a status (`refuse:
// 502`). Every request it sees is logged in `requests` as `{ method, target, authorized }`.
// `intercept: { host: handler }` answers the https requests for a host itself — a company proxy
// that inspects TLS: the tunnel ends at the proxy, with a certificate of `interceptTls` (one the
// client trusts through NODE_EXTRA_CA_CERTS), and `handler(req, res)` answers (the tests' npm
// registry for n8n's community-package installer).
//
//   const proxy = await startForwardProxy({ hosts: { 'sparkbot.test': '127.0.0.1' } });
//   env.HTTPS_PROXY = proxy.url;   // http://127.0.0.1:<port>
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';

/** Starts the proxy on a free loopback port; `close()` stops it and every tunnel. */
export async function startForwardProxy({
	hosts = {},
	auth,
	refuse,
	intercept = {},
	interceptTls,
} = {}) {
	const requests = [];
	const interceptors = new Map(
		Object.entries(intercept).map(([host, handler]) => [
			host.toLowerCase(),
			http.createServer(handler),
		]),
	);
	const sockets = new Set();
	const expected = auth ? `Basic ${Buffer.from(auth).toString('base64')}` : undefined;
	const resolveHost = (host) => hosts[host.toLowerCase()] ?? host;

	/** Whether the request may pass; answers it (407 or `refuse`) when not. */
	function admit(req, answer) {
		const authorized = expected === undefined || req.headers['proxy-authorization'] === expected;
		requests.push({ method: req.method, target: req.url, authorized });
		if (!authorized) {
			answer(407, {
				'Proxy-Authenticate': 'Basic realm="sparkbot-test-proxy"',
				'Content-Type': 'text/html',
			});
			return false;
		}
		if (refuse) {
			answer(refuse, { 'Content-Type': 'text/html' });
			return false;
		}
		return true;
	}

	const server = http.createServer((req, res) => {
		const page = (status) =>
			`<html><head><title>${status} ${http.STATUS_CODES[status]}</title></head><body>test proxy</body></html>`;
		if (!admit(req, (status, headers) => res.writeHead(status, headers).end(page(status)))) return;
		let target;
		try {
			target = new URL(req.url);
		} catch {
			res.writeHead(400, { 'Content-Type': 'text/plain' }).end('absolute-form URL expected');
			return;
		}
		const headers = { ...req.headers };
		delete headers['proxy-authorization'];
		delete headers['proxy-connection'];
		const upstream = http.request(
			{
				host: resolveHost(target.hostname),
				port: target.port || 80,
				method: req.method,
				path: `${target.pathname}${target.search}`,
				headers: { ...headers, host: target.host },
			},
			(answer) => {
				res.writeHead(answer.statusCode, { ...answer.headers, via: '1.1 sparkbot-test-proxy' });
				answer.pipe(res);
			},
		);
		upstream.on('error', () => {
			if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/html' });
			res.end(page(502));
		});
		req.pipe(upstream);
	});

	server.on('connect', (req, client, head) => {
		sockets.add(client);
		client.on('close', () => sockets.delete(client));
		client.on('error', () => client.destroy());
		const answer = (status, headers = {}) => {
			const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
			client.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\n${lines.join('')}\r\n`);
		};
		if (!admit(req, answer)) return;
		const [host, port] = splitHostPort(req.url);
		const interceptor = interceptors.get(host.toLowerCase());
		if (interceptor) {
			client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
			const secure = new tls.TLSSocket(client, { isServer: true, ...interceptTls });
			sockets.add(secure);
			secure.on('close', () => sockets.delete(secure));
			secure.on('error', () => secure.destroy());
			if (head?.length) client.unshift(head);
			interceptor.emit('connection', secure);
			return;
		}
		const upstream = net.connect({ host: resolveHost(host), port: Number(port) || 443 });
		let established = false;
		sockets.add(upstream);
		upstream.on('close', () => sockets.delete(upstream));
		upstream.once('connect', () => {
			established = true;
			client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
			if (head?.length) upstream.write(head);
			upstream.pipe(client);
			client.pipe(upstream);
		});
		upstream.on('error', () => {
			if (established) client.destroy();
			else answer(502, { 'Content-Type': 'text/html' });
		});
	});
	server.on('connection', (socket) => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
	});

	await new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen({ port: 0, host: '127.0.0.1' }, resolve);
	});
	const { port } = server.address();
	const credentials = auth ? `${auth}@` : '';
	return {
		port,
		/** The proxy's URL, with the credentials it asks for (if any). */
		url: `http://${credentials}127.0.0.1:${port}`,
		/** The proxy's URL without credentials. */
		bareUrl: `http://127.0.0.1:${port}`,
		requests,
		close() {
			for (const socket of sockets) socket.destroy();
			return new Promise((resolve) => server.close(() => resolve()));
		},
	};
}

function splitHostPort(authority) {
	if (authority.startsWith('[')) {
		const end = authority.indexOf(']');
		return [authority.slice(1, end), authority.slice(end + 2)];
	}
	const colon = authority.lastIndexOf(':');
	return colon < 0 ? [authority, ''] : [authority.slice(0, colon), authority.slice(colon + 1)];
}
