// What `npm start` and `npm test` set up on a fresh machine before they build: the Rust wasm
// target, the wasm-bindgen CLI at the crate's exact version, the npm packages, and (for the
// tests) the Debian packages the suites need. Each step checks first and does nothing when its
// part is there; a long one says what it does and about how long it takes, once.
//
// Only Node built-ins here: this runs before `npm ci`.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const WASM_TARGET = 'wasm32-unknown-unknown';

/** Where `cargo install` puts binaries: `${CARGO_HOME:-~/.cargo}/bin`. */
export function cargoBin() {
	return join(process.env.CARGO_HOME || join(homedir(), '.cargo'), 'bin');
}

let toolchainBin;

/**
 * The active Rust toolchain's own bin folder (`rustc --print sysroot`/bin): `cargo-fmt`,
 * `cargo-clippy` and `rustdoc` are there even when rustup's proxies for them are not on PATH
 * (an empty CARGO_HOME, a PATH with only `cargo`). Undefined without rustc.
 */
function rustToolchainBin() {
	if (toolchainBin === undefined) {
		try {
			const sysroot = execFileSync('rustc', ['--print', 'sysroot'], {
				encoding: 'utf8',
				stdio: ['ignore', 'pipe', 'ignore'],
			}).trim();
			toolchainBin = sysroot ? join(sysroot, 'bin') : '';
		} catch {
			toolchainBin = '';
		}
	}
	return toolchainBin || undefined;
}

/**
 * The environment for cargo and the wasm tools: cargo's bin folder first on PATH, then the
 * toolchain's own, then whatever PATH was.
 */
export function toolEnv(extra = {}) {
	const folders = [cargoBin(), rustToolchainBin(), process.env.PATH ?? ''].filter(Boolean);
	return { ...process.env, PATH: folders.join(delimiter), ...extra };
}

/** An error a set-up step reports as is (no stack): what is missing and what to do. */
export class SetupError extends Error {}

function output(command, args, options = {}) {
	try {
		return execFileSync(command, args, {
			encoding: 'utf8',
			stdio: ['ignore', 'pipe', 'pipe'],
			env: toolEnv(),
			...options,
		}).trim();
	} catch {
		return undefined;
	}
}

/** Runs a command with its output shown; resolves with its exit code. */
export function runShown(command, args, options = {}) {
	return new Promise((resolvePromise, reject) => {
		const child = spawn(command, args, { cwd: ROOT, stdio: 'inherit', env: toolEnv(), ...options });
		child.on('error', reject);
		child.on('exit', (code, signal) => resolvePromise(code ?? (signal ? 1 : 0)));
	});
}

/** The wasm-bindgen version Cargo.lock pins (the CLI must be exactly this one). */
export function wantedWasmBindgen() {
	const lock = readFileSync(join(ROOT, 'Cargo.lock'), 'utf8');
	const version = lock.match(/name = "wasm-bindgen"\nversion = "([^"]+)"/)?.[1];
	if (!version) throw new SetupError('Cargo.lock names no wasm-bindgen version');
	return version;
}

/**
 * The Rust side: cargo present, the wasm32 target added, with `components` (the tests) rustfmt
 * and clippy, wasm-bindgen-cli installed at the crate's version. Returns the path of the
 * `wasm-bindgen` binary to use.
 */
export async function ensureRustToolchain({ log = console.log, components = false } = {}) {
	if (!output('cargo', ['--version'])) {
		throw new SetupError(
			'cargo was not found: install Rust with rustup (https://rustup.rs), then run this again',
		);
	}
	const sysroot = output('rustc', ['--print', 'sysroot']);
	const hasTarget = sysroot && existsSync(join(sysroot, 'lib', 'rustlib', WASM_TARGET));
	if (!hasTarget) {
		log(`adding the Rust target ${WASM_TARGET} (rustup target add; about a minute, once)`);
		if ((await runShown('rustup', ['target', 'add', WASM_TARGET])) !== 0) {
			throw new SetupError(`rustup target add ${WASM_TARGET} failed`);
		}
	}
	if (
		components &&
		!(output('cargo', ['fmt', '--version']) && output('cargo', ['clippy', '--version']))
	) {
		log('adding the Rust components rustfmt and clippy (rustup component add; once)');
		if ((await runShown('rustup', ['component', 'add', 'rustfmt', 'clippy'])) !== 0) {
			throw new SetupError('rustup component add rustfmt clippy failed');
		}
	}
	const wanted = wantedWasmBindgen();
	const versionOf = (binary) => output(binary, ['--version'])?.split(' ')[1];
	const candidates = [join(cargoBin(), 'wasm-bindgen'), 'wasm-bindgen'];
	const found = candidates.find((binary) => versionOf(binary) === wanted);
	if (found) return found;
	log(
		`installing wasm-bindgen-cli ${wanted} into ${cargoBin()} (cargo install; 2–3 minutes, once)`,
	);
	for (let attempt = 1; attempt <= 2; attempt++) {
		// No --locked: the registry mirror lacks some of the versions its lock file pins.
		const code = await runShown('cargo', [
			'install',
			'--quiet',
			'wasm-bindgen-cli',
			'--version',
			wanted,
		]);
		if (code === 0 && versionOf(join(cargoBin(), 'wasm-bindgen')) === wanted)
			return join(cargoBin(), 'wasm-bindgen');
		log(`cargo install failed (attempt ${attempt})`);
	}
	throw new SetupError(
		`could not install wasm-bindgen-cli ${wanted}: run \`cargo install wasm-bindgen-cli --version ${wanted}\` to see why`,
	);
}

