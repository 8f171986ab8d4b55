/**
 * Catching up: the "New messages" line at my read marker when I come back to a conversation,
 * the "Jump to first unread" pill while that line is above the view, and "Mark as unread" from a
 * message (my marker moves back, the sidebar counts it again); and Drafts, the conversations
 * with unsent text. At 1440 px (Bob, the "…" menu) and on a 375 px touchscreen (Cy, the long-press
 * sheet).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { DESKTOP, TOUCH_PHONE, startTeam, type Team } from './support/team';
import { longPress, message, messageAction, poll, post } from './support/people';

let team: Team;
let ada: Page;
let bob: Page;
let cy: Page;
let general: string;
const shots = process.env.E2E_SHOTS;
const UPDATES = 30;

beforeAll(async () => {
	team = await startTeam({ joiners: [DESKTOP, TOUCH_PHONE], beforeInvites: (ada) => post(ada, 'Before you left') });
	({ ada, general, bob, cy } = team);
	// Both have read what was there: their markers sit on "Before you left".
	for (const p of [bob, cy]) await message(p, 'Before you left').waitFor();
});

afterAll(() => team?.close());

const divider = (p: Page) => p.locator('[data-testid=new-messages-divider]');
const pill = (p: Page) => p.locator('[data-testid=jump-to-unread]');
/** #general's unread badge in the sidebar (the drawer's on a phone). */
const badge = (p: Page) => p.locator('[data-testid=sidebar-channel][data-name=general] [data-testid=unread-count]').first();
/** The text of the message right below the "New messages" line. */
const belowDivider = (p: Page) =>
	divider(p).evaluate((el) => {
		const next = el.nextElementSibling;
		return next?.getAttribute('data-testid') === 'message' ? next.textContent ?? '' : `not a message: ${next?.outerHTML.slice(0, 80)}`;
	});
const inView = async (p: Page, el: Locator) => {
	const list = (await p.locator('[data-testid=message-list]').boundingBox())!;
	const box = (await el.boundingBox())!;
	return box.y >= list.y && box.y + box.height <= list.y + list.height;
};
const openDrawer = async (p: Page) => {
	await p.locator('[data-testid=open-drawer]').click();
	await p.locator('[data-testid=drawer]').waitFor();
};
const closeDrawer = async (p: Page) => {
	await p.locator('[data-testid=drawer] > button[aria-label="Close menu"]').click();
	await poll(() => p.locator('[data-testid=drawer]').count()).toBe(0);
};

