// The README's two commands start from a fresh clone: `npm test` and `npm start` install the npm
// packages themselves (scripts/lib/setup.mjs), so nothing they load before that may need one. A
// static import of an npm package anywhere in their module graph fails before the set-up runs
// (ERR_MODULE_NOT_FOUND, as `qrcode` in the simulator once did); packages load with import().

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Every static `import … from '…'`, `import '…'` and `export … from '…'` specifier of `source`. */
export function staticSpecifiers(source) {
	const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
	const pattern =
		/^\s*(?:import|export)\s+(?:type\s+)?(?:[\w*${}\s,]+?\s+from\s+)?['"]([^'"]+)['"]/gm;
	return [...code.matchAll(pattern)].map((match) => match[1]);
}

/** The bare (npm package) specifiers reached from `entry` through relative static imports. */
function packagesReachedFrom(entry) {
	const seen = new Set();
	const packages = [];
	const walk = (file) => {
		if (seen.has(file)) return;
		seen.add(file);
		for (const specifier of staticSpecifiers(readFileSync(file, 'utf8'))) {
			if (specifier.startsWith('.')) walk(resolve(dirname(file), specifier));
			else if (!specifier.startsWith('node:') && !builtinModules.includes(specifier))
				packages.push(`${relative(ROOT, file)} imports '${specifier}'`);
		}
	};
	walk(join(ROOT, entry));
	return { packages, modules: seen.size };
}

describe('the entry scripts load before the set-up has installed the npm packages', () => {
	for (const entry of ['scripts/test.mjs', 'scripts/start.mjs']) {
		it(`${entry}: its static imports reach Node's built-ins only`, () => {
			const { packages, modules } = packagesReachedFrom(entry);
			assert.ok(modules > 3, `${entry} reached only ${modules} modules: the walk is broken`);
			assert.deepEqual(packages, []);
		});
	}

	it('the walk finds every static form of import (and so would catch one)', () => {
		const source = [
			"import a from 'pkg-a';",
			"import { b,\n\tc } from 'pkg-b';",
			"import * as d from 'pkg-c';",
			"import 'pkg-d';",
			"export { e } from 'pkg-e';",
			"import type { F } from 'pkg-f';",
			"// import g from 'not-this';",
			"const h = await import('dynamic-is-fine');",
		].join('\n');
		assert.deepEqual(staticSpecifiers(source), [
			'pkg-a',
			'pkg-b',
			'pkg-c',
			'pkg-d',
			'pkg-e',
			'pkg-f',
		]);
	});
});

describe('support/ is the ground scripts/ and tests/ both stand on', () => {
	it('no module of support/ imports from scripts/ or tests/', () => {
		const files = readdirSync(join(ROOT, 'support'), { recursive: true })
			.filter((name) => name.endsWith('.mjs'))
			.map((name) => join(ROOT, 'support', name));
		assert.ok(files.length >= 5, `found only ${files.length} modules in support/`);
		const upward = files.flatMap((file) =>
			staticSpecifiers(readFileSync(file, 'utf8'))
				.filter((specifier) => specifier.startsWith('.'))
				.map((specifier) => relative(ROOT, resolve(dirname(file), specifier)))
				.filter((target) => !target.startsWith('support/'))
				.map((target) => `${relative(ROOT, file)} imports ${target}`),
		);
		assert.deepEqual(upward, []);
	});
});
