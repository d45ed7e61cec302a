#!/usr/bin/env node
// Builds the installable n8n community package into dist/:
//   Rust → wasm (cargo) → JS glue (wasm-bindgen, pinned) → wasm-opt -Oz → embedded as base64
//   → one CommonJS file per node/credential (esbuild) → package.json, icons, codex, docs.
// dist/ is the package root (package.json, README, LICENSE); the code lives in dist/dist/, the
// layout n8n's lint and community-package scanner require (`n8n.nodes` entries start with dist/).
// Prints the sizes that matter (final .wasm, gzipped, packed tarball).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

import { ensureNpmPackages, ensureRustToolchain, SetupError, toolEnv } from './lib/setup.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
/** Where the compiled files go inside the package. */
const code = join(dist, 'dist');
const glue = join(root, 'target', 'glue');
const crateName = 'sparkbot_node';
const quiet = process.argv.includes('--quiet');

function run(command, args, options = {}) {
	execFileSync(command, args, {
		cwd: root,
		stdio: quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit',
		env: toolEnv(),
		...options,
	});
}

function log(message) {
	if (!quiet) console.log(message);
}

function kb(bytes) {
	return `${(bytes / 1024).toFixed(1)} KB`;
}

// A fresh clone: the npm packages, the wasm target and the pinned wasm-bindgen CLI first.
let wasmBindgen;
try {
	await ensureNpmPackages({ log: console.log });
	wasmBindgen = await ensureRustToolchain({ log: console.log });
} catch (error) {
	if (!(error instanceof SetupError)) throw error;
	console.error(`✗ ${error.message}`);
	process.exit(1);
}
const { build } = await import('esbuild');

log('› cargo build (wasm32, release)');
run('cargo', [
	'build',
	'--package',
	'sparkbot-wasm',
	'--lib',
	'--release',
	'--target',
	'wasm32-unknown-unknown',
	...(quiet ? ['--quiet'] : []),
]);

log('› wasm-bindgen --target web');
rmSync(glue, { recursive: true, force: true });
run(wasmBindgen, [
	'--target',
	'web',
	// `__wbg_reset_state()`: a fresh instance of the module after a trap (see wasm.ts).
	'--experimental-reset-state-function',
	'--out-dir',
	glue,
	join(root, 'target', 'wasm32-unknown-unknown', 'release', `${crateName}.wasm`),
]);

log('› wasm-opt -Oz');
const rawWasm = join(glue, `${crateName}_bg.wasm`);
const optWasm = join(glue, `${crateName}_bg.opt.wasm`);
// -Oz to a fixed point, then flatten + rereloop and -Oz again: 1.3 KB smaller than -Oz alone.
run(join(root, 'node_modules', '.bin', 'wasm-opt'), [
	'-Oz',
	'--converge',
	'--flatten',
	'--rereloop',
	'-Oz',
	'--converge',
	'--strip-debug',
	'--strip-producers',
	'--enable-bulk-memory',
	'--enable-nontrapping-float-to-int',
	'--enable-sign-ext',
	'--enable-mutable-globals',
	'--enable-reference-types',
	'--enable-multivalue',
	rawWasm,
	'-o',
	optWasm,
]);
const wasmBytes = readFileSync(optWasm);
writeFileSync(
	join(glue, 'wasm-bytes.js'),
	`export const wasmBase64 = ${JSON.stringify(wasmBytes.toString('base64'))};\n`,
);
writeFileSync(
	join(glue, 'wasm-bytes.d.ts'),
	'/** The optimized wasm module, base64-encoded. */\nexport declare const wasmBase64: string;\n',
);

/**
 * Every node requires the one `nodes/SparkBot/shared.js` (the wasm module and the code around it)
 * instead of bundling a copy each: a process loads the module once, and the package carries it
 * once.
 */
const sharedCore = {
	name: 'shared-core',
	setup(builder) {
		builder.onResolve({ filter: /^(\.\/|\.\.\/SparkBot\/)shared$/ }, (args) =>
			args.importer.endsWith('.node.ts') ? { path: args.path, external: true } : undefined,
		);
	},
};

