#!/usr/bin/env node
// n8n's community-package scanner (@n8n/scan-community-package), run offline on our package.
//
// Its CLI only takes published packages: it checks npm provenance, downloads the attested source
// commit and the tarball, then lints both with `analyzePackage`. We call that same analysis on
// the same two inputs, built here:
//   - the tarball leg: the packed dist/ (every .js, generated wasm glue included, and package.json)
//   - the source leg: the package's source root, pkg-template/ (package.json, nodes/, credentials/)
// The package has no public entry point besides its CLI, so we import its scanner module by path.
//
// Usage: node scripts/scan.mjs [tarball]   (default: `npm pack dist/` into a temporary folder)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const scanner = await import(
	pathToFileURL(require.resolve('@n8n/scan-community-package/scanner/scanner.mjs')).href
);

const work = mkdtempSync(join(tmpdir(), 'sparkbot-scan-'));
try {
	const tarball =
		process.argv[2] ??
		join(
			work,
			JSON.parse(
				execFileSync(
					'npm',
					['pack', join(root, 'dist'), '--pack-destination', work, '--json', '--silent'],
					{ encoding: 'utf8' },
				),
			)[0].filename,
		);
	const unpacked = join(work, 'package');
	execFileSync('tar', ['-xzf', resolve(tarball), '-C', work]);

	// In the repository as committed, pkg-template/package.json is the only package.json named
	// n8n-nodes-sparkbot, so it is where the scanner's findPackageRoot() lands.
	const sourceRoot = join(root, 'pkg-template');
	const legs = [
		['tarball', unpacked, ['**/*.js', 'package.json']],
		['source', sourceRoot, scanner.SOURCE_FILE_PATTERNS],
	];
	let failed = false;
	for (const [name, dir, patterns] of legs) {
		const result = await scanner.analyzePackage(dir, patterns);
		console.log(
			`${result.passed ? '✓' : '✗'} scanner, ${name} leg (${dir === unpacked ? 'the packed tarball' : dir.replace(`${root}/`, '')}): ${result.passed ? 'no violations' : result.message}`,
		);
		if (!result.passed) {
			failed = true;
			if (result.details) console.log(result.details);
		}
	}
	process.exitCode = failed ? 1 : 0;
} finally {
	rmSync(work, { recursive: true, force: true });
}
