/**
 * A first visit to a conversation (nothing of it in this browser): its newest messages come over
 * REST while the segment docs sync, then the docs take over, live and editable. The segments'
 * sockets are held back here, so the page can only be the REST one, and then let through.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page, WebSocketRoute } from 'playwright-core';
import { newPerson } from './support/browser';
import { createChannel, DESKTOP, startTeam, type Team } from './support/team';
import { api, message, messageAction, poll, post } from './support/people';

let team: Team;
const N = 80;

beforeAll(async () => {
	team = await startTeam({ joiners: [DESKTOP] });
	for (let i = 1; i <= N; i++) await api(team.ada, 'POST', `/conversations/${team.general}/messages`, { bodyMd: `note ${i} of ${N}` });
	await message(team.ada, `note ${N} of`).waitFor();
});

afterAll(async () => {
	await team?.close();
});

/**
 * Ada signed in on a browser that holds nothing (her cookies only), with the conversations'
 * segment sockets held: nothing passes either way until `release()`, and again after `hold()`.
 */
async function freshAda() {
	const cookies = await team.ada.context().cookies();
	const fresh = await newPerson(team.browser, team.server.url, { viewport: DESKTOP, storageState: { cookies, origins: [] } });
	team.errorLogs.push(fresh.errors);
	const held: Array<() => void> = [];
	let open = false;
	await fresh.context.routeWebSocket(/\/sync\/conv:/, (ws: WebSocketRoute) => {
		const server = ws.connectToServer();
		const queue: Array<() => void> = [];
		const pass = (send: () => void) => (open ? send() : queue.push(send));
		ws.onMessage((m) => pass(() => server.send(m)));
		server.onMessage((m) => pass(() => ws.send(m)));
		held.push(() => queue.splice(0).forEach((send) => send()));
	});
	const release = () => {
		open = true;
		held.forEach((flush) => flush());
	};
	const hold = () => (open = false);
	return { page: fresh.page, release, hold };
}

const rows = (page: Page) => page.locator('[data-testid=message-list] [data-testid=message]');

it('shows the newest messages from the server before the segments sync, then stays live and editable', async () => {
	const { page, release } = await freshAda();
	await page.goto(`/c/${team.general}`);
	await message(page, `note ${N} of`).waitFor();
	// The first window: the newest 50, nothing older, and no "beginning of #general" while older
	// messages may exist.
	expect(await rows(page).count()).toBe(50);
	expect(await message(page, `note ${N - 49} of`).count()).toBe(1);
	expect(await message(page, `note ${N - 50} of`).count()).toBe(0);
	expect(await page.getByText('Welcome to #general').count()).toBe(0);

	release();
	// Bob's message reaches the docs only, over the sockets now let through.
	await post(team.bob, 'live after the first page');
	await poll(() => message(page, 'live after the first page').count()).toBe(1);
	// The docs took over without a flash: still the newest window, in order.
	const bodies = (await page.locator('[data-testid=message-body]').allInnerTexts()).map((b) => b.trim());
	expect(bodies.slice(-3)).toEqual([`note ${N - 1} of ${N}`, `note ${N} of ${N}`, 'live after the first page']);

	await messageAction(page, `note ${N} of`, 'message-edit');
	await page.locator('[data-testid=message-edit-input]').fill(`note ${N}, edited`);
	await page.keyboard.press('Enter');
	await poll(() => message(team.bob, `note ${N}, edited`).count()).toBe(1);
	await page.context().close();
});

it('in a browser holding my conversations, a channel not opened here yet shows its newest page too', async () => {
	const { page, release, hold } = await freshAda();
	release();
	await page.goto(`/c/${team.general}`);
	await message(page, 'live after the first page').waitFor();
	const launch = await createChannel(team, 'launch', []);
	for (let i = 1; i <= 60; i++) await api(team.bob, 'POST', `/conversations/${launch}/messages`, { bodyMd: `launch step ${i} of 60` });
	await page.locator('[data-testid=sidebar-channel]', { hasText: 'launch' }).waitFor();

	hold();
	await page.locator('[data-testid=sidebar-channel]', { hasText: 'launch' }).click();
	await message(page, 'launch step 60 of').waitFor();
	expect(await rows(page).count()).toBe(50);
	release();
	await post(page, 'ready for launch');
	await team.bob.goto(`/c/${launch}`);
	await poll(() => message(team.bob, 'ready for launch').count()).toBe(1);
	await page.context().close();
});

it('shows nothing of a conversation the person is not in', async () => {
	const secret = await api(team.bob, 'POST', '/conversations', { kind: 'channel', name: 'secret-plans', isPrivate: true });
	const id = secret.conversation!.id;
	await api(team.bob, 'POST', `/conversations/${id}/messages`, { bodyMd: 'the launch date is a secret' });
	const { page, release } = await freshAda();
	release();
	await page.goto(`/c/${id}`);
	await page.locator('[data-testid=not-a-member]').waitFor();
	expect(await page.locator('body').innerText()).not.toContain('launch date');
	expect(await rows(page).count()).toBe(0);
	await page.context().close();
});

it('ran without errors', () => {
	// The private channel answers 404 to the REST reads of a first visit, as it should.
	for (const errors of team.errorLogs) expect(errors.filter((e) => !/WebSocket|404 \(Not Found\)/.test(e))).toEqual([]);
});
