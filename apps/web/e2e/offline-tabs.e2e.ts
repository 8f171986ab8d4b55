/**
 * Offline on a phone, in two tabs, and refused by the guard:
 *   - at 375 px the conversation header still says Offline with the count of unsent changes, and
 *     the drawer's sidebar marks the conversation with unsent work;
 *   - two tabs of one person write offline into the same conversation, one is reloaded (so it
 *     holds the other's unsent changes too, from the shared IndexedDB), both reconnect: every
 *     message lands exactly once, nothing is refused, both tabs clear their markers;
 *   - a message written offline into a segment that was sealed meanwhile (the conversation moved
 *     on by two segments) is refused by the guard: shown with the reason, its text kept;
 *   - a thread and a board opened before come back from IndexedDB in a reload with the network off,
 *     and a task edited there offline shows as pending until it lands.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, newPerson } from './support/browser';
import { startTestServer, type TestServer } from './support/server';
import { api, inPane, invite, message, messageAction, openConversation, poll, post, signUpFirst } from './support/people';

const PHONE = { width: 375, height: 740 };
let server: TestServer;
let browser: Browser;
let ada: Page;
let bobContext: BrowserContext;
let tabs: Page[] = [];
const ids = { general: '', launch: '' };
const errorLogs: string[][] = [];



async function openTab(path: string) {
	const page = await bobContext.newPage();
	const errors: string[] = [];
	page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
	errorLogs.push(errors);
	await page.goto(path);
	await page.locator('[data-testid=composer]').waitFor();
	return page;
}

async function shot(page: Page, name: string) {
	if (process.env.E2E_SHOTS) await page.screenshot({ path: `${process.env.E2E_SHOTS}/${name}.png` });
}

beforeAll(async () => {
	// Small segments, so a conversation moves two segments on in a few posts.
	server = await startTestServer({ segmentSize: 4 });
	browser = await launchBrowser();
	ada = (await newPerson(browser, server.url)).page;
	await signUpFirst(ada);
	const joined = await invite(ada, { name: 'Bob Stone', email: 'bob@example.com' }, async () => (await newPerson(browser, server.url)).page);
	const bobId = (await api(joined, 'GET', '/me')).member!.id;
	ids.general = (await ada.locator('[data-testid=sidebar-channel][data-name=general]:visible').getAttribute('href'))!.split('/').pop()!;
	ids.launch = (await api(ada, 'POST', '/conversations', { kind: 'channel', name: 'launch', memberIds: [bobId] })).conversation!.id;
	const state = await joined.context().storageState();
	await joined.context().close();
	bobContext = (await newPerson(browser, server.url, { serviceWorkers: 'allow', storageState: state, viewport: PHONE })).context;
	await bobContext.grantPermissions(['clipboard-read', 'clipboard-write']);
	await bobContext.pages()[0]!.close();
});

afterAll(async () => {
	await browser?.close();
	await server?.close();
});

describe('offline in two tabs, on a phone', () => {
	it('two tabs write offline; both reconnect; each message lands once and the markers clear', async () => {
		tabs = [await openTab(`/c/${ids.launch}`), await openTab(`/c/${ids.launch}`)];
		for (const tab of tabs) await tab.evaluate(async () => void (await navigator.serviceWorker.ready));

		await bobContext.setOffline(true);
		const [one, two] = tabs as [Page, Page];
		await post(one, 'tab one, first');
		await post(two, 'tab two, first');
		await post(one, 'tab one, second');
		await post(two, 'tab two, second');

		// On a phone the header still says so: offline, and how many changes wait here.
		const sync = one.locator('[data-testid=conversation-sync]');
		await poll(() => sync.getAttribute('data-status')).toBe('offline');
		expect(await sync.isVisible()).toBe(true);
		await poll(async () => Number(await one.locator('[data-testid=conversation-sync-count]').innerText())).toBeGreaterThanOrEqual(2);
		expect(await one.locator('[data-testid=conversation-sync-count]').isVisible()).toBe(true);
		await poll(() => message(one, 'tab one, second').locator('[data-testid=message-pending]').isVisible()).toBe(true);
		await shot(one, 'offline-pending-375');
		if (process.env.E2E_SHOTS) {
			await one.setViewportSize({ width: 1440, height: 900 });
			await shot(one, 'offline-pending-1440');
			await one.setViewportSize(PHONE);
		}

		// Reload the second tab offline: it now holds the first tab's unsent changes too.
		await two.reload();
		await two.locator(`[data-testid=conversation][data-id="${ids.launch}"] [data-testid=composer]`).waitFor();
		await poll(() => message(two, 'tab one, first').count()).toBe(1);
		await poll(() => message(two, 'tab two, second').locator('[data-testid=message-pending]').count()).toBe(1);

		// The drawer marks #launch as holding unsent work, and its pill counts it.
		await two.locator('[data-testid=open-drawer]').click();
		const launch = two.locator('[data-testid=sidebar-channel][data-name=launch]:visible');
		await poll(() => launch.locator('[data-testid=sidebar-unsent]').isVisible()).toBe(true);
		await poll(() => two.locator('[data-testid=drawer] [data-testid=connection-label]').isVisible()).toBe(true);
		expect(await two.locator('[data-testid=drawer] [data-testid=connection]').getAttribute('data-state')).toBe('offline');
		await shot(two, 'offline-drawer-375');
		await two.keyboard.press('Escape');
		expect(await inPane(ada, ids.launch, 'tab ').count()).toBe(0);

		await bobContext.setOffline(false);
		await openConversation(ada, ada.locator('[data-testid=sidebar-channel][data-name=launch]:visible'));
		for (const text of ['tab one, first', 'tab two, first', 'tab one, second', 'tab two, second']) {
			await poll(() => inPane(ada, ids.launch, text).count()).toBe(1);
		}
		for (const tab of tabs) {
			await poll(() => tab.locator('[data-testid=message-pending]').count()).toBe(0);
			await poll(() => message(tab, 'tab ').count()).toBe(4);
			await poll(() => tab.locator('[data-testid=connection]').getAttribute('data-state')).toBe('online');
			expect(await tab.locator('[data-testid=refused-notice]').count()).toBe(0);
		}
		// Still once each after everything settled, on the server's copy too.
		await new Promise((r) => setTimeout(r, 1000));
		expect(await inPane(ada, ids.launch, 'tab ').count()).toBe(4);
		const listed = (await ada.evaluate(async (id) => (await (await fetch(`/api/conversations/${id}/messages`)).json()) as { messages: { bodyMd: string }[] }, ids.launch)).messages;
		expect(listed.map((m) => m.bodyMd).filter((b) => b.startsWith('tab ')).sort()).toEqual(['tab one, first', 'tab one, second', 'tab two, first', 'tab two, second']);
	});

	it('a message written offline into a segment sealed meanwhile is refused with its reason, text kept', async () => {
		const [one, two] = tabs as [Page, Page];
		await two.close();
		await one.locator('[data-testid=open-drawer]').click();
		await openConversation(one, one.locator('[data-testid=sidebar-channel][data-name=general]:visible'));
		await one.locator(`[data-testid=conversation][data-id="${ids.general}"] [data-testid=composer]`).waitFor();

		await bobContext.setOffline(true);
		await poll(() => one.locator('[data-testid=conversation-sync]').getAttribute('data-status')).toBe('offline');
		await post(one, 'written offline, long after its segment closed');
		// Meanwhile #general moves on by more than two segments of 4.
		for (let i = 0; i < 10; i++) await api(ada, 'POST', `/conversations/${ids.general}/messages`, { bodyMd: `busy day ${i}` });

		await bobContext.setOffline(false);
		const refused = one.locator('[data-testid=refused-change]');
		await poll(() => refused.count()).toBe(1);
		expect(await refused.locator('[data-testid=refused-text]').innerText()).toBe('written offline, long after its segment closed');
		expect(await refused.locator('[data-testid=refused-reason]').getAttribute('data-reason')).toBe('sealed');
		expect(await refused.innerText()).toContain('older part of the conversation that has since closed');
		expect(await refused.innerText()).toContain('#general');
		await one.locator('[data-testid=refused-copy]').click();
		await poll(() => one.locator('[data-testid=refused-copy]').innerText()).toContain('Copied');
		expect(await one.evaluate(() => navigator.clipboard.readText())).toBe('written offline, long after its segment closed');
		await shot(one, 'refused-375');
		await one.setViewportSize({ width: 1440, height: 900 });
		await shot(one, 'refused-1440');
		await one.setViewportSize(PHONE);
		await openConversation(ada, ada.locator('[data-testid=sidebar-channel][data-name=general]:visible'));
		await poll(() => inPane(ada, ids.general, 'busy day 9').count()).toBe(1);
		expect(await inPane(ada, ids.general, 'long after its segment closed').count()).toBe(0);

		// Kept across a reload until dismissed.
		await one.reload();
		await poll(() => one.locator('[data-testid=refused-text]').innerText()).toBe('written offline, long after its segment closed');
		await one.locator('[data-testid=refused-dismiss]').click();
		await poll(() => refused.count()).toBe(0);
	});

	it('a thread and a board opened before show after a reload with the network off', async () => {
		const [one] = tabs as [Page];
		await one.setViewportSize({ width: 1440, height: 900 });
		await openConversation(one, one.locator('[data-testid=sidebar-channel][data-name=launch]:visible'));
		await messageAction(one, 'tab one, first', 'message-reply');
		await one.locator('[data-testid=thread-composer]').fill('a reply kept on this device');
		await one.keyboard.press('Enter');
		const reply = one.locator('[data-testid=thread-pane] [data-testid=message]', { hasText: 'a reply kept on this device' });
		await poll(() => reply.locator('[data-testid=message-pending]').count()).toBe(0);
		await one.locator('[data-testid=thread-close]').click();
		await one.locator('[data-testid=tab-board]').click();
		await one.locator('[data-column=backlog] [data-testid=column-add]').click();
		await one.locator('[data-column=backlog] [data-testid=card-composer-input]').fill('A card kept on this device');
		await one.keyboard.press('Enter');
		const card = one.locator('[data-testid=card][data-title="A card kept on this device"]:not([inert] *)');
		await poll(() => card.locator('[data-testid=card-pending]').count()).toBe(0);
		await one.keyboard.press('Escape');
		await one.locator('[data-testid=tab-messages]').click();
		await one.locator(`[data-testid=conversation][data-id="${ids.launch}"] [data-testid=composer]`).waitFor();

		await bobContext.setOffline(true);
		await one.reload();
		await one.locator(`[data-testid=conversation][data-id="${ids.launch}"] [data-testid=composer]`).waitFor();
		await messageAction(one, 'tab one, first', 'message-reply');
		await poll(() => reply.count()).toBe(1);
		await one.locator('[data-testid=thread-close]').click();
		await one.locator('[data-testid=tab-board]').click();
		await poll(() => card.count()).toBe(1);

		// Edit the task offline: its card shows as pending until the edit lands.
		await card.click();
		const modal = one.locator('[data-testid=task-modal]');
		await modal.waitFor();
		const title = modal.locator('[data-testid=task-title]');
		await title.fill('A card renamed offline');
		// Esc leaves the field first, then closes the dialog.
		await one.keyboard.press('Escape');
		await poll(() => title.evaluate((el) => el.contains(document.activeElement))).toBe(false);
		await one.keyboard.press('Escape');
		await poll(() => modal.count()).toBe(0);
		const renamed = (page: Page) => page.locator('[data-testid=card][data-title="A card renamed offline"]:not([inert] *)');
		await poll(() => renamed(one).locator('[data-testid=card-pending]').count()).toBe(1);
		await bobContext.setOffline(false);
		await ada.goto(`/c/${ids.launch}/board`);
		await poll(() => renamed(ada).count()).toBe(1);
		await poll(() => renamed(one).locator('[data-testid=card-pending]').count()).toBe(0);
		for (const errors of errorLogs) expect(errors).toEqual([]);
	});
});
