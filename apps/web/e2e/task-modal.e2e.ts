/**
 * The task modal on a channel's board: two people typing in one description at once, every
 * field of the rail, subtasks and comments kept across a reload, the phone layout, and making a
 * task of a message. The server runs in its own process so it can be killed with SIGKILL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { newPerson } from './support/browser';
import { startServerProcess, type ProcessServer } from './support/server';
import { DESKTOP, startTeam, type Team } from './support/team';
import { message, poll, post } from './support/people';

let team: Team<ProcessServer>;
let ada: Page;
let bob: Page;
let general: string;

beforeAll(async () => {
	team = await startTeam({ server: startServerProcess, joiners: [DESKTOP] });
	({ ada, general, bob } = team);
});

afterAll(() => team?.close());

/** A task on #general made through the REST API, as any client would. */
async function createTask(page: Page, title: string, bodyMd = ''): Promise<string> {
	return page.evaluate(
		async ({ conversationId, title, bodyMd }) => {
			const res = await fetch('/api/tasks', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ conversationId, title, bodyMd }) });
			if (!res.ok) throw new Error(`POST /api/tasks: ${res.status} ${await res.text()}`);
			return ((await res.json()) as { task: { id: string } }).task.id;
		},
		{ conversationId: general, title, bodyMd }
	);
}

/** Opens #general's board and the card with this title; returns the modal. */
async function openTask(page: Page, title: string) {
	// A card opened before is in the URL (`?task=`): start from the bare board.
	const at = new URL(page.url());
	if (!at.pathname.endsWith(`/c/${general}/board`) || at.search) await page.goto(`/c/${general}/board`);
	await page.locator('[data-testid=card]', { hasText: title }).first().click();
	const modal = page.locator('[data-testid=task-modal]');
	await modal.waitFor();
	await poll(() => modal.locator('[data-testid=task-title]').inputValue()).toBe(title);
	return modal;
}

/** What a reopened modal must show of the task "Ship the release" as filled in by the test below. */
async function expectEveryField(modal: Locator) {
	expect(await modal.locator('[data-testid=task-status]').getAttribute('data-status')).toBe('review');
	expect(await modal.locator('[data-testid=task-blocked]').count()).toBe(1);
	expect(await modal.locator('[data-testid=task-assignee]').innerText()).toContain('Bob Stone');
	expect(await modal.locator('[data-testid=task-label]').getAttribute('data-name')).toBe('urgent');
	expect(await modal.locator('[data-testid=task-due]').inputValue()).toBe('2030-12-24');
	expect(await modal.locator('[data-testid=task-progress-value]').innerText()).toBe('40%');
	expect(await modal.locator('[data-testid=task-link]').innerText()).toMatch(/blocks\s*Blocking task/);
	expect(await modal.locator('[data-testid=subtask-count]').innerText()).toBe('1/2');
	const comment = modal.locator('[data-testid=task-comment]');
	expect(await comment.locator('.mention').innerText()).toBe('@bob.stone');
	expect(await comment.innerText()).toContain('once the build is green');
}

const description = (page: Page) => page.locator('[data-testid=task-description-input]');

