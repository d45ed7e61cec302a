// Lock files: one process at a time holds a lock. The file is the JSON `{ pid, ...data }` of its
// owner and is complete the moment it exists (written aside, then hard-linked into place: the link
// fails if the file is there already); a lock whose owner no longer runs is taken over.
//
//   const lock = tryLock(file, { url });       // undefined while a live process holds it
//   lock.update({ url });  lock.release();
//   await withLock(file, () => install(), { onWait: (owner) => log(`waiting for pid ${owner?.pid}`) });
//
// Only Node built-ins here (scripts/lib/ runs before `npm ci`).
import { spawnSync } from 'node:child_process';
import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';

import { sleep } from './wait.mjs';

/** The lock files this process holds. */
const held = new Set();

/** Whether process `pid` runs; a pid the system has given to something other than Node counts as gone. */
export function isAlive(pid) {
	if (!Number.isInteger(pid) || pid <= 0) return false;
	try {
		process.kill(pid, 0);
	} catch (error) {
		if (error.code !== 'EPERM') return false;
	}
	// A recycled pid that is not ours any more: only a node process counts.
	const ps = spawnSync('ps', ['-o', 'comm=', '-p', String(pid)], { encoding: 'utf8' });
	return ps.status !== 0 || /node/.test(ps.stdout);
}

/** The lock's `{ pid, ...data }` while another live process holds it; otherwise undefined. */
export function lockOwner(file) {
	const owner = read(file);
	return owner && owner.pid !== process.pid && isAlive(owner.pid) ? owner : undefined;
}

/**
 * Takes lock `file` for this process, with `data` beside the pid. Returns `{ update(data),
 * release() }`, or undefined while a live process (this one included) holds it.
 */
export function tryLock(file, data = {}) {
	if (held.has(file)) return undefined;
	for (;;) {
		const aside = `${file}.${process.pid}.tmp`;
		writeFileSync(aside, content(data));
		try {
			linkSync(aside, file);
			held.add(file);
			return handle(file);
		} catch (error) {
			if (error.code !== 'EEXIST') throw error;
		} finally {
			rmSync(aside, { force: true });
		}
		let text;
		try {
			text = readFileSync(file, 'utf8');
		} catch (error) {
			if (error.code === 'ENOENT') continue; // released just now
			throw error;
		}
		const owner = parse(text);
		// (the pid of this process, but not held by it: left by a process that had the same pid)
		if (owner && owner.pid !== process.pid && isAlive(owner.pid)) return undefined;
		rmSync(file, { force: true }); // its owner is gone (or it is no lock): take it over
	}
}

/**
 * Runs `fn` holding lock `file`, waiting (`pollMs` between tries) while another process holds it;
 * `onWait(owner)` is called once if it has to wait.
 */
export async function withLock(file, fn, { onWait = () => {}, pollMs = 1_000 } = {}) {
	let lock;
	let waited = false;
	while (!(lock = tryLock(file))) {
		if (!waited) onWait(lockOwner(file));
		waited = true;
		await sleep(pollMs);
	}
	try {
		return await fn();
	} finally {
		lock.release();
	}
}

function handle(file) {
	return {
		/** Replaces the data beside the pid (atomically: readers see the old or the new file). */
		update(data = {}) {
			if (!held.has(file)) return;
			const aside = `${file}.${process.pid}.tmp`;
			writeFileSync(aside, content(data));
			renameSync(aside, file);
		},
		/** Removes the lock, if this process still holds it. */
		release() {
			if (!held.delete(file)) return;
			if (read(file)?.pid === process.pid) rmSync(file, { force: true });
		},
	};
}

function content(data) {
	return `${JSON.stringify({ pid: process.pid, ...data })}\n`;
}

function read(file) {
	try {
		return parse(readFileSync(file, 'utf8'));
	} catch {
		return undefined;
	}
}

function parse(text) {
	try {
		const value = JSON.parse(text);
		return value && typeof value === 'object' && Number.isInteger(value.pid) ? value : undefined;
	} catch {
		return undefined;
	}
}
