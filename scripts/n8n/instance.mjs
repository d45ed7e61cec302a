// Throwaway n8n instances for end-to-end tests and `npm start`, on top of runtime.mjs.
//
//   const rt = await ensureRuntime();
//   const userFolder = createUserFolder({ removeOnExit: true }); // N8N_USER_FOLDER (n8n uses ./.n8n)
//   await installPackage(userFolder, 'n8n-nodes-sparkbot-0.1.0.tgz');
//   await importCredentials(rt, userFolder, [{ id, name, type: 'sparkBotApi', data: { apiKey, baseUrl } }]);
//   await importWorkflow(rt, userFolder, workflow);
//   const result = await executeWorkflow(rt, userFolder, workflow.id);  // n8n execute --id
//   const n8n = await startN8n({ runtime: rt, userFolder });          // n8n start
//   const { cookie } = await setupOwner(n8n.url);                  // DEFAULT_OWNER
//   await getNodeTypes(n8n.url, cookie);  await loadOptions(n8n.url, cookie, { … });
//   await n8n.stop();  removeUserFolder(userFolder);
//
// Every n8n process runs in its own process group and is killed with everything it started
// (its JS task runner) on stop(), on errors, on SIGINT/SIGTERM of this process and, via a
// watchdog, if this process dies.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

import { freePort } from '../lib/net.mjs';
import { tail } from '../lib/text.mjs';
import { waitUntil } from '../lib/wait.mjs';
import { atExit, run, startProcess } from './processes.mjs';
import { npmRoot, runtimeEnv } from './runtime.mjs';

/** The owner account tests use (the password satisfies n8n's rules: 8+ chars, a digit, an upper-case letter). */
export const DEFAULT_OWNER = Object.freeze({
	email: 'owner@sparkbot.test',
	password: 'SparkBot-e2e-0wner',
	firstName: 'Spark',
	lastName: 'Owner',
});

// ─── user folder ──────────────────────────────────────────────────────────────────────────

/**
 * A fresh temporary N8N_USER_FOLDER. n8n keeps everything under `<folder>/.n8n/`: config
 * (encryption key), database.sqlite, community packages in nodes/; we add n8n.log and tmp/.
 * `removeOnExit`: also delete it when this process exits or is interrupted (Ctrl+C).
 */
export function createUserFolder({ prefix = 'n8n-sparkbot-', removeOnExit = false } = {}) {
	const folder = mkdtempSync(join(tmpdir(), prefix));
	mkdirSync(join(folder, '.n8n'), { recursive: true });
	if (removeOnExit)
		exitCleanups.set(
			folder,
			atExit(() => rmSync(folder, { recursive: true, force: true })),
		);
	return folder;
}

const exitCleanups = new Map();

export function removeUserFolder(userFolder) {
	if (!userFolder) return;
	rmSync(userFolder, { recursive: true, force: true });
	exitCleanups.get(userFolder)?.();
	exitCleanups.delete(userFolder);
}

// ─── community package ────────────────────────────────────────────────────────────────────

/**
 * Installs a packed community package (the `npm pack ./dist` tarball) into
 * `<userFolder>/.n8n/nodes` the way n8n 2.x's own installer (Settings → Community nodes)
 * does it: `nodes/package.json` lists installed packages; the package is unpacked into
 * `nodes/node_modules/<name>` with its dev/peer/optional dependencies removed from its
 * package.json, then `npm install --ignore-scripts` runs inside it for its own dependencies.
 * Stripping the peer dependency matters: n8n-workflow must resolve to n8n's own copy, not to
 * a second one (error classes are compared with instanceof).
 *
 * n8n scans `nodes/node_modules/n8n-nodes-*` (and `@*\/n8n-nodes-*`) when it starts, so install
 * before `n8n start` / `n8n execute`; a running n8n does not notice (restart it).
 * Returns `{ name, version, directory }`.
 */
