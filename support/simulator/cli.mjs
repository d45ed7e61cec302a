#!/usr/bin/env node
// Runs the SparkBot simulator as a process. The first stdout line is machine-readable
// (SPARKBOT_SIMULATOR_URL=...); other processes wait for it and parse it. Logs go to stderr.

import { parseArgs } from 'node:util';
import { startSimulator, DEFAULT_API_KEY } from './sparkbot-simulator.mjs';

const USAGE = `Usage: node support/simulator/cli.mjs [options]

  --port N          port to listen on (default 0: any free port)
  --host H          address to listen on (default 127.0.0.1)
  --api-key K       the API key clients must send as header "Token" (default ${DEFAULT_API_KEY})
  --devices N       append N generated devices ("Number 001", ...) to the demo seed
  --wait-ms MS      how long a "wait": true request is held before the session is online (default 50)
  --time-scale F    multiply the 90 s / 120 s wait windows by F (default 1)
  --settle-ms MS    how long a reboot/reset without wait stays in progress (default 0)
  --page-latency-ms MS  how long each page of GET /devices takes (default 0; a large account)
  --verbose         log every request to stderr (the token is never logged)
  --help            show this text
`;

function fail(message) {
	process.stderr.write(`${message}\n\n${USAGE}`);
	process.exit(2);
}

/** A numeric option, or undefined when absent so the library default applies. */
function number(values, name, { integer = false } = {}) {
	const text = values[name];
	if (text === undefined) return undefined;
	const value = Number(text);
	if (text.trim() === '' || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
		fail(`--${name} must be ${integer ? 'an integer' : 'a number'}, got "${text}"`);
	}
	return value;
}

let values;
try {
	({ values } = parseArgs({
		options: {
			port: { type: 'string' },
			host: { type: 'string' },
			'api-key': { type: 'string' },
			devices: { type: 'string' },
			'wait-ms': { type: 'string' },
			'time-scale': { type: 'string' },
			'settle-ms': { type: 'string' },
			'page-latency-ms': { type: 'string' },
			verbose: { type: 'boolean' },
			help: { type: 'boolean' },
		},
	}));
} catch (error) {
	fail(error.message);
}
if (values.help) {
	process.stdout.write(USAGE);
	process.exit(0);
}

let simulator;
try {
	simulator = await startSimulator({
		port: number(values, 'port', { integer: true }),
		host: values.host,
		apiKey: values['api-key'],
		devices: number(values, 'devices', { integer: true }),
		waitMs: number(values, 'wait-ms'),
		timeScale: number(values, 'time-scale'),
		settleMs: number(values, 'settle-ms'),
		pageLatencyMs: number(values, 'page-latency-ms'),
		verbose: values.verbose,
	});
} catch (error) {
	process.stderr.write(`sparkbot-simulator: cannot start: ${error.message}\n`);
	process.exit(1);
}

process.stdout.write(`SPARKBOT_SIMULATOR_URL=${simulator.baseUrl}\n`);
process.stdout.write(
	`SparkBot simulator listening at ${simulator.baseUrl} (API key: ${simulator.apiKey}, header "Token"); ` +
		`controls at ${simulator.origin}/__sim/; press Ctrl+C to stop.\n`,
);

// close() cancels every timer and socket, so the event loop drains and the process exits 0.
// `once`: a second signal during shutdown gets Node's default handling and ends the process.
for (const signal of ['SIGINT', 'SIGTERM']) {
	process.once(signal, () => {
		simulator.close().then(() => {
			process.exitCode = 0;
		});
	});
}
