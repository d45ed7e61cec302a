#!/usr/bin/env node
// `npm run mutants`: mutation testing of the pure core (src/core/) with cargo-mutants, against
// the core's own tests with every feature (`cargo test --lib --all-features`: the proptest
// fuzzing in tests/ would add five seconds to each of ~1,200 mutants). Installs cargo-mutants
// at the pinned version first (a few minutes, once). About 70 minutes on 2 cores with `-j 2`;
// the outcome is in target/mutants/mutants.out/ (caught.txt, missed.txt, timeout.txt,
// unviable.txt).
//
// Not mutated: description.rs (the generated node description, checked against the checked-in
// JSON as a whole) and fake.rs (the tests' own fake). The mutants that remain missed on purpose
// are listed, with why, in docs/development.md.
//
// Extra arguments go to cargo-mutants, e.g. `npm run mutants -- --file src/core/batch.rs` (one
// file) or `-- --iterate` (only the mutants not caught last time).
import { spawnSync } from 'node:child_process';

import { SetupError, cargoBin, runShown } from './lib/setup.mjs';

const CARGO_MUTANTS = '27.1.0';

const installed = spawnSync('cargo', ['mutants', '--version'], { encoding: 'utf8' });
if (!installed.stdout?.includes(CARGO_MUTANTS)) {
	console.log(`installing cargo-mutants ${CARGO_MUTANTS} into ${cargoBin()} (a few minutes, once)`);
	if ((await runShown('cargo', ['install', 'cargo-mutants', '--version', CARGO_MUTANTS])) !== 0) {
		throw new SetupError(`cargo install cargo-mutants --version ${CARGO_MUTANTS} failed`);
	}
}

const extra = process.argv.slice(2);
const files = extra.includes('--file') ? [] : ['--file', 'src/core/**/*.rs'];
process.exitCode = await runShown('cargo', [
	'mutants',
	'--gitignore=true',
	...files,
	'--exclude',
	'src/core/description.rs',
	'--exclude',
	'src/core/fake.rs',
	'--timeout',
	'60',
	'--package',
	'sparkbot-core',
	// The descriptions feature brings in the test that the checked-in descriptors match the
	// code: the labels and help texts in operation.rs are checked there.
	'--all-features',
	'--output',
	'target/mutants',
	...extra,
	'--',
	'--lib',
]);
