/**
 * The kanban board of a channel, in two browsers: creating cards, dragging them with the mouse
 * and the keyboard, concurrent reorders converging, moves surviving a reload, the changed-card
 * border, an agent moving the card it was assigned, touch dragging, and one column per screen
 * on a phone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, newPerson } from './support/browser';
import { startTestServer, type TestServer } from './support/server';
import { invite, poll, signUpFirst } from './support/people';
import { FakeAgent } from '../../../agent-gateway/test/agents/helpers.ts';

let server: TestServer;
let browser: Browser;
let ada: Page;
let bob: Page;
let bobContext: BrowserContext;
const errorLogs: string[][] = [];
const shots = process.env.E2E_SHOTS ?? '/tmp';

const card = (page: Page, title: string) => page.locator(`[data-testid=card][data-title="${title}"]:not([inert] *)`);
const titles = (page: Page, status: string) =>
	page.locator(`[data-column-list=${status}] [data-testid=card]:not([inert] *)`).evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.title));
const live = (page: Page) => page.locator('[data-testid=board-live]');

async function openBoard(page: Page) {
	await page.locator('[data-testid=tab-board]').click();
	await page.locator('[data-testid=board]').waitFor();
}

async function addCard(page: Page, status: string, title: string) {
	const column = page.locator(`[data-column=${status}]`);
	if ((await column.locator('[data-testid=card-composer-input]').count()) === 0) await column.locator('[data-testid=column-add]').click();
	await column.locator('[data-testid=card-composer-input]').fill(title);
	await page.keyboard.press('Enter');
	await card(page, title).waitFor();
}

/** Presses on a card and drags it, in small steps as a hand would, before `before` or to the column's end. */
async function drag(page: Page, title: string, to: { status: string; before?: string }) {
	const from = (await card(page, title).boundingBox())!;
	await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
	await page.mouse.down();
	await page.mouse.move(from.x + from.width / 2 + 8, from.y + from.height / 2 + 8, { steps: 2 });
	let x: number;
	let y: number;
	if (to.before) {
		const b = (await card(page, to.before).boundingBox())!;
		x = b.x + b.width / 2;
		y = b.y + b.height * 0.25;
	} else {
		const list = (await page.locator(`[data-column-list=${to.status}]`).boundingBox())!;
		x = list.x + list.width / 2;
		y = list.y + list.height - 6;
	}
	await page.mouse.move(x, y, { steps: 12 });
	await page.mouse.up();
}

beforeAll(async () => {
	server = await startTestServer({ agentAllowPrivateUrls: true });
	browser = await launchBrowser();
	const a = await newPerson(browser, server.url, { viewport: { width: 1440, height: 900 } });
	errorLogs.push(a.errors);
	ada = a.page;
	await signUpFirst(ada);
	bob = await invite(ada, { name: 'Bob Stone', email: 'bob@example.com' }, async () => {
		const b = await newPerson(browser, server.url, { viewport: { width: 1440, height: 900 } });
		errorLogs.push(b.errors);
		bobContext = b.context;
		return b.page;
	});
	await openBoard(ada);
	await openBoard(bob);
});

afterAll(async () => {
	await browser?.close();
	await server?.close();
});

