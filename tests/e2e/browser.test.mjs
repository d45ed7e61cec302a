// The SparkBot node in n8n's real editor, in a real browser (Debian's chromium, headless, driven
// by playwright-core):
//
//   sign in → new workflow → nodes panel: search "SparkBot" → action "Reboot a WhatsApp session"
//   → the credential is selected → the WhatsApp Number dropdown lists the simulator's numbers
//   → pick Sales → "Execute step" → the output panel shows the simulator's answer, and the
//   simulator saw POST /v1/devices/<Sales>/reboot.
//
//   node scripts/build.mjs --quiet            # the suite reuses dist/, it does not build
//   node --test tests/e2e/browser.test.mjs
//
// Screenshots of every step: .artifacts/screenshots/ (git-ignored; emptied at the start of a
// run). A failed step saves FAILED-<nn>-<step>.png there and names the step in the error.
// SPARKBOT_UPDATE_DOCS_SCREENSHOTS=1 also copies the dropdown and output screenshots to docs/.
// SPARKBOT_CHROMIUM=<path> uses another chromium than /usr/bin/chromium.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { DEMO_DEVICES, startSimulator } from '../simulator/sparkbot-simulator.mjs';
import { ensureRuntime } from '../../scripts/n8n/runtime.mjs';
import {
	DEFAULT_OWNER,
	createUserFolder,
	importCredentials,
	installPackage,
	removeUserFolder,
	setupOwner,
	startN8n,
} from '../../scripts/n8n/instance.mjs';
import { tail } from '../../scripts/lib/text.mjs';
import { waitUntil } from '../../scripts/lib/wait.mjs';
import { ROOT, packPackage, sparkBotCredential } from './fixtures.mjs';
import {
	dismissModalsWhenTheyAppear,
	freshScreenshotDir,
	launchBrowser,
	settled,
	stepRunner,
} from './browser-helpers.mjs';

const SALES = DEMO_DEVICES.find((device) => device.alias === 'Sales');
const SUPPORT = DEMO_DEVICES.find((device) => device.alias === 'Support');
const SALES_LABEL = `Sales (${SALES.phone})`; // "Sales (+14155550100)"
const SUPPORT_LABEL = `Support (${SUPPORT.phone})`;
const CREDENTIAL_NAME = 'SparkBot (simulator)';
const DOCS_SCREENSHOTS = {
	dropdown: join(ROOT, 'docs', 'sparkbot-dropdown.png'),
	output: join(ROOT, 'docs', 'sparkbot-output.png'),
};

const log = (line) => console.log(line);

