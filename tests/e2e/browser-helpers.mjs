// Browser plumbing for tests/e2e/browser.test.mjs: Debian's chromium driven by playwright-core,
// screenshots under .artifacts/screenshots/, named steps that fail with a screenshot and a clear
// message, and a handler that dismisses n8n's first-login modals should any appear.
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { chromium, selectors } from 'playwright-core';

import { sleep } from '../../scripts/lib/wait.mjs';
import { ROOT } from './fixtures.mjs';

export const CHROMIUM_PATH = process.env.SPARKBOT_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = join(ROOT, '.artifacts', 'screenshots');
export const VIEWPORT = Object.freeze({ width: 1440, height: 900 });

/**
 * Flags for a closed network: without the background-networking ones chromium keeps opening
 * connections to Google services, which are refused here (noise, delays).
 */
export const CHROMIUM_ARGS = Object.freeze([
	'--headless',
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
]);

// n8n's editor marks its elements with `data-test-id` (not Playwright's default `data-testid`).
selectors.setTestIdAttribute('data-test-id');

/**
 * Launches headless chromium with a fresh profile (`--user-data-dir`, which playwright takes as
 * launchPersistentContext's first argument). Returns `{ context, page, close() }`; close() ends
 * the browser and removes the profile, and is safe to call more than once.
 */
export async function launchBrowser({ viewport = VIEWPORT, timeoutMs = 60_000 } = {}) {
	const userDataDir = mkdtempSync(join(tmpdir(), 'sparkbot-chromium-'));
	let context;
	try {
		context = await chromium.launchPersistentContext(userDataDir, {
			executablePath: CHROMIUM_PATH,
			headless: true,
			args: [...CHROMIUM_ARGS],
			viewport,
			deviceScaleFactor: 1,
			locale: 'en-US',
			timezoneId: 'UTC',
			timeout: timeoutMs,
		});
	} catch (error) {
		rmSync(userDataDir, { recursive: true, force: true });
		throw new Error(`could not launch ${CHROMIUM_PATH}: ${error.message}`, { cause: error });
	}
	const page = context.pages()[0] ?? (await context.newPage());
	let closing;
	return {
		context,
		page,
		userDataDir,
		close() {
			closing ??= context
				.close()
				.catch(() => {})
				.finally(() => rmSync(userDataDir, { recursive: true, force: true }));
			return closing;
		},
	};
}

/** Empties .artifacts/screenshots/ (so it shows the last run only) and returns its path. */
export function freshScreenshotDir(dir = SCREENSHOT_DIR) {
	mkdirSync(dir, { recursive: true });
	for (const name of readdirSync(dir))
		if (name.endsWith('.png')) rmSync(join(dir, name), { force: true });
	return dir;
}

/**
 * Runs the steps of one browser test. `step(title, fn, { timeoutMs })` logs the step, bounds it
 * with a timeout and, when it fails, saves `FAILED-<nn>-<slug>.png` and rethrows as
 * `step <nn> "<title>" failed after <s> s: <reason>` (the original error is the `cause`).
 * `shot(name)` saves `<nn>-<name>.png` for the current step and returns its path.
 */
export function stepRunner(page, { dir = SCREENSHOT_DIR, log = console.log } = {}) {
	let number = 0;
	const timings = [];
	const pad = (n) => String(n).padStart(2, '0');

	async function shot(name, options = {}) {
		const path = join(dir, `${pad(number)}-${slug(name)}.png`);
		await page.screenshot({ path, timeout: 15_000, ...options });
		return path;
	}

	async function step(title, fn, { timeoutMs = 30_000 } = {}) {
		number += 1;
		const started = performance.now();
		log(`  ▸ ${pad(number)} ${title}`);
		let timer;
		try {
			const result = await Promise.race([
				fn(),
				new Promise((_, reject) => {
					timer = setTimeout(
						() => reject(new Error(`timed out after ${timeoutMs / 1000} s`)),
						timeoutMs,
					);
				}),
			]);
			const seconds = (performance.now() - started) / 1000;
			timings.push([title, seconds]);
			log(`    ok (${seconds.toFixed(1)} s)`);
			return result;
		} catch (error) {
			const seconds = ((performance.now() - started) / 1000).toFixed(1);
			let where = '';
			try {
				const path = join(dir, `FAILED-${pad(number)}-${slug(title)}.png`);
				await page.screenshot({ path, timeout: 10_000 });
				where = `\n  screenshot: ${path}`;
			} catch (shotError) {
				where = `\n  (no screenshot: ${shotError.message.split('\n')[0]})`;
			}
			where += `\n  page: ${safeUrl(page)}`;
			throw new Error(
				`step ${pad(number)} "${title}" failed after ${seconds} s: ${firstLines(error.message, 12)}${where}`,
				{
					cause: error,
				},
			);
		} finally {
			clearTimeout(timer);
		}
	}

	return { step, shot, timings };
}

/**
 * n8n may open modals after the first login (personalization survey, "What's new", NPS survey,
 * …); the environment switches most of them off, but if one shows up anyway it would block
 * clicks. Playwright runs this handler whenever such a modal is visible before an action.
 * The node details view (NDV) is a <dialog> of its own and not matched.
 */
export async function dismissModalsWhenTheyAppear(page, log = console.log) {
	const modal = page.locator(
		[
			'.el-overlay-dialog .el-dialog',
			'[data-test-id="personalization-form"]',
			'[data-test-id="whats-new-modal"]',
			'[data-test-id="nps-survey-modal"]',
		].join(', '),
	);
	await page.addLocatorHandler(
		modal.first(),
		async (dialog) => {
			const label = firstLines(
				(await dialog.innerText().catch(() => '')).replace(/\s+/g, ' '),
				1,
			).slice(0, 80);
			log(`    (dismissing a modal: "${label}")`);
			const closer = dialog
				.getByRole('button', {
					name: /^(get started|skip|close|got it|dismiss|not now|maybe later)/i,
				})
				.or(
					dialog.locator(
						'.el-dialog__headerbtn, [aria-label="Close this dialog"], [data-test-id$="close-button"]',
					),
				);
			if (
				await closer
					.first()
					.isVisible()
					.catch(() => false)
			)
				await closer.first().click({ timeout: 5_000 });
			else await page.keyboard.press('Escape');
		},
		{ times: 10, noWaitAfter: false },
	);
}

/**
 * Waits until `locator`'s box stops moving (slide-in panels, popper placement) so a screenshot
 * shows the finished layout: the same box on three polls 100 ms apart, or `timeoutMs` passes.
 */
export async function settled(locator, { timeoutMs = 3_000 } = {}) {
	const deadline = Date.now() + timeoutMs;
	let last;
	let same = 0;
	while (Date.now() < deadline && same < 2) {
		const box = JSON.stringify(await locator.boundingBox().catch(() => null));
		same = box === last && box !== 'null' ? same + 1 : 0;
		last = box;
		await sleep(100);
	}
}

function slug(text) {
	return text
		.toLowerCase()
		.replace(/[^a-z0-9]+/g, '-')
		.replace(/^-|-$/g, '')
		.slice(0, 60);
}

function firstLines(text, count) {
	return String(text ?? '')
		.split('\n')
		.slice(0, count)
		.join('\n');
}

function safeUrl(page) {
	try {
		return page.url();
	} catch {
		return '(closed)';
	}
}
