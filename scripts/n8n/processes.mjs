// Child processes that never outlive us.
//
// Every child is spawned as the leader of its own process group (`detached: true`), so that
// killing `-pid` also kills what it started (n8n starts a JS task runner, npm starts node-gyp …).
// Live groups are tracked: they are killed when this process exits, on SIGINT/SIGTERM/SIGHUP,
// and — for long-lived children like `n8n start` — by a tiny watchdog process if this process
// dies without a chance to clean up (SIGKILL, OOM). `atExit(fn)` registers more synchronous
// clean-up (temporary folders) for the same moments.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { constants } from 'node:os';

import { lineSplitter } from '../lib/lines.mjs';
import { poll, sleep } from '../lib/wait.mjs';

/** Process group ids (= leader pids) that are still alive. */
const liveGroups = new Set();
/** Synchronous clean-up functions registered with atExit(). */
const cleanups = new Set();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let hooksInstalled = false;

function killGroup(pid, signal) {
	try {
		process.kill(-pid, signal);
		return true;
	} catch {
		return false; // ESRCH: already gone
	}
}

function groupAlive(pid) {
	try {
		process.kill(-pid, 0);
		return true;
	} catch {
		return false;
	}
}

function cleanUpNow() {
	for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
	liveGroups.clear();
	for (const fn of cleanups) {
		try {
			fn();
		} catch {
			// best effort
		}
	}
	cleanups.clear();
}

let signalsDelegated = false;

/**
 * From now on SIGINT/SIGTERM/SIGHUP no longer kill the tracked groups at once: the caller stops
 * them gracefully itself (e.g. `npm start` gives n8n a SIGTERM). The exit hook and the watchdogs
 * stay, so nothing outlives this process.
 */
export function delegateSignals() {
	signalsDelegated = true;
}

function onSignal(signal) {
	if (signalsDelegated) return;
	cleanUpNow();
	removeHooks();
	// Exit as the signal would have (128 + number) — unless someone else handles it.
	if (process.listenerCount(signal) === 0) process.exit(128 + (constants.signals[signal] ?? 0));
}

function updateHooks() {
	const wanted = liveGroups.size > 0 || cleanups.size > 0;
	if (wanted && !hooksInstalled) {
		hooksInstalled = true;
		process.on('exit', cleanUpNow);
		for (const signal of SIGNALS) process.on(signal, onSignal);
	} else if (!wanted) {
		removeHooks();
	}
}

function removeHooks() {
	if (!hooksInstalled) return;
	hooksInstalled = false;
	process.off('exit', cleanUpNow);
	for (const signal of SIGNALS) process.off(signal, onSignal);
}

function track(pid) {
	liveGroups.add(pid);
	updateHooks();
}

function untrack(pid) {
	liveGroups.delete(pid);
	updateHooks();
}

/**
 * Runs `fn` (synchronous) when this process exits or gets SIGINT/SIGTERM/SIGHUP, after the
 * tracked children are killed. Returns a function that unregisters it.
 */
export function atExit(fn) {
	cleanups.add(fn);
	updateHooks();
	return () => {
		cleanups.delete(fn);
		updateHooks();
	};
}

/**
 * Kills a whole process group: SIGTERM, then SIGKILL after `graceMs` if anything of it is
 * still alive. Resolves once the group is gone.
 */
export async function killTree(pid, { graceMs = 10_000 } = {}) {
	if (!pid) return;
	if (killGroup(pid, 'SIGTERM')) {
		await poll(() => !groupAlive(pid), { timeoutMs: graceMs, pollMs: 100 });
		killGroup(pid, 'SIGKILL');
		await poll(() => !groupAlive(pid), { timeoutMs: 5_000, pollMs: 100 });
	}
	untrack(pid);
}

/**
 * Starts a watchdog (its own process group, plain `node`) that kills process group `pid`
 * as soon as this process is gone. Returns a function that stops the watchdog.
 */
export function startWatchdog(pid) {
	// The parent counts as gone when the watchdog has been re-parented (its ppid changed): a
	// killed parent can linger as a zombie, which `kill(pid, 0)` still reports as alive.
	const script = `
		const [parent, group] = process.argv.slice(1).map(Number);
		const alive = (p) => { try { process.kill(p, 0); return true; } catch { return false; } };
		setInterval(() => {
			if (!alive(-group)) process.exit(0);
			if (process.ppid !== parent || !alive(parent)) {
				try { process.kill(-group, 'SIGKILL'); } catch {}
				process.exit(0);
			}
		}, 500);`;
	const child = spawn(process.execPath, ['-e', script, String(process.pid), String(pid)], {
		detached: true,
		stdio: 'ignore',
	});
	child.unref();
	track(child.pid);
	return () => {
		killGroup(child.pid, 'SIGKILL');
		untrack(child.pid);
	};
}

