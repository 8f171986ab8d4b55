/**
 * Offline first, as a person lives it: the app first opened on a deep link installs its service
 * worker at /sw.js (scope /) and reloads with the network off; messages written offline in two
 * conversations survive closing the tab, show "Sending…" and the sidebar's clock, and land once
 * each when the network returns — including the one not on screen. One written in a private
 * channel the person was removed from meanwhile is shown as refused, its text kept. A card moved
 * offline shows as pending on the board until it lands.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, newPerson } from './support/browser';
import { startTestServer, type TestServer } from './support/server';
import { api, inPane, invite, message, messageAction, openConversation, poll, post, signUpFirst } from './support/people';

let server: TestServer;
let browser: Browser;
let ada: Page;
let bobContext: BrowserContext;
let bob: Page;
const ids: Record<'general' | 'launch' | 'secret', string> = { general: '', launch: '', secret: '' };
const bobErrors: string[][] = [];


const channel = (page: Page, name: string) => page.locator(`[data-testid=sidebar-channel][data-name="${name}"]`);

async function openBob(path: string) {
	const page = await bobContext.newPage();
	const errors: string[] = [];
	page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
	bobErrors.push(errors);
	await page.goto(path);
	return page;
}

beforeAll(async () => {
	server = await startTestServer();
	browser = await launchBrowser();
	ada = (await newPerson(browser, server.url)).page;
	await signUpFirst(ada);
	const joined = await invite(ada, { name: 'Bob Stone', email: 'bob@example.com' }, async () => (await newPerson(browser, server.url)).page);
	const bobId = (await api(joined, 'GET', '/me')).member!.id;
	ids.general = (await channel(ada, 'general').getAttribute('href'))!.split('/').pop()!;
	ids.launch = (await api(ada, 'POST', '/conversations', { kind: 'channel', name: 'launch', memberIds: [bobId] })).conversation!.id;
	ids.secret = (await api(ada, 'POST', '/conversations', { kind: 'channel', name: 'secret', isPrivate: true, memberIds: [bobId] })).conversation!.id;
	// Bob's own browser from here on: signed in (the cookie), service worker allowed, and the
	// first page it ever opens is a deep link.
	const state = await joined.context().storageState();
	await joined.context().close();
	bobContext = (await newPerson(browser, server.url, { serviceWorkers: 'allow', storageState: state })).context;
	await bobContext.pages()[0]!.close();
});

afterAll(async () => {
	await browser?.close();
	await server?.close();
});

describe('offline', () => {
	it('registers /sw.js with scope / from a deep link and reloads offline into the workspace', async () => {
		bob = await openBob(`/c/${ids.launch}`);
		await bob.locator(`[data-testid=conversation][data-id="${ids.launch}"] [data-testid=composer]`).waitFor();
		const sw = await bob.evaluate(async () => {
			const reg = await navigator.serviceWorker.ready;
			return { scope: reg.scope, script: reg.active?.scriptURL };
		});
		expect(sw).toEqual({ scope: `${server.url}/`, script: `${server.url}/sw.js` });
		const manifest = await bob.evaluate(async () => (await fetch(document.querySelector<HTMLLinkElement>('link[rel=manifest]')!.href)).json());
		expect(manifest.display).toBe('standalone');
		expect(manifest.icons.map((i: { sizes: string; purpose: string }) => `${i.sizes} ${i.purpose}`)).toEqual(
			expect.arrayContaining(['192x192 any', '512x512 any', '512x512 maskable'])
		);

		// Open the other two once, so their docs are on this machine.
		await openConversation(bob, channel(bob, 'general'));
		await openConversation(bob, channel(bob, 'secret'));
		await openConversation(bob, channel(bob, 'launch'));
		await post(bob, 'said online in launch');
		await post(bob, 'a mistake made online');

		await bobContext.setOffline(true);
		await bob.reload();
		await bob.locator(`[data-testid=conversation][data-id="${ids.launch}"] [data-testid=composer]`).waitFor();
		await poll(() => message(bob, 'said online in launch').count()).toBe(1);
		for (const name of ['general', 'launch', 'secret']) await poll(() => channel(bob, name).count()).toBe(1);
		await poll(() => bob.locator('[data-testid=connection]').getAttribute('data-state')).toBe('offline');
	});

	it('keeps messages written offline across a closed tab and sends each once when back online', async () => {
		await openConversation(bob, channel(bob, 'general'));
		await post(bob, 'offline note in general');
		await openConversation(bob, channel(bob, 'secret'));
		await post(bob, 'offline note in secret');
		await openConversation(bob, channel(bob, 'launch'));
		await post(bob, 'offline note in launch');
		const row = message(bob, 'offline note in launch');
		await poll(() => row.locator('[data-testid=message-pending]').innerText()).toContain('Sending');
		// React, edit, delete and reply in a thread, all offline, on messages already on the server.
		const said = message(bob, 'said online in launch');
		await messageAction(bob, 'said online in launch', 'message-react');
		await bob.locator('[data-testid=emoji-picker] [data-emoji="🎉"]').click();
		await messageAction(bob, 'said online in launch', 'message-edit');
		await bob.locator('[data-testid=message-edit-input]').fill('said online in launch, edited offline');
		await bob.locator('[data-testid=message-edit-save]').click();
		await poll(() => said.locator('[data-testid=message-pending]').count()).toBe(1);
		await messageAction(bob, 'a mistake made online', 'message-delete');
		await bob.locator('[data-testid=confirm-ok]').click();
		await messageAction(bob, 'said online in launch', 'message-reply');
		await bob.locator('[data-testid=thread-composer]').fill('offline reply in a thread');
		await bob.keyboard.press('Enter');
		await poll(() => bob.locator('[data-testid=thread-pane] [data-testid=message]', { hasText: 'offline reply in a thread' }).locator('[data-testid=message-pending]').count()).toBe(1);
		await poll(() => bob.locator('[data-testid=sidebar-unsent]').count()).toBe(3);
		// Three messages, and the me: doc's drafts and read markers written on the way.
		await poll(async () => Number(await bob.locator('[data-testid=connection-unsynced]').innerText())).toBeGreaterThanOrEqual(3);

		// Close the tab; a new one in the same browser, still offline, on #general.
		await bob.close();
		bob = await openBob(`/c/${ids.general}`);
		await poll(() => message(bob, 'offline note in general').locator('[data-testid=message-pending]').count()).toBe(1);
		await poll(() => bob.locator('[data-testid=sidebar-unsent]').count()).toBe(3);
		expect(await inPane(ada, ids.general, 'offline note').count()).toBe(0);

		// Meanwhile Bob is taken out of #secret.
		const bobId = (await bob.evaluate(() => JSON.parse(localStorage.getItem('circlechat:session')!).member.id)) as string;
		await api(ada, 'DELETE', `/conversations/${ids.secret}/members/${bobId}`);

		await bobContext.setOffline(false);
		await poll(() => inPane(ada, ids.general, 'offline note in general').count()).toBe(1);
		await poll(() => bob.locator('[data-testid=message-pending]').count()).toBe(0);
		await poll(() => bob.locator('[data-testid=sidebar-unsent]').count()).toBe(0);
		await poll(() => bob.locator('[data-testid=connection]').getAttribute('data-state')).toBe('online');

		// #launch was not on screen when the network came back: it landed all the same.
		await openConversation(ada, channel(ada, 'launch'));
		await poll(() => inPane(ada, ids.launch, 'offline note in launch').count()).toBe(1);
		const edited = inPane(ada, ids.launch, 'said online in launch, edited offline');
		await poll(() => edited.count()).toBe(1);
		await poll(() => edited.locator('[data-testid=reaction][data-emoji="🎉"]').getAttribute('data-count')).toBe('1');
		expect(await inPane(ada, ids.launch, 'a mistake made online').count()).toBe(0);
		await messageAction(ada, 'said online in launch, edited offline', 'message-reply');
		await poll(() => ada.locator('[data-testid=thread-pane] [data-testid=message]', { hasText: 'offline reply in a thread' }).count()).toBe(1);
		await openConversation(ada, channel(ada, 'secret'));
		await new Promise((r) => setTimeout(r, 1000));
		expect(await inPane(ada, ids.launch, 'offline note').count()).toBe(0);
		expect(await inPane(ada, ids.secret, 'offline note in secret').count()).toBe(0);
		// Exactly once, looked at again after a switch (the pane renders after the switch).
		await openConversation(ada, channel(ada, 'general'));
		await poll(() => inPane(ada, ids.general, 'offline note in general').count()).toBe(1);
		await openConversation(ada, channel(ada, 'launch'));
		await poll(() => inPane(ada, ids.launch, 'offline note in launch').count()).toBe(1);
	});

	it('shows the message written in the channel Bob was removed from as refused, text kept until dismissed', async () => {
		const refused = bob.locator('[data-testid=refused-change]');
		await poll(() => refused.count()).toBe(1);
		expect(await refused.locator('[data-testid=refused-text]').innerText()).toBe('offline note in secret');
		expect(await refused.innerText()).toContain('no longer a member');
		await poll(() => channel(bob, 'secret').count()).toBe(0);

		// Kept in IndexedDB: a reload still shows it.
		await bob.reload();
		await poll(() => bob.locator('[data-testid=refused-text]').innerText()).toBe('offline note in secret');
		await bob.locator('[data-testid=refused-dismiss]').click();
		await poll(() => refused.count()).toBe(0);
		await bob.reload();
		await bob.locator('[data-testid=composer]').waitFor();
		await new Promise((r) => setTimeout(r, 500));
		expect(await refused.count()).toBe(0);
	});

	it('moves a card offline: pending on the card until it lands on the board', async () => {
		const card = (page: Page) => page.locator('[data-testid=card][data-title="Ship the beta"]:not([inert] *)');
		await openConversation(bob, channel(bob, 'launch'));
		await bob.locator('[data-testid=tab-board]').click();
		await bob.locator('[data-testid=board]').waitFor();
		await bob.locator('[data-column=backlog] [data-testid=column-add]').click();
		await bob.locator('[data-column=backlog] [data-testid=card-composer-input]').fill('Ship the beta');
		await bob.keyboard.press('Enter');
		await poll(() => card(bob).locator('[data-testid=card-pending]').count()).toBe(0);
		await bob.keyboard.press('Escape');

		await bobContext.setOffline(true);
		await poll(() => bob.locator('[data-testid=connection]').getAttribute('data-state')).toBe('offline');
		await card(bob).focus();
		await bob.keyboard.press('Space');
		await bob.keyboard.press('ArrowRight');
		await bob.keyboard.press('Space');
		await poll(() => card(bob).getAttribute('data-status')).toBe('in_progress');
		await poll(() => card(bob).locator('[data-testid=card-pending]').count()).toBe(1);
		await openConversation(ada, channel(ada, 'launch'));
		await ada.locator('[data-testid=tab-board]').click();
		await poll(() => card(ada).getAttribute('data-status')).toBe('backlog');

		await bobContext.setOffline(false);
		await poll(() => card(ada).getAttribute('data-status')).toBe('in_progress');
		await poll(() => card(bob).locator('[data-testid=card-pending]').count()).toBe(0);
		for (const errors of bobErrors) expect(errors).toEqual([]);
	});
});
