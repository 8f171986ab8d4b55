/**
 * The snapshot of a conversation's newest messages (localStorage) paints a switch in a new tab
 * before its segment is read back from IndexedDB, and the docs' rows replace it by id. It is
 * dropped once I am taken out of the conversation, and every snapshot goes on sign-out.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createChannel, DESKTOP, startTeam, type Team } from './support/team';
import { api, message, openConversation, poll } from './support/people';

let team: Team;
let launch = '';
let secret = '';

const snapshotIds = (page: Page) =>
	page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('circlechat:snapshot:')).map((k) => k.slice('circlechat:snapshot:'.length)).sort());
const channel = (page: Page, name: string) => page.locator(`[data-testid=sidebar-channel][data-name=${name}]:visible`);

beforeAll(async () => {
	team = await startTeam({ joiners: [DESKTOP] });
	launch = await createChannel(team, 'launch', []);
	secret = await createChannel(team, 'secret', []);
	for (let i = 1; i <= 60; i++) await api(team.ada, 'POST', `/conversations/${launch}/messages`, { bodyMd: `launch note ${i}` });
	await api(team.ada, 'POST', `/conversations/${secret}/messages`, { bodyMd: 'only for the secret channel' });
});

afterAll(async () => {
	await team?.close();
});

it('paints a switch in a new tab from the snapshot, then shows the docs’ rows in its place', async () => {
	// Bob reads both (their docs and snapshots are kept), then goes back to #general.
	for (const [name, text] of [['launch', 'launch note 60'], ['secret', 'only for the secret']] as const) {
		await openConversation(team.bob, channel(team.bob, name));
		await message(team.bob, text).waitFor();
	}
	await openConversation(team.bob, channel(team.bob, 'general'));
	await poll(() => snapshotIds(team.bob)).toEqual([launch, secret].sort());
	// The snapshot's copy of the newest message is altered, so what painted first is told apart.
	await team.bob.evaluate((id) => {
		const key = `circlechat:snapshot:${id}`;
		const snapshot = JSON.parse(localStorage.getItem(key)!) as { messages: Array<{ body: string }> };
		snapshot.messages.at(-1)!.body = 'as the snapshot had it';
		localStorage.setItem(key, JSON.stringify(snapshot));
	}, launch);
	const tab = await team.bob.context().newPage();
	// Every message body text ever put in the page, from its start.
	await tab.addInitScript(() => {
		const seen: string[] = ((window as unknown as { seenBodies: string[] }).seenBodies = []);
		new MutationObserver(() => {
			for (const el of document.querySelectorAll('[data-testid=message-body]')) {
				const text = (el as HTMLElement).innerText.trim();
				if (!seen.includes(text)) seen.push(text);
			}
		}).observe(document, { subtree: true, childList: true, characterData: true });
	});
	await tab.goto(`/c/${team.general}`);
	await tab.locator('[data-testid=composer]').waitFor();
	await openConversation(tab, channel(tab, 'launch'));
	await message(tab, 'launch note 60').waitFor();
	const seen = await tab.evaluate(() => (window as unknown as { seenBodies: string[] }).seenBodies);
	expect(seen).toContain('as the snapshot had it');
	// Replaced by the docs' rows: the same 50, the snapshot's text gone, older ones on scroll.
	await poll(() => message(tab, 'as the snapshot had it').count()).toBe(0);
	const rows = tab.locator('[data-testid=message-list] [data-testid=message]');
	expect(await rows.count()).toBe(50);
	expect(await message(tab, 'launch note 11').count()).toBe(1);
	// Written again from the docs once they show.
	await poll(() => tab.evaluate((id) => JSON.parse(localStorage.getItem(`circlechat:snapshot:${id}`) ?? '{}').messages?.at(-1)?.body, launch)).toBe('launch note 60');
	await tab.close();
});

it('drops the snapshot of a conversation I am taken out of, and every snapshot on sign-out', async () => {
	const bobId = (await api(team.bob, 'GET', '/me')).member!.id;
	await api(team.ada, 'DELETE', `/conversations/${secret}/members/${bobId}`);
	await poll(() => channel(team.bob, 'secret').count()).toBe(0);
	await poll(() => snapshotIds(team.bob)).toEqual([launch]);

	await team.bob.locator('[data-testid=sign-out]:visible').click();
	await team.bob.waitForURL(/\/login/);
	await poll(() => snapshotIds(team.bob)).toEqual([]);
});