describe('catching up', () => {
	it('shows "New messages" at my read marker and a pill to jump up to it', async () => {
		for (const p of [bob, cy]) await p.goto('/members');
		for (let n = 1; n <= UPDATES; n++) {
			const res = await ada.request.post(`/api/conversations/${general}/messages`, { data: { bodyMd: `Update ${n} of the launch` }, headers: { origin: team.server.url } });
			expect(res.status()).toBe(201);
		}
		await poll(() => badge(bob).textContent()).toBe(String(UPDATES));

		for (const p of [bob, cy]) {
			await p.goto(`/c/${general}`);
			await message(p, `Update ${UPDATES} of`).waitFor();
			await poll(() => divider(p).count()).toBe(1);
			expect(await belowDivider(p)).toContain('Update 1 of the launch');
			// The list opens at the newest message: the line is far above, so the pill shows.
			await poll(() => pill(p).isVisible()).toBe(true);
			expect(await inView(p, divider(p))).toBe(false);
		}
		if (shots) {
			await bob.screenshot({ path: `${shots}/catch-up-pill-1440.png` });
			await cy.screenshot({ path: `${shots}/catch-up-pill-375.png` });
		}
		for (const p of [bob, cy]) {
			await pill(p).click();
			await poll(() => inView(p, divider(p))).toBe(true);
			await poll(() => pill(p).count()).toBe(0);
			expect(await inView(p, message(p, 'Update 1 of the launch'))).toBe(true);
		}
		if (shots) {
			await bob.screenshot({ path: `${shots}/catch-up-divider-1440.png` });
			await cy.screenshot({ path: `${shots}/catch-up-divider-375.png` });
		}
		// Opening it read it: no badge, and the line stays put while I am here.
		await poll(() => badge(bob).count()).toBe(0);
		await post(ada, 'Live while you look');
		await message(bob, 'Live while you look').waitFor();
		expect(await belowDivider(bob)).toContain('Update 1 of the launch');
		await poll(() => badge(bob).count()).toBe(0);
	});

	it('marks a message unread from the "…" menu at 1440 px', async () => {
		await messageAction(bob, 'Update 20 of', 'message-more');
		await bob.locator('[data-testid=message-mark-unread]').click();
		await poll(() => belowDivider(bob)).toContain('Update 20 of the launch');
		// Update 20 to 30 and the live one: 12, shown though #general is open, and kept.
		await poll(() => badge(bob).textContent()).toBe('12');
		await bob.waitForTimeout(1000);
		expect(await badge(bob).textContent()).toBe('12');
		if (shots) await bob.screenshot({ path: `${shots}/catch-up-marked-unread-1440.png` });

		// It is my marker, not the page's: away and back, the line is there again, then read.
		await bob.locator('[data-testid=nav-members]').click();
		await bob.waitForURL('**/members');
		expect(await badge(bob).textContent()).toBe('12');
		await bob.locator('[data-testid=sidebar-channel][data-name=general]').first().click();
		await poll(() => divider(bob).count()).toBe(1);
		expect(await belowDivider(bob)).toContain('Update 20 of the launch');
		await poll(() => badge(bob).count()).toBe(0);
	});

	it('marks a message unread from the long-press sheet at 375 px', async () => {
		await longPress(cy, 'Update 25 of');
		await cy.locator('[data-testid=sheet-mark-unread]').click();
		await poll(() => cy.locator('[data-testid=action-sheet]').count()).toBe(0);
		await poll(() => belowDivider(cy)).toContain('Update 25 of the launch');
		await openDrawer(cy);
		// Update 25 to 30 and the live one.
		await poll(() => badge(cy).textContent()).toBe('7');
		if (shots) await cy.screenshot({ path: `${shots}/catch-up-marked-unread-375.png` });
		await closeDrawer(cy);
		// Sending ends the hold: I am reading it again.
		await post(cy, 'Caught up now');
		await message(cy, 'Caught up now').waitFor();
		await openDrawer(cy);
		await poll(() => badge(cy).count()).toBe(0);
		await closeDrawer(cy);
	});

	it('lists unsent text under Drafts, marks it in the sidebar, and clears it on sending', async () => {
		const drafts = (p: Page) => p.locator('[data-testid=draft]');
		const pencil = (p: Page) => p.locator('[data-testid=sidebar-channel][data-name=general] [data-testid=sidebar-draft]').first();
		const draftBadge = (p: Page) => p.locator('[data-testid=nav-drafts-badge]').first();
		for (const [p, text] of [[bob, 'Half-written thought about the launch'], [cy, 'Note from my phone']] as const) {
			await p.locator('[data-testid=composer]').fill(text);
			// Saved a moment after typing stops; leaving saves it at once anyway.
			if (p === cy) await openDrawer(p);
			await p.locator('[data-testid=nav-drafts]:visible').click();
			await p.waitForURL('**/drafts');
			await poll(() => drafts(p).count()).toBe(1);
			expect(await drafts(p).locator('[data-testid=draft-title]').innerText()).toBe('general');
			expect(await drafts(p).locator('[data-testid=draft-text]').innerText()).toBe(text);
		}
		expect(await pencil(bob).count()).toBe(1);
		expect(await draftBadge(bob).textContent()).toBe('1');
		if (shots) {
			await bob.screenshot({ path: `${shots}/drafts-1440.png` });
			await openDrawer(cy);
			await cy.screenshot({ path: `${shots}/drafts-drawer-375.png` });
			await closeDrawer(cy);
			await cy.screenshot({ path: `${shots}/drafts-375.png` });
		}

		// Discarding on the phone; sending from the conversation on the desktop.
		await cy.locator('[data-testid=draft-discard]').click();
		await poll(() => cy.locator('[data-testid=drafts-empty]').count()).toBe(1);
		await drafts(bob).locator('[data-testid=draft-open]').click();
		await poll(() => bob.locator('[data-testid=composer]').inputValue()).toBe('Half-written thought about the launch');
		await bob.keyboard.press('Enter');
		await message(bob, 'Half-written thought').waitFor();
		await bob.locator('[data-testid=nav-drafts]').click();
		await poll(() => bob.locator('[data-testid=drafts-empty]').count()).toBe(1);
		expect(await pencil(bob).count()).toBe(0);
		expect(await draftBadge(bob).count()).toBe(0);
	});

	it('ran without errors', () => {
		for (const errors of team.errorLogs) expect(errors).toEqual([]);
	});
});
