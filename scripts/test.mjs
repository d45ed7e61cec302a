#!/usr/bin/env node
// `npm test`: every check of the project, in order, stopping at the first failure.
//   0. set-up, as on a fresh machine (scripts/lib/setup.mjs): the npm packages, the Rust wasm
//      target, the pinned wasm-bindgen CLI (used from cargo's bin folder even when that is not on
//      PATH), and the Debian packages the suites need (installed with apt-get as root; otherwise
//      it stops at once with the command to run)
//   1. formatting: cargo fmt --check and Prettier --check (the JS/TS, n8n's style); Rust: clippy
//      -D warnings (native and wasm32), cargo doc without warnings, native core tests
//   2. the package build (dist/), the TypeScript type check (strict), n8n's lint (`n8n-node
//      lint`, cloud rules, no warnings) and n8n's community-package scanner on the tarball
//   3. wasm-bindgen tests in Node, against a SparkBot simulator started here
//   4. node:test suites: the entry scripts' imports (built-ins only, for a fresh clone), the
//      simulator itself and the built package in dist/ — with the n8n-workflow of
//      devDependencies, then again with the newest n8n's own n8n-workflow
//   5. the compatibility matrix, end to end in a real n8n (each installed once into .runtime/):
//      the newest n8n that installs from the registry (NEWEST_N8N in scripts/n8n/runtime.mjs) and
//      the oldest the README promises (the last 1.x): CLI executions, the editor's REST API, the
//      trigger activated, proxies and the credential's domains, each install path; on the newest
//      also a headless-Chromium session and queue mode (main + 2 workers on Redis and PostgreSQL)
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { startSimulator } from '../support/simulator/sparkbot-simulator.mjs';
import { NEWEST_N8N, OLDEST_N8N, RUNTIME_DIR, ensureRuntime } from './n8n/runtime.mjs';
import {
	SetupError,
	ensureNpmPackages,
	ensureRustToolchain,
	ensureSystemPackages,
	toolEnv,
} from './lib/setup.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Every end-to-end suite, run on the newest n8n. */
const E2E_SUITES = [
	'tests/e2e/n8n.test.mjs',
	'tests/e2e/outbound.test.mjs',
	'tests/e2e/install.test.mjs',
	'tests/e2e/trigger.test.mjs',
	'tests/e2e/webhook.test.mjs',
	'tests/e2e/browser.test.mjs',
	'tests/e2e/queue.test.mjs',
	'tests/e2e/start.test.mjs',
];
/**
 * The suites also run on the oldest n8n: everything but the editor in a browser (the selectors
 * are the newest editor's), queue mode (its set-up is the same code on every version) and
 * `npm start` (which runs the newest).
 */
const E2E_SUITES_OLDEST = [
	'tests/e2e/n8n.test.mjs',
	'tests/e2e/outbound.test.mjs',
	'tests/e2e/install.test.mjs',
	'tests/e2e/trigger.test.mjs',
	'tests/e2e/webhook.test.mjs',
];

/**
 * dist/ copied next to the n8n-workflow of `runtime`'s n8n (a symbolic link to it), where the
 * package resolves that copy: the package suites run against it with SPARKBOT_PACKAGE_DIR.
 */
function packageBeside(runtime) {
	const modules = join(RUNTIME_DIR, `package-tier-${runtime.n8nVersion}`, 'node_modules');
	rmSync(dirname(modules), { recursive: true, force: true });
	mkdirSync(modules, { recursive: true });
	const packageDir = join(modules, 'n8n-nodes-sparkbot');
	cpSync(join(root, 'dist'), packageDir, { recursive: true });
	symlinkSync(join(dirname(runtime.n8nDir), 'n8n-workflow'), join(modules, 'n8n-workflow'), 'dir');
	return packageDir;
}

/** Runs a command without blocking this process (the simulator lives in it). */
function run(title, command, args, env = {}) {
	console.log(`\n━━ ${title}: ${command} ${args.join(' ')}`);
	const started = performance.now();
	return new Promise((resolvePromise, reject) => {
		const child = spawn(command, args, { cwd: root, stdio: 'inherit', env: toolEnv(env) });
		child.on('error', reject);
		child.on('exit', (code, signal) => {
			const seconds = ((performance.now() - started) / 1000).toFixed(1);
			if (code === 0) {
				console.log(`━━ ${title}: ok (${seconds} s)`);
				resolvePromise();
			} else {
				reject(new Error(`${title} failed (${signal ?? `exit code ${code}`}) after ${seconds} s`));
			}
		});
	});
}

