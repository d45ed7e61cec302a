#!/usr/bin/env node
// The trigger benchmark: how long from a session change to the start of the execution it
// causes, for SparkBot Webhook Trigger (SparkBot calls n8n) and SparkBot Trigger (n8n polls
// every minute, the shortest n8n allows). Real n8n (the newest, NEWEST_N8N), the packed package,
// the project's simulator in this process: `changes` session changes (default 100) on different
// numbers at random moments over `spreadMinutes` (default 5), both workflows published at once;
// each change's latency is the start (`startedAt`) of the execution that reported that number
// minus the moment the simulator changed it. Prints the median and worst of each trigger.
//
// `node scripts/bench/triggers.mjs [--changes N] [--spread-minutes M]`, or as part of
// `npm run bench` (not with --skip-triggers). About spreadMinutes + 2 minutes.
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import {
	activateWorkflow,
	createUserFolder,
	executionData,
	importCredentials,
	importWorkflow,
	installPackage,
	removeUserFolder,
	restRequest,
	setupOwner,
	startN8n,
} from '../n8n/instance.mjs';
import { sleep, waitUntil } from '../lib/wait.mjs';
import { rng } from '../lib/random.mjs';
import { NEWEST_N8N, ensureRuntime } from '../n8n/runtime.mjs';
import {
	CREDENTIAL_TYPE,
	TRIGGER_TYPE,
	WEBHOOK_TRIGGER_TYPE,
	packPackage,
	sparkBotCredential,
} from '../../support/fixtures.mjs';
import { generatedDevice, startSimulator } from '../../support/simulator/sparkbot-simulator.mjs';

const API_KEY = 'bench-triggers-key';

