// Waiting: a pause, and polling a condition until it holds or time runs out.
//
// Only Node built-ins here (scripts/lib/ runs before `npm ci`).
import { tail } from './text.mjs';

/** Resolves after `ms` milliseconds. */
export function sleep(ms) {
	return new Promise((resolvePromise) => setTimeout(resolvePromise, ms));
}

/**
 * Calls `check()` (it may be async) every `pollMs` until it returns something truthy, and resolves
 * with that; resolves `undefined` once the time is up instead (`timeoutMs` from now, or the
 * `Date.now()` time `deadline`): the caller decides what a timeout means.
 */
export async function poll(
	check,
	{ timeoutMs = Infinity, deadline = Date.now() + timeoutMs, pollMs = 200 } = {},
) {
	for (;;) {
		const value = await check();
		if (value) return value;
		if (Date.now() >= deadline) return undefined;
		await sleep(pollMs);
	}
}

/**
 * Like poll(), but a timeout is an error: `<what>: not within <n> s`. With `proc` (a process from
 * startProcess() in scripts/n8n/processes.mjs) it also fails as soon as that process exits, and
 * either error ends with the tail of the process's output.
 */
export async function waitUntil(what, check, { timeoutMs, pollMs = 200, proc } = {}) {
	let exited;
	proc?.exited.then((how) => {
		exited = how;
	});
	const value = await poll(async () => (await check()) || exited, { timeoutMs, pollMs });
	const outputTail = proc ? `\n--- output (tail) ---\n${tail(proc.output(), 40)}` : '';
	if (!value) throw new Error(`${what}: not within ${timeoutMs / 1000} s${outputTail}`);
	if (value === exited) {
		throw new Error(
			`${what}: the process exited (${exited.error?.message ?? exited.signal ?? `code ${exited.code}`})${outputTail}`,
		);
	}
	return value;
}
