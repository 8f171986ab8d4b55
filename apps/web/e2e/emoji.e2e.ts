/**
 * Emoji as Slack users expect them: `:shortcode:` renders as the emoji and autocompletes while
 * typing, the reaction picker holds the whole set with search and skin tones, and the composer
 * has an emoji button.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newPerson } from './support/browser';
import { startTestServer, type TestServer } from './support/server';
import { message, messageAction, poll, post, signUpFirst } from './support/people';

let server: TestServer;
let browser: Browser;
let ada: Page;
let errors: string[] = [];

beforeAll(async () => {
	server = await startTestServer();
	browser = await launchBrowser();
	const a = await newPerson(browser, server.url, { viewport: { width: 1440, height: 900 } });
	ada = a.page;
	errors = a.errors;
	await signUpFirst(ada);
});

afterAll(async () => {
	expect(errors).toEqual([]);
	await browser?.close();
	await server?.close();
});

const composer = () => ada.locator('[data-testid=composer]');

describe('emoji', () => {
	it('autocompletes :shortcode while typing and inserts the emoji', async () => {
		await composer().click();
		await ada.keyboard.type('Shipped :tad');
		const menu = ada.locator('[data-testid=emoji-menu]');
		await poll(() => menu.locator('[data-testid=emoji-menu-option]').first().getAttribute('data-value')).toBe('🎉');
		expect(await menu.innerText()).toContain(':tada:');
		await ada.keyboard.press('Enter');
		expect(await composer().inputValue()).toBe('Shipped 🎉 ');
		await ada.keyboard.type('today');
		await ada.keyboard.press('Enter');
		await message(ada, 'Shipped 🎉 today').waitFor();
	});

	it('renders :shortcode: written out (by people, REST or agents), but not inside code', async () => {
		await post(ada, 'Launch :rocket: at noon, `:rocket:` is the code :not_a_real_code:');
		const body = message(ada, 'Launch').locator('[data-testid=message-body]');
		await poll(() => body.innerText()).toContain('Launch 🚀 at noon');
		expect(await body.locator('code').innerText()).toBe(':rocket:');
		expect(await body.innerText()).toContain(':not_a_real_code:');
	});

	it('the reaction picker searches the whole set and remembers a skin tone', async () => {
		await messageAction(ada, 'Shipped', 'message-react');
		const picker = ada.locator('[data-testid=emoji-picker]');
		await picker.waitFor();
		await poll(() => picker.locator('[data-group]').count()).toBeGreaterThan(5);
		await picker.locator('[data-testid=emoji-search]').fill('pizza');
		await poll(() => picker.locator('[data-testid=emoji-result]').first().getAttribute('data-value')).toBe('🍕');
		await picker.locator('[data-testid=emoji-result]').first().click();
		await poll(() => message(ada, 'Shipped').locator('[data-testid=reaction][data-emoji="🍕"]').count()).toBe(1);

		await messageAction(ada, 'Shipped', 'message-react');
		await picker.locator('[data-testid=emoji-skin-tone]').selectOption('3');
		await picker.locator('[data-testid=emoji-search]').fill('thumbsup');
		await poll(() => picker.locator('[data-testid=emoji-result]').first().getAttribute('data-value')).toBe('👍🏽');
		await ada.keyboard.press('Enter');
		await poll(() => message(ada, 'Shipped').locator('[data-testid=reaction][data-emoji="👍🏽"]').count()).toBe(1);
		// Recents come first next time, the tone is kept.
		await messageAction(ada, 'Shipped', 'message-react');
		expect(await picker.locator('[data-testid=emoji-option]').first().getAttribute('data-emoji')).toBe('👍🏽');
		expect(await picker.locator('[data-testid=emoji-skin-tone]').inputValue()).toBe('3');
		await ada.keyboard.press('Escape');
		await poll(() => picker.count()).toBe(0);
	});

	it('the composer emoji button inserts at the caret', async () => {
		await composer().fill('Good morning');
		await ada.locator('[data-testid=composer-emoji]').click();
		const picker = ada.locator('[data-testid=emoji-picker]');
		await picker.locator('[data-testid=emoji-search]').fill('sunny');
		await picker.locator('[data-testid=emoji-result]').first().click();
		await poll(() => picker.count()).toBe(0);
		expect(await composer().inputValue()).toBe('Good morning☀️');
	});

	it('on a phone the picker fits the screen', async () => {
		const phone = await newPerson(browser, server.url, { viewport: { width: 375, height: 740 } });
		await phone.page.goto('/login');
		await phone.page.locator('[data-testid=login-email]').fill('ada@example.com');
		await phone.page.locator('[data-testid=login-password]').fill('correct horse battery');
		await phone.page.locator('[data-testid=login-submit]').click();
		await phone.page.locator('[data-testid=composer]').waitFor();
		await phone.page.locator('[data-testid=composer-emoji]').click();
		const box = (await phone.page.locator('[data-testid=emoji-picker]').boundingBox())!;
		expect(box.x).toBeGreaterThanOrEqual(0);
		expect(box.x + box.width).toBeLessThanOrEqual(375);
		expect(box.y).toBeGreaterThanOrEqual(0);
		if (process.env.E2E_SHOTS) await phone.page.screenshot({ path: `${process.env.E2E_SHOTS}/emoji-375.png` });
		await phone.context.close();
	});
});
