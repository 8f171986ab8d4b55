/**
 * Inviting a guest by email: the invite dialog offers the guest role with the channels they
 * join; the guest who accepts sees only those channels.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newPerson } from './support/browser';
import { poll } from './support/people';
import { PHONE, startTeam, type Team } from './support/team';

let team: Team;

beforeAll(async () => {
	team = await startTeam();
});

afterAll(async () => {
	await team?.close();
});

describe('guest invite by email', () => {
	it('invites a guest into one channel; they see only that one', async () => {
		const { ada, browser, server, errorLogs } = team;
		const made = await ada.request.post('/api/conversations', {
			data: { kind: 'channel', name: 'with-client', isPrivate: true, memberIds: [] },
			headers: { origin: server.url }
		});
		expect(made.status()).toBe(201);
		await ada.locator('[data-testid=open-invite]').click();
		await ada.locator('[data-testid=invite-email-input]').fill('gil@example.com');
		await ada.locator('[data-testid=invite-role-guest]').check();
		// No channel picked: the server says what is missing, nothing is created.
		await ada.locator('[data-testid=invite-create]').click();
		await poll(() => ada.locator('[data-testid=invite-dialog]').innerText()).toContain('at least one channel');
		await ada.locator('[data-testid=invite-channel][data-name=with-client]').check();
		expect(await ada.locator('[data-testid=invite-channel][data-name=general]').count()).toBe(1);
		await ada.locator('[data-testid=invite-create]').click();
		const link = await ada.locator('[data-testid=invite-link]').inputValue();
		await ada.keyboard.press('Escape');

		const g = await newPerson(browser, server.url, { viewport: PHONE });
		errorLogs.push(g.errors);
		await g.page.goto(new URL(link).pathname);
		await g.page.locator('[data-testid=invite-name]').fill('Gil Guest');
		await g.page.locator('[data-testid=invite-password]').fill('another long password');
		await g.page.locator('[data-testid=invite-submit]').click();
		await g.page.waitForURL('**/c/**');
		expect(((await (await g.page.request.get('/api/me')).json()) as { member: { role: string } }).member.role).toBe('guest');
		await g.page.locator('[data-testid=open-drawer]').click();
		const sidebar = g.page.locator('[data-testid=sidebar]:visible');
		await poll(() => sidebar.locator('[data-testid=section-channels] [data-name]').evaluateAll((els) => [...new Set(els.map((e) => e.getAttribute('data-name')))])).toEqual(['with-client']);
		// The refused first try (400) is the only failed request.
		for (const errors of errorLogs) expect(errors.filter((e) => !/status of 400.*\/api\/auth\/invite\)$/.test(e))).toEqual([]);
	});
});