export async function installPackage(userFolder, tarballPath, { timeoutMs = 5 * 60_000 } = {}) {
	const nodesDir = join(userFolder, '.n8n', 'nodes');
	mkdirSync(join(nodesDir, 'node_modules'), { recursive: true });
	const packageJsonPath = join(nodesDir, 'package.json');
	let nodesPackage;
	try {
		nodesPackage = JSON.parse(readFileSync(packageJsonPath, 'utf8'));
	} catch {
		nodesPackage = { name: 'installed-nodes', private: true, dependencies: {} }; // what n8n writes
	}

	// Unpack to a staging folder first: the package name is only known from its package.json.
	const staging = mkdtempSync(join(nodesDir, '.unpack-'));
	try {
		await checked(
			run('tar', ['-xzf', resolve(tarballPath), '-C', staging, '--strip-components=1'], {
				timeoutMs: 60_000,
			}),
			'tar',
		);
		const manifest = JSON.parse(readFileSync(join(staging, 'package.json'), 'utf8'));
		const { devDependencies, peerDependencies, optionalDependencies, ...stripped } = manifest;
		writeFileSync(join(staging, 'package.json'), `${JSON.stringify(stripped, null, 2)}\n`);

		const directory = join(nodesDir, 'node_modules', ...manifest.name.split('/'));
		rmSync(directory, { recursive: true, force: true });
		mkdirSync(join(directory, '..'), { recursive: true });
		renameSync(staging, directory);

		// Same flags as n8n's installer. The package has no dependencies of its own, so this
		// installs nothing — but it would catch a manifest npm cannot install.
		const npm = await run(
			process.execPath,
			[
				join(npmRoot(), 'bin', 'npm-cli.js'),
				'install',
				'--audit=false',
				'--fund=false',
				'--bin-links=false',
				'--install-strategy=shallow',
				'--ignore-scripts=true',
				'--package-lock=false',
				'--no-update-notifier',
			],
			{ cwd: directory, env: runtimeEnv(process.execPath), timeoutMs },
		);
		if (npm.code !== 0)
			throw new Error(`npm install in ${directory} failed:\n${npm.stderr || npm.stdout}`);

		nodesPackage.dependencies = { ...nodesPackage.dependencies, [manifest.name]: manifest.version };
		writeFileSync(packageJsonPath, `${JSON.stringify(nodesPackage, null, 2)}\n`);
		return { name: manifest.name, version: manifest.version, directory };
	} finally {
		rmSync(staging, { recursive: true, force: true });
	}
}

// ─── environment ──────────────────────────────────────────────────────────────────────────

/**
 * Environment of an n8n process for `userFolder`: quiet and offline (see QUIET_N8N_ENV in
 * runtime.mjs), SQLite, plain-HTTP cookies, internal task runner on its own free port (the
 * default 5679 would collide between two n8n processes, `execute` included), temporary files
 * inside the user folder.
 */
export function n8nEnv(runtime, userFolder, extra = {}) {
	const tmp = join(userFolder, 'tmp');
	mkdirSync(tmp, { recursive: true });
	return {
		...runtime.env,
		N8N_USER_FOLDER: userFolder,
		DB_TYPE: 'sqlite',
		N8N_SECURE_COOKIE: 'false', // the auth cookie must work over http://127.0.0.1
		N8N_RUNNERS_MODE: 'internal', // n8n spawns the JS task runner itself (`node` from PATH)
		N8N_RUNNERS_BROKER_LISTEN_ADDRESS: '127.0.0.1',
		N8N_GRACEFUL_SHUTDOWN_TIMEOUT: '5',
		GENERIC_TIMEZONE: 'UTC',
		TZ: 'UTC',
		// n8n puts some files in os.tmpdir() (e.g. n8nDataTableUploads/): keep them in the folder
		TMPDIR: tmp,
		N8N_LOG_LEVEL: 'info',
		...extra,
	};
}

// ─── CLI commands ─────────────────────────────────────────────────────────────────────────

/**
 * Runs `n8n <args>` to completion against `userFolder` (cwd = the user folder, so no stray
 * `.env` is picked up). Resolves `{ code, stdout, stderr, timedOut }`.
 */
export async function runN8nCommand(
	runtime,
	userFolder,
	args,
	{ env = {}, timeoutMs = 3 * 60_000 } = {},
) {
	const brokerPort = await freePort();
	return await run(runtime.nodeBin, [runtime.n8nBin, ...args], {
		cwd: userFolder,
		env: n8nEnv(runtime, userFolder, { N8N_RUNNERS_BROKER_PORT: String(brokerPort), ...env }),
		timeoutMs,
	});
}

/** An n8n-style id (16 alphanumeric characters) for workflows and credentials. */
export function newId() {
	const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
	return Array.from(randomBytes(16), (byte) => alphabet[byte % alphabet.length]).join('');
}

/**
 * `n8n import:credentials --input <file>`. `credentials`: one object or an array of
 * `{ id?, name, type, data }` with `data` in plain text (n8n encrypts it with the instance's
 * key while importing). Imported into the owner's personal project. Returns them with ids.
 */
