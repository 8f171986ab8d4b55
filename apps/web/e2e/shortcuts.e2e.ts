/**
 * The keyboard a Slack user reaches for on day one: the quick switcher (Ctrl+K), moving between
 * conversations with Alt+↑/↓ (and between unread ones with Alt+Shift), ↑ to edit my last
 * message, Shift+Esc to mark everything read, and the `?` sheet.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newPerson } from './support/browser';
import { startTestServer, type TestServer } from './support/server';
import { invite, message, poll, post, signUpFirst } from './support/people';

let server: TestServer;
let browser: Browser;
let ada: Page;
let bob: Page;
let adaErrors: string[] = [];
const ids: Record<string, string> = {};

const createChannel = (p: Page, name: string) =>
	p.evaluate(async (name) => {
		const res = await fetch('/api/conversations', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'channel', name }) });
		return ((await res.json()) as { conversation: { id: string } }).conversation.id;
	}, name);
const join = (p: Page, id: string) => p.evaluate(async (id) => (await fetch(`/api/conversations/${id}/join`, { method: 'POST' })).status, id);
const postTo = (p: Page, id: string, body: string) =>
	p.evaluate(
		async ([id, body]) => (await fetch(`/api/conversations/${id}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ bodyMd: body }) })).status,
		[id, body]
	);
const currentId = (p: Page) => p.locator('[data-testid=conversation]').getAttribute('data-id');
const sidebarLink = (p: Page, id: string) => p.locator(`[data-testid=sidebar] a[href="/c/${id}"]`);
const isBold = async (p: Page, id: string) => ((await sidebarLink(p, id).getAttribute('class')) ?? '').includes('font-bold');

beforeAll(async () => {
	server = await startTestServer();
	browser = await launchBrowser();
	const a = await newPerson(browser, server.url, { viewport: { width: 1440, height: 900 } });
	ada = a.page;
	adaErrors = a.errors;
	await signUpFirst(ada);
	ids.general = (await currentId(ada))!;
	ids.launch = await createChannel(ada, 'launch-plan');
	ids.design = await createChannel(ada, 'design');
	bob = await invite(ada, { name: 'Bob Builder', email: 'bob@example.com' }, async () => (await newPerson(browser, server.url)).page);
	expect(await join(bob, ids.launch)).toBe(200);
	expect(await join(bob, ids.design)).toBe(200);
	await sidebarLink(ada, ids.design).waitFor();
});

afterAll(async () => {
	expect(adaErrors).toEqual([]);
	await browser?.close();
	await server?.close();
});

describe('keyboard: switcher and shortcuts', () => {
	it('Ctrl+K jumps to a channel by a fuzzy name; Esc closes it where I was', async () => {
		await ada.goto(`/c/${ids.general}`);
		await ada.locator('[data-testid=composer]').waitFor();
		await ada.keyboard.press('Control+k');
		const input = ada.locator('[data-testid=switcher-input]');
		await poll(() => ada.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('switcher-input');
		await input.pressSequentially('lnch');
		await poll(() => ada.locator('[data-testid=switcher-item]').first().innerText()).toContain('launch-plan');
		await ada.keyboard.press('Enter');
		await poll(() => currentId(ada)).toBe(ids.launch);
		await poll(() => ada.locator('[data-testid=quick-switcher]').count()).toBe(0);

		await ada.keyboard.press('Control+k');
		await input.pressSequentially('desi');
		await ada.keyboard.press('Escape');
		await poll(() => ada.locator('[data-testid=quick-switcher]').count()).toBe(0);
		expect(await currentId(ada)).toBe(ids.launch);
	});

	it('marks unread conversations and opens a DM with someone I never wrote to', async () => {
		expect(await postTo(bob, ids.design, 'new mockups are up')).toBe(201);
		await poll(() => isBold(ada, ids.design)).toBe(true);
		await ada.keyboard.press('Control+k');
		await poll(() => ada.locator('[data-testid=switcher-item]', { hasText: 'design' }).locator('[data-testid=switcher-unread]').count()).toBe(1);
		await ada.locator('[data-testid=switcher-input]').pressSequentially('bob');
		await poll(() => ada.locator('[data-testid=switcher-item]').first().innerText()).toContain('Bob Builder');
		await ada.keyboard.press('Enter');
		await poll(() => ada.locator('[data-testid=conversation-header]').innerText()).toContain('Bob Builder');
		await poll(() => ada.locator('[data-testid=sidebar-dm]', { hasText: 'Bob Builder' }).count()).toBe(1);
	});

	it('Alt+↑/↓ walks the sidebar; Alt+Shift+↓ goes to the next unread one', async () => {
		await ada.goto(`/c/${ids.general}`);
		await ada.locator('[data-testid=composer]').waitFor();
		// Sidebar order: channels by name (design, general, launch-plan), then DMs.
		await ada.keyboard.press('Alt+ArrowDown');
		await poll(() => currentId(ada)).toBe(ids.launch);
		await ada.keyboard.press('Alt+ArrowUp');
		await poll(() => currentId(ada)).toBe(ids.general);
		expect(await isBold(ada, ids.design)).toBe(true);
		await ada.keyboard.press('Alt+Shift+ArrowDown');
		await poll(() => currentId(ada)).toBe(ids.design);
		await message(ada, 'new mockups are up').waitFor();
	});

	it('↑ in an empty composer edits my last message', async () => {
		await post(ada, 'first draft of the brief');
		await post(ada, 'second thought on it');
		await message(ada, 'second thought on it').waitFor();
		await ada.locator('[data-testid=composer]').focus();
		await ada.keyboard.press('ArrowUp');
		const editor = ada.locator('[data-testid=message-edit-input]');
		await poll(() => editor.inputValue()).toBe('second thought on it');
		await editor.fill('second thought, revised');
		await ada.keyboard.press('Enter');
		await poll(() => message(ada, 'second thought, revised').count()).toBe(1);
		await bob.goto(`/c/${ids.design}`);
		await poll(() => message(bob, 'second thought, revised').count()).toBe(1);
	});

	it('Shift+Esc marks every conversation read', async () => {
		await ada.goto(`/c/${ids.general}`);
		await ada.locator('[data-testid=composer]').waitFor();
		expect(await postTo(bob, ids.launch, 'launch moved to Friday')).toBe(201);
		expect(await postTo(bob, ids.design, 'one more mockup')).toBe(201);
		await poll(() => isBold(ada, ids.launch)).toBe(true);
		await poll(() => isBold(ada, ids.design)).toBe(true);
		await ada.locator('[data-testid=composer]').blur();
		await ada.keyboard.press('Shift+Escape');
		await poll(() => isBold(ada, ids.launch)).toBe(false);
		await poll(() => isBold(ada, ids.design)).toBe(false);
		// It is stored in my me: doc, so a reload (another device) agrees.
		await ada.reload();
		await ada.locator('[data-testid=composer]').waitFor();
		await poll(() => sidebarLink(ada, ids.launch).count()).toBe(1);
		expect(await isBold(ada, ids.launch)).toBe(false);
	});

	it('? shows the shortcut sheet, but not while typing', async () => {
		await ada.locator('[data-testid=composer]').focus();
		await ada.keyboard.type('?');
		expect(await ada.locator('[data-testid=shortcut-sheet]').count()).toBe(0);
		await ada.locator('[data-testid=composer]').fill('');
		await ada.locator('[data-testid=composer]').blur();
		await ada.keyboard.press('Shift+Slash');
		await ada.locator('[data-testid=shortcut-sheet]').waitFor();
		expect(await ada.locator('[data-testid=shortcut-sheet]').innerText()).toContain('Jump to a channel');
		await ada.keyboard.press('Escape');
		await poll(() => ada.locator('[data-testid=shortcut-sheet]').count()).toBe(0);
	});
});
