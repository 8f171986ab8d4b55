/**
 * Voice messages: recorded in the composer from Chromium's fake microphone (a real MediaRecorder
 * on a real capture stream: a beeping tone), reviewed, sent, and played by another member with
 * its waveform, seeking and speed; in a thread by tap and stop; and the explanation where the
 * browser refuses the microphone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser } from './support/browser';
import { PHONE, startTeam, type Team } from './support/team';
import { message, messageAction, poll, post } from './support/people';

/** For this file only: a fake capture device, and the permission prompt answered yes. */
const FAKE_MIC = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

let team: Team;
let ada: Page;
let bob: Page;
const shots = process.env.E2E_SHOTS;

const voiceMessages = (page: Page, scope = page.locator('[data-testid=message-list]')) =>
	scope.locator('[data-testid=message]').filter({ has: page.locator('[data-testid=voice-player]') });
const panel = (page: Page, composer = 'composer') => page.locator(`[data-testid=${composer}-voice-panel]`);

beforeAll(async () => {
	team = await startTeam({ browserArgs: FAKE_MIC, joiners: [PHONE] });
	({ ada, bob } = team);
});

afterAll(() => team?.close());

describe('voice messages', () => {
	it('holds the mic to record about 2 s, reviews and sends; the other member sees the waveform and plays it', async () => {
		const mic = ada.locator('[data-testid=composer-voice]');
		const box = (await mic.boundingBox())!;
		await ada.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
		await ada.mouse.down();
		await poll(() => panel(ada).getAttribute('data-state')).toBe('recording');
		// The timer runs and the level meter moves with the fake microphone's beeps.
		await poll(() => ada.locator('[data-testid=composer-voice-level]').getAttribute('aria-valuenow').then(Number)).toBeGreaterThan(0);
		if (shots) await ada.screenshot({ path: `${shots}/voice-recording-1440.png` });
		await ada.waitForTimeout(2200);
		expect(await ada.locator('[data-testid=composer-voice-time]').innerText()).toMatch(/^0:0[12]$/);
		await ada.mouse.up();
		await poll(() => panel(ada).getAttribute('data-state')).toBe('review');
		const review = panel(ada).locator('[data-testid=voice-player]');
		expect(await review.locator('[data-testid=voice-time]').innerText()).toMatch(/^0:0[12]$/);
		if (shots) await ada.screenshot({ path: `${shots}/voice-review-1440.png` });
		await ada.locator('[data-testid=composer-voice-send]').click();
		await poll(() => panel(ada).count()).toBe(0);

		// Bob, on a phone-sized screen, gets it live: a player, not a file chip.
		await poll(() => voiceMessages(bob).count()).toBe(1);
		const player = voiceMessages(bob).locator('[data-testid=voice-player]');
		expect(await voiceMessages(bob).locator('[data-testid=attachment-file]').count()).toBe(0);
		const bars = await player.locator('[data-testid=voice-waveform] span').evaluateAll((els) => els.map((e) => parseFloat((e as HTMLElement).style.height)));
		expect(bars.length).toBeGreaterThanOrEqual(48);
		expect(Math.max(...bars)).toBe(100);
		expect(new Set(bars).size).toBeGreaterThan(1);
		expect(await player.locator('[data-testid=voice-time]').innerText()).toMatch(/^0:0[12]$/);
		if (shots) await bob.screenshot({ path: `${shots}/voice-message-375.png` });

		const audio = player.locator('[data-testid=voice-audio]');
		await player.locator('[data-testid=voice-play]').click();
		await poll(() => audio.evaluate((a: HTMLAudioElement) => a.currentTime)).toBeGreaterThan(0.2);
		expect(await player.getAttribute('data-playing')).toBe('true');
		await player.locator('[data-testid=voice-speed]').click();
		expect(await audio.evaluate((a: HTMLAudioElement) => a.playbackRate)).toBe(1.5);
		await player.locator('[data-testid=voice-speed]').click();
		expect(await audio.evaluate((a: HTMLAudioElement) => a.playbackRate)).toBe(2);
		await player.locator('[data-testid=voice-play]').click();
		await poll(() => player.getAttribute('data-playing')).toBeNull();
		// Seeking: a press on the waveform, three quarters along.
		const wave = (await player.locator('[data-testid=voice-waveform]').boundingBox())!;
		await bob.mouse.click(wave.x + wave.width * 0.75, wave.y + wave.height / 2);
		const total = Number(await player.locator('[data-testid=voice-waveform]').getAttribute('aria-valuemax'));
		await poll(() => audio.evaluate((a: HTMLAudioElement) => a.currentTime)).toBeGreaterThan(total * 0.5);
		await player.locator('[data-testid=voice-play]').click();
		await poll(() => player.getAttribute('data-playing')).toBe('true');
		await player.locator('[data-testid=voice-speed]').click();
		expect(await audio.evaluate((a: HTMLAudioElement) => a.playbackRate)).toBe(1);
	});

	it('in a thread, a tap starts recording and stop ends it; discard throws a recording away', async () => {
		await post(ada, 'Say it out loud');
		await messageAction(ada, 'Say it out loud', 'message-reply');
		const thread = ada.locator('[data-testid=thread-pane]');
		await thread.locator('[data-testid=thread-composer]').waitFor();
		// Discard first: nothing is sent.
		await thread.locator('[data-testid=thread-composer-voice]').click();
		await poll(() => panel(ada, 'thread-composer').getAttribute('data-state')).toBe('recording');
		await thread.locator('[data-testid=thread-composer-voice-discard]').click();
		await poll(() => panel(ada, 'thread-composer').count()).toBe(0);
		// Then a tap, about a second, stop, send.
		await thread.locator('[data-testid=thread-composer-voice]').click();
		await poll(() => panel(ada, 'thread-composer').getAttribute('data-state')).toBe('recording');
		await ada.waitForTimeout(1200);
		await thread.locator('[data-testid=thread-composer-voice-stop]').click();
		await poll(() => panel(ada, 'thread-composer').getAttribute('data-state')).toBe('review');
		await thread.locator('[data-testid=thread-composer-voice-send]').click();
		await poll(() => thread.locator('[data-testid=voice-player]').count()).toBe(1);
		await poll(() => message(bob, 'Say it out loud').locator('[data-testid=thread-summary]').count()).toBe(1);
		expect(await voiceMessages(ada).count()).toBe(1);
	});

	it('on a phone (touch, 375 px): a tap starts, a tap on stop ends, then send', async () => {
		const context = await team.browser.newContext({ baseURL: team.server.url, viewport: { width: 375, height: 740 }, hasTouch: true, isMobile: true, serviceWorkers: 'block' });
		try {
			await context.addCookies(await bob.context().cookies());
			const phone = await context.newPage();
			const errors: string[] = [];
			phone.on('pageerror', (err) => errors.push(err.message));
			await phone.goto('/');
			await phone.locator('[data-testid=composer]').waitFor();
			const before = await voiceMessages(ada).count();
			await phone.locator('[data-testid=composer-voice]').tap();
			await poll(() => panel(phone).getAttribute('data-state')).toBe('recording');
			await phone.waitForTimeout(1500);
			if (shots) await phone.screenshot({ path: `${shots}/voice-recording-375.png` });
			await phone.locator('[data-testid=composer-voice-stop]').tap();
			await poll(() => panel(phone).getAttribute('data-state')).toBe('review');
			if (shots) await phone.screenshot({ path: `${shots}/voice-review-375.png` });
			await phone.locator('[data-testid=composer-voice-send]').tap();
			await poll(() => panel(phone).count()).toBe(0);
			await poll(() => voiceMessages(ada).count()).toBe(before + 1);
			expect(errors).toEqual([]);
		} finally {
			await context.close();
		}
	});

	it('where the browser refuses the microphone, the button says why', async () => {
		// Another Chromium, with the fake device but no automatic yes: headless, the prompt is denied.
		const refusing = await launchBrowser(['--use-fake-device-for-media-stream']);
		try {
			const context = await refusing.newContext({ baseURL: team.server.url, viewport: { width: 1440, height: 900 }, serviceWorkers: 'block' });
			await context.addCookies(await ada.context().cookies());
			const page = await context.newPage();
			await page.goto('/');
			await page.locator('[data-testid=composer]').waitFor();
			await page.locator('[data-testid=composer-voice]').click();
			const alert = page.locator('[data-testid=composer-voice-error]');
			await alert.waitFor();
			expect(await alert.innerText()).toMatch(/Microphone access is blocked/);
			expect(await page.locator('[data-testid=composer-voice-panel]').count()).toBe(0);
			if (shots) await page.screenshot({ path: `${shots}/voice-denied-1440.png` });
		} finally {
			await refusing.close();
		}
	});

	it('ran without console errors', () => {
		expect(team.errorLogs.flat()).toEqual([]);
	});
});
