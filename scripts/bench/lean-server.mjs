// The per-item benchmark's SparkBot: a plain Node `http` server that answers a reboot as the
// contract says, and nothing more — no request log, no faults, no device table. A heavier
// server (the project's simulator) slows every client alike and so hides what each client costs
// on top of the floor.
//
//   node lean-server.mjs <apiKey>      prints LEAN_SERVER_URL=http://127.0.0.1:<port>/v1
import { createServer } from 'node:http';

const [apiKey] = process.argv.slice(2);
const REBOOT = /^\/v1\/devices\/([0-9a-f]{24})\/reboot$/;

const server = createServer((req, res) => {
	const chunks = [];
	req.on('data', (chunk) => chunks.push(chunk));
	req.on('end', () => {
		const match = req.method === 'POST' ? REBOOT.exec(req.url) : null;
		let status = 200;
		let body;
		if (req.headers.token !== apiKey) {
			status = 401;
			body = { status, error: 'unauthorized', message: 'Invalid or missing API key' };
		} else if (!match) {
			status = 404;
			body = { status, error: 'not_found', message: 'No such route' };
		} else {
			const flags = JSON.parse(Buffer.concat(chunks).toString() || '{}');
			body = {
				id: match[1],
				operation: 'reboot',
				status: 'rebooting',
				waited: false,
				synced: flags.sync === true,
				session: { status: 'rebooting', updatedAt: new Date().toISOString() },
				message: 'Session reboot started',
			};
		}
		const text = JSON.stringify(body);
		res.writeHead(status, {
			'Content-Type': 'application/json',
			'Content-Length': Buffer.byteLength(text),
		});
		res.end(text);
	});
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
	console.log(`LEAN_SERVER_URL=http://127.0.0.1:${server.address().port}/v1`);
});
