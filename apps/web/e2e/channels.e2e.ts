/**
 * Managing a channel as Slack users expect: topic and rename from the details panel, pins seen
 * live by another member, starring into a Starred section, removing a member, archive (a
 * read-only banner instead of the composer) and unarchive, and leaving. Ada (admin, created the
 * channel) and Bob at 1440 px, Cy at 375 px.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newPerson, joiner } from './support/browser';
import { startTestServer, type TestServer } from './support/server';
import { invite, message, messageAction, poll, post, signUpFirst } from './support/people';

let server: TestServer;
let browser: Browser;
let ada: Page;
let bob: Page;
let cy: Page;
let launch: string;
const errorLogs: string[][] = [];
const shots = process.env.E2E_SHOTS;

beforeAll(async () => {
	server = await startTestServer();
	browser = await launchBrowser();
	const a = await newPerson(browser, server.url, { viewport: { width: 1440, height: 900 } });
	errorLogs.push(a.errors);
	ada = a.page;
	await signUpFirst(ada);
	const join = joiner(browser, server.url, errorLogs);
	bob = await invite(ada, { name: 'Bob Stone', email: 'bob@example.com' }, join({ width: 1440, height: 900 }));
	cy = await invite(ada, { name: 'Cy Young', email: 'cy@example.com' }, join({ width: 375, height: 740 }));
	const members = (await (await ada.request.get('/api/members')).json()).members as Array<{ id: string; handle: string }>;
	const res = await ada.request.post('/api/conversations', {
		data: { kind: 'channel', name: 'launch', memberIds: members.filter((m) => m.handle !== 'ada').map((m) => m.id) },
		headers: { origin: server.url }
	});
	expect(res.status()).toBe(201);
	launch = (await res.json()).conversation.id;
	for (const p of [ada, bob, cy]) {
		await p.goto(`/c/${launch}`);
		await p.locator('[data-testid=composer]').waitFor();
	}
});

afterAll(async () => {
	await browser?.close();
	await server?.close();
});

const details = (p: Page) => p.locator('[data-testid=members-dialog]');
const sidebarLink = (p: Page, name: string) => p.locator(`[data-testid=sidebar] [data-name="${name}"]`);
async function openDetails(p: Page, tab: 'about' | 'members' | 'pins') {
	await p.locator('[data-testid=conversation-title]').click();
	await details(p).locator(`[data-testid=details-tab-${tab}]`).click();
}
const closeDetails = async (p: Page) => {
	await details(p).getByRole('button', { name: 'Done' }).click();
	await poll(() => details(p).count()).toBe(0);
};

describe('channels', () => {
	it('any member sets the topic; the creator renames; both show live for everyone', async () => {
		await openDetails(bob, 'about');
		// Bob did not create the channel and is no admin: no renaming for him.
		await expect(details(bob).locator('[data-testid=details-edit-name]').count()).resolves.toBe(0);
		await details(bob).locator('[data-testid=details-edit-topic]').click();
		await details(bob).locator('[data-testid=details-input-topic]').fill('Ship it on Friday');
		await details(bob).locator('[data-testid=details-save]').click();
		await poll(() => details(bob).locator('[data-testid=details-topic]').textContent()).toBe('Ship it on Friday');
		await closeDetails(bob);
		await poll(() => ada.locator('[data-testid=conversation-topic]').textContent()).toBe('Ship it on Friday');

		await openDetails(ada, 'about');
		await details(ada).locator('[data-testid=details-edit-name]').click();
		await details(ada).locator('[data-testid=details-input-name]').fill('launch-day');
		await details(ada).locator('[data-testid=details-save]').click();
		await poll(() => details(ada).locator('[data-testid=details-name]').textContent()).toBe('#launch-day');
		if (shots) await ada.screenshot({ path: `${shots}/channels-about-1440.png` });
		await closeDetails(ada);
		await sidebarLink(bob, 'launch-day').waitFor();
		await poll(() => cy.locator('[data-testid=conversation-title]').textContent()).toContain('launch-day');
		await poll(() => cy.locator('[data-testid=conversation-topic]').textContent()).toBe('Ship it on Friday');
		if (shots) await cy.screenshot({ path: `${shots}/channels-header-375.png` });
	});

	it('a pin shows in another member\'s open details panel, and leaves it on unpin', async () => {
		await post(bob, 'The plan lives in this doc');
		await message(bob, 'The plan lives in this doc').waitFor();
		await openDetails(cy, 'pins');
		await details(cy).locator('[data-testid=no-pins]').waitFor();
		await messageAction(bob, 'The plan lives in this doc', 'message-more');
		await bob.locator('[data-testid=message-pin]').click();
		await message(bob, 'The plan lives in this doc').locator('[data-testid=message-pinned]').waitFor();
		await poll(() => details(cy).locator('[data-testid=pinned-message]').textContent()).toContain('The plan lives in this doc');
		await expect(details(cy).locator('[data-testid=pinned-message]').textContent()).resolves.toContain('Pinned by Bob Stone');
		if (shots) {
			await cy.screenshot({ path: `${shots}/channels-pins-375.png` });
			await bob.screenshot({ path: `${shots}/channels-pinned-row-1440.png` });
		}
		await messageAction(bob, 'The plan lives in this doc', 'message-more');
		await expect(bob.locator('[data-testid=message-pin]').textContent()).resolves.toContain('Unpin');
		await bob.locator('[data-testid=message-pin]').click();
		await details(cy).locator('[data-testid=no-pins]').waitFor();
		await poll(() => message(bob, 'The plan lives in this doc').locator('[data-testid=message-pinned]').count()).toBe(0);
		await closeDetails(cy);
	});

	it('a star moves the conversation to a Starred section at the top of the sidebar', async () => {
		const starred = bob.locator('[data-testid=section-starred]');
		await expect(starred.count()).resolves.toBe(0);
		await bob.locator('[data-testid=toggle-star]').click();
		await starred.locator('[data-name="launch-day"]').waitFor();
		await expect(bob.locator('[data-testid=section-channels] [data-name="launch-day"]').count()).resolves.toBe(0);
		const [starTop, channelsTop] = await Promise.all([starred.boundingBox(), bob.locator('[data-testid=section-channels]').boundingBox()]);
		expect(starTop!.y).toBeLessThan(channelsTop!.y);
		if (shots) await bob.screenshot({ path: `${shots}/channels-starred-1440.png` });
		await bob.locator('[data-testid=toggle-star]').click();
		await poll(() => starred.count()).toBe(0);
		await bob.locator('[data-testid=section-channels] [data-name="launch-day"]').waitFor();
	});

	it('the creator removes a member, who loses the channel at once', async () => {
		await openDetails(ada, 'members');
		await details(ada).locator('[data-testid=conversation-member]', { hasText: 'Cy Young' }).locator('[data-testid=remove-member]').click();
		await poll(() => details(ada).locator('[data-testid=conversation-member]').count()).toBe(2);
		await closeDetails(ada);
		// Cy had it open: the pane turns to "not a member" at once, and the sidebar drops it.
		await cy.locator('[data-testid=not-a-member]').waitFor();
		await expect(cy.locator('[data-testid=composer]').count()).resolves.toBe(0);
		if (shots) await cy.screenshot({ path: `${shots}/channels-removed-375.png` });
		await cy.locator('button[aria-label="Open menu"]').click();
		await cy.locator('[data-testid=drawer]').waitFor();
		await poll(() => sidebarLink(cy, 'launch-day').count()).toBe(0);
		await cy.locator('[data-testid=drawer] [data-name="general"]').waitFor();
	});

	it('archiving makes it read-only, out of the sidebar; the creator unarchives from the banner', async () => {
		await messageAction(bob, 'The plan lives in this doc', 'message-reply');
		await bob.locator('[data-testid=thread-composer]').waitFor();
		await openDetails(ada, 'members');
		await details(ada).locator('[data-testid=archive-channel]').click();
		await poll(() => details(ada).locator('[data-testid=unarchive-channel]').count()).toBe(1);
		await closeDetails(ada);
		await bob.locator('[data-testid=archived-banner]').waitFor();
		await expect(bob.locator('[data-testid=composer]').count()).resolves.toBe(0);
		// The open thread closes its replies too.
		await bob.locator('[data-testid=thread-archived]').waitFor();
		await expect(bob.locator('[data-testid=thread-composer]').count()).resolves.toBe(0);
		await expect(bob.locator('[data-testid=archived-banner] [data-testid=unarchive-channel]').count()).resolves.toBe(0);
		await poll(() => sidebarLink(bob, 'launch-day').count()).toBe(0);
		// Read-only: no actions on its messages; history stays.
		const row = bob.locator('[data-testid=message-list] [data-testid=message]', { hasText: 'The plan lives in this doc' });
		await row.hover();
		await expect(row.locator('[data-testid=message-actions]').count()).resolves.toBe(0);
		if (shots) {
			await bob.screenshot({ path: `${shots}/channels-archived-1440.png` });
			await ada.screenshot({ path: `${shots}/channels-archived-admin-1440.png` });
		}
		await ada.locator('[data-testid=archived-banner] [data-testid=unarchive-channel]').click();
		await bob.locator('[data-testid=composer]').waitFor();
		await bob.locator('[data-testid=thread-composer]').waitFor();
		await bob.locator('[data-testid=thread-close]').click();
		await sidebarLink(bob, 'launch-day').waitFor();
		await post(bob, 'Back in business');
		await message(ada, 'Back in business').waitFor();
	});

	it('leaving takes the channel out of my sidebar', async () => {
		await openDetails(bob, 'members');
		await details(bob).locator('[data-testid=leave-channel]').click();
		await poll(() => sidebarLink(bob, 'launch-day').count()).toBe(0);
		await poll(() => ada.locator('[data-testid=member-count]').textContent()).toContain('1');
		for (const errors of errorLogs) expect(errors).toEqual([]);
	});
});
