/**
 * Chat, complete (awareness and attention): typing rows, presence dots, read markers across
 * tabs, browser notifications with the title badge, and muting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, newPerson } from './support/browser';
import { startTestServer, type TestServer } from './support/server';
import { invite, openConversation, poll, post, signUpFirst } from './support/people';

let server: TestServer;
let browser: Browser;
let ada: Page;
let bob: Page;
let bobContext: BrowserContext;
const errorLogs: string[][] = [];
const shots = process.env.E2E_SHOTS;

/**
 * Bob's tab pretends to be hidden (window.__hide(true/false)) and records notifications instead of
 * showing them. Permission starts as "default" so the banner is offered.
 */
const bobInit = () => {
	let hidden = false;
	Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
	Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
	const w = window as unknown as { __notes: { title: string; body: string }[]; __hide: (h: boolean) => void };
	w.__notes = [];
	w.__hide = (h: boolean) => {
		hidden = h;
		document.dispatchEvent(new Event('visibilitychange'));
	};
	let permission: NotificationPermission = 'default';
	class FakeNotification {
		static get permission() {
			return permission;
		}
		static async requestPermission() {
			permission = 'granted';
			return permission;
		}
		onclick: (() => void) | null = null;
		constructor(title: string, opts: { body?: string } = {}) {
			w.__notes.push({ title, body: opts.body ?? '' });
		}
		close() {}
	}
	Object.defineProperty(window, 'Notification', { configurable: true, value: FakeNotification });
};

beforeAll(async () => {
	server = await startTestServer();
	browser = await launchBrowser();
	const a = await newPerson(browser, server.url);
	errorLogs.push(a.errors);
	ada = a.page;
	await signUpFirst(ada);
	bob = await invite(ada, { name: 'Bob Stone', email: 'bob@example.com' }, async () => {
		const b = await newPerson(browser, server.url);
		errorLogs.push(b.errors);
		bobContext = b.context;
		await b.context.grantPermissions(['notifications']);
		await b.context.addInitScript(bobInit);
		return b.page;
	});
});

afterAll(async () => {
	await browser?.close();
	await server?.close();
});

const notes = (page: Page) => page.evaluate(() => (window as unknown as { __notes: { title: string; body: string }[] }).__notes);
const hide = (page: Page, hidden: boolean) => page.evaluate((h) => (window as unknown as { __hide: (h: boolean) => void }).__hide(h), hidden);

