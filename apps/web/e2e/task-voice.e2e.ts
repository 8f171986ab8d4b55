/**
 * Voice comments on a task: recorded in the task modal's comment box from Chromium's fake
 * microphone (the composer's recorder, reused), sent, and played by another member with its
 * waveform; the text being typed stays in the box.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { DESKTOP, startTeam, type Team } from './support/team';
import { poll } from './support/people';

const FAKE_MIC = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];
const shots = process.env.E2E_SHOTS;

let team: Team;
let ada: Page;
let bob: Page;

beforeAll(async () => {
	team = await startTeam({ browserArgs: FAKE_MIC, joiners: [DESKTOP] });
	({ ada, bob } = team);
});

afterAll(() => team?.close());

async function openTask(page: Page, title: string) {
	await page.goto(`/c/${team.general}/board`);
	await page.locator('[data-testid=card]', { hasText: title }).first().click();
	const modal = page.locator('[data-testid=task-modal]');
	await modal.waitFor();
	return modal;
}

describe('voice comments on a task', () => {
	it('records in the comment box, sends, and the other member sees the waveform and plays it', async () => {
		const res = await ada.request.post('/api/tasks', { data: { conversationId: team.general, title: 'Record the intro' }, headers: { origin: team.server.url } });
		expect(res.status()).toBe(201);
		const modal = await openTask(ada, 'Record the intro');
		await modal.locator('[data-testid=comment-input]').fill('Half-written note');
		const panel = modal.locator('[data-testid=comment-input-voice-panel]');
		// A tap starts, about a second, stop, review, send.
		await modal.locator('[data-testid=comment-input-voice]').click();
		await poll(() => panel.getAttribute('data-state')).toBe('recording');
		await poll(() => modal.locator('[data-testid=comment-input-voice-level]').getAttribute('aria-valuenow').then(Number)).toBeGreaterThan(0);
		await ada.waitForTimeout(1300);
		await modal.locator('[data-testid=comment-input-voice-stop]').click();
		await poll(() => panel.getAttribute('data-state')).toBe('review');
		if (shots) await ada.screenshot({ path: `${shots}/task-voice-review-1440.png` });
		await modal.locator('[data-testid=comment-input-voice-send]').click();
		await poll(() => panel.count()).toBe(0);
		await poll(() => modal.locator('[data-testid=task-comment] [data-testid=voice-player]').count()).toBe(1);
		// The voice comment went alone: the typed text is still there to send.
		expect(await modal.locator('[data-testid=comment-input]').inputValue()).toBe('Half-written note');

		const bobModal = await openTask(bob, 'Record the intro');
		const player = bobModal.locator('[data-testid=task-comment] [data-testid=voice-player]');
		await poll(() => player.count()).toBe(1);
		const bars = await player.locator('[data-testid=voice-waveform] span').evaluateAll((els) => els.map((e) => parseFloat((e as HTMLElement).style.height)));
		expect(bars.length).toBeGreaterThanOrEqual(48);
		expect(Math.max(...bars)).toBe(100);
		expect(new Set(bars).size).toBeGreaterThan(1);
		expect(await player.locator('[data-testid=voice-time]').innerText()).toMatch(/^0:0[12]$/);
		const audio = player.locator('[data-testid=voice-audio]');
		await player.locator('[data-testid=voice-play]').click();
		await poll(() => audio.evaluate((a: HTMLAudioElement) => a.currentTime)).toBeGreaterThan(0.2);
		if (shots) await bob.screenshot({ path: `${shots}/task-voice-1440.png` });
	});

	it('ran without console errors', () => {
		expect(team.errorLogs.flat()).toEqual([]);
	});
});