export async function importCredentials(runtime, userFolder, credentials, options = {}) {
	const list = (Array.isArray(credentials) ? credentials : [credentials]).map((credential) => ({
		id: newId(),
		...credential,
	}));
	await importFile(runtime, userFolder, 'import:credentials', list, options);
	return list;
}

/**
 * `n8n import:workflow --input <file>`. `workflows`: one workflow object or an array of them
 * (`{ id?, name, nodes, connections, settings? }`; node ids are filled in when missing).
 * Imported inactive into the owner's personal project. Returns them with ids.
 */
export async function importWorkflow(runtime, userFolder, workflows, options = {}) {
	const list = (Array.isArray(workflows) ? workflows : [workflows]).map((workflow) => ({
		id: newId(),
		active: false,
		settings: {},
		connections: {},
		...workflow,
		nodes: workflow.nodes.map((node) => ({ id: randomUUID(), ...node })),
	}));
	await importFile(runtime, userFolder, 'import:workflow', list, options);
	return Array.isArray(workflows) ? list : list[0];
}

async function importFile(runtime, userFolder, command, data, options) {
	const file = join(userFolder, `${command.replace(':', '-')}-${Date.now()}-${newId()}.json`);
	writeFileSync(file, JSON.stringify(data, null, 2));
	try {
		const result = await runN8nCommand(runtime, userFolder, [command, `--input=${file}`], options);
		// Failed imports log the reason and may still exit 0; the success line is the proof.
		if (result.code !== 0 || !/Successfully imported/.test(result.stdout + result.stderr)) {
			throw new Error(
				`n8n ${command} failed (exit ${result.code}):\n${tail(result.stdout + result.stderr)}`,
			);
		}
	} finally {
		rmSync(file, { force: true });
	}
}

/**
 * `n8n execute --id <id> --rawOutput`: runs the workflow from its Manual Trigger in a fresh n8n
 * process and returns
 *   ok        the execution finished without error
 *   status    'success' | 'error' | … (IRun.status)
 *   run       the whole IRun n8n printed: { data: { resultData: { runData, error?, lastNodeExecuted } }, status, mode: 'cli', … }
 *   error     resultData.error (a serialized NodeApiError / NodeOperationError …) or undefined
 *   output(nodeName, outputIndex = 0)  → the `json` of every item that node emitted
 *   code, signal, stdout, stderr of the process
 *
 * n8n 2.30 prints the IRun with JSON.stringify(run, null, 2) on stdout — with --rawOutput
 * nothing else of its own, but log lines (task broker, license SDK, warnings) share stdout.
 * On failure the IRun is printed through the logger (level info) and the process exits 1.
 */
export async function executeWorkflow(runtime, userFolder, id, options = {}) {
	const result = await runN8nCommand(
		runtime,
		userFolder,
		['execute', `--id=${id}`, '--rawOutput'],
		options,
	);
	const run = findRunJson(result.stdout) ?? findRunJson(result.stderr);
	if (!run) {
		throw new Error(
			`n8n execute --id=${id} printed no execution (exit ${result.code}${result.timedOut ? ', timed out' : ''}):\n${tail(result.stdout + result.stderr, 40)}`,
		);
	}
	const error = run.data?.resultData?.error;
	return {
		ok: result.code === 0 && !error && run.status === 'success',
		status: run.status,
		run,
		error,
		output: (nodeName, outputIndex = 0) => nodeOutput(run, nodeName, outputIndex),
		code: result.code,
		signal: result.signal,
		stdout: result.stdout,
		stderr: result.stderr,
	};
}

/** The `json` of the items node `nodeName` emitted on output `outputIndex` (last run). */
export function nodeOutput(run, nodeName, outputIndex = 0) {
	const runs = run.data?.resultData?.runData?.[nodeName];
	if (!runs?.length) return undefined;
	return (runs.at(-1).data?.main?.[outputIndex] ?? []).map((item) => item.json);
}

/**
 * Finds the IRun object in n8n's output: a top-level `{` line up to the matching `}` line
 * (JSON.stringify with 2-space indent), last one that parses and looks like a run.
 */
export function findRunJson(text) {
	const lines = text.split('\n');
	let found;
	for (let start = 0; start < lines.length; start++) {
		if (lines[start].trimEnd() !== '{') continue;
		for (let end = start + 1; end < lines.length; end++) {
			if (lines[end].trimEnd() !== '}') continue;
			try {
				const value = JSON.parse(lines.slice(start, end + 1).join('\n'));
				if (
					value &&
					typeof value === 'object' &&
					'data' in value &&
					('status' in value || 'finished' in value)
				) {
					found = value;
					start = end;
				}
			} catch {
				// not JSON (or not the whole object yet)
			}
			break;
		}
	}
	return found;
}