describe('chat: presence and attention', () => {
	it('shows who is typing above the composer, cleared on send', async () => {
		await bob.locator('[data-testid=composer]').pressSequentially('Working on it');
		const typing = ada.locator('[data-testid=typing]');
		await poll(() => typing.innerText()).toBe('Bob Stone is typing…');
		await bob.keyboard.press('Enter');
		await poll(() => typing.innerText()).toBe('');

		// Two people at once.
		const cy = await invite(ada, { name: 'Cy Twombly', email: 'cy@example.com' }, async () => {
			const c = await newPerson(browser, server.url);
			errorLogs.push(c.errors);
			return c.page;
		});
		await bob.locator('[data-testid=composer]').pressSequentially('a');
		await cy.locator('[data-testid=composer]').pressSequentially('b');
		await poll(() => typing.innerText()).toBe('Bob Stone and Cy Twombly are typing…');
		// Idle for ~4 s: cleared without sending.
		await poll(() => typing.innerText()).toBe('');
		await bob.locator('[data-testid=composer]').fill('');
		await cy.context().close();
	});

	it('shows presence dots on DMs and in the member list; offline when the tab closes', async () => {
		await ada.locator('[data-testid=member-count]').click();
		const bobRow = ada.locator('[data-testid=conversation-member]', { hasText: 'Bob Stone' });
		await poll(() => bobRow.locator('[data-testid=presence]').getAttribute('data-status')).toBe('online');
		await ada.keyboard.press('Escape');

		// A DM from Bob shows his dot in Ada's sidebar.
		const dm = await bob.evaluate(async (adaId) => {
			const res = await fetch('/api/conversations', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'dm', memberIds: [adaId] }) });
			return ((await res.json()) as { conversation: { id: string } }).conversation.id;
		}, await ada.evaluate(async () => ((await (await fetch('/api/me')).json()) as { member: { id: string } }).member.id));
		const dot = ada.locator('[data-testid=sidebar-dm] [data-testid=presence]');
		await poll(() => dot.getAttribute('data-status')).toBe('online');

		const other = await bobContext.newPage();
		await other.goto(`/c/${dm}`);
		await other.locator('[data-testid=composer]').waitFor();
		await other.close();
		// Another tab of Bob's closing leaves him online.
		await ada.waitForTimeout(500);
		expect(await dot.getAttribute('data-status')).toBe('online');
	});

	it('marks read only when the conversation is seen, and every tab agrees', async () => {
		const dmLink = ada.locator('[data-testid=sidebar-dm]');
		const dmId = (await dmLink.getAttribute('href'))!.split('/').pop()!;
		// Bob is looking at #general in a hidden tab: Ada's message to him stays unread.
		await hide(bob, true);
		await ada.goto(`/c/${dmId}`);
		await post(ada, 'Are you around?');
		const bobDm = bob.locator('[data-testid=sidebar-dm]');
		await poll(() => bobDm.locator('[data-testid=unread-count]').innerText()).toBe('1');
		// A second tab of Bob's shows the same count, from the same me: doc.
		const tab2 = await bobContext.newPage();
		await tab2.goto('/');
		await tab2.waitForURL('**/c/**');
		await poll(() => tab2.locator('[data-testid=sidebar-dm] [data-testid=unread-count]').innerText()).toBe('1');

		// Bob opens the DM in the hidden tab: still unread. Shown: read, in both tabs.
		await openConversation(bob, bobDm);
		await bob.waitForTimeout(400);
		expect(await tab2.locator('[data-testid=sidebar-dm] [data-testid=unread-count]').count()).toBe(1);
		await hide(bob, false);
		await poll(() => tab2.locator('[data-testid=sidebar-dm] [data-testid=unread-count]').count()).toBe(0);
		await tab2.close();
		await openConversation(bob, bob.locator('[data-testid=sidebar-channel][data-name=general]'));
	});

	it('asks for permission only from the banner, then notifies mentions and DMs while hidden, with a title badge', async () => {
		expect(await notes(bob)).toEqual([]);
		const banner = bob.locator('[data-testid=notify-banner]');
		await poll(() => banner.count()).toBe(1);
		await bob.locator('[data-testid=notify-enable]').click();
		await poll(() => banner.count()).toBe(0);

		await hide(bob, true);
		await openConversation(ada, ada.locator('[data-testid=sidebar-channel][data-name=general]'));
		await post(ada, 'Just chatting, no mention');
		await post(ada, 'Review this please @bob.stone, thanks');
		await poll(() => notes(bob)).toEqual([{ title: 'Ada Lovelace in #general', body: 'Review this please @bob.stone, thanks' }]);
		await openConversation(ada, ada.locator('[data-testid=sidebar-dm]'));
		await post(ada, 'Psst, a direct one');
		await poll(async () => (await notes(bob)).length).toBe(2);
		expect((await notes(bob))[1]).toEqual({ title: 'Ada Lovelace', body: 'Psst, a direct one' });
		// One mention in #general and one DM message, unread.
		await poll(() => bob.title()).toMatch(/^\(2\) /);
		await hide(bob, false);
		// Seeing #general reads the mention; the DM still counts until opened.
		await poll(() => bob.title()).toMatch(/^\(1\) #general/);
		await bob.locator('[data-testid=sidebar-dm]').click();
		await poll(() => bob.title()).toBe('Ada Lovelace · Acme');
	});

	it('mutes a conversation: dimmed in the sidebar, no notifications, kept across reloads', async () => {
		await openConversation(bob, bob.locator('[data-testid=sidebar-dm]'));
		await bob.locator('[data-testid=conversation-menu]').click();
		await bob.locator('[data-testid=toggle-mute]').click();
		await poll(() => bob.locator('[data-testid=sidebar-dm]').getAttribute('data-muted')).toBe('true');
		await openConversation(bob, bob.locator('[data-testid=sidebar-channel][data-name=general]'));
		await hide(bob, true);
		const before = (await notes(bob)).length;
		await post(ada, 'Muted DM message');
		await poll(() => bob.locator('[data-testid=sidebar-dm]').getAttribute('data-muted')).toBe('true');
		await bob.waitForTimeout(800);
		expect((await notes(bob)).length).toBe(before);
		expect(await bob.title()).not.toMatch(/^\(/);
		await hide(bob, false);
		await bob.reload();
		await poll(() => bob.locator('[data-testid=sidebar-dm]').getAttribute('data-muted')).toBe('true');
		if (shots) {
			await bob.screenshot({ path: `${shots}/presence-bob.png` });
			await ada.screenshot({ path: `${shots}/presence-ada.png` });
		}
	});

	it('ran without page errors', async () => {
		const unexpected = errorLogs.flat().filter((e) => !/401 \(Unauthorized\)/.test(e));
		expect(unexpected).toEqual([]);
	});
});
