// What the end-to-end suites start from: the n8n a suite runs (SPARKBOT_E2E_N8N), its runtime,
// and a user folder with the package installed; the package and workflow building blocks they
// share with scripts/ are support/fixtures.mjs, re-exported here.
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { createUserFolder, installPackage } from '../../scripts/n8n/instance.mjs';
import {
	DEFAULT_N8N_VERSION,
	DEFAULT_NODE_MAJOR,
	ensureRuntime,
} from '../../scripts/n8n/runtime.mjs';
import { CREDENTIAL_TYPE, ROOT, TRIGGER_TYPE, packPackage } from '../../support/fixtures.mjs';

export * from '../../support/fixtures.mjs';

/** The n8n an e2e suite runs: `SPARKBOT_E2E_N8N` on Node `SPARKBOT_E2E_NODE` (npm test sets both). */
export const N8N_VERSION = process.env.SPARKBOT_E2E_N8N ?? DEFAULT_N8N_VERSION;
export const NODE_MAJOR = Number(process.env.SPARKBOT_E2E_NODE ?? DEFAULT_NODE_MAJOR);

/**
 * The runtime of that n8n (installed on first use), once the built package is there: an e2e
 * suite installs dist/ into n8n.
 */
export async function e2eRuntime({ log } = {}) {
	for (const file of ['package.json', 'dist/nodes/SparkBot/SparkBot.node.js']) {
		if (!existsSync(join(ROOT, 'dist', file)))
			throw new Error(`dist/ is missing or incomplete (dist/${file}): run \`npm run build\` first`);
	}
	return ensureRuntime({ n8nVersion: N8N_VERSION, nodeMajor: NODE_MAJOR, log });
}

/**
 * What most e2e suites start from: that n8n's runtime and a fresh n8n user folder (removed when
 * the process exits) with the package, packed as users get it, installed in it.
 */
export async function e2eSetup({ log } = {}) {
	const runtime = await e2eRuntime({ log });
	const userFolder = createUserFolder({ removeOnExit: true });
	const tarball = await packPackage();
	try {
		await installPackage(userFolder, tarball);
	} finally {
		rmSync(dirname(tarball), { recursive: true, force: true });
	}
	return { runtime, userFolder };
}

/**
 * SparkBot Trigger polling every minute for session changes that pass `filters`, with the
 * SparkBot API `credential` (`{ id, name }`) — the trigger node the suites publish.
 */
export function pollingTriggerNode({ name = 'SparkBot Trigger', filters = {}, credential }) {
	return {
		name,
		type: TRIGGER_TYPE,
		typeVersion: 1,
		position: [0, 0],
		parameters: {
			pollTimes: { item: [{ mode: 'everyMinute' }] },
			event: 'sessionStatusChanged',
			filters,
		},
		credentials: { [CREDENTIAL_TYPE]: { id: credential.id, name: credential.name } },
	};
}
