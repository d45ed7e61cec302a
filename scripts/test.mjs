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
//   4. node:test suites: the simulator itself and the built package in dist/
//   5. end to end in a real n8n 2.30.8 (installed once into .runtime/): CLI executions, the
//      editor's REST API, a headless-Chromium session and queue mode (main + 2 workers on
//      Redis and PostgreSQL); then the CLI and REST part again on the last n8n 1.x
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { startSimulator } from '../tests/simulator/sparkbot-simulator.mjs';
import {
	SetupError,
	ensureNpmPackages,
	ensureRustToolchain,
	ensureSystemPackages,
	toolEnv,
} from './lib/setup.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const E2E_SUITES = [
	'tests/e2e/n8n.test.mjs',
	'tests/e2e/trigger.test.mjs',
	'tests/e2e/browser.test.mjs',
	'tests/e2e/queue.test.mjs',
];

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
	await run('clippy (native)', 'cargo', [
		'clippy',
		'--quiet',
		'--all-targets',
		'--',
		'-D',
		'warnings',
	]);
	await run('clippy (wasm32)', 'cargo', [
		'clippy',
		'--quiet',
		'--all-targets',
		'--target',
		'wasm32-unknown-unknown',
		'--',
		'-D',
		'warnings',
	]);
	for (const target of [[], ['--target', 'wasm32-unknown-unknown']]) {
		await run(
			`cargo doc (${target.length ? 'wasm32' : 'native'})`,
			'cargo',
			['doc', '--quiet', '--no-deps', ...target],
			{ RUSTDOCFLAGS: '-D warnings' },
		);
	}
	await run('native core tests', 'cargo', ['test', '--quiet']);
	await run('build', 'node', ['scripts/build.mjs', '--quiet']);
	await run('typecheck', 'node', ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json']);
	await run('n8n lint (n8n-node lint, cloud rules)', 'npm', ['run', '--silent', 'lint']);
	await run("n8n's community-package scanner", 'node', ['scripts/scan.mjs']);

	sim = await startSimulator({ timeScale: 0.01 });
	await run(
		'wasm-bindgen tests (Node)',
		'cargo',
		['test', '--target', 'wasm32-unknown-unknown', '--test', 'wasm'],
		{
			SPARKBOT_SIM_URL: sim.baseUrl,
			SPARKBOT_SIM_KEY: sim.apiKey,
			// Requests go through the package's own host (the built core.js) over the package
			// tests' stand-in for n8n's helpers.httpRequest; core.js requires n8n-workflow (for its
			// error classes), which resolves through NODE_PATH from the runner's temporary folder.
			SPARKBOT_CORE_JS: join(root, 'dist', 'dist', 'nodes', 'SparkBot', 'core.js'),
			SPARKBOT_TEST_HELPERS: pathToFileURL(join(root, 'tests', 'dist', 'n8n-helpers.mjs')).href,
			NODE_PATH: join(root, 'node_modules'),
		},
	);
	await sim.close();
	sim = undefined;

	await run('package tests (dist/ against the simulator)', 'node', [
		'--test',
		'--test-concurrency=1',
		'tests/simulator/',
		'tests/dist/',
	]);
	await run(
		'end to end in n8n 2.30.8 (Node 24)',
		'node',
		['--test', '--test-concurrency=1', ...E2E_SUITES],
		{
			SPARKBOT_E2E_N8N: '2.30.8',
			SPARKBOT_E2E_NODE: '24',
		},
	);
	await run('end to end in n8n 1.123.81 (Node 22)', 'node', ['--test', 'tests/e2e/n8n.test.mjs'], {
		SPARKBOT_E2E_N8N: '1.123.81',
		SPARKBOT_E2E_NODE: '22',
	});
} catch (error) {
	console.error(`\n✗ ${error instanceof SetupError ? `set-up: ${error.message}` : error.message}`);
	process.exitCode = 1;
} finally {
	await sim?.close();
}