/** `npm ci` when node_modules/ does not match package-lock.json (bounded and retried: the registry mirror can hang). */
export async function ensureNpmPackages({ log = console.log } = {}) {
	const lockHash = createHash('sha256')
		.update(readFileSync(join(ROOT, 'package-lock.json')))
		.digest('hex');
	const stamp = join(ROOT, 'node_modules', '.sparkbot-lock-hash');
	if (existsSync(stamp) && readFileSync(stamp, 'utf8') === lockHash) return;
	log('installing the npm packages (npm ci; 1–3 minutes, once)');
	for (let attempt = 1; attempt <= 3; attempt++) {
		const code = await runShown('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
			timeout: 600_000,
		});
		if (code === 0) {
			writeFileSync(stamp, lockHash);
			return;
		}
		log(`npm ci failed (attempt ${attempt} of 3)`);
	}
	throw new SetupError('npm ci failed three times (see above)');
}

/** The Debian packages the test suites need, each with how to tell it is there. */
const SYSTEM_PACKAGES = [
	{
		packages: ['chromium'],
		present: () => existsSync(process.env.SPARKBOT_CHROMIUM ?? '/usr/bin/chromium'),
		why: 'the browser test',
	},
	{
		packages: ['redis-server'],
		present: () => Boolean(output('redis-server', ['--version'])),
		why: 'the queue-mode test',
	},
	{ packages: ['postgresql'], present: () => postgresInstalled(), why: 'the queue-mode test' },
	{
		packages: ['openssl'],
		present: () => Boolean(output('openssl', ['version'])),
		why: "the tests' private certificate authority",
	},
	{
		packages: ['python3', 'make', 'g++'],
		present: () => ['python3', 'make', 'g++'].every((tool) => output(tool, ['--version'])),
		why: "building n8n's sqlite3 addon",
	},
];

function postgresInstalled() {
	const base = '/usr/lib/postgresql';
	return (
		existsSync(base) &&
		readdirSync(base).some((version) => existsSync(join(base, version, 'bin', 'postgres')))
	);
}

/**
 * Installs the missing Debian packages with apt-get when running as root; otherwise stops at
 * once with the exact command to run. No suite is skipped for a missing package.
 */
export async function ensureSystemPackages({ log = console.log } = {}) {
	const missing = SYSTEM_PACKAGES.filter((entry) => !entry.present());
	if (missing.length === 0) return;
	const packages = missing.flatMap((entry) => entry.packages);
	const command = `apt-get update && apt-get install -y ${packages.join(' ')}`;
	if (process.getuid?.() !== 0) {
		throw new SetupError(
			`the tests need ${packages.join(', ')} (${[...new Set(missing.map((entry) => entry.why))].join(', ')}); as root, run:\n  ${command}`,
		);
	}
	log(
		`installing ${packages.join(', ')} with apt-get (${[...new Set(missing.map((entry) => entry.why))].join(', ')}; 1–5 minutes, once)`,
	);
	const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
	if ((await runShown('apt-get', ['update', '-q'], { env })) !== 0)
		throw new SetupError('apt-get update failed');
	// Chromium with its recommended fonts (screenshots need them), the others without extras.
	const groups = [
		packages.filter((name) => name === 'chromium'),
		packages.filter((name) => name !== 'chromium'),
	];
	for (const [group, extra] of [
		[groups[0], []],
		[groups[1], ['--no-install-recommends']],
	]) {
		if (group.length === 0) continue;
		if ((await runShown('apt-get', ['install', '-y', '-q', ...extra, ...group], { env })) !== 0) {
			throw new SetupError(`apt-get install ${group.join(' ')} failed`);
		}
	}
	const still = SYSTEM_PACKAGES.filter((entry) => !entry.present());
	if (still.length)
		throw new SetupError(
			`still missing after apt-get: ${still.flatMap((entry) => entry.packages).join(', ')}`,
		);
}
