/**
 * A new version of the app never changes under the person: the server starts serving a changed
 * build (here: a copy of the build whose sw.js gained a line), the browser finds the new service
 * worker waiting, the app says "Update available", and only Reload lets the new one take over.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { DEFAULT_WEB_ROOT } from '../../../agent-gateway/src/server.ts';
import { launchBrowser, newPerson } from './support/browser';
import { startTestServer, type TestServer } from './support/server';
import { poll, signUpFirst } from './support/people';

let server: TestServer;
let browser: Browser;
let ada: Page;
let errors: string[];
const webRoot = mkdtempSync(join(tmpdir(), 'circlechat-web-'));

/** Asks the page's controlling worker which build it is: only the new one answers. */
const workerVersion = (page: Page) =>
	page.evaluate(
		() =>
			new Promise<string>((resolve) => {
				const controller = navigator.serviceWorker.controller;
				if (!controller) return resolve('none');
				const channel = new MessageChannel();
				channel.port1.onmessage = (e) => resolve(String(e.data));
				controller.postMessage('circlechat-version?', [channel.port2]);
				setTimeout(() => resolve('old'), 1000);
			})
	);

beforeAll(async () => {
	cpSync(DEFAULT_WEB_ROOT, webRoot, { recursive: true });
	server = await startTestServer({ webRoot });
	browser = await launchBrowser();
	const person = await newPerson(browser, server.url, { serviceWorkers: 'allow' });
	ada = person.page;
	errors = person.errors;
	await signUpFirst(ada);
});

afterAll(async () => {
	await browser?.close();
	await server?.close();
	rmSync(webRoot, { recursive: true, force: true });
});

describe('app update', () => {
	it('shows "Update available" for a new build and switches to it only on Reload', async () => {
		await ada.evaluate(async () => void (await navigator.serviceWorker.ready));
		// The first page was not opened under a worker (no clients.claim): the next one is.
		await ada.reload();
		await ada.locator('[data-testid=composer]').waitFor();
		await poll(() => ada.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
		expect(await workerVersion(ada)).toBe('old');
		expect(await ada.locator('[data-testid=update-banner]').count()).toBe(0);

		// Deploy: the same build with a changed sw.js (the precompressed copies would win).
		const sw = join(webRoot, 'sw.js');
		const answer = `self.addEventListener('message', (e) => { if (e.data === 'circlechat-version?') e.ports[0]?.postMessage('new'); });`;
		writeFileSync(sw, `${readFileSync(sw, 'utf8')}\n${answer}\n`);
		rmSync(`${sw}.br`);
		rmSync(`${sw}.gz`);
		await ada.evaluate(async () => void (await (await navigator.serviceWorker.getRegistration())?.update()));

		const banner = ada.locator('[data-testid=update-banner]');
		await poll(() => banner.count()).toBe(1);
		expect(await banner.innerText()).toContain('Update available');
		// Waiting, not in charge: the page still runs under the old worker.
		expect(await ada.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.waiting !== null)).toBe(true);
		expect(await workerVersion(ada)).toBe('old');

		const reloaded = ada.waitForEvent('load');
		await ada.locator('[data-testid=update-reload]').click();
		await reloaded;
		await ada.locator('[data-testid=composer]').waitFor();
		await poll(() => workerVersion(ada)).toBe('new');
		expect(await ada.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.waiting ?? null)).toBeNull();
		expect(await ada.locator('[data-testid=update-banner]').count()).toBe(0);
		expect(errors).toEqual([]);
	});
});
