/**
 * The day-one checks that other files make at desktop width, made again on a touchscreen phone
 * (375 px; Bob) next to a desktop (1440 px; Ada): `@ch` autocompletes by tap, and `@channel`
 * reaches the desktop as a mention; a pin and a reaction from the long-press sheet reach the
 * desktop; and the wrong states of the first day read right at both sizes (a missing channel is
 * "not found", an unknown page says so once, a message deleted without replies leaves nothing,
 * "(edited)" ends the text's line). The keyboard and emoji on a phone are in shortcuts.e2e and
 * emoji.e2e.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { TOUCH_PHONE, createChannel, startTeam, type Team } from './support/team';
import { longPress, message, poll, post } from './support/people';

let team: Team;
let ada: Page;
let bob: Page;
let launch: string;
const shots = process.env.E2E_SHOTS;

beforeAll(async () => {
	team = await startTeam({ joiners: [TOUCH_PHONE] });
	({ ada, bob } = team);
	launch = await createChannel(team, 'launch-plan', [ada]);
	await bob.goto(`/c/${team.general}`);
	await bob.locator('[data-testid=composer]').waitFor();
});

afterAll(() => team?.close());

describe('day one on a phone', () => {
	it('autocompletes @ch by tap; @channel counts as a mention on the desktop', async () => {
		const composer = bob.locator('[data-testid=composer]');
		// Ada is in launch-plan; the mention in #general reaches her sidebar.
		await ada.goto(`/c/${launch}`);
		await ada.locator('[data-testid=composer]').waitFor();
		await composer.tap();
		await bob.keyboard.type('Demo at noon @ch');
		const channel = bob.locator('[data-testid=mention-option][data-handle=channel]');
		await channel.waitFor();
		await channel.tap();
		await poll(() => composer.inputValue()).toBe('Demo at noon @channel ');
		await bob.keyboard.press('Enter');
		const general = ada.locator('[data-testid=sidebar-channel][data-name=general]');
		await poll(() => general.locator('[data-testid=unread-mentions]').innerText()).toBe('1');
		await general.click();
		await poll(() => message(ada, 'Demo at noon').getAttribute('data-mentions-me')).toBe('true');
	});

	it('reads the first day\'s wrong states right at 1440 and 375 px', async () => {
		for (const [p, size] of [[ada, 1440], [bob, 375]] as const) {
			// A channel address that leads nowhere is "not found", with no offer to join.
			await p.goto('/c/c_doesnotexist0000');
			await poll(() => p.locator('[data-testid=not-a-member]').getAttribute('data-found')).toBe('false');
			expect(await p.locator('[data-testid=not-a-member]').innerText()).toContain('Conversation not found');
			expect(await p.locator('[data-testid=not-a-member-join]').count()).toBe(0);
			if (shots) await p.screenshot({ path: `${shots}/not-found-${size}.png` });
			// An unknown page says so once.
			await p.goto('/no/such/page');
			await poll(() => p.locator('h1, h2').first().innerText()).toBe('Page not found');
			expect(await p.locator('body').innerText()).not.toMatch(/Not Found/);
			await p.goto(`/c/${team.general}`);
			await p.locator('[data-testid=composer]').waitFor();
		}

		// Bob edits and deletes on the phone (the long-press sheet); Ada sees both.
		await post(bob, 'Meeting moved to 3pm');
		await post(bob, 'Wrong channel, sorry');
		await message(ada, 'Wrong channel, sorry').waitFor();
		await longPress(bob, 'Meeting moved to 3pm');
		await bob.locator('[data-testid=sheet-edit]').tap();
		await bob.locator('[data-testid=message-edit-input]').fill('Meeting moved to 4pm');
		await bob.keyboard.press('Enter');
		await longPress(bob, 'Wrong channel, sorry');
		await bob.locator('[data-testid=sheet-delete]').tap();
		await bob.locator('[data-testid=confirm-ok]').tap();
		for (const p of [ada, bob]) {
			await poll(() => message(p, 'Meeting moved to 4pm').locator('[data-testid=message-body] p [data-testid=message-edited]').count()).toBe(1);
			// Without replies a deleted message leaves no "This message was deleted" behind.
			await poll(() => message(p, 'Wrong channel, sorry').count()).toBe(0);
			expect(await p.locator('[data-testid=message-list]').innerText()).not.toContain('This message was deleted');
		}
		// Pinning and a quick reaction from the sheet reach the desktop.
		await longPress(bob, 'Meeting moved to 4pm');
		await bob.locator('[data-testid=sheet-pin]').tap();
		await message(ada, 'Meeting moved to 4pm').locator('[data-testid=message-pinned]').waitFor();
		await longPress(bob, 'Meeting moved to 4pm');
		const emoji = await bob.locator('[data-testid=sheet-emoji]').first().getAttribute('data-emoji');
		await bob.locator('[data-testid=sheet-emoji]').first().tap();
		await poll(() => message(ada, 'Meeting moved to 4pm').locator('[data-testid=reaction]').innerText()).toContain(emoji!);
		if (shots) {
			await ada.screenshot({ path: `${shots}/edited-deleted-1440.png` });
			await bob.screenshot({ path: `${shots}/edited-deleted-375.png` });
		}
	});

	it('ran without errors', () => {
		// The unknown page is the router's "Not found", logged; nothing else may be.
		const unexpected = team.errorLogs.flat().filter((e) => !e.includes('Not found: /no/such/page'));
		expect(unexpected).toEqual([]);
	});
});
