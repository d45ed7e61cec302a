// The SparkBot nodes in n8n's real editor, in a real browser (Debian's chromium, headless, driven
// by playwright-core). Two tests, one n8n, one simulator (its demo numbers + 1,000 generated ones):
//
// 1. SparkBot, version 2 (what the nodes panel adds):
//   sign in → new workflow → nodes panel: search "SparkBot" → action "Reboot a WhatsApp session"
//   → the credential is selected → the WhatsApp Number resource locator, From list: the
//   simulator's numbers in the account's order, labelled "Alias (+phone)" → its search box: the
//   digits "5550998" leave exactly Number 998, "SAL" exactly Sales → pick Sales → "Execute step"
//   → the output panel shows the simulator's answer, and the simulator saw
//   POST /v1/devices/<Sales>/reboot → mode By Phone: a malformed phone is flagged, Number
//   998's phone is accepted → "Execute step" reboots Number 998 → the saved workflow (read back
//   over REST) holds { __rl: true, mode: 'phone', value: '+12025550998' } → Reset Session with
//   Delete All Data: the warning, the subtitle on the canvas.
// 2. SparkBot Trigger: new workflow → nodes panel: search "SparkBot" → trigger "On session status
//   changed" → the credential is selected → "Fetch Test Event" → the output panel shows the first
//   20 numbers of the account, each with previousSessionStatus equal to its session's status
//   (a test run without pending changes returns samples), and nothing was sent but list reads.
//
//   node scripts/build.mjs --quiet            # the suite reuses dist/, it does not build
//   node --test tests/e2e/browser.test.mjs
//
// n8n version: SPARKBOT_E2E_N8N (default: the newest, NEWEST_N8N in scripts/n8n/runtime.mjs) on
// Node SPARKBOT_E2E_NODE (default 24); the selectors are those of that n8n's editor.
// Screenshots of every step: .artifacts/screenshots/ (git-ignored; emptied at the start of a
// run), the trigger test's in .artifacts/screenshots/trigger/. A failed step saves
// FAILED-<nn>-<step>.png there and names the step in the error.
// SPARKBOT_UPDATE_DOCS_SCREENSHOTS=1 also copies the dropdown and output screenshots to docs/.
// SPARKBOT_CHROMIUM=<path> uses another chromium than /usr/bin/chromium.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
	DEMO_DEVICES,
	generatedDevice,
	startSimulator,
} from '../../support/simulator/sparkbot-simulator.mjs';
import * as instance from '../../scripts/n8n/instance.mjs';
import { tail } from '../../scripts/lib/text.mjs';
import { poll, waitUntil } from '../../scripts/lib/wait.mjs';
import {
	EXAMPLE_CREDENTIAL,
	NODE_TYPE,
	ROOT,
	TRIGGER_TYPE,
	e2eSetup,
	exampleChatCredential,
	readExamples,
	sparkBotCredential,
} from './fixtures.mjs';
import {
	SCREENSHOT_DIR,
	dismissModalsWhenTheyAppear,
	freshScreenshotDir,
	launchBrowser,
	settled,
	stepRunner,
} from './browser-helpers.mjs';

/** Generated numbers after the demo ones: the list has pages, "5550998" finds Number 998. */
const EXTRA_DEVICES = 1000;
const SALES = DEMO_DEVICES.find((device) => device.alias === 'Sales');
const NUMBER_998 = generatedDevice(998); // "Number 998 (+12025550998)"
const SALES_LABEL = label(SALES); // "Sales (+14155550100)"
const CREDENTIAL_NAME = 'SparkBot (simulator)';
/** What the Trigger's test run returns at most when nothing changed (src/core/trigger.rs). */
const MAX_SAMPLES = 20;
const DOCS_SCREENSHOTS = {
	dropdown: join(ROOT, 'docs', 'sparkbot-dropdown.png'),
	output: join(ROOT, 'docs', 'sparkbot-output.png'),
};

const log = (line) => console.log(line);

/** How the From list labels a number: "Alias (+phone)", the phone alone without an alias. */
function label({ alias, phone }) {
	return alias ? `${alias} (${phone ?? 'no phone yet'})` : phone;
}