/** A set-up step, titled like the others. */
async function setUp(title, fn) {
	console.log(`\n━━ ${title}`);
	const started = performance.now();
	await fn();
	console.log(`━━ ${title}: ok (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

let sim;
try {
	const log = (line) => console.log(`   ${line}`);
	await setUp('set-up: npm packages', () => ensureNpmPackages({ log }));
	await setUp('set-up: Rust wasm target, rustfmt, clippy and wasm-bindgen CLI', () =>
		ensureRustToolchain({ log, components: true }),
	);
	await setUp('set-up: Debian packages for the browser, queue-mode and n8n tests', () =>
		ensureSystemPackages({ log }),
	);
	await run('rustfmt', 'cargo', ['fmt', '--check']);
	await run('prettier (JS/TS format)', 'node', [
		'node_modules/prettier/bin/prettier.cjs',
		'--check',
		'.',
	]);
	// The workspace natively, every feature (the descriptions, the test support); the boundary
	// (and the core under it) for wasm32, where it is built.
	const native = ['--workspace', '--all-targets', '--all-features'];
	const wasm32 = [
		'--package',
		'sparkbot-wasm',
		'--all-targets',
		'--target',
		'wasm32-unknown-unknown',
	];
	await run('clippy (native)', 'cargo', ['clippy', '--quiet', ...native, '--', '-D', 'warnings']);
	await run('clippy (wasm32)', 'cargo', ['clippy', '--quiet', ...wasm32, '--', '-D', 'warnings']);
	for (const [name, args] of [
		['native', ['--workspace', '--all-features']],
		['wasm32', ['--package', 'sparkbot-wasm', '--target', 'wasm32-unknown-unknown']],
	]) {
		await run(`cargo doc (${name})`, 'cargo', ['doc', '--quiet', '--no-deps', ...args], {
			RUSTDOCFLAGS: '-D warnings',
		});
	}
	await run('native core tests', 'cargo', ['test', '--quiet', '--workspace', '--all-features']);
	await run('build', 'node', ['scripts/build.mjs', '--quiet']);
	await run('typecheck', 'node', ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json']);
	await run('n8n lint (n8n-node lint, cloud rules)', 'npm', ['run', '--silent', 'lint']);
	await run("n8n's community-package scanner", 'node', ['scripts/scan.mjs']);

	sim = await startSimulator({ timeScale: 0.01 });
	await run(
		'wasm-bindgen tests (Node)',
		'cargo',
		['test', '--package', 'sparkbot-wasm', '--target', 'wasm32-unknown-unknown', '--test', 'wasm'],
		{
			SPARKBOT_SIM_URL: sim.baseUrl,
			SPARKBOT_SIM_KEY: sim.apiKey,
			// Requests go through the package's own host (the built shared.js) over the package
			// tests' stand-in for n8n's helpers.httpRequest; shared.js requires n8n-workflow (for its
			// error classes), which resolves through NODE_PATH from the runner's temporary folder.
			SPARKBOT_SHARED_JS: join(root, 'dist', 'dist', 'nodes', 'SparkBot', 'shared.js'),
			SPARKBOT_TEST_HELPERS: pathToFileURL(join(root, 'support', 'n8n-helpers.mjs')).href,
			NODE_PATH: join(root, 'node_modules'),
		},
	);
	await sim.close();
	sim = undefined;

	const packageSuites = [
		'--test',
		'--test-concurrency=1',
		'tests/scripts/',
		'tests/simulator/',
		'tests/dist/',
	];
	await run('package tests (dist/ against the simulator)', 'node', packageSuites);
	const newest = await ensureRuntime({ ...NEWEST_N8N, log });
	await run(
		`package tests again, with n8n ${newest.n8nVersion}'s own n8n-workflow`,
		'node',
		['--test', '--test-concurrency=1', 'tests/dist/'],
		{ SPARKBOT_PACKAGE_DIR: packageBeside(newest) },
	);
	for (const [end, suites] of [
		[NEWEST_N8N, E2E_SUITES],
		[OLDEST_N8N, E2E_SUITES_OLDEST],
	]) {
		await run(
			`end to end in n8n ${end.n8nVersion} (Node ${end.nodeMajor})`,
			'node',
			['--test', '--test-concurrency=1', ...suites],
			{ SPARKBOT_E2E_N8N: end.n8nVersion, SPARKBOT_E2E_NODE: String(end.nodeMajor) },
		);
	}
} catch (error) {
	console.error(`\n✗ ${error instanceof SetupError ? `set-up: ${error.message}` : error.message}`);
	process.exitCode = 1;
} finally {
	await sim?.close();
}
