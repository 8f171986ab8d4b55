/**
 * Emoji as Slack users expect them: `:shortcode:` renders as the emoji and autocompletes while
 * typing, the reaction picker holds the whole set with search, skin tones and recents (and opens
 * above a message at the bottom of the list rather than under the list's edge), and the composer
 * has an emoji button. The same steps at 1440 px (Ada: the hover toolbar) and on a 375 px
 * touchscreen (Bob: the long-press sheet, whose last button opens the full picker).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { DESKTOP, TOUCH_PHONE, startTeam, type Team } from './support/team';
import { longPress, message, messageAction, poll, post } from './support/people';

let team: Team;

beforeAll(async () => {
	team = await startTeam({ joiners: [TOUCH_PHONE] });
	await team.bob.goto(`/c/${team.general}`);
	await team.bob.locator('[data-testid=composer]').waitFor();
});

afterAll(async () => {
	for (const errors of team?.errorLogs ?? []) expect(errors).toEqual([]);
	await team?.close();
});

/** Whether `inner` lies wholly within `outer` (nothing cut off by it). */
const within = async (inner: Locator, outer: Locator) => {
	const [a, b] = [(await inner.boundingBox())!, (await outer.boundingBox())!];
	return a.x >= b.x - 1 && a.y >= b.y - 1 && a.x + a.width <= b.x + b.width + 1 && a.y + a.height <= b.y + b.height + 1;
};