/** The actions the nodes panel lists for SparkBot version 2, in the description's order. */
const VERSION_2_ACTIONS = [
	'Reset a WhatsApp session',
	'Reboot a WhatsApp session',
	'Get the QR code of a WhatsApp session',
	'Get a WhatsApp number',
	'Get many WhatsApp numbers',
];

describe('SparkBot nodes in the n8n editor (chromium)', () => {
	let userFolder;
	let sim;
	let n8n;
	let browser;

	before(
		async () => {
			const started = performance.now();
			const setup = await e2eSetup({ log: (line) => log(`  runtime: ${line}`) });
			const { runtime } = setup;
			userFolder = setup.userFolder;
			sim = await startSimulator({ timeScale: 0.001, devices: EXTRA_DEVICES });
			await instance.importCredentials(runtime, userFolder, [
				sparkBotCredential({ apiKey: sim.apiKey, baseUrl: sim.baseUrl, name: CREDENTIAL_NAME }),
				{ ...EXAMPLE_CREDENTIAL, data: { apiKey: sim.apiKey, baseUrl: sim.baseUrl } },
				exampleChatCredential(sim),
			]);
			await instance.importWorkflow(
				runtime,
				userFolder,
				readExamples().filter((workflow) => workflow.id === SELF_HEALING_ID),
			);
			n8n = await instance.startN8n({ runtime, userFolder });
			await instance.setupOwner(n8n.url);
			log(
				`  setup: n8n ${runtime.n8nVersion} at ${n8n.url}, simulator at ${sim.baseUrl} (${((performance.now() - started) / 1000).toFixed(1)} s)`,
			);
			log(`  N8N_USER_FOLDER=${userFolder}`);
		},
		{ timeout: 15 * 60_000 }, // only a first-ever run installs the runtime (minutes); later runs take ~30-60 s
	);

	after(async () => {
		// Each clean-up on its own: one failing must not leave the others undone.
		const attempts = [
			['browser', () => browser?.close()],
			['n8n', () => n8n?.stop()],
			['simulator', () => sim?.close()],
			['user folder', () => instance.removeUserFolder(userFolder)],
		];
		for (const [what, fn] of attempts) {
			try {
				await fn();
			} catch (error) {
				console.error(`  clean-up of the ${what} failed: ${error.message}`);
			}
		}
	});

	/**
	 * The browser both tests share (launched by the first that runs), with its page set up; the
	 * second test signs in only if the first did not get that far.
	 */
	async function browserPage() {
		if (!browser) {
			browser = await launchBrowser();
			const { page } = browser;
			page.setDefaultTimeout(20_000);
			page.setDefaultNavigationTimeout(60_000);
			browser.pageErrors = [];
			page.on('pageerror', (error) => browser.pageErrors.push(error.message));
			await dismissModalsWhenTheyAppear(page, log);
		}
		return browser.page;
	}

	/** Adds the page's last errors and n8n's output to a failed test's error. */
	function explain(error) {
		const pageErrors = browser?.pageErrors ?? [];
		if (pageErrors.length)
			error.message += `\n  page errors:\n    ${pageErrors.slice(-5).join('\n    ')}`;
		if (n8n) error.message += `\n  n8n output (tail):\n${tail(n8n.output(), 15)}`;
		return error;
	}

	/** Fills in the sign-in form (the page shows it) and waits for the overview. */
	async function signIn(page, shot) {
		// The first load of the editor bundle is slow on 2 cores.
		const email = page.getByTestId('emailOrLdapLoginId').locator('input');
		await email.waitFor({ timeout: 60_000 });
		await email.fill(instance.DEFAULT_OWNER.email);
		await page.getByTestId('password').locator('input').fill(instance.DEFAULT_OWNER.password);
		await shot('signin');
		await page.getByTestId('form-submit-button').click();
		await page.waitForURL((url) => !url.pathname.startsWith('/signin'), {
			timeout: 60_000,
		});
		await page.getByTestId('add-resource-workflow').waitFor({ timeout: 60_000 });
	}

	/** Overview → "Create workflow" → an empty canvas. */
	async function openNewWorkflow(page, shot) {
		await page.getByTestId('add-resource-workflow').click();
		await page.waitForURL(/\/workflow\//, { timeout: 60_000 });
		await page.getByTestId('canvas-add-button').waitFor({ timeout: 60_000 });
		await shot('new-workflow');
	}

	/**
	 * On an empty canvas the nodes panel asks for a trigger: searching "SparkBot" shows one item
	 * (n8n merges SparkBot and SparkBot Trigger); clicking it shows Triggers (1) and Actions.
	 */
	async function openSparkBotInNodesPanel(page, shot) {
		await page.getByTestId('node-creator-plus-button').click();
		const creator = page.getByTestId('node-creator');
		await creator.getByTestId('node-creator-search-bar').fill('SparkBot');
		const item = creator
			.getByTestId('node-creator-item-name')
			.getByText('SparkBot', { exact: true });
		await item.waitFor();
		await settled(item);
		await shot('nodes-panel-search');
		await item.click();
		await creator
			.getByTestId('node-creator-category-item')
			.filter({ hasText: /^Triggers \(1\)/ })
			.waitFor();
		return creator;
	}

	/**
	 * The first node of `type` in the workflow open in `page`, as n8n stored it (`GET
	 * /rest/workflows/:id`): the editor saves by itself, so this polls until there is one and
	 * `until(node)` holds (20 s at most; the caller's assertions then say what differs), and fails
	 * naming the node types it found when there is none.
	 */
	async function storedNode(page, type, until) {
		const id = new URL(page.url()).pathname.match(/\/workflow\/([^/]+)/)?.[1];
		assert.ok(id, `a workflow id in ${page.url()}`);
		const { cookie } = await instance.login(n8n.url);
		let workflow;
		const find = () => workflow?.nodes.find((node) => node.type === type);
		await poll(
			async () => {
				workflow = await instance.restRequest(n8n.url, cookie, 'GET', `/rest/workflows/${id}`);
				return find() !== undefined && until(find());
			},
			{ timeoutMs: 20_000, pollMs: 500 },
		);
		const node = find();
		assert.ok(node, `a ${type} node in ${JSON.stringify(workflow?.nodes.map((n) => n.type))}`);
		return node;
	}

	/**
	 * Clicks the node panel's run button ("Execute step", or "Fetch Test Event" for a trigger) and
	 * waits for the run: returns the output panel once it succeeded, fails with the panel's text
	 * (`what` failed) otherwise.
	 */
	async function runInPanel(ndv, what) {
		await ndv.getByTestId('node-execute-button').click();
		const output = ndv.getByTestId('output-panel');
		const success = output.getByTestId('node-run-status-success');
		const failure = output
			.getByTestId('node-error-view')
			.or(output.getByTestId('node-run-status-error'));
		await success.or(failure).first().waitFor({ timeout: 30_000 });
		if (await failure.first().isVisible()) {
			throw new Error(`${what} failed:\n${(await output.innerText()).slice(0, 1_500)}`);
		}
		return output;
	}

	/** n8n preselects the only credential of the type; choose it if it did not. */
	async function selectCredential(page, ndv) {
		const select = ndv.getByTestId('node-credentials-select');
		const input = select.locator('input');
		await input.waitFor();
		if ((await input.inputValue()) !== CREDENTIAL_NAME) {
			await select.click();
			await page.getByRole('option', { name: CREDENTIAL_NAME, exact: true }).click();
		}
		assert.equal(await input.inputValue(), CREDENTIAL_NAME, 'the credential field');
	}

	test(
		'sign in, add SparkBot (version 2), search the numbers, reboot Sales from the list and Number 998 by its phone',
		{ timeout: 5 * 60_000 },
		async () => {
			const testStarted = performance.now();
			const screenshots = freshScreenshotDir();
			const page = await browserPage();
			const { step, shot } = stepRunner(page, { dir: screenshots, log });

			try {
				await step(
					'sign in as the owner',
					async () => {
						await page.goto(`${n8n.url}/signin`);
						await signIn(page, shot);
						// (for the picture only: a fresh instance has no workflows, the list ends up empty)
						await page
							.getByTestId('list-empty-state')
							.waitFor({ timeout: 10_000 })
							.catch(() => {});
						await shot('overview');
					},
					{ timeoutMs: 120_000 },
				);

				const ndv = page.getByTestId('ndv');

				await step('open a new workflow', () => openNewWorkflow(page, shot), {
					timeoutMs: 70_000,
				});

				let creator;
				await step('search "SparkBot" in the nodes panel', async () => {
					creator = await openSparkBotInNodesPanel(page, shot);
				});

				await step('choose the action "Reboot a WhatsApp session"', async () => {
					const action = (name) =>
						creator.getByTestId('node-creator-item-name').getByText(name, { exact: true });
					// The trigger comes first; the actions — every operation of version 2 — are
					// folded away under "Actions (5)".
					await action('On session status changed').waitFor();
					if (!(await action('Reboot a WhatsApp session').isVisible()))
						await creator
							.getByTestId('node-creator-category-item')
							.filter({ hasText: new RegExp(`^Actions \\(${VERSION_2_ACTIONS.length}\\)`) })
							.click();
					for (const name of VERSION_2_ACTIONS) await action(name).waitFor();
					await settled(action('Reset a WhatsApp session')); // the panel slides in
					await shot('actions');
					await action('Reboot a WhatsApp session').click();
					// n8n puts a Manual Trigger in front of the first action node and opens its NDV.
					await ndv.waitFor();
					await ndv.getByTestId('node-parameters').waitFor();
					await settled(ndv);
					const operation = await ndv
						.getByTestId('parameter-input-operation')
						.locator('input')
						.inputValue();
					assert.equal(operation, 'Reboot Session', 'the Operation parameter');
					await shot('node-view');
				});

				await step('the SparkBot credential is selected', () => selectCredential(page, ndv));

				// Version 2's WhatsApp Number: a resource locator; its From list asks the node's
				// getDevices (the editor asks n8n, n8n asks the simulator), one page at a time.
				const numberField = ndv
					.getByTestId('parameter-item')
					.filter({ has: page.getByTestId('resource-locator-device') });
				const mode = ndv.getByTestId('rlc-mode-selector').locator('input');
				const device = ndv.getByTestId('rlc-input');
				const results = page.getByTestId('rlc-item');
				const search = page.getByTestId('rlc-search');
				const shownResults = () =>
					results.allInnerTexts().then((texts) => texts.map((t) => t.trim()));
				const accountOrder = [...sim.devices.values()];

				await step(
					"the WhatsApp Number's From list shows the simulator's numbers",
					async () => {
						await numberField.getByText('WhatsApp Number', { exact: true }).waitFor();
						assert.equal(await mode.inputValue(), 'From list', 'the mode of a new node');
						assert.equal(await device.inputValue(), '', 'no number picked yet');
						await device.click();
						await results.first().waitFor({ timeout: 30_000 });
						await poll(async () => (await results.count()) >= 100, { timeoutMs: 10_000 }); // a page
						const shown = await shownResults();
						log(`    first results: ${shown.slice(0, 8).join(' | ')} … (${shown.length} loaded)`);
						// The account's order: the demo numbers, then the generated ones.
						const expected = accountOrder.slice(0, 8).map(label);
						assert.deepEqual(shown.slice(0, 8), expected, 'the first numbers of the list');
						assert.ok(
							shown.length >= 100 && shown.length < accountOrder.length,
							`a page or two of ${accountOrder.length} numbers is loaded, not all (${shown.length})`,
						);
						const sales = results.filter({ hasText: SALES_LABEL });
						await sales.hover();
						await settled(sales);
						const path = await shot('dropdown');
						copyToDocs(path, DOCS_SCREENSHOTS.dropdown);
					},
					{ timeoutMs: 45_000 },
				);

				/**
				 * Types `filter` into the list's search box as a user does and waits until the list
				 * shows the numbers an alias / phone / ID containing it (case-insensitively): for a
				 * filter of letters only or digits only, a plain substring match (no phone formatting).
				 */
				async function searchFor(filter) {
					const wanted = filter.toLowerCase();
					const expected = accountOrder
						.filter(
							(d) =>
								d.alias?.toLowerCase().includes(wanted) ||
								d.phone?.includes(wanted) ||
								d.id.includes(wanted),
						)
						.map(label);
					await search.fill('');
					await search.pressSequentially(filter, { delay: 40 });
					const same = (shown) =>
						shown.length === expected.length && shown.every((text, i) => text === expected[i]);
					await poll(async () => same(await shownResults()), { timeoutMs: 30_000, pollMs: 250 });
					const shown = await shownResults();
					log(`    "${filter}" → ${shown.join(' | ')}`);
					assert.deepEqual(shown, expected, `the list filtered by "${filter}"`);
					return shown;
				}

				await step(
					'search the list by the digits of a phone: "5550998" → only Number 998',
					async () => {
						assert.deepEqual(await searchFor('5550998'), [label(NUMBER_998)]);
						await shot('search-phone-digits');
					},
					{ timeoutMs: 45_000 },
				);

				await step(
					'search the list by alias: "SAL" → only Sales; pick it',
					async () => {
						assert.deepEqual(await searchFor('SAL'), [SALES_LABEL]);
						await shot('search-alias');
						await results.filter({ hasText: SALES_LABEL }).click();
						await waitUntil(
							`the field shows "${SALES_LABEL}"`,
							async () => (await device.inputValue()) === SALES_LABEL,
							{ timeoutMs: 10_000 },
						);
						assert.equal(await mode.inputValue(), 'From list');
						await shot('picked');
					},
					{ timeoutMs: 45_000 },
				);

				const postsBefore = sim.requests.filter((request) => request.method === 'POST').length;
				assert.equal(postsBefore, 0, 'no POST reached the simulator before executing');

				/** "Execute step", then the output panel's JSON view once the run succeeded. */
				async function executeStep(expectedText) {
					const output = await runInPanel(ndv, 'the node'); // "Execute step" (older: "Test step")
					await output.getByTestId('radio-button-json').click(); // the whole answer, not table columns
					const data = output.getByTestId('ndv-data-container');
					await data.getByText(expectedText).first().waitFor();
					return await data.innerText();
				}

				await step(
					'execute the step and read the output',
					async () => {
						const text = await executeStep(SALES.id);
						assert.match(text, new RegExp(SALES.id), 'the output shows the device id');
						assert.match(text, /"status":\s*"rebooting"/, 'the output shows status "rebooting"');
						assert.match(text, /"operation":\s*"reboot"/, 'the output shows operation "reboot"');
						await page.mouse.move(0, 0); // no hover effects in the picture
						const path = await shot('output');
						copyToDocs(path, DOCS_SCREENSHOTS.output);
					},
					{ timeoutMs: 45_000 },
				);

				await step('the simulator recorded the reboot', async () => {
					const posts = sim.requests.filter((request) => request.method === 'POST');
					assert.deepEqual(
						posts.map((request) => `${request.method} ${request.path}`),
						[`POST /v1/devices/${SALES.id}/reboot`],
						'exactly one POST: the reboot of Sales',
					);
					assert.equal(
						posts[0].headers.token,
						'<redacted:ok>',
						"sent with the credential's API key",
					);
					const lists = sim.requests.filter(
						(request) => request.method === 'GET' && request.path === '/v1/devices',
					);
					assert.ok(lists.length >= 1, 'the list read the devices (GET /v1/devices)');
				});

				await step(
					"mode Phone: a malformed phone is flagged, Number 998's, written with spaces, is accepted",
					async () => {
						await ndv.getByTestId('rlc-mode-selector').click();
						const modes = page.locator('li[data-test-id^="mode-"]');
						assert.deepEqual(
							(await modes.allInnerTexts()).map((text) => text.trim()),
							['From list', 'By ID', 'Phone'],
							'the modes offered',
						);
						await page.getByTestId('mode-phone').click();
						assert.equal(await mode.inputValue(), 'Phone');
						assert.ok(
							await mode.evaluate((input) => input.scrollWidth <= input.clientWidth),
							'the mode selector shows "Phone" whole',
						);
						assert.equal(await device.getAttribute('placeholder'), 'e.g. +1 415 555 0100');
						const issues = numberField.getByTestId('parameter-issues');
						await device.fill('4155550100'); // no +
						await numberField.getByText('WhatsApp Number', { exact: true }).click(); // leave the field
						await issues.waitFor();
						await issues.hover();
						await page
							.getByText('Not a phone number in international format: a + and 8 to 15 digits')
							.waitFor();
						await shot('phone-malformed');
						// As people write it: +1 415 555 0998.
						const spaced = NUMBER_998.phone.replace(/^\+(\d)(\d{3})(\d{3})(\d+)$/, '+$1 $2 $3 $4');
						assert.notEqual(spaced, NUMBER_998.phone);
						await device.fill(spaced);
						await numberField.getByText('WhatsApp Number', { exact: true }).click();
						await issues.waitFor({ state: 'detached', timeout: 5_000 });
						assert.equal(await device.inputValue(), spaced);
						await page.mouse.move(0, 0);
						await shot('phone');
					},
				);

				await step(
					'execute the step: the simulator reboots Number 998',
					async () => {
						const seen = sim.requests.length;
						const text = await executeStep(NUMBER_998.id);
						assert.match(text, /"status":\s*"rebooting"/, 'the output shows status "rebooting"');
						assert.doesNotMatch(text, new RegExp(SALES.id), 'the output is not the earlier one');
						const posts = sim.requests
							.slice(seen)
							.filter((request) => request.method === 'POST')
							.map((request) => `${request.method} ${request.path}`);
						assert.deepEqual(
							posts,
							[`POST /v1/devices/${NUMBER_998.id}/reboot`],
							'exactly one POST: the reboot of Number 998, found by its phone',
						);
						await page.mouse.move(0, 0);
						await shot('output-phone');
					},
					{ timeoutMs: 45_000 },
				);

				await step('the saved workflow holds the number By Phone (REST)', async () => {
					const node = await storedNode(
						page,
						NODE_TYPE,
						(sparkBot) => sparkBot.parameters.device?.mode === 'phone',
					);
					assert.equal(node.typeVersion, 2, 'a new SparkBot node is version 2');
					assert.deepEqual(
						node.parameters.device,
						{
							__rl: true,
							mode: 'phone',
							value: NUMBER_998.phone.replace(/^\+(\d)(\d{3})(\d{3})(\d+)$/, '+$1 $2 $3 $4'),
						},
						'the WhatsApp Number parameter, as written',
					);
				});

				await step(
					'Reset Session with Delete All Data and Empty Queue: a warning for each in the panel, the whole subtitle on the canvas',
					async () => {
						await ndv.getByTestId('parameter-input-operation').click();
						await page
							.getByRole('option')
							.filter({ hasText: /^Reset Session/ })
							.click();
						await ndv.getByPlaceholder('Add Option').first().click();
						await page
							.getByRole('option')
							.filter({ hasText: /^Delete All Data/ })
							.click();
						const warning = ndv.getByText(/^Delete All Data is on: every run permanently deletes/);
						assert.equal(await warning.count(), 0, 'no warning while the option is off');
						await ndv.getByTestId('parameter-input-deleteAllData').locator('.el-switch').click();
						await warning.waitFor();
						await ndv.getByPlaceholder('Add Option').first().click();
						await page
							.getByRole('option')
							.filter({ hasText: /^Empty Queue/ })
							.click();
						await ndv.getByTestId('parameter-input-emptyQueue').locator('.el-switch').click();
						await ndv.getByText(/^Empty Queue is on: every run permanently deletes/).waitFor();
						const timeout = ndv.getByPlaceholder('Add Option').first();
						await timeout.click();
						await page
							.getByRole('option')
							.filter({ hasText: /^Timeout \(Seconds\)/ })
							.waitFor();
						await page
							.getByRole('option')
							.filter({ hasText: /^Retry Refused Requests/ })
							.waitFor();
						await page.keyboard.press('Escape');
						await settled(ndv);
						await shot('reset-delete-all-data');
						await ndv
							.getByTestId('ndv-close-button')
							.or(page.getByTestId('back-to-canvas'))
							.first()
							.click();
						await ndv.waitFor({ state: 'hidden' });
						const subtitle = page.getByText('Reset · deletes data & queue').first();
						await subtitle.waitFor({ timeout: 10_000 });
						assert.ok(
							await subtitle.evaluate((el) => el.scrollWidth <= el.clientWidth),
							'the canvas shows the whole subtitle',
						);
						await shot('canvas-subtitle');
					},
				);

				log(
					`  browser part: ${((performance.now() - testStarted) / 1000).toFixed(1)} s; screenshots in ${screenshots}`,
				);
			} catch (error) {
				throw explain(error);
			}
		},
	);

	test(
		'add SparkBot Trigger, fetch a test event: the watched numbers with their previous session status',
		{ timeout: 3 * 60_000 },
		async () => {
			const testStarted = performance.now();
			const screenshots = freshScreenshotDir(join(SCREENSHOT_DIR, 'trigger'));
			const page = await browserPage();
			const { step, shot } = stepRunner(page, { dir: screenshots, log });
			const ndv = page.getByTestId('ndv');

			try {
				await step(
					'the overview (signed in)',
					async () => {
						await page.goto(`${n8n.url}/home/workflows`);
						const overview = page.getByTestId('add-resource-workflow');
						const signin = page.getByTestId('emailOrLdapLoginId');
						await overview.or(signin).first().waitFor({ timeout: 60_000 });
						if (await signin.isVisible()) await signIn(page, shot); // the first test stopped early
					},
					{ timeoutMs: 120_000 },
				);

				await step('open a new workflow', () => openNewWorkflow(page, shot), {
					timeoutMs: 70_000,
				});

				await step(
					'search "SparkBot", choose the trigger "On session status changed"',
					async () => {
						const creator = await openSparkBotInNodesPanel(page, shot);
						const trigger = creator
							.getByTestId('node-creator-item-name')
							.getByText('On session status changed', { exact: true });
						await settled(trigger);
						await shot('trigger-in-panel');
						await trigger.click();
						await ndv.waitFor();
						await ndv.getByTestId('node-parameters').waitFor();
						await settled(ndv);
						assert.equal(
							(await ndv.getByTestId('node-title-container').innerText()).trim(),
							'SparkBot Trigger',
							'the node is named after the trigger',
						);
						assert.equal(
							await ndv.getByTestId('parameter-input-event').locator('input').inputValue(),
							'Session Status Changed',
							'the Event parameter',
						);
						await shot('trigger-node-view');
					},
				);

				await step('the SparkBot credential is selected', () => selectCredential(page, ndv));

				await step(
					'"Fetch Test Event": the first 20 numbers, previousSessionStatus = their session status',
					async () => {
						sim.clearRequests();
						const fetchButton = ndv.getByTestId('node-execute-button');
						assert.equal((await fetchButton.innerText()).trim(), 'Fetch Test Event');
						const output = await runInPanel(ndv, 'the trigger');
						await output.getByTestId('radio-button-table').click(); // one row per item, every row rendered
						assert.equal(
							(await output.getByTestId('ndv-items-count').innerText()).trim(),
							`${MAX_SAMPLES} items`,
						);
						const rows = await output
							.getByTestId('ndv-data-container')
							.locator('table')
							.first()
							.evaluate((table) => {
								const cells = (tr, tag) =>
									[...tr.querySelectorAll(`:scope > ${tag}`)].map((cell) =>
										cell.innerText.replace(/\s+/g, ' ').trim(),
									);
								const [head] = table.querySelectorAll(':scope > thead > tr');
								const columns = cells(head, 'th');
								return [...table.querySelectorAll(':scope > tbody > tr')].map((tr) =>
									Object.fromEntries(cells(tr, 'td').map((text, i) => [columns[i], text])),
								);
							});
						log(
							`    ${rows.length} rows: ${rows
								.slice(0, 7)
								.map((row) => `${row.alias} ${row.previousSessionStatus}`)
								.join(' | ')} …`,
						);
						// The first 20 numbers of the account, in its order.
						assert.deepEqual(
							rows.map((row) => row.id),
							[...sim.devices.keys()].slice(0, MAX_SAMPLES),
							'the ids shown',
						);
						for (const row of rows) {
							// The session column shows the nested object: "status:online updatedAt:…".
							const status = row.session?.match(/(?:^| )status:(\S+)/)?.[1];
							assert.ok(status, `a session status shown for ${row.id}: "${row.session}"`);
							assert.equal(
								row.previousSessionStatus,
								status,
								`previousSessionStatus of ${row.id} (${row.alias}): its current status`,
							);
						}
						const statuses = new Set(rows.map((row) => row.previousSessionStatus));
						for (const status of ['online', 'offline', 'authorize', 'timeout', 'connecting'])
							assert.ok(statuses.has(status), `a sample whose session is ${status}`);
						assert.deepEqual(
							[...new Set(sim.requests.map((request) => `${request.method} ${request.path}`))],
							['GET /v1/devices'],
							'the test run only listed the numbers',
						);
						await page.mouse.move(0, 0);
						await shot('trigger-output');
					},
					{ timeoutMs: 45_000 },
				);

				await step('the saved workflow holds the SparkBot Trigger (REST)', async () => {
					const node = await storedNode(page, TRIGGER_TYPE, (trigger) => trigger.credentials);
					assert.equal(node.name, 'SparkBot Trigger');
					assert.equal(node.credentials?.sparkBotApi?.name, CREDENTIAL_NAME, 'its credential');
				});

				log(
					`  browser part: ${((performance.now() - testStarted) / 1000).toFixed(1)} s; screenshots in ${screenshots}`,
				);
			} catch (error) {
				throw explain(error);
			}
		},
	);

	test(
		'the self-healing example, executed by hand: only numbers in a watched status are acted on, never a healthy one',
		{ timeout: 3 * 60_000 },
		async () => {
			const screenshots = freshScreenshotDir(join(SCREENSHOT_DIR, 'self-healing'));
			const page = await browserPage();
			const { step, shot } = stepRunner(page, { dir: screenshots, log });
			try {
				await step(
					'open the example (signed in)',
					async () => {
						await page.goto(`${n8n.url}/workflow/${SELF_HEALING_ID}`);
						const canvas = page.getByTestId('execute-workflow-button');
						const signin = page.getByTestId('emailOrLdapLoginId');
						await canvas.or(signin).first().waitFor({ timeout: 60_000 });
						if (await signin.isVisible()) {
							await signIn(page, shot);
							await page.goto(`${n8n.url}/workflow/${SELF_HEALING_ID}`);
						}
						await canvas.waitFor();
						await shot('canvas');
					},
					{ timeoutMs: 120_000 },
				);

				await step(
					'"Execute workflow": the test event holds only offline, timeout and authorize numbers; Sales (online) is not rebooted',
					async () => {
						sim.clearRequests();
						const statusAtStart = new Map(
							[...sim.devices.values()].map((d) => [d.id, d.session?.status]),
						);
						await page.getByTestId('execute-workflow-button').click();
						// The run is over once the canvas shows the last node's result and the
						// simulator has had no new request for a second.
						let seen = -1;
						await poll(
							async () => {
								const stable = sim.requests.length === seen && seen > 0;
								seen = sim.requests.length;
								return stable;
							},
							{ timeoutMs: 60_000, pollMs: 1_000 },
						);
						const actions = sim.requests.filter((r) => r.method === 'POST');
						assert.ok(actions.length > 0, 'the example acted on the numbers it was shown');
						for (const request of actions) {
							const id = request.path.split('/')[3];
							assert.ok(
								['offline', 'timeout'].includes(statusAtStart.get(id)),
								`${request.path}: the number was ${statusAtStart.get(id)}, not a watched status`,
							);
						}
						assert.ok(
							!actions.some((r) => r.path.includes(SALES.id)),
							'Sales is online: never rebooted by a test click',
						);
						await page.mouse.move(0, 0);
						await shot('executed');
					},
					{ timeoutMs: 90_000 },
				);
			} catch (error) {
				throw explain(error);
			}
		},
	);
});

/** The self-healing example's id (examples/sparkbot-self-healing.json). */
const SELF_HEALING_ID = 'SparkBotExHealer';

/** Copies a screenshot to docs/ when SPARKBOT_UPDATE_DOCS_SCREENSHOTS=1 (docs stay unchanged by plain runs). */
function copyToDocs(from, to) {
	if (process.env.SPARKBOT_UPDATE_DOCS_SCREENSHOTS !== '1') return;
	mkdirSync(dirname(to), { recursive: true });
	copyFileSync(from, to);
	log(`    → ${to}`);
}