describe('SparkBot node in the n8n editor (chromium)', () => {
	let tarballDir;
	let userFolder;
	let sim;
	let n8n;
	let browser;

	before(
		async () => {
			const manifest = join(ROOT, 'dist', 'package.json');
			const nodeFile = join(ROOT, 'dist', 'dist', 'nodes', 'SparkBot', 'SparkBot.node.js');
			if (!existsSync(manifest) || !existsSync(nodeFile)) {
				throw new Error(
					`dist/ is missing or incomplete (${existsSync(manifest) ? nodeFile : manifest}): run \`node scripts/build.mjs --quiet\` first`,
				);
			}
			const started = performance.now();
			const tarball = await packPackage();
			tarballDir = dirname(tarball);
			const runtime = await ensureRuntime({ log: (line) => log(`  runtime: ${line}`) });
			userFolder = createUserFolder({ removeOnExit: true });
			await installPackage(userFolder, tarball);
			sim = await startSimulator({ timeScale: 0.001 });
			await importCredentials(
				runtime,
				userFolder,
				sparkBotCredential({ apiKey: sim.apiKey, baseUrl: sim.baseUrl, name: CREDENTIAL_NAME }),
			);
			n8n = await startN8n({ runtime, userFolder });
			await setupOwner(n8n.url);
			log(
				`  setup: n8n ${runtime.n8nVersion} at ${n8n.url}, simulator at ${sim.baseUrl} (${((performance.now() - started) / 1000).toFixed(1)} s)`,
			);
			log(`  N8N_USER_FOLDER=${userFolder}  tarball: ${tarball}`);
		},
		{ timeout: 15 * 60_000 }, // only a first-ever run installs the runtime (minutes); later runs take ~30-60 s
	);

	after(async () => {
		// Each clean-up on its own: one failing must not leave the others undone.
		const attempts = [
			['browser', () => browser?.close()],
			['n8n', () => n8n?.stop()],
			['simulator', () => sim?.close()],
			['user folder', () => removeUserFolder(userFolder)],
			['tarball', () => tarballDir && rmSync(tarballDir, { recursive: true, force: true })],
		];
		for (const [what, fn] of attempts) {
			try {
				await fn();
			} catch (error) {
				console.error(`  clean-up of the ${what} failed: ${error.message}`);
			}
		}
	});

	test(
		'sign in, add SparkBot, list the numbers, reboot Sales',
		{ timeout: 3 * 60_000 },
		async () => {
			const testStarted = performance.now();
			const screenshots = freshScreenshotDir();
			browser = await launchBrowser();
			const { page } = browser;
			page.setDefaultTimeout(20_000);
			page.setDefaultNavigationTimeout(60_000);
			const pageErrors = [];
			page.on('pageerror', (error) => pageErrors.push(error.message));
			await dismissModalsWhenTheyAppear(page, log);
			const { step, shot } = stepRunner(page, { dir: screenshots, log });

			try {
				await step(
					'sign in as the owner',
					async () => {
						await page.goto(`${n8n.url}/signin`);
						// The first load of the editor bundle is slow on 2 cores.
						const email = page.getByTestId('emailOrLdapLoginId').locator('input');
						await email.waitFor({ timeout: 60_000 });
						await email.fill(DEFAULT_OWNER.email);
						await page.getByTestId('password').locator('input').fill(DEFAULT_OWNER.password);
						await shot('signin');
						await page.getByTestId('form-submit-button').click();
						await page.waitForURL((url) => !url.pathname.startsWith('/signin'), {
							timeout: 60_000,
						});
						await page.getByTestId('add-resource-workflow').waitFor({ timeout: 60_000 });
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

				await step(
					'open a new workflow',
					async () => {
						await page.getByTestId('add-resource-workflow').click();
						await page.waitForURL(/\/workflow\//, { timeout: 60_000 });
						await page.getByTestId('canvas-add-button').waitFor({ timeout: 60_000 });
						await shot('new-workflow');
					},
					{ timeoutMs: 70_000 },
				);

				await step('search "SparkBot" in the nodes panel', async () => {
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
				});

				await step('choose the action "Reboot a WhatsApp session"', async () => {
					const creator = page.getByTestId('node-creator');
					const action = (name) =>
						creator.getByTestId('node-creator-item-name').getByText(name, { exact: true });
					await action('Reset a WhatsApp session').waitFor();
					await action('Reboot a WhatsApp session').waitFor();
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

				await step('the SparkBot credential is selected', async () => {
					const select = ndv.getByTestId('node-credentials-select');
					const input = select.locator('input');
					await input.waitFor();
					if ((await input.inputValue()) !== CREDENTIAL_NAME) {
						// n8n preselects the only credential of the type; choose it if it did not.
						await select.click();
						await page.getByRole('option', { name: CREDENTIAL_NAME, exact: true }).click();
					}
					assert.equal(await input.inputValue(), CREDENTIAL_NAME, 'the credential field');
				});

				await step(
					"the WhatsApp Number dropdown lists the simulator's numbers",
					async () => {
						const label = ndv
							.getByTestId('parameter-item')
							.filter({ hasText: 'WhatsApp Number Name or ID' });
						await label.waitFor();
						await ndv.getByTestId('parameter-input-device').click();
						// Options come from the node's getDevices (the editor asks n8n, n8n asks the simulator).
						const options = page.getByRole('option').and(page.getByTestId('parameter-input-item'));
						const sales = options.filter({ hasText: SALES_LABEL });
						await sales.waitFor({ timeout: 30_000 });
						const listed = await options.evaluateAll((items) =>
							items.map((item) => ({
								name:
									item.querySelector('.option-headline')?.textContent.trim() ??
									item.textContent.trim(),
								text: item.textContent,
							})),
						);
						log(`    options: ${listed.map((option) => option.name).join(' | ')}`);
						const names = listed.map((option) => option.name);
						assert.ok(names.includes(SALES_LABEL), `"${SALES_LABEL}" listed`);
						assert.ok(names.includes(SUPPORT_LABEL), `"${SUPPORT_LABEL}" listed`);
						assert.equal(listed.length, DEMO_DEVICES.length, 'one option per simulator device');
						for (const device of DEMO_DEVICES) {
							assert.ok(
								listed.some((option) => option.text.includes(device.id)),
								`an option mentions device ${device.id}`,
							);
						}
						// The list scrolls: show its end (Support) with Sales highlighted under the mouse.
						await options.filter({ hasText: SUPPORT_LABEL }).scrollIntoViewIfNeeded();
						await sales.hover();
						await settled(sales);
						const path = await shot('dropdown');
						copyToDocs(path, DOCS_SCREENSHOTS.dropdown);
					},
					{ timeoutMs: 45_000 },
				);

				await step('pick Sales', async () => {
					await page.getByRole('option').filter({ hasText: SALES_LABEL }).click();
					const device = ndv.getByTestId('parameter-input-device').locator('input');
					await waitUntil(
						`the field shows "${SALES_LABEL}"`,
						async () => (await device.inputValue()) === SALES_LABEL,
						{ timeoutMs: 10_000 },
					);
				});

				const postsBefore = sim.requests.filter((request) => request.method === 'POST').length;
				assert.equal(postsBefore, 0, 'no POST reached the simulator before executing');

				await step(
					'execute the step and read the output',
					async () => {
						await ndv.getByTestId('node-execute-button').click(); // "Execute step" (older: "Test step")
						const output = ndv.getByTestId('output-panel');
						const success = output.getByTestId('node-run-status-success');
						const failure = output
							.getByTestId('node-error-view')
							.or(output.getByTestId('node-run-status-error'));
						await success.or(failure).first().waitFor({ timeout: 30_000 });
						if (await failure.first().isVisible()) {
							throw new Error(`the node failed:\n${(await output.innerText()).slice(0, 1_500)}`);
						}
						await output.getByTestId('radio-button-json').click(); // the whole answer, not table columns
						const data = output.getByTestId('ndv-data-container');
						await data.getByText('rebooting').first().waitFor();
						const text = await data.innerText();
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
					assert.ok(lists.length >= 1, 'the dropdown listed the devices (GET /v1/devices)');
				});

				await step(
					'Reset Session with Delete All Data: a warning in the panel, the subtitle on the canvas',
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
						await page
							.getByText('Reset Session · deletes all data')
							.first()
							.waitFor({ timeout: 10_000 });
						await shot('canvas-subtitle');
					},
				);

				log(
					`  browser part: ${((performance.now() - testStarted) / 1000).toFixed(1)} s; screenshots in ${screenshots}`,
				);
			} catch (error) {
				if (pageErrors.length)
					error.message += `\n  page errors:\n    ${pageErrors.slice(-5).join('\n    ')}`;
				if (n8n) error.message += `\n  n8n output (tail):\n${tail(n8n.output(), 15)}`;
				throw error;
			}
		},
	);
});

/** Copies a screenshot to docs/ when SPARKBOT_UPDATE_DOCS_SCREENSHOTS=1 (docs stay unchanged by plain runs). */
function copyToDocs(from, to) {
	if (process.env.SPARKBOT_UPDATE_DOCS_SCREENSHOTS !== '1') return;
	mkdirSync(dirname(to), { recursive: true });
	copyFileSync(from, to);
	log(`    → ${to}`);
}
