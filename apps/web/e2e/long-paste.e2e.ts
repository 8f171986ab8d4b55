/**
 * Text longer than a message holds (40,000 characters): a 2 MB paste is held out of the text box
 * (where megabytes make every keystroke lay them out again) and the page keeps answering; the
 * composer says why it cannot send and offers "Send as a file", which uploads the text as an
 * attachment and sends the message with it, in the channel, a thread and a task comment. An
 * oversized draft stays in the browser instead of being refused in the me: doc. The Files page
 * links a comment's file to its task.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { MAX_BODY_CHARS } from '@circlechat/model';
import { PHONE, startTeam, type Team } from './support/team';
import { message, messageAction, openConversation, poll, post } from './support/people';

let team: Team;
let ada: Page;
let bob: Page;
let general = '';
const shots = process.env.E2E_SHOTS;

/** A 2 MB single line, as a minified bundle or a JSON dump is. */
const HUGE = JSON.stringify(Array.from({ length: 60_000 }, (_, i) => ({ id: i, name: `item-${i}`, ok: true }))).slice(0, 2_000_000);

/** A paste of `text` into the element, as the browser fires it (a ClipboardEvent with the text). */
async function paste(page: Page, selector: string, text: string) {
	await page.locator(selector).focus();
	await page.evaluate(
		({ selector, text }) => {
			const dt = new DataTransfer();
			dt.setData('text/plain', text);
			document.querySelector(selector)!.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
		},
		{ selector, text }
	);
}

/** How long the page takes to answer a trivial evaluate: a frozen main thread shows here. */
async function answerTime(page: Page) {
	const start = performance.now();
	await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(1))));
	return performance.now() - start;
}

beforeAll(async () => {
	team = await startTeam({ joiners: [PHONE] });
	({ ada, general, bob } = team);
});

afterAll(() => team?.close());