// ─── n8n start ────────────────────────────────────────────────────────────────────────────

/**
 * Starts `n8n start` for `userFolder` on `port` (default: a free one) on 127.0.0.1 and waits
 * until it is fully ready (`/healthz/readiness` answers 200 and the editor URL is printed).
 * Returns `{ url, port, output(), stop(), exited }`. `stop()` kills n8n and its task runner
 * and resolves when they are gone. If n8n exits or does not get ready within `timeoutMs`,
 * everything is killed and the promise rejects with the tail of n8n's output.
 * `logFile` (default `<userFolder>/n8n.log`) gets all output; `onLine(line)` sees it live.
 * `pollMs`: how often readiness is checked (the benchmark times start-up with a short one).
 */
export async function startN8n({
	runtime,
	userFolder,
	port,
	env = {},
	timeoutMs = 120_000,
	logFile,
	onLine,
	pollMs = 250,
} = {}) {
	port ??= await freePort();
	const brokerPort = await freePort();
	const url = `http://127.0.0.1:${port}`;
	const n8n = startProcess(runtime.nodeBin, [runtime.n8nBin, 'start'], {
		cwd: userFolder,
		env: n8nEnv(runtime, userFolder, {
			N8N_PORT: String(port),
			N8N_LISTEN_ADDRESS: '127.0.0.1',
			N8N_HOST: '127.0.0.1',
			N8N_PROTOCOL: 'http',
			N8N_EDITOR_BASE_URL: `${url}/`,
			N8N_RUNNERS_BROKER_PORT: String(brokerPort),
			...env,
		}),
		logFile: logFile ?? join(userFolder, 'n8n.log'),
		onLine,
	});

	try {
		await waitUntil(
			'n8n start',
			async () => /Editor is now accessible via/.test(n8n.output()) && (await isReady(url)),
			{
				timeoutMs,
				pollMs,
				proc: n8n,
			},
		);
	} catch (error) {
		await n8n.stop();
		throw error;
	}
	return { url, port, output: n8n.output, exited: n8n.exited, stop: n8n.stop };
}

async function isReady(url) {
	try {
		const response = await fetch(`${url}/healthz/readiness`, {
			signal: AbortSignal.timeout(2_000),
		});
		await response.body?.cancel();
		return response.status === 200;
	} catch {
		return false;
	}
}

// ─── REST ─────────────────────────────────────────────────────────────────────────────────

/**
 * Creates the owner account of a fresh instance (`POST /rest/owner/setup`, only allowed once)
 * and returns `{ cookie, user }`: `cookie` is the `n8n-auth=…` header value for restRequest.
 * Workflows and credentials imported with the CLI before belong to this owner already.
 */
export async function setupOwner(url, owner = DEFAULT_OWNER) {
	const response = await fetch(`${url}/rest/owner/setup`, {
		method: 'POST',
		headers: { 'Content-Type': 'application/json' },
		body: JSON.stringify(owner),
	});
	const body = await readBody(response);
	if (!response.ok)
		throw new Error(`POST /rest/owner/setup → ${response.status}: ${JSON.stringify(body)}`);
	return { cookie: authCookie(response), user: body?.data };
}

/** `POST /rest/login`; returns `{ cookie, user }` like setupOwner. */
export async function login(url, { email, password } = DEFAULT_OWNER) {
	const response = await fetch(`${url}/rest/login`, {
		method: 'POST',
		headers: { 'Content-Type': 'application/json' },
		body: JSON.stringify({ emailOrLdapLoginId: email, password }),
	});
	const body = await readBody(response);
	if (!response.ok)
		throw new Error(`POST /rest/login → ${response.status}: ${JSON.stringify(body)}`);
	return { cookie: authCookie(response), user: body?.data };
}

function authCookie(response) {
	const cookie = response.headers
		.getSetCookie()
		.map((header) => header.split(';')[0])
		.find((pair) => pair.startsWith('n8n-auth='));
	if (!cookie) throw new Error('n8n did not set the n8n-auth cookie');
	return cookie;
}

/**
 * An authenticated request (`cookie` from setupOwner/login). JSON in, JSON out; n8n's REST
 * envelope `{ data }` is unwrapped. Throws on non-2xx with n8n's error message.
 * No `browser-id` header is sent: n8n binds the session to one only if login sent one.
 */