log('› esbuild → dist/');
rmSync(dist, { recursive: true, force: true });
await build({
	entryPoints: {
		'nodes/SparkBot/shared': join(root, 'pkg-template/nodes/SparkBot/shared.ts'),
		'nodes/SparkBot/SparkBot.node': join(root, 'pkg-template/nodes/SparkBot/SparkBot.node.ts'),
		'nodes/SparkBotTrigger/SparkBotTrigger.node': join(
			root,
			'pkg-template/nodes/SparkBotTrigger/SparkBotTrigger.node.ts',
		),
		'nodes/SparkBotWebhookTrigger/SparkBotWebhookTrigger.node': join(
			root,
			'pkg-template/nodes/SparkBotWebhookTrigger/SparkBotWebhookTrigger.node.ts',
		),
		'credentials/SparkBotApi.credentials': join(
			root,
			'pkg-template/credentials/SparkBotApi.credentials.ts',
		),
	},
	outdir: code,
	bundle: true,
	platform: 'node',
	format: 'cjs',
	target: 'node20',
	external: ['n8n-workflow'],
	plugins: [sharedCore],
	define: {
		// The glue only reads import.meta.url when no module is passed to init; we always pass one.
		'import.meta.url': 'undefined',
		// js-sys looks up the global object (globalThis, self, window, global — in that order) for
		// one thing only: whether `queueMicrotask` exists, to schedule Rust futures. The glue gets
		// a frozen scope holding just that function instead of the real global object, so the wasm
		// side can reach nothing else through it (and the package uses no restricted global).
		globalThis: 'wasmGlobalScope',
		global: 'undefined',
		// The glue schedules every poll of a Rust future with queueMicrotask: through a wrapper that
		// reports a task that throws (a trap) instead of leaving it uncaught (wasm-global-scope.ts).
		queueMicrotask: 'wasmQueueMicrotask',
	},
	inject: [join(root, 'pkg-template/nodes/SparkBot/wasm-global-scope.ts')],
	// The glue's only console calls warn about deprecated init() parameters, which we never pass.
	drop: ['console'],
	legalComments: 'none',
	logLevel: 'warning',
});

const template = join(root, 'pkg-template');
for (const [from, to = from] of [
	['nodes/SparkBot/SparkBot.node.json'],
	['nodes/SparkBot/sparkbot.svg'],
	['nodes/SparkBot/sparkbot.dark.svg'],
	['nodes/SparkBotTrigger/SparkBotTrigger.node.json'],
	['nodes/SparkBotWebhookTrigger/SparkBotWebhookTrigger.node.json'],
]) {
	cpSync(join(template, from), join(code, to));
}
cpSync(join(root, 'README.md'), join(dist, 'README.md'));
cpSync(join(root, 'LICENSE'), join(dist, 'LICENSE'));
writeFileSync(join(dist, 'package.json'), readFileSync(join(template, 'package.json')));

// Pack once to report the size users download.
const packDir = join(root, 'target', 'pack');
rmSync(packDir, { recursive: true, force: true });
mkdirSync(packDir, { recursive: true });
const packed = JSON.parse(
	execFileSync('npm', ['pack', dist, '--pack-destination', packDir, '--json', '--silent'], {
		cwd: root,
		encoding: 'utf8',
	}),
)[0];
const coreFile = statSync(join(code, 'nodes/SparkBot/shared.js')).size;
const gzipped = gzipSync(wasmBytes, { level: 9 }).length;
// The sizes only: whether they meet the project's goals is the benchmark's to say (npm run bench).
console.log(
	`built dist/: wasm ${kb(wasmBytes.length)} (gzip ${kb(gzipped)}), ` +
		`shared.js ${kb(coreFile)}, tarball ${packed.filename} ${kb(packed.size)} (${packed.entryCount} files)`,
);