const quantile = (values, q) => {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};
const median = (values) => {
	const sorted = [...values].sort((a, b) => a - b);
	const mid = Math.floor(sorted.length / 2);
	return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

function workflowOf(name, trigger, credential) {
	return {
		name,
		nodes: [
			{
				...trigger,
				name: 'Session changed',
				typeVersion: 1,
				position: [0, 0],
				credentials: { [CREDENTIAL_TYPE]: { id: credential.id, name: credential.name } },
			},
			{
				name: 'Done',
				type: 'n8n-nodes-base.noOp',
				typeVersion: 1,
				position: [240, 0],
				parameters: {},
			},
		],
		connections: { 'Session changed': { main: [[{ node: 'Done', type: 'main', index: 0 }]] } },
		settings: { executionOrder: 'v1' },
	};
}

/**
 * Runs the benchmark; returns `{ changes, webhook: { medianMs, p90Ms, worstMs }, polling: {…} }`
 * (plus every latency in `latencies`).
 */
export async function benchTriggers({ changes = 100, spreadMinutes = 5, log = console.log } = {}) {
	const runtime = await ensureRuntime({ ...NEWEST_N8N, log: (line) => log(`  ${line}`) });
	const sim = await startSimulator({ apiKey: API_KEY, devices: changes, timeScale: 1 });
	const userFolder = createUserFolder({ prefix: 'sparkbot-bench-triggers-', removeOnExit: true });
	let n8n;
	try {
		const tarball = await packPackage();
		await installPackage(userFolder, tarball);
		const [credential] = await importCredentials(
			runtime,
			userFolder,
			sparkBotCredential({ apiKey: API_KEY, baseUrl: sim.baseUrl }),
		);
		const [webhook, polling] = await importWorkflow(runtime, userFolder, [
			workflowOf(
				'bench: SparkBot Webhook Trigger',
				{
					type: WEBHOOK_TRIGGER_TYPE,
					webhookId: randomUUID(),
					parameters: { event: 'sessionStatusChanged', filters: {} },
				},
				credential,
			),
			workflowOf(
				'bench: SparkBot Trigger',
				{
					type: TRIGGER_TYPE,
					parameters: {
						pollTimes: { item: [{ mode: 'everyMinute' }] },
						event: 'sessionStatusChanged',
						filters: {},
					},
				},
				credential,
			),
		]);
		n8n = await startN8n({ runtime, userFolder });
		const { cookie } = await setupOwner(n8n.url);
		await activateWorkflow(n8n.url, cookie, webhook.id);
		await activateWorkflow(n8n.url, cookie, polling.id);
		await waitUntil('the webhook registered', () => sim.webhooks().length === 1, {
			timeoutMs: 60_000,
		});
		// The polling trigger's first poll (its baseline) runs at activation.
		await waitUntil('the baseline poll', () => sim.requests.some((r) => r.path === '/v1/devices'), {
			timeoutMs: 60_000,
		});
		log(
			`  n8n ${runtime.n8nVersion}: ${changes} session changes at random moments over ${spreadMinutes} min`,
		);

		// The changes: number n goes offline at a random moment of the window.
		const r = rng(20261203);
		const start = Date.now() + 2_000;
		const plan = Array.from({ length: changes }, (_, i) => ({
			id: generatedDevice(i + 1).id,
			at: start + Math.floor(r.next() * spreadMinutes * 60_000),
		})).sort((a, b) => a.at - b.at);
		const changedAt = new Map();
		for (const change of plan) {
			await sleep(Math.max(0, change.at - Date.now()));
			changedAt.set(change.id, Date.now());
			sim.setSessionStatus(change.id, 'offline');
		}
		log('  all changes made; waiting for the last poll');

		// Every execution of each workflow, and the numbers each reported.
		const reportedBy = async (workflowId) => {
			const latencies = new Map();
			const read = new Set();
			await waitUntil(
				`every change reported (${workflowId})`,
				async () => {
					for (const summary of await allExecutions(n8n.url, cookie, workflowId)) {
						if (read.has(summary.id) || !summary.startedAt || summary.status === 'running')
							continue;
						read.add(summary.id);
						const { data } = await executionData(runtime, n8n.url, cookie, summary.id);
						const items = data.resultData.runData['Session changed']?.[0]?.data?.main?.[0] ?? [];
						for (const { json } of items)
							if (changedAt.has(json.id) && !latencies.has(json.id))
								latencies.set(json.id, Date.parse(summary.startedAt) - changedAt.get(json.id));
					}
					return latencies.size >= changes;
				},
				{ timeoutMs: 3 * 60_000, pollMs: 5_000 },
			);
			return [...latencies.values()];
		};
		const summary = (values) => ({
			medianMs: median(values),
			p90Ms: quantile(values, 0.9),
			worstMs: Math.max(...values),
		});
		const webhookLatencies = await reportedBy(webhook.id);
		const pollingLatencies = await reportedBy(polling.id);
		return {
			n8n: runtime.n8nVersion,
			changes,
			spreadMinutes,
			webhook: summary(webhookLatencies),
			polling: summary(pollingLatencies),
			latencies: { webhook: webhookLatencies, polling: pollingLatencies },
		};
	} finally {
		await n8n?.stop();
		await sim.close();
		removeUserFolder(userFolder);
	}
}

/**
 * Every execution of a workflow, page by page (at most 100 a page): n8n 2.x pages with the
 * `nextCursor` its answer carries, 1.x with `lastId`.
 */
async function allExecutions(url, cookie, workflowId) {
	const filter = encodeURIComponent(JSON.stringify({ workflowId }));
	const all = [];
	let next = '';
	for (;;) {
		const page = await restRequest(
			url,
			cookie,
			'GET',
			`/rest/executions?filter=${filter}&limit=100${next}`,
		);
		all.push(...page.results);
		if (page.results.length < 100) return all;
		if (typeof page.nextCursor === 'string') next = `&cursor=${page.nextCursor}`;
		else if ('nextCursor' in page) return all;
		else next = `&lastId=${page.results.at(-1).id}`;
	}
}

/** One line per trigger. */
export function reportTriggers(result, say = console.log) {
	const line = (name, s) =>
		say(
			`  ${name.padEnd(25)} median ${s.medianMs.toFixed(0)} ms, 90th percentile ${s.p90Ms.toFixed(0)} ms, worst ${s.worstMs.toFixed(0)} ms`,
		);
	say(`\nSession change → execution start, ${result.changes} changes (n8n ${result.n8n}):`);
	line('SparkBot Webhook Trigger', result.webhook);
	line('SparkBot Trigger (1 min)', result.polling);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
	const { values } = parseArgs({
		options: {
			changes: { type: 'string', default: '100' },
			'spread-minutes': { type: 'string', default: '5' },
		},
	});
	const result = await benchTriggers({
		changes: Number(values.changes),
		spreadMinutes: Number(values['spread-minutes']),
	});
	reportTriggers(result);
	await sleep(0);
}
