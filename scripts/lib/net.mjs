// TCP ports on this machine for the servers the scripts and tests start.
//
// Only Node built-ins here (scripts/lib/ runs before `npm ci`).
import { createServer } from 'node:net';

/** A free TCP port on `host` (free right now: bind it soon, another process may take it). */
export function freePort(host = '127.0.0.1') {
	return new Promise((resolvePromise, reject) => {
		const server = createServer();
		server.unref();
		server.on('error', reject);
		server.listen(0, host, () => {
			const { port } = server.address();
			server.close(() => resolvePromise(port));
		});
	});
}

/** `count` different free ports (freePort may hand out a port again once it was released). */
export async function freePorts(count, host = '127.0.0.1') {
	const ports = new Set();
	while (ports.size < count) ports.add(await freePort(host));
	return [...ports];
}

/** Whether `port` on `host` can be listened on right now. */
export function isPortFree(port, host = '127.0.0.1') {
	return new Promise((resolvePromise) => {
		const server = createServer();
		server.unref();
		server.once('error', () => resolvePromise(false));
		server.listen(port, host, () => server.close(() => resolvePromise(true)));
	});
}