describe('board', () => {
	it('creates cards inline; Enter adds, Esc cancels; the other browser sees them', async () => {
		for (const t of ['Write the launch post', 'Fix the login bug', 'Plan the offsite', 'Renew the domain']) await addCard(ada, 'backlog', t);
		await ada.keyboard.press('Escape');
		await poll(() => ada.locator('[data-testid=card-composer]').count()).toBe(0);
		await poll(() => titles(bob, 'backlog')).toEqual(['Write the launch post', 'Fix the login bug', 'Plan the offsite', 'Renew the domain']);

		// At the top of a column.
		await ada.locator('[data-column=review] [data-testid=column-add-top]').click();
		await ada.locator('[data-column=review] [data-testid=card-composer-input]').fill('Review the budget');
		await ada.keyboard.press('Enter');
		await ada.locator('[data-column=review] [data-testid=card-composer-input]').fill('Review the roadmap');
		await ada.keyboard.press('Enter');
		await ada.keyboard.press('Escape');
		await poll(() => titles(bob, 'review')).toEqual(['Review the roadmap', 'Review the budget']);
		await poll(() => bob.locator('[data-column=review] [data-testid=column-count]').innerText()).toBe('2');
		expect(await ada.locator('[data-testid=refused-notice]').count()).toBe(0);
	});

	it('drags a card with the mouse to another column; it moves in the other browser', async () => {
		await drag(ada, 'Write the launch post', { status: 'in_progress' });
		await poll(() => titles(ada, 'in_progress')).toEqual(['Write the launch post']);
		await poll(() => titles(bob, 'in_progress')).toEqual(['Write the launch post']);
		await poll(() => titles(bob, 'backlog')).toEqual(['Fix the login bug', 'Plan the offsite', 'Renew the domain']);

		// And within a column: the last card to the top.
		await drag(ada, 'Renew the domain', { status: 'backlog', before: 'Fix the login bug' });
		await poll(() => titles(bob, 'backlog')).toEqual(['Renew the domain', 'Fix the login bug', 'Plan the offsite']);
		expect(await titles(ada, 'backlog')).toEqual(['Renew the domain', 'Fix the login bug', 'Plan the offsite']);
	});

	it('concurrent reorders from both browsers converge, and no third card moves', async () => {
		for (const t of ['Alpha', 'Bravo', 'Charlie', 'Delta']) await addCard(ada, 'done', t);
		await ada.keyboard.press('Escape');
		await poll(() => titles(bob, 'done')).toEqual(['Alpha', 'Bravo', 'Charlie', 'Delta']);
		const positions = async (page: Page, t: string) => card(page, t).getAttribute('data-position');
		const alpha = await positions(bob, 'Alpha');
		const bravo = await positions(bob, 'Bravo');

		// Bob reorders offline while Ada reorders online: both put a card into the same gap.
		await bobContext.setOffline(true);
		await poll(() => bob.locator('[data-testid=conversation-sync]').innerText()).toContain('Offline');
		await drag(bob, 'Charlie', { status: 'done', before: 'Bravo' });
		await poll(() => titles(bob, 'done')).toEqual(['Alpha', 'Charlie', 'Bravo', 'Delta']);
		await drag(ada, 'Delta', { status: 'done', before: 'Bravo' });
		await poll(() => titles(ada, 'done')).toEqual(['Alpha', 'Delta', 'Bravo', 'Charlie']);
		await bobContext.setOffline(false);

		// Both orders converge: the two moved cards sit between Alpha and Bravo on both screens.
		await poll(async () => JSON.stringify(await titles(ada, 'done')) === JSON.stringify(await titles(bob, 'done'))).toBe(true);
		await poll(async () => (await titles(ada, 'done')).slice(1, 3).sort()).toEqual(['Charlie', 'Delta']);
		const order = await titles(ada, 'done');
		expect(order[0]).toBe('Alpha');
		expect(order[3]).toBe('Bravo');
		for (const page of [ada, bob]) {
			expect(await positions(page, 'Alpha')).toBe(alpha);
			expect(await positions(page, 'Bravo')).toBe(bravo);
		}
		expect(await titles(bob, 'backlog')).toEqual(['Renew the domain', 'Fix the login bug', 'Plan the offsite']);
		expect(await bob.locator('[data-testid=refused-notice]').count()).toBe(0);
	});

	it('moves a card with the keyboard, announcing each step', async () => {
		await card(ada, 'Fix the login bug').focus();
		await ada.keyboard.press('Space');
		await poll(() => live(ada).innerText()).toContain('Picked up Fix the login bug');
		await ada.keyboard.press('ArrowRight');
		await poll(() => live(ada).innerText()).toContain('Moved to In progress, position 2 of 2');
		await ada.keyboard.press('ArrowUp');
		await poll(() => live(ada).innerText()).toContain('Moved to In progress, position 1 of 2');
		// Nothing is written before the drop.
		expect(await titles(bob, 'in_progress')).toEqual(['Write the launch post']);
		await ada.keyboard.press('Space');
		await poll(() => live(ada).innerText()).toContain('Dropped');
		await poll(() => titles(bob, 'in_progress')).toEqual(['Fix the login bug', 'Write the launch post']);
		// Focus stays on the card it moved.
		expect(await ada.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.title)).toBe('Fix the login bug');

		// Esc puts a lifted card back where it was.
		await ada.keyboard.press('Space');
		await ada.keyboard.press('ArrowRight');
		await ada.keyboard.press('Escape');
		await poll(() => live(ada).innerText()).toContain('Cancelled');
		expect(await titles(ada, 'in_progress')).toEqual(['Fix the login bug', 'Write the launch post']);
	});

	it('a move survives a reload', async () => {
		await ada.reload();
		await ada.locator('[data-testid=board]').waitFor();
		await poll(() => titles(ada, 'in_progress')).toEqual(['Fix the login bug', 'Write the launch post']);
		expect(await titles(ada, 'backlog')).toEqual(['Renew the domain', 'Plan the offsite']);
	});

	it("marks the other person's changed cards with a border until seen", async () => {
		// Bob is looking at the board: Ada's move shows bordered, then counts as seen.
		await drag(ada, 'Plan the offsite', { status: 'review' });
		await poll(() => card(bob, 'Plan the offsite').getAttribute('data-unread')).toBe('true');
		expect(await card(ada, 'Plan the offsite').getAttribute('data-unread')).toBeNull();
		await poll(() => card(bob, 'Plan the offsite').getAttribute('data-unread')).toBeNull();

		// Bob away from the board: the change waits for him, counted on the tab and the sidebar.
		await bob.locator('[data-testid=tab-messages]').click();
		await bob.locator('[data-testid=composer]').waitFor();
		await drag(ada, 'Renew the domain', { status: 'done' });
		await poll(() => titles(ada, 'done')).toContain('Renew the domain');
		await bob.waitForTimeout(300);
		await bob.reload();
		await poll(() => bob.locator('[data-testid=board-changed]').innerText()).toBe('1');
		await poll(() => bob.locator('[data-testid=nav-tasks-badge]').innerText()).toBe('1');
		await openBoard(bob);
		await poll(() => card(bob, 'Renew the domain').getAttribute('data-unread')).toBe('true');
		expect(await bob.locator('[data-testid=card][data-unread]:not([inert] *)').count()).toBe(1);
		await poll(() => card(bob, 'Renew the domain').getAttribute('data-unread')).toBeNull();
		await poll(() => bob.locator('[data-testid=board-changed]').count()).toBe(0);
		await poll(() => bob.locator('[data-testid=nav-tasks-badge]').count()).toBe(0);
	});

	it("shows a card's labels, assignees, due date, progress, subtasks and comments; subtasks fold into it", async () => {
		const conversationId = new URL(ada.url()).pathname.split('/')[2]!;
		const taskId = (await card(ada, 'Write the launch post').getAttribute('data-card-id'))!;
		const other = (await card(ada, 'Fix the login bug').getAttribute('data-card-id'))!;
		const statuses = await ada.evaluate(
			async ({ conversationId, taskId, other }) => {
				const call = async (method: string, path: string, body: unknown) =>
					(await fetch(`/api${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).status;
				const me = ((await (await fetch('/api/me')).json()) as { member: { id: string } }).member.id;
				return [
					await call('PATCH', `/tasks/${taskId}`, { progress: 60, dueAt: Date.UTC(2030, 0, 15) }),
					await call('POST', `/tasks/${taskId}/assignees`, { memberId: me }),
					await call('PUT', `/tasks/${taskId}/labels`, { labels: ['launch', 'marketing'] }),
					await call('POST', `/tasks/${taskId}/comments`, { bodyMd: 'First draft is up' }),
					await call('POST', `/tasks/${taskId}/comments`, { bodyMd: 'Looks good' }),
					await call('POST', '/tasks', { conversationId, title: 'Outline the post', parentId: taskId, status: 'done' }),
					await call('POST', '/tasks', { conversationId, title: 'Pick the images', parentId: taskId }),
					await call('PATCH', `/tasks/${other}`, { blocked: true })
				];
			},
			{ conversationId, taskId, other }
		);
		expect(statuses).toEqual([200, 200, 200, 201, 201, 201, 201, 200]);
		for (const page of [ada, bob]) {
			const c = card(page, 'Write the launch post');
			await poll(() => c.locator('[data-testid=card-subtasks]').innerText()).toBe('1/2');
			await poll(() => c.locator('[data-testid=card-comments]').innerText()).toBe('2');
			expect(await c.locator('[data-testid=card-label]').allInnerTexts()).toEqual(['launch', 'marketing']);
			expect(await c.locator('[data-testid=card-assignees]').getAttribute('title')).toBe('Ada Lovelace');
			expect(await c.locator('[data-testid=card-due]').innerText()).toMatch(/Jan 1[45]/);
			expect(await c.locator('[data-testid=card-progress]').getAttribute('title')).toBe('60% done');
			await poll(() => card(page, 'Fix the login bug').locator('[data-testid=card-blocked]').count()).toBe(1);
			expect(await card(page, 'Outline the post').count()).toBe(0);
			expect(await card(page, 'Pick the images').count()).toBe(0);
		}
	});

	it("All tasks shows every board's cards and where each lives; a move there reaches the channel's board", async () => {
		await bob.locator('[data-testid=nav-tasks]').click();
		await bob.locator('[data-testid=all-tasks] [data-testid=board]').waitFor();
		await poll(() => card(bob, 'Write the launch post').locator('[data-testid=card-where]').innerText()).toBe('#general');
		await poll(() => card(bob, 'Write the launch post').locator('[data-testid=card-subtasks]').innerText()).toBe('1/2');
		expect(await card(bob, 'Outline the post').count()).toBe(0);

		// New cards here go to the workspace's board, not to a channel's.
		await addCard(bob, 'backlog', 'Order team t-shirts');
		await bob.keyboard.press('Escape');
		await poll(() => card(bob, 'Order team t-shirts').locator('[data-testid=card-where]').innerText()).toBe('Workspace');

		await drag(bob, 'Write the launch post', { status: 'review' });
		await poll(() => titles(ada, 'review')).toContain('Write the launch post');
		await poll(() => card(bob, 'Write the launch post').getAttribute('data-status')).toBe('review');
		expect(await card(ada, 'Order team t-shirts').count()).toBe(0);
		await bob.screenshot({ path: `${shots}/board-all-1440.png` });
		expect(await bob.locator('[data-testid=refused-notice]').count()).toBe(0);
	});

	it('an agent assigned a card gets the task in its packet, and its update_task moves the card live', async () => {
		const hook = await new FakeAgent((p) => (p.trigger === 'task_assigned' && p.task ? { actions: [{ type: 'update_task', task_id: p.task.id, status: 'review' }] } : 'HEARTBEAT_OK')).start();
		try {
			const conversationId = new URL(ada.url()).pathname.split('/')[2]!;
			await ada.evaluate(async (body) => {
				const res = await fetch('/api/agents', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
				if (res.status !== 201) throw new Error(`POST /api/agents: ${res.status} ${await res.text()}`);
			}, { name: 'Scout', handle: 'scout', adapter: 'webhook', callbackUrl: hook.url, channelIds: [conversationId], scopes: ['channels.read', 'channels.reply', 'tasks.write'] });
			await addCard(ada, 'backlog', 'Summarise the survey');
			await card(ada, 'Summarise the survey').click();
			const modal = ada.locator('[data-testid=task-modal]');
			await modal.locator('[data-testid=task-assign]').click();
			await modal.locator('[data-testid=assignee-search]').fill('scout');
			await modal.locator('[data-testid=assignee-option][data-handle="scout"]').click();
			await ada.keyboard.press('Escape');
			await ada.keyboard.press('Escape');
			await poll(() => ada.locator('[data-testid=task-modal]').count()).toBe(0);

			// The agent's answer moves the card in both open browsers.
			await poll(() => titles(bob, 'review')).toContain('Summarise the survey');
			await poll(() => titles(ada, 'review')).toContain('Summarise the survey');
			const packet = hook.packets.find((p) => p.packet.trigger === 'task_assigned')!.packet;
			expect(packet.task).toMatchObject({ title: 'Summarise the survey', status: 'backlog', conversationId, assigneeHandles: ['scout'] });
			expect(packet.myTasks.map((t) => t.title)).toContain('Summarise the survey');
		} finally {
			await hook.close();
		}
	});

	it('on a touchscreen a long press lifts a card and a drag moves it; a quick swipe does not', async () => {
		await addCard(ada, 'backlog', 'Touch first');
		await addCard(ada, 'backlog', 'Touch second');
		const context = await browser.newContext({ baseURL: server.url, viewport: { width: 375, height: 740 }, hasTouch: true, isMobile: true, serviceWorkers: 'block' });
		await context.addCookies(await ada.context().cookies());
		const phone = await context.newPage();
		phone.on('pageerror', (err) => errorLogs.push([`pageerror: ${err.message}`]));
		await phone.goto(new URL(ada.url()).pathname);
		await card(phone, 'Touch second').waitFor();
		const touch = await context.newCDPSession(phone);
		const centre = async (title: string) => {
			const b = (await card(phone, title).boundingBox())!;
			return { x: b.x + b.width / 2, y: b.y + b.height / 2, h: b.height };
		};
		const order = async (page: Page) => (await titles(page, 'backlog')).filter((t) => t?.startsWith('Touch'));

		// A swipe that moves at once is a scroll, never a drag.
		let from = await centre('Touch first');
		await touch.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [from] });
		for (let i = 1; i <= 6; i++) await touch.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [{ x: from.x, y: from.y + i * 15 }] });
		await touch.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
		await phone.waitForTimeout(300);
		expect(await order(phone)).toEqual(['Touch first', 'Touch second']);

		// Held still past the long press, then dragged below the next card: it moves there.
		from = await centre('Touch first');
		const below = await centre('Touch second');
		await touch.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [from] });
		await phone.waitForTimeout(600);
		await poll(() => phone.locator('[data-lifted]').count()).toBe(1);
		const target = below.y + below.h * 0.4;
		for (let i = 1; i <= 10; i++) await touch.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [{ x: from.x, y: from.y + ((target - from.y) * i) / 10 }] });
		await touch.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
		await poll(() => order(phone)).toEqual(['Touch second', 'Touch first']);
		// The release neither opened the card nor left it lifted; the desktop browser sees the move.
		expect(await phone.locator('[data-testid=task-modal]').count()).toBe(0);
		expect(await phone.locator('[data-lifted]').count()).toBe(0);
		await poll(() => order(bob)).toEqual(['Touch second', 'Touch first']);
		await phone.screenshot({ path: `${shots}/board-375-touch.png` });
		await context.close();
	});

	it('shows one column per screen on a phone, snapping as it scrolls', async () => {
		await ada.screenshot({ path: `${shots}/board-1440.png` });
		await ada.setViewportSize({ width: 375, height: 740 });
		const scroller = ada.locator('[data-testid=board-scroller]');
		expect(await scroller.evaluate((el) => getComputedStyle(el).scrollSnapType)).toBe('x mandatory');
		const widths = await ada.locator('[data-testid=column]').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().width));
		for (const w of widths) expect(w).toBeGreaterThan(375 * 0.85);
		await ada.screenshot({ path: `${shots}/board-375.png` });

		// Scrolling past half a column settles with the next column whole on screen.
		const box = (await scroller.boundingBox())!;
		await ada.mouse.move(box.x + box.width / 2, box.y + 40);
		await ada.mouse.wheel(240, 0);
		const inView = () =>
			ada.locator('[data-testid=column]').evaluateAll((els) =>
				els.filter((e) => {
					const r = e.getBoundingClientRect();
					return r.left >= 0 && r.right <= window.innerWidth;
				}).map((e) => (e as HTMLElement).dataset.column)
			);
		await poll(inView).toEqual(['in_progress']);
		await ada.screenshot({ path: `${shots}/board-375-scrolled.png` });
		await ada.setViewportSize({ width: 1440, height: 900 });

		for (const errors of errorLogs) expect(errors.filter((e) => !/WebSocket|net::ERR_INTERNET_DISCONNECTED|Failed to load resource/.test(e))).toEqual([]);
	});
});