describe('text past the message limit', () => {
	it('holds a 2 MB paste out of the text box, stays responsive, and sends it as a file the other browser sees', async () => {
		await ada.locator('[data-testid=composer]').fill('here is the dump');
		await paste(ada, '[data-testid=composer]', HUGE);
		const notice = ada.locator('[data-testid=composer-too-long]');
		await notice.waitFor();
		expect(await notice.innerText()).toContain(`Your paste is ${HUGE.length.toLocaleString('en')} characters`);
		expect(await notice.innerText()).toContain(`${MAX_BODY_CHARS.toLocaleString('en')} a message can hold`);
		// The box keeps only what was typed; the page answers, and typing goes on as usual.
		expect(await ada.locator('[data-testid=composer]').inputValue()).toBe('here is the dump');
		expect(await answerTime(ada)).toBeLessThan(3000);
		await ada.locator('[data-testid=composer]').press('End');
		await ada.keyboard.type(':');
		expect(await answerTime(ada)).toBeLessThan(3000);
		expect(await ada.locator('[data-testid=composer-send]').isDisabled()).toBe(true);
		await ada.keyboard.press('Enter');
		expect(await ada.locator('[data-testid=composer]').inputValue()).toBe('here is the dump:');
		if (shots) await ada.screenshot({ path: `${shots}/long-paste-1440.png` });

		await notice.locator('[data-testid=composer-send-as-file]').click();
		for (const page of [ada, bob]) {
			const chip = message(page, 'here is the dump:').locator('[data-testid=attachment-file]');
			await poll(() => chip.count()).toBe(1);
			expect(await chip.innerText()).toMatch(/text-\d{4}-\d\d-\d\d-\d{4}\.txt/);
		}
		await poll(() => notice.count()).toBe(0);
		expect(await ada.locator('[data-testid=composer]').inputValue()).toBe('');
		// The file holds the paste, byte for byte.
		const key = await message(bob, 'here is the dump:').locator('[data-testid=attachment-file]').getAttribute('data-key');
		const body = await bob.evaluate(async (k) => (await fetch(`/files/${k}`)).text(), key);
		expect(body.length).toBe(HUGE.length);
		expect(body === HUGE).toBe(true);
		// It opens in the viewer (its first 512 KB) without stalling the page.
		await message(bob, 'here is the dump:').locator('[data-testid=attachment-file]').click();
		await poll(() => bob.locator('[data-testid=file-viewer-code]').innerText().then((t) => t.length)).toBeGreaterThan(100_000);
		expect(await answerTime(bob)).toBeLessThan(3000);
		await bob.keyboard.press('Escape');
		await poll(() => bob.locator('[data-testid=file-viewer]').count()).toBe(0);
		if (shots) await bob.screenshot({ path: `${shots}/long-paste-sent-375.png` });
	});

	it('offers a file for typed text past the limit too, as markdown when it reads like markdown', async () => {
		const doc = `# Release notes\n\n- one\n- two\n\n${'Lorem ipsum dolor sit amet. '.repeat(1500)}`;
		await bob.locator('[data-testid=composer]').fill(doc);
		const notice = bob.locator('[data-testid=composer-too-long]');
		await notice.waitFor();
		expect(await bob.locator('[data-testid=composer-count]').getAttribute('data-over')).toBe('true');
		expect(await bob.locator('[data-testid=composer-send]').isDisabled()).toBe(true);
		if (shots) await bob.screenshot({ path: `${shots}/long-typed-375.png` });
		await notice.locator('[data-testid=composer-send-as-file]').click();
		await poll(() => bob.locator('[data-testid=composer]').inputValue()).toBe('');
		const chip = ada.locator('[data-testid=message] [data-testid=attachment-file]', { hasText: '.md' }).last();
		await poll(() => chip.count()).toBe(1);
		await chip.click();
		await poll(() => ada.locator('[data-testid=file-viewer]').getAttribute('data-view')).toBe('markdown');
		await poll(() => ada.locator('[data-testid=file-viewer] h1').first().innerText()).toBe('Release notes');
		await ada.keyboard.press('Escape');
	});

	it('keeps an oversized held paste as a draft in this browser when leaving the conversation', async () => {
		await ada.locator('[data-testid=composer]').fill('draft with a paste');
		await paste(ada, '[data-testid=composer]', 'y'.repeat(MAX_BODY_CHARS + 10));
		await ada.locator('[data-testid=composer-too-long]').waitFor();
		await ada.locator('[data-testid=nav-files]').click();
		await ada.locator('[data-testid=files-page]').waitFor();
		await openConversation(ada, ada.locator('[data-testid=sidebar-channel][data-name=general]'));
		// Back: the paste is held again (not in the box), with the typed text before it.
		const notice = ada.locator('[data-testid=composer-too-long]');
		await notice.waitFor();
		expect(await notice.innerText()).toContain(`Your paste is ${(MAX_BODY_CHARS + 10 + 'draft with a paste'.length + 2).toLocaleString('en')} characters`);
		await notice.locator('[data-testid=composer-discard-paste]').click();
		await poll(() => notice.count()).toBe(0);
		await ada.locator('[data-testid=composer]').fill('');
	});

	it('sends a long paste in a thread reply as a file', async () => {
		await post(ada, 'Thread for the logs');
		await messageAction(ada, 'Thread for the logs', 'message-reply');
		const pane = ada.locator('[data-testid=thread-pane]');
		await pane.waitFor();
		await paste(ada, '[data-testid=thread-composer]', 'log line\n'.repeat(6000));
		await pane.locator('[data-testid=thread-composer-too-long]').waitFor();
		await pane.locator('[data-testid=thread-composer-send-as-file]').click();
		await poll(() => pane.locator('[data-testid=message] [data-testid=attachment-file]').count()).toBe(1);
		await poll(() => message(bob, 'Thread for the logs').locator('[data-testid=thread-summary]').getAttribute('data-count')).toBe('1');
	});

	it('sends a long paste in a task comment as a file, and the Files page opens its task', async () => {
		const taskId = await ada.evaluate(async (conversationId) => {
			const res = await fetch('/api/tasks', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ conversationId, title: 'Read the trace' }) });
			return ((await res.json()) as { task: { id: string } }).task.id;
		}, general);
		await ada.goto(`/c/${general}/board?task=${taskId}`);
		const modal = ada.locator('[data-testid=task-modal]');
		await modal.waitFor();
		await modal.locator('[data-testid=comment-input]').fill('trace below');
		await paste(ada, '[data-testid=task-modal] [data-testid=comment-input]', 'frame 0x01\n'.repeat(5000));
		await modal.locator('[data-testid=comment-input-too-long]').waitFor();
		expect(await modal.locator('[data-testid=comment-input-too-long]').innerText()).toContain('a comment can hold');
		expect(await modal.locator('[data-testid=comment-input-submit]').isDisabled()).toBe(true);
		if (shots) await ada.screenshot({ path: `${shots}/long-comment-1440.png` });
		await modal.locator('[data-testid=comment-input-send-as-file]').click();
		const comment = modal.locator('[data-testid=task-comment]', { hasText: 'trace below' });
		await poll(() => comment.locator('[data-testid=attachment-file]').count()).toBe(1);
		const fileKey = await comment.locator('[data-testid=attachment-file]').getAttribute('data-key');

		// Bob finds it on the Files page, and "Open task" opens that task on the board.
		await bob.goto('/files');
		const row = bob.locator(`[data-testid=file-row][data-key="${fileKey}"]`);
		await row.waitFor();
		const jump = row.locator('[data-testid=file-jump]');
		expect(await jump.innerText()).toBe('Open task');
		expect(await bob.locator('[data-testid=file-row]', { hasText: 'here is' }).count()).toBe(0); // names, not bodies
		if (shots) await bob.screenshot({ path: `${shots}/files-open-task-375.png` });
		await jump.click();
		await bob.waitForURL(`**/c/${general}/board?task=${taskId}`);
		const bobModal = bob.locator('[data-testid=task-modal]');
		await bobModal.waitFor();
		await poll(() => bobModal.locator('[data-testid=task-title]').inputValue()).toBe('Read the trace');
		await poll(() => bobModal.locator(`[data-testid=task-comment] [data-testid=attachment-file][data-key="${fileKey}"]`).count()).toBe(1);
		// A message's file still jumps to its message.
		await bob.goto('/files');
		const messageRow = bob.locator(`[data-testid=file-row]:not([data-key="${fileKey}"])`).first();
		// (At 375 px the link reads "Jump"; its name stays whole.)
		expect(await messageRow.locator('[data-testid=file-jump]').getAttribute('aria-label')).toBe('Jump to message');
		expect(await messageRow.locator('[data-testid=file-jump]').getAttribute('href')).toMatch(/^\/c\/.+\?m=msg_/);
	});

	it('ran without page errors (no refused draft or message)', async () => {
		await ada.goto(`/c/${general}`);
		await ada.locator('[data-testid=composer]').waitFor();
		expect(await ada.locator('[data-testid=refused-notice]').count()).toBe(0);
		expect(await bob.locator('[data-testid=refused-notice]').count()).toBe(0);
		const unexpected = team.errorLogs.flat().filter((e) => !/401 \(Unauthorized\)/.test(e));
		expect(unexpected).toEqual([]);
	});
});
