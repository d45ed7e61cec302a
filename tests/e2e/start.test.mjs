// `npm start` as a process manager, an IDE's stop button or `timeout` stops it: one signal to the
// npm process alone — not to its whole process group, as a terminal's Ctrl+C is — must stop n8n,
// its task runner and the simulator, and free their ports. Runs the package in dist/ (--no-build)
// in a throwaway demo folder (SPARKBOT_DEMO_FOLDER).
//
// n8n version: the one `npm start` runs (the newest, NEWEST_N8N in scripts/n8n/runtime.mjs).
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { freePort, isPortFree } from '../../scripts/lib/net.mjs';
import { poll } from '../../scripts/lib/wait.mjs';
import { ROOT, e2eRuntime } from './fixtures.mjs';

/** Every process below `pid` (children, their children, …). */
function descendants(pid) {
	let children = [];
	try {
		children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
			.split('\n')
			.map((line) => Number(line.trim()))
			.filter(Boolean);
	} catch {
		// no children
	}
	return children.flatMap((child) => [child, ...descendants(child)]);
}

const alive = (pid) => {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
};

for (const signal of ['SIGTERM', 'SIGINT']) {
	test(`${signal} to the npm process alone stops n8n, its task runner and the simulator`, async (t) => {
		await e2eRuntime(); // the n8n npm start runs, installed before the clock starts
		const folder = mkdtempSync(join(tmpdir(), 'sparkbot-start-'));
		const [port, simPort] = [await freePort(), await freePort()];
		const env = Object.fromEntries(
			Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)),
		);
		const npm = spawn(
			'npm',
			[
				'start',
				'--',
				'--no-build',
				'--quiet-sim',
				'--port',
				String(port),
				'--sim-port',
				String(simPort),
			],
			{
				cwd: ROOT,
				env: { ...env, SPARKBOT_DEMO_FOLDER: folder },
				stdio: ['ignore', 'pipe', 'pipe'],
			},
		);
		let output = '';
		npm.stdout.on('data', (chunk) => (output += chunk));
		npm.stderr.on('data', (chunk) => (output += chunk));
		const exited = new Promise((resolve) => npm.on('exit', resolve));
		try {
			const ready = await poll(() => output.includes('n8n with the SparkBot node is running'), {
				timeoutMs: 180_000,
			});
			assert.ok(ready, `npm start did not get ready:\n${output.slice(-2_000)}`);
			const below = descendants(npm.pid);
			assert.ok(below.length >= 3, `start.mjs, n8n and its task runner run: ${below}`);
			const sentAt = performance.now();
			process.kill(npm.pid, signal);
			const gone = await poll(() => below.every((pid) => !alive(pid)) && !alive(npm.pid), {
				timeoutMs: 20_000,
				pollMs: 100,
			});
			const ms = Math.round(performance.now() - sentAt);
			t.diagnostic(`everything stopped ${ms} ms after ${signal}`);
			assert.ok(
				gone,
				`still running 20 s after ${signal}: ${below.filter(alive)}\n${output.slice(-1_500)}`,
			);
			assert.ok(await isPortFree(port), `n8n's port ${port} is free`);
			assert.ok(await isPortFree(simPort), `the simulator's port ${simPort} is free`);
			await exited;
			assert.match(output, /nothing left running/);
		} finally {
			for (const pid of [npm.pid, ...descendants(npm.pid)]) {
				try {
					process.kill(pid, 'SIGKILL');
				} catch {
					// gone
				}
			}
			rmSync(folder, { recursive: true, force: true });
		}
	});
}