describe('task modal', () => {
	it('keeps every keystroke of two people typing in one description at once, with their carets', async () => {
		await createTask(ada, 'Write the launch plan', 'Intro. Outro.');
		const adaModal = await openTask(ada, 'Write the launch plan');
		const bobModal = await openTask(bob, 'Write the launch plan');
		await adaModal.locator('[data-testid=task-description]').click();
		await bobModal.locator('[data-testid=task-description]').click();
		await poll(() => description(ada).inputValue()).toBe('Intro. Outro.');
		// Ada types after "Intro.", Bob at the very end, at the same time.
		await description(ada).evaluate((el: HTMLTextAreaElement) => el.setSelectionRange(6, 6));
		await description(bob).evaluate((el: HTMLTextAreaElement) => el.setSelectionRange(13, 13));
		const adaWords = ' Ada was here first and types a long sentence';
		const bobWords = ' Bob adds his own words at the end';
		await Promise.all([description(ada).pressSequentially(adaWords, { delay: 15 }), description(bob).pressSequentially(bobWords, { delay: 15 })]);
		const want = `Intro.${adaWords} Outro.${bobWords}`;
		await poll(() => description(ada).inputValue()).toBe(want);
		await poll(() => description(bob).inputValue()).toBe(want);

		// Each sees the other's caret and name while both are in the text.
		await poll(() => ada.locator('[data-testid=remote-caret]').getAttribute('data-name')).toBe('Bob Stone');
		await poll(() => ada.locator('[data-testid=remote-caret]').getAttribute('data-index')).toBe(String(want.length));
		await poll(() => bob.locator('[data-testid=remote-caret]').getAttribute('data-index')).toBe(String(`Intro.${adaWords}`.length));
		await poll(() => bob.locator('[data-testid=task-editing]').innerText()).toBe('Ada Lovelace is editing');
		await ada.screenshot({ path: '/tmp/task-coedit-1440.png' });

		// Esc leaves the text first (rendered as markdown again), then closes the dialog.
		await ada.keyboard.press('Escape');
		await poll(() => adaModal.locator('[data-testid=task-description]').innerText()).toContain('Ada was here first');
		await poll(() => bob.locator('[data-testid=task-editing]').count()).toBe(0);
		await ada.keyboard.press('Escape');
		await poll(() => ada.locator('[data-testid=task-modal]').count()).toBe(0);
		await bob.keyboard.press('Escape');
		await bob.keyboard.press('Escape');
		await poll(() => bob.locator('[data-testid=task-modal]').count()).toBe(0);
	});

	it('keeps status, assignees, labels, due date, progress, links, subtasks and comments across a reload and a kill -9', async () => {
		// Bob off the board: a board in view marks its news (the mention below) seen.
		await bob.goto(`/c/${general}`);
		await bob.locator('[data-testid=composer]').waitFor();
		await createTask(ada, 'Blocking task');
		await createTask(ada, 'Ship the release');
		const modal = await openTask(ada, 'Ship the release');

		await modal.locator('[data-testid=task-status]').click();
		await modal.locator('[data-testid=task-status-option][data-status=review]').click();
		await modal.locator('[data-testid=task-status]').click();
		await modal.locator('[data-testid=task-blocked-toggle]').check();
		await ada.keyboard.press('Escape');
		await poll(() => modal.locator('[data-testid=task-blocked]').count()).toBe(1);
		// The Esc closed the menu only.
		expect(await ada.locator('[data-testid=task-modal]').count()).toBe(1);

		await modal.locator('[data-testid=task-assign]').click();
		await modal.locator('[data-testid=assignee-search]').fill('bob');
		await modal.locator('[data-testid=assignee-option][data-handle="bob.stone"]').click();
		await ada.keyboard.press('Escape');

		await modal.locator('[data-testid=task-add-label]').click();
		await modal.locator('[data-testid=label-search]').fill('urgent');
		await modal.locator('[data-testid=label-colour][data-colour=red]').click();
		await modal.locator('[data-testid=label-create]').click();
		await ada.keyboard.press('Escape');

		await modal.locator('[data-testid=task-due]').fill('2030-12-24');
		// A slider drag writes once, on release.
		await modal.locator('[data-testid=task-progress]').evaluate((el: HTMLInputElement) => {
			el.value = '40';
			el.dispatchEvent(new Event('input', { bubbles: true }));
			el.dispatchEvent(new Event('change', { bubbles: true }));
		});

		await modal.locator('[data-testid=task-add-link]').click();
		await modal.locator('[data-testid=link-kind][data-kind=blocks]').click();
		await modal.locator('[data-testid=link-task-search]').fill('Blocking');
		await modal.locator('[data-testid=link-task-option]', { hasText: 'Blocking task' }).click();

		await modal.locator('[data-testid=subtask-new]').click();
		await modal.locator('[data-testid=subtask-input]').fill('Write release notes');
		await ada.keyboard.press('Enter');
		await modal.locator('[data-testid=subtask-input]').fill('Tag the build');
		await ada.keyboard.press('Enter');
		await poll(() => modal.locator('[data-testid=subtask]').count()).toBe(2);
		await modal.locator('[data-testid=subtask]', { hasText: 'Tag the build' }).locator('[data-testid=subtask-done]').check();

		await modal.locator('[data-testid=comment-input]').fill('Over to you @bob');
		await poll(() => ada.locator('[data-testid=mention-option]').count()).toBe(1);
		await ada.keyboard.press('Enter');
		await ada.keyboard.type('once the build is green');
		await ada.keyboard.press('Enter');
		await poll(() => modal.locator('[data-testid=task-comment]').count()).toBe(1);
		await ada.screenshot({ path: '/tmp/task-modal-1440.png' });

		await ada.reload();
		await expectEveryField(await openTask(ada, 'Ship the release'));

		// After a SIGKILL and a restart, in a fresh profile with Ada's session (nothing cached):
		// every change was acknowledged, so every change was stored.
		await poll(() => ada.locator('[data-testid=conversation-sync]').count()).toBe(0);
		await ada.goto('about:blank');
		await bob.goto('about:blank');
		await team.server.kill9();
		await team.server.restart();
		const fresh = await newPerson(team.browser, team.server.url, { viewport: { width: 1440, height: 900 } });
		team.errorLogs.push(fresh.errors);
		await fresh.context.addCookies(await ada.context().cookies());
		await expectEveryField(await openTask(fresh.page, 'Ship the release'));
		await fresh.context.close();
		const again = await openTask(ada, 'Ship the release');

		// The other side of the link reads "blocked by", and opens in place.
		await again.locator('[data-testid=task-link] button', { hasText: 'Blocking task' }).click();
		await poll(() => again.locator('[data-testid=task-title]').inputValue()).toBe('Blocking task');
		expect(await again.locator('[data-testid=task-link]').innerText()).toMatch(/blocked by\s*Ship the release/);

		// Bob sees it all live; he may not edit Ada's comment.
		// Ada's comment mentioned Bob: his sidebar says so until he has looked at the board.
		await bob.goto(`/c/${general}`);
		await poll(() => bob.locator('[data-testid=nav-tasks-mentions]').innerText()).toBe('@1');
		const bobModal = await openTask(bob, 'Ship the release');
		await poll(() => bob.locator('[data-testid=nav-tasks-mentions]').count()).toBe(0);
		await poll(() => bobModal.locator('[data-testid=task-comment]').innerText()).toContain('once the build is green');
		expect(await bobModal.locator('[data-testid=comment-edit]').count()).toBe(0);
		expect(await bobModal.locator('[data-testid=task-assignee]').getAttribute('data-id')).toBeTruthy();
		await bob.keyboard.press('Escape');

		// Ada edits, then deletes her comment.
		await ada.keyboard.press('Escape');
		const mine = await openTask(ada, 'Ship the release');
		await mine.locator('[data-testid=task-comment]').hover();
		await mine.locator('[data-testid=comment-edit]').click();
		await mine.locator('[data-testid=comment-edit-input]').fill('Over to you, Bob');
		await ada.keyboard.press('Enter');
		await poll(() => mine.locator('[data-testid=task-comment]').innerText()).toContain('(edited)');
		await mine.locator('[data-testid=task-comment]').hover();
		await mine.locator('[data-testid=comment-delete]').click();
		await mine.locator('[data-testid=comment-delete-confirm]').click();
		await poll(() => mine.locator('[data-testid=task-comment]').count()).toBe(0);
		await poll(() => bobModal.locator('[data-testid=task-comment]').count()).toBe(0);
		await ada.keyboard.press('Escape');
	});

	it('fills the screen on a phone, with the rail under the text', async () => {
		await ada.setViewportSize({ width: 375, height: 740 });
		const modal = await openTask(ada, 'Ship the release');
		const box = (await modal.boundingBox())!;
		expect(box).toEqual({ x: 0, y: 0, width: 375, height: 740 });
		const title = (await modal.locator('[data-testid=task-title]').boundingBox())!;
		const rail = (await modal.locator('[data-testid=task-rail]').boundingBox())!;
		expect(rail.y).toBeGreaterThan(title.y + title.height);
		expect(rail.width).toBeGreaterThan(300);
		await ada.screenshot({ path: '/tmp/task-modal-375.png' });
		await modal.locator('[data-testid=task-rail]').scrollIntoViewIfNeeded();
		await ada.screenshot({ path: '/tmp/task-modal-375-rail.png' });
		// Focus stays inside while tabbing round.
		for (let i = 0; i < 40; i++) await ada.keyboard.press('Tab');
		expect(await ada.evaluate(() => !!document.activeElement?.closest('[data-testid=task-modal]'))).toBe(true);
		await modal.locator('[data-testid=task-close]').click();
		await poll(() => ada.locator('[data-testid=task-modal]').count()).toBe(0);
		await ada.setViewportSize({ width: 1440, height: 900 });
	});

	it('makes a task of a message and links back to it', async () => {
		await ada.goto(`/c/${general}`);
		await ada.locator('[data-testid=composer]').waitFor();
		await post(ada, 'Fix the login redirect\nIt loops after the password reset.');
		const row = message(ada, 'Fix the login redirect');
		const messageId = await row.getAttribute('data-id');
		await row.hover();
		await row.locator('[data-testid=message-more]').click();
		await ada.locator('[data-testid=message-create-task]').click();
		await ada.waitForURL(`**/c/${general}/board?task=*`);
		const modal = ada.locator('[data-testid=task-modal]');
		await poll(() => modal.locator('[data-testid=task-title]').inputValue()).toBe('Fix the login redirect');
		expect(await modal.locator('[data-testid=task-description]').innerText()).toContain('It loops after the password reset.');
		expect(await modal.locator('[data-testid=task-source]').innerText()).toBe('From #general');
		await ada.screenshot({ path: '/tmp/task-from-message-1440.png' });
		await modal.locator('[data-testid=task-source]').click();
		await ada.waitForURL(`**/c/${general}?m=*`);
		expect(new URL(ada.url()).searchParams.get('m')).toBe(messageId);
		await poll(() => ada.locator('[data-testid=message][data-highlighted=true]').innerText()).toContain('Fix the login redirect');
	});

	it("shows a comment's files like a message's, for everyone on the board, and opens them in the viewer", async () => {
		const taskId = await createTask(ada, 'Review the mockups');
		// Ada uploads an image and a text file and comments with them, as any client would.
		await ada.evaluate(
			async ({ taskId }) => {
				const canvas = Object.assign(document.createElement('canvas'), { width: 120, height: 60 });
				canvas.getContext('2d')!.fillRect(0, 0, 120, 60);
				const image = await new Promise<Blob>((done) => canvas.toBlob((b) => done(b!), 'image/png'));
				const keys: Array<{ key: string }> = [];
				for (const [name, blob] of [['mock.png', image], ['notes.txt', new Blob(['see the header'])]] as const) {
					const form = new FormData();
					form.append('file', blob, name);
					const res = await fetch('/api/uploads', { method: 'POST', body: form });
					if (!res.ok) throw new Error(`POST /api/uploads: ${res.status} ${await res.text()}`);
					keys.push({ key: ((await res.json()) as { key: string }).key });
				}
				const res = await fetch(`/api/tasks/${taskId}/comments`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ bodyMd: 'the mocks', attachments: keys }) });
				if (!res.ok) throw new Error(`POST comments: ${res.status} ${await res.text()}`);
			},
			{ taskId }
		);
		const modal = await openTask(bob, 'Review the mockups');
		const comment = modal.locator('[data-testid=task-comment]', { hasText: 'the mocks' });
		const image = comment.locator('[data-testid=attachment-image]');
		await image.waitFor();
		await poll(() => image.locator('img').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(120);
		expect(await comment.locator('[data-testid=attachment-file]').innerText()).toContain('notes.txt');
		await image.click();
		const viewer = bob.locator('[data-testid=file-viewer]');
		await viewer.waitFor();
		expect(await viewer.getAttribute('data-view')).toBe('image');
		expect(await bob.locator('[data-testid=file-viewer-position]').innerText()).toContain('1 of 2');
		await bob.keyboard.press('Escape');
		await viewer.waitFor({ state: 'detached' });
		// Bob answers with a file from the comment composer: uploaded first, then posted with no text.
		await modal.locator('[data-testid=comment-input-file-input]').setInputFiles({ name: 'answer.md', mimeType: 'text/markdown', buffer: Buffer.from('# Looks good\n') });
		await poll(() => modal.locator('[data-testid=comment-input-uploads] [data-testid=upload-progress]').count()).toBe(0);
		await modal.locator('[data-testid=comment-input-submit]').click();
		await poll(() => modal.locator('[data-testid=comment-input-uploads]').count()).toBe(0);
		const seen = (await openTask(ada, 'Review the mockups')).locator('[data-testid=task-comment]', { has: ada.locator('[data-testid=attachment-file]', { hasText: 'answer.md' }) });
		await seen.waitFor();
		expect(await seen.getAttribute('data-author')).not.toBe(await comment.getAttribute('data-author'));
	});

	it('ran without errors in the console', () => {
		// A refused write would show here as a reset; none is expected.
		for (const log of team.errorLogs) expect(log.filter((l) => !/favicon|Failed to load resource.*404/.test(l))).toEqual([]);
	});
});
