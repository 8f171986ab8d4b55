/** UI steps shared by e2e files. Each goes through the app as a person would. */
import { expect } from 'vitest';
import type { Locator, Page } from 'playwright-core';

/** Live updates arrive in milliseconds; the long timeout only absorbs a slow, busy machine. */
export const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000, interval: 50 });

export const message = (page: Page, text: string) => page.locator('[data-testid=message]', { hasText: text });

/** A same-origin JSON call from the page, with its session cookie; throws on a non-2xx answer. */
export const api = (page: Page, method: string, path: string, body?: unknown) =>
	page.evaluate(
		async ([m, p, b]) => {
			const res = await fetch(`/api${p}`, { method: m, headers: b ? { 'content-type': 'application/json' } : {}, body: b ? JSON.stringify(b) : undefined });
			if (!res.ok) throw new Error(`${m} ${p}: ${res.status} ${await res.text()}`);
			return res.json() as Promise<Record<string, { id: string }>>;
		},
		[method, path, body] as const
	);

/** A message with `text` in the pane of conversation `id`. */
export const inPane = (page: Page, id: string, text: string) => page.locator(`[data-testid=conversation][data-id="${id}"] [data-testid=message]`, { hasText: text });

export async function post(page: Page, text: string) {
	await page.locator('[data-testid=composer]').fill(text);
	await page.keyboard.press('Enter');
}

/**
 * Clicks a sidebar link and waits for its conversation's pane. A link click navigates only after
 * the next repaint (SvelteKit), a frame that can last long on a busy machine: acting at once
 * would fill the composer of the conversation being left.
 */
export async function openConversation(page: Page, link: Locator) {
	const id = (await link.getAttribute('href'))!.split('/').pop()!;
	await link.click();
	await page.locator(`[data-testid=conversation][data-id="${id}"]`).waitFor();
}

/** Signs up the first account (creates the workspace) and waits for #general. */
export async function signUpFirst(page: Page, who = { name: 'Ada Lovelace', email: 'ada@example.com', workspace: 'Acme' }) {
	await page.goto('/signup');
	await page.locator('[data-testid=signup-workspace]').fill(who.workspace);
	await page.locator('[data-testid=signup-name]').fill(who.name);
	await page.locator('[data-testid=signup-email]').fill(who.email);
	await page.locator('[data-testid=signup-password]').fill('correct horse battery');
	await page.locator('[data-testid=signup-submit]').click();
	await page.waitForURL('**/c/**');
	await page.locator('[data-testid=composer]').waitFor();
}

/**
 * The admin on `admin` invites `who` through the UI; the invitee joins in a fresh context made by
 * `open` (so a test can pick its viewport or init scripts). Returns once #general is open.
 */
export async function invite(admin: Page, who: { name: string; email: string }, open: () => Promise<Page>): Promise<Page> {
	await admin.locator('[data-testid=open-invite]').click();
	await admin.locator('[data-testid=invite-email-input]').fill(who.email);
	await admin.locator('[data-testid=invite-create]').click();
	const link = await admin.locator('[data-testid=invite-link]').inputValue();
	await admin.keyboard.press('Escape');
	const page = await open();
	await page.goto(new URL(link).pathname);
	await page.locator('[data-testid=invite-name]').fill(who.name);
	await page.locator('[data-testid=invite-password]').fill('another long password');
	await page.locator('[data-testid=invite-submit]').click();
	await page.waitForURL('**/c/**');
	await page.locator('[data-testid=composer]').waitFor();
	return page;
}

/** Hover a message and press one of its actions (`message-react`, `message-reply`, …). */
export async function messageAction(page: Page, text: string, action: string) {
	const row = message(page, text);
	await row.hover();
	await row.locator(`[data-testid=${action}]`).click();
}

/**
 * A long press on a message with the touchscreen of a `touch` context (Chromium's own touch
 * events, as a finger gives them): its action sheet opens.
 */
export async function longPress(page: Page, text: string) {
	const row = message(page, text);
	await row.scrollIntoViewIfNeeded();
	const box = (await row.boundingBox())!;
	const touch = await page.context().newCDPSession(page);
	await touch.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x: box.x + 60, y: box.y + box.height / 2 }] });
	await page.waitForTimeout(800);
	await touch.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
	await touch.detach();
	await page.locator('[data-testid=action-sheet]').waitFor();
}