/**
 * Spawns `command args` in its own process group and tracks it until it exits.
 * Output is collected (stdout/stderr as strings) and optionally teed to `logFile` and to
 * `onLine(line, stream)`. Resolves `{ code, signal, stdout, stderr, timedOut, idle }`; never
 * rejects for a non-zero exit (check `code`).
 *
 * - `timeoutMs`: kill the group after this long (total).
 * - `idleTimeoutMs`: kill the group if it prints nothing for this long (hang detection).
 */
export function run(
	command,
	args,
	{ cwd, env, timeoutMs, idleTimeoutMs, logFile, onLine, input } = {},
) {
	const stdin = input === undefined ? 'ignore' : 'pipe';
	const child = spawn(command, args, { cwd, env, detached: true, stdio: [stdin, 'pipe', 'pipe'] });
	const result = { code: null, signal: null, stdout: '', stderr: '', timedOut: false, idle: false };
	if (child.pid) track(child.pid);
	const log = logFile ? createWriteStream(logFile, { flags: 'a' }) : undefined;
	log?.on('error', () => {}); // a log that cannot be written must not crash us

	let idleTimer;
	const kick = () => {
		if (!idleTimeoutMs) return;
		clearTimeout(idleTimer);
		idleTimer = setTimeout(() => {
			result.idle = true;
			killTree(child.pid, { graceMs: 2_000 });
		}, idleTimeoutMs);
	};
	const totalTimer = timeoutMs
		? setTimeout(() => {
				result.timedOut = true;
				killTree(child.pid, { graceMs: 2_000 });
			}, timeoutMs)
		: undefined;
	kick();

	for (const stream of ['stdout', 'stderr']) {
		const toLines = onLine && lineSplitter((line) => onLine(line, stream));
		child[stream].setEncoding('utf8');
		child[stream].on('data', (chunk) => {
			result[stream] += chunk;
			log?.write(chunk);
			kick();
			toLines?.(chunk);
		});
	}
	if (child.stdin) {
		child.stdin.on('error', () => {}); // EPIPE if it exits without reading
		child.stdin.end(input);
	}

	return new Promise((resolvePromise, reject) => {
		child.on('error', (error) => {
			clearTimeout(idleTimer);
			clearTimeout(totalTimer);
			if (child.pid) untrack(child.pid);
			log?.end();
			reject(error);
		});
		// The leader is gone: make sure nothing it started lingers in its group (and keeps the
		// pipes open, which would delay 'close' forever).
		child.on('exit', () => killGroup(child.pid, 'SIGKILL'));
		child.on('close', async (code, signal) => {
			clearTimeout(idleTimer);
			clearTimeout(totalTimer);
			untrack(child.pid);
			result.code = code;
			result.signal = signal;
			if (log) {
				log.end();
				await once(log, 'close').catch(() => {});
			}
			resolvePromise(result);
		});
	});
}

/**
 * Spawns a long-lived process in its own process group (stdout/stderr piped to `onLine` and
 * `logFile`), guarded by a watchdog. Returns `{ child, exited, output(), stop() }`
 * (`exited` resolves `{ code, signal }` when the process ends, for whatever reason); `stop()` kills the
 * whole group (SIGTERM, then SIGKILL after `graceMs`) and is safe to call more than once.
 */
export function startProcess(command, args, { cwd, env, logFile, onLine, graceMs = 10_000 } = {}) {
	const child = spawn(command, args, {
		cwd,
		env,
		detached: true,
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	if (!child.pid) {
		// spawn failed (e.g. ENOENT); the 'error' event carries the reason.
		const exited = once(child, 'error').then(([error]) => ({ code: null, signal: null, error }));
		return { child, exited, output: () => '', stop: async () => {} };
	}
	track(child.pid);
	const stopWatchdog = startWatchdog(child.pid);
	const log = logFile ? createWriteStream(logFile, { flags: 'a' }) : undefined;
	log?.on('error', () => {}); // a log that cannot be written must not crash us
	let output = '';
	for (const stream of ['stdout', 'stderr']) {
		const toLines = onLine && lineSplitter((line) => onLine(line, stream));
		child[stream].setEncoding('utf8');
		child[stream].on('data', (chunk) => {
			output += chunk;
			if (output.length > 2_000_000) output = output.slice(-1_000_000);
			log?.write(chunk);
			toLines?.(chunk);
		});
	}
	child.on('exit', () => killGroup(child.pid, 'SIGKILL')); // leftovers of a crashed leader
	const exited = new Promise((resolvePromise) => {
		child.on('close', (code, signal) => {
			untrack(child.pid);
			stopWatchdog();
			resolvePromise({ code, signal });
		});
	});

	let stopping;
	const stop = () => {
		stopping ??= (async () => {
			await killTree(child.pid, { graceMs });
			stopWatchdog();
			await Promise.race([exited, sleep(2_000)]);
			log?.end();
		})();
		return stopping;
	};
	return { child, exited, output: () => output, stop };
}
