/**
 * Shared browser setup for e2e files: Debian's Chromium driven by playwright-core (nothing is
 * downloaded), with flags that keep it quiet and deterministic in a container.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
	'--no-sandbox',
	'--disable-gpu',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
	'--no-first-run',
	'--disable-quic'
];

/** `extraArgs`: flags one test needs, e.g. a fake microphone for voice messages. */
export async function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
	if (!existsSync(CHROMIUM_PATH)) {
		throw new Error(`Chromium not found at ${CHROMIUM_PATH}: install it with \`apt-get install -y chromium\` or set CHROMIUM_PATH.`);
	}
	return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS, ...extraArgs] });
}

export interface NewPageOptions {
	viewport?: { width: number; height: number };
	/** 'allow' for the offline tests: the service worker is what opens the app offline. */
	serviceWorkers?: 'allow' | 'block';
	/** Cookies and localStorage to start from (someone already signed in). */
	storageState?: Awaited<ReturnType<BrowserContext['storageState']>>;
	/** A touchscreen phone: touch events and a mobile viewport, as Chromium emulates them. */
	touch?: boolean;
}

/**
 * A fresh context (its own cookies and IndexedDB: one person) and a page in it. Console errors
 * and page errors are collected so a test can assert the app ran cleanly.
 */
export async function newPerson(browser: Browser, baseURL: string, opts: NewPageOptions = {}) {
	const context: BrowserContext = await browser.newContext({
		baseURL,
		viewport: opts.viewport ?? { width: 1280, height: 800 },
		// The service worker would cache across test runs on the same origin; tests want the network.
		serviceWorkers: opts.serviceWorkers ?? 'block',
		storageState: opts.storageState,
		...(opts.touch ? { hasTouch: true, isMobile: true } : {})
	});
	const page: Page = await context.newPage();
	const errors: string[] = [];
	page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
	page.on('console', (msg) => {
		// The location names the resource a "Failed to load resource" line is about.
		if (msg.type() === 'error') errors.push(`console: ${msg.text()} (${msg.location().url})`);
	});
	return { context, page, errors };
}

/**
 * What `invite` opens for someone joining: a fresh person at `viewport` (on a touchscreen with
 * `touch`), whose console errors go
 * to `errorLogs` so the test can assert the app ran cleanly for everyone.
 */
export function joiner(browser: Browser, baseURL: string, errorLogs: string[][]) {
	return ({ touch, ...viewport }: { width: number; height: number; touch?: boolean }) => async () => {
		const p = await newPerson(browser, baseURL, { viewport, touch });
		errorLogs.push(p.errors);
		return p.page;
	};
}