describe.each([
	{ size: '1440 px', touch: false, tag: 'desk', who: () => team.ada },
	{ size: '375 px on a touchscreen', touch: true, tag: 'phone', who: () => team.bob }
])('emoji at $size', ({ touch, tag, who }) => {
	let p: Page;
	const composer = () => p.locator('[data-testid=composer]');
	const picker = () => p.locator('[data-testid=emoji-picker]');
	/** The reaction picker of a message: its hover button, or the sheet's "More reactions". */
	const openPicker = async (text: string) => {
		if (touch) {
			await longPress(p, text);
			await p.locator('[data-testid=sheet-more-reactions]').tap();
			await poll(() => p.locator('[data-testid=action-sheet]').count()).toBe(0);
		} else await messageAction(p, text, 'message-react');
		await picker().waitFor();
		// The hover toolbar is for pointers: on a touchscreen the sheet stood in for it.
		expect(await message(p, text).locator('[data-testid=message-actions]').isVisible()).toBe(!touch);
	};
	const pick = (el: Locator) => (touch ? el.tap() : el.click());

	beforeAll(() => {
		p = who();
	});

	it('autocompletes :shortcode while typing and inserts the emoji', async () => {
		await pick(composer());
		await p.keyboard.type(`Shipped ${tag} :tad`);
		const menu = p.locator('[data-testid=emoji-menu]');
		const option = menu.locator('[data-testid=emoji-menu-option]').first();
		await poll(() => option.getAttribute('data-value')).toBe('🎉');
		expect(await menu.innerText()).toContain(':tada:');
		expect(await within(menu, p.locator('body'))).toBe(true);
		if (touch) await option.tap();
		else await p.keyboard.press('Enter');
		await poll(() => composer().inputValue()).toBe(`Shipped ${tag} 🎉 `);
		await p.keyboard.type('today');
		await p.keyboard.press('Enter');
		await message(p, `Shipped ${tag} 🎉 today`).waitFor();
	});

	it('renders :shortcode: written out (by people, REST or agents), but not inside code', async () => {
		await post(p, `Launch ${tag} :rocket: at noon, \`:rocket:\` is the code :not_a_real_code:`);
		const body = message(p, `Launch ${tag}`).locator('[data-testid=message-body]');
		await poll(() => body.innerText()).toContain(`Launch ${tag} 🚀 at noon`);
		expect(await body.locator('code').innerText()).toBe(':rocket:');
		expect(await body.innerText()).toContain(':not_a_real_code:');
	});

	it('the reaction picker searches the whole set, remembers a skin tone and puts recents first', async () => {
		const shipped = message(p, `Shipped ${tag}`);
		await openPicker(`Shipped ${tag}`);
		expect(await within(picker(), p.locator('body'))).toBe(true);
		await poll(() => picker().locator('[data-group]').count()).toBeGreaterThan(5);
		await picker().locator('[data-testid=emoji-search]').fill('pizza');
		await poll(() => picker().locator('[data-testid=emoji-result]').first().getAttribute('data-value')).toBe('🍕');
		await pick(picker().locator('[data-testid=emoji-result]').first());
		await poll(() => shipped.locator('[data-testid=reaction][data-emoji="🍕"]').count()).toBe(1);

		await openPicker(`Shipped ${tag}`);
		await picker().locator('[data-testid=emoji-skin-tone]').selectOption('3');
		await picker().locator('[data-testid=emoji-search]').fill('thumbsup');
		await poll(() => picker().locator('[data-testid=emoji-result]').first().getAttribute('data-value')).toBe('👍🏽');
		await p.keyboard.press('Enter');
		await poll(() => shipped.locator('[data-testid=reaction][data-emoji="👍🏽"]').count()).toBe(1);
		// Recents come first next time (in the sheet's quick row too), the tone is kept.
		if (touch) {
			await longPress(p, `Shipped ${tag}`);
			expect(await p.locator('[data-testid=sheet-emoji]').first().getAttribute('data-emoji')).toBe('👍🏽');
			await p.locator('[data-testid=sheet-more-reactions]').tap();
		} else await messageAction(p, `Shipped ${tag}`, 'message-react');
		expect(await picker().locator('[data-testid=emoji-option]').first().getAttribute('data-emoji')).toBe('👍🏽');
		expect(await picker().locator('[data-testid=emoji-skin-tone]').inputValue()).toBe('3');
		await p.keyboard.press('Escape');
		await poll(() => picker().count()).toBe(0);
		// The other person sees both reactions.
		const other = p === team.ada ? team.bob : team.ada;
		await poll(() => message(other, `Shipped ${tag}`).locator('[data-testid=reaction]').count()).toBe(2);
	});

	it('opens the picker and the "…" menu above a message at the bottom of the list, inside the list', async () => {
		const text = `Last word ${tag}`;
		await post(p, text);
		await message(p, text).waitFor();
		const list = p.locator('[data-testid=message-list]');
		const before = (await message(p, text).boundingBox())!.y;
		await openPicker(text);
		// The list does not scroll to make room: the message stays where it was.
		expect(Math.abs((await message(p, text).boundingBox())!.y - before)).toBeLessThan(2);
		if (process.env.E2E_SHOTS) await p.screenshot({ path: `${process.env.E2E_SHOTS}/emoji-picker-bottom-${tag}.png` });
		expect(await within(picker(), list)).toBe(true);
		await pick(picker().locator('[data-testid=emoji-option]').first());
		await poll(() => message(p, text).locator('[data-testid=reaction]').count()).toBe(1);
		if (!touch) {
			await messageAction(p, text, 'message-more');
			expect(await within(p.locator('[data-testid=message-menu]'), list)).toBe(true);
			await p.keyboard.press('Escape');
			// In a short window a row below the middle has room neither way: the picker stays below
			// (the list scrolls to it) instead of going up under the header.
			await p.setViewportSize({ width: DESKTOP.width, height: 620 });
			const listBox = (await list.boundingBox())!;
			const rows = list.locator('[data-testid=message]');
			const tops = await rows.evaluateAll((els) => els.map((e) => e.getBoundingClientRect().top));
			const i = tops.findIndex((t) => t > listBox.y + listBox.height * 0.55 && t < listBox.y + listBox.height * 0.8);
			expect(i).toBeGreaterThanOrEqual(0);
			await rows.nth(i).hover();
			await rows.nth(i).locator('[data-testid=message-react]').click();
			await picker().waitFor();
			expect((await picker().boundingBox())!.y).toBeGreaterThanOrEqual(listBox.y);
			await p.keyboard.press('Escape');
			await p.setViewportSize(DESKTOP);
		}
	});

	it('the composer emoji button inserts at the caret, and its picker fits the screen', async () => {
		await composer().fill('Good morning');
		await pick(p.locator('[data-testid=composer-emoji]'));
		await picker().waitFor();
		expect(await within(picker(), p.locator('body'))).toBe(true);
		if (process.env.E2E_SHOTS) await p.screenshot({ path: `${process.env.E2E_SHOTS}/emoji-composer-${tag}.png` });
		await picker().locator('[data-testid=emoji-search]').fill('sunny');
		await pick(picker().locator('[data-testid=emoji-result]').first());
		await poll(() => picker().count()).toBe(0);
		expect(await composer().inputValue()).toBe('Good morning☀️');
		await composer().fill('');
	});
});