export async function restRequest(url, cookie, method, path, body) {
	const response = await fetch(`${url}${path}`, {
		method,
		headers: {
			Cookie: cookie,
			Accept: 'application/json',
			...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
		},
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	const parsed = await readBody(response);
	if (!response.ok) {
		const error = new Error(
			`${method} ${path} → ${response.status}: ${parsed?.message ?? JSON.stringify(parsed)}`,
		);
		error.status = response.status;
		error.body = parsed;
		throw error;
	}
	return parsed && typeof parsed === 'object' && !Array.isArray(parsed) && 'data' in parsed
		? parsed.data
		: parsed;
}

/**
 * Activates (n8n 2.x: publishes) a stored workflow: `POST /rest/workflows/:id/activate` with the
 * workflow's current `versionId`, which n8n requires.
 */
export async function activateWorkflow(url, cookie, id) {
	const stored = await restRequest(url, cookie, 'GET', `/rest/workflows/${id}`);
	await restRequest(url, cookie, 'POST', `/rest/workflows/${id}/activate`, {
		versionId: stored.versionId,
	});
}

/** Deactivates (n8n 2.x: unpublishes) a stored workflow: `POST /rest/workflows/:id/deactivate`. */
export async function deactivateWorkflow(url, cookie, id) {
	await restRequest(url, cookie, 'POST', `/rest/workflows/${id}/deactivate`);
}

/**
 * One execution as n8n stored it (`GET /rest/executions/:id`), its run data decoded (n8n stores
 * it with `flatted`, resolved from the runtime's n8n).
 */
export async function executionData(runtime, url, cookie, id) {
	const execution = await restRequest(url, cookie, 'GET', `/rest/executions/${id}`);
	const { parse } = createRequire(join(runtime.n8nDir, 'package.json'))('flatted');
	return { ...execution, data: parse(execution.data) };
}

/** Every node type description the editor knows (`GET /types/nodes.json`, needs a login). */
export async function getNodeTypes(url, cookie) {
	return await restRequest(url, cookie, 'GET', '/types/nodes.json');
}

/**
 * What the editor asks when it fills a dropdown with `typeOptions.loadOptionsMethod`
 * (`POST /rest/dynamic-node-parameters/options`). Returns the options `[{ name, value, … }]`.
 *   nodeType     e.g. 'n8n-nodes-sparkbot.sparkBot'     typeVersion  default 1
 *   methodName   e.g. 'getDevices'                       path  the parameter, e.g. 'device'
 *   credentials  `{ sparkBotApi: { id, name } }` (the node's credential slot → saved credential)
 *   parameters   the node's current parameters
 */
export async function loadOptions(
	url,
	cookie,
	{ nodeType, typeVersion = 1, methodName, path, credentials, parameters = {}, projectId },
) {
	return await restRequest(url, cookie, 'POST', '/rest/dynamic-node-parameters/options', {
		nodeTypeAndVersion: { name: nodeType, version: typeVersion },
		methodName,
		path,
		credentials,
		currentNodeParameters: parameters,
		...(projectId ? { projectId } : {}),
	});
}

/**
 * What the editor asks when a resource locator's From List is opened or searched
 * (`POST /rest/dynamic-node-parameters/resource-locator-results`, `searchListMethod`).
 * Returns `{ results: [{ name, value, … }], paginationToken }`.
 */
export async function resourceLocatorResults(
	url,
	cookie,
	{
		nodeType,
		typeVersion,
		methodName,
		path,
		credentials,
		parameters = {},
		filter,
		paginationToken,
	},
) {
	return await restRequest(
		url,
		cookie,
		'POST',
		'/rest/dynamic-node-parameters/resource-locator-results',
		{
			nodeTypeAndVersion: { name: nodeType, version: typeVersion },
			methodName,
			path,
			credentials,
			currentNodeParameters: parameters,
			...(filter === undefined ? {} : { filter }),
			...(paginationToken === undefined ? {} : { paginationToken }),
		},
	);
}

// ─── helpers ──────────────────────────────────────────────────────────────────────────────

async function readBody(response) {
	const text = await response.text();
	try {
		return JSON.parse(text);
	} catch {
		return text;
	}
}

async function checked(promise, what) {
	const result = await promise;
	if (result.code !== 0)
		throw new Error(`${what} failed (exit ${result.code}): ${result.stderr || result.stdout}`);
	return result;
}
