/**
 * Dismissing things: Esc closes the topmost open layer (menu, picker, sheet, dialog, then the
 * thread pane), the conversation menu lets the click that closes it through, and the phone's
 * long-press sheet survives the release of the press that opened it. A message's "…" menu closes
 * on Esc and leaves nothing behind that swallows the next click; on a touchscreen phone Esc closes
 * the drawer, the conversation menu and the thread.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newPerson } from './support/browser';
import { startTestServer, type TestServer } from './support/server';
import { DESKTOP, PHONE } from './support/team';
import { message, messageAction, openConversation, poll, post, signUpFirst } from './support/people';

let server: TestServer;
let browser: Browser;
let ada: Page;
const errorLogs: string[][] = [];
const shots = process.env.E2E_SHOTS;

beforeAll(async () => {
	server = await startTestServer();
	browser = await launchBrowser();
	const a = await newPerson(browser, server.url, { viewport: DESKTOP });
	errorLogs.push(a.errors);
	ada = a.page;
	await signUpFirst(ada);
	await post(ada, 'Plan for the offsite');
	await post(ada, 'Budget is approved');
	await message(ada, 'Budget is approved').waitFor();
});

afterAll(async () => {
	await browser?.close();
	await server?.close();
});

const longPress = async (p: Page, text: string) => {
	await message(p, text).dispatchEvent('pointerdown', { pointerType: 'touch', clientX: 100, clientY: 100, isPrimary: true });
	await p.waitForTimeout(650);
};

/** The finger lifts where it pressed: over whatever the sheet put there. */
const release = (p: Page, x: number, y: number) =>
	p.evaluate(
		([x, y]) => {
			const under = document.elementFromPoint(x, y)!;
			under.dispatchEvent(new PointerEvent('pointerup', { bubbles: true, pointerType: 'touch', isPrimary: true, clientX: x, clientY: y }));
			under.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true, detail: 1, clientX: x, clientY: y }));
			return under.getAttribute('aria-label');
		},
		[x, y]
	);

describe('chat: dismissing with Esc and clicks', () => {
	it('Esc closes the topmost open thing first, then the thread pane', async () => {
		const pane = ada.locator('[data-testid=thread-pane]');
		const picker = ada.locator('[data-testid=emoji-picker]');
		const menu = ada.locator('[data-testid=conversation-header] [role=menu]');
		await messageAction(ada, 'Plan for the offsite', 'message-reply');
		await pane.waitFor();

		// The reaction picker on the thread's root, then the pane.
		const root = pane.locator('[data-testid=thread-root] [data-testid=message]');
		await root.hover();
		await root.locator('[data-testid=message-react]').click();
		await picker.waitFor();
		await ada.keyboard.press('Escape');
		await poll(() => picker.count()).toBe(0);
		expect(await pane.count()).toBe(1);

		// The conversation menu.
		await ada.locator('[data-testid=conversation-menu]').click();
		await menu.waitFor();
		await ada.keyboard.press('Escape');
		await poll(() => menu.count()).toBe(0);
		expect(await pane.count()).toBe(1);

		// The thread composer's mention menu keeps its own Esc.
		await pane.locator('[data-testid=thread-composer]').fill('@ch');
		await poll(() => ada.locator('[data-testid=mention-option]').count()).toBeGreaterThan(0);
		await ada.keyboard.press('Escape');
		await poll(() => ada.locator('[data-testid=mention-menu]').count()).toBe(0);
		expect(await pane.count()).toBe(1);
		await pane.locator('[data-testid=thread-composer]').fill('');

		// A dialog opened from the pane closes alone.
		await root.hover();
		await root.locator('[data-testid=message-delete]').click();
		await ada.locator('[data-testid=confirm-dialog]').waitFor();
		await ada.keyboard.press('Escape');
		await poll(() => ada.locator('[data-testid=confirm-dialog]').count()).toBe(0);
		expect(await pane.count()).toBe(1);
		expect(await message(ada, 'Plan for the offsite').count()).toBe(2);

		await ada.keyboard.press('Escape');
		await poll(() => pane.count()).toBe(0);
	});

	it('a click outside the conversation menu closes it and does what it does', async () => {
		const menu = ada.locator('[data-testid=conversation-header] [role=menu]');
		// A message's button: the picker opens in the same click.
		await ada.locator('[data-testid=conversation-menu]').click();
		await menu.waitFor();
		await messageAction(ada, 'Budget is approved', 'message-react');
		await poll(() => menu.count()).toBe(0);
		await poll(() => ada.locator('[data-testid=emoji-picker]').count()).toBe(1);
		if (shots) await ada.screenshot({ path: `${shots}/keyboard-desktop-menu-click-through.png` });
		await ada.keyboard.press('Escape');
		await poll(() => ada.locator('[data-testid=emoji-picker]').count()).toBe(0);

		// A sidebar link: it navigates in the same click.
		await ada.locator('[data-testid=section-channels-add]').click();
		await ada.locator('[data-testid=channel-name]').fill('offsite');
		await ada.locator('[data-testid=channel-create]').click();
		await poll(() => ada.locator('[data-testid=conversation-title]').innerText()).toContain('offsite');
		await ada.locator('[data-testid=conversation-menu]').click();
		await menu.waitFor();
		await openConversation(ada, ada.locator('[data-testid=sidebar-channel][data-name=general]'));
		expect(await menu.count()).toBe(0);
		await poll(() => message(ada, 'Budget is approved').count()).toBe(1);
	});

	it('on a phone: the long-press sheet stays open after the release; a tap, a choice or Esc closes it', async () => {
		const phone = await newPerson(browser, server.url, { viewport: PHONE });
		errorLogs.push(phone.errors);
		await phone.context.addCookies(await ada.context().cookies());
		const p = phone.page;
		await p.goto(new URL(ada.url()).pathname);
		await poll(() => message(p, 'Budget is approved').count()).toBe(1);
		const sheet = p.locator('[data-testid=action-sheet]');

		// The release lands on the backdrop, which now covers where the finger was.
		await longPress(p, 'Budget is approved');
		await poll(() => sheet.count()).toBe(1);
		expect(await release(p, 100, 100)).toBe('Close');
		await p.waitForTimeout(300);
		expect(await sheet.count()).toBe(1);
		if (shots) await p.screenshot({ path: `${shots}/keyboard-phone-sheet-after-release.png` });
		// Lifting over one of the sheet's choices does not pick it either.
		const reply = await sheet.locator('[data-testid=sheet-reply]').boundingBox();
		await release(p, reply!.x + 20, reply!.y + reply!.height / 2);
		await p.waitForTimeout(300);
		expect(await sheet.count()).toBe(1);
		expect(await p.locator('[data-testid=thread-pane]').count()).toBe(0);
		// A deliberate tap on the backdrop closes it.
		await sheet.locator('button[aria-label=Close]').click({ position: { x: 100, y: 100 } });
		await poll(() => sheet.count()).toBe(0);

		await longPress(p, 'Budget is approved');
		await release(p, 100, 100);
		await p.keyboard.press('Escape');
		await poll(() => sheet.count()).toBe(0);

		// A choice closes it; Esc then closes the full-screen thread.
		await longPress(p, 'Budget is approved');
		await release(p, 100, 100);
		await sheet.locator('[data-testid=sheet-reply]').click();
		await poll(() => sheet.count()).toBe(0);
		const pane = p.locator('[data-testid=thread-pane]');
		await pane.waitFor();
		if (shots) await p.screenshot({ path: `${shots}/keyboard-phone-thread.png` });
		await p.keyboard.press('Escape');
		await poll(() => pane.count()).toBe(0);
		await phone.context.close();
	});

	it('on a real touchscreen: the release of a long press neither closes the sheet nor picks from it', async () => {
		// Enough rows to fill the phone's list, so the first can sit at its top.
		for (let n = 1; n <= 10; n++) await post(ada, `Agenda item ${n}.`);
		for (let n = 11; n <= 24; n++) await post(ada, `Later note ${n}.`);
		await message(ada, 'Later note 24.').waitFor();
		const { context, page: p, errors } = await newPerson(browser, server.url, { viewport: PHONE, touch: true });
		errorLogs.push(errors);
		await context.addCookies(await ada.context().cookies());
		await p.goto(new URL(ada.url()).pathname);
		await message(p, 'Later note 24.').waitFor();
		const touch = await context.newCDPSession(p);
		const sheet = p.locator('[data-testid=action-sheet]');
		// The top row lifts over the backdrop, the bottom one over the sheet's choices.
		for (const [text, under] of [['Agenda item 1.', 'backdrop'], ['Agenda item 10.', 'choice']] as const) {
			// The top row at the top of the list, the bottom one at the bottom, whatever the sheet's height.
			await message(p, text).evaluate((el, top) => el.scrollIntoView({ block: top ? 'start' : 'end' }), under === 'backdrop');
			await p.waitForTimeout(200);
			const box = (await message(p, text).boundingBox())!;
			const at = { x: box.x + 60, y: box.y + box.height / 2 };
			await touch.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [at] });
			await p.waitForTimeout(800);
			const lifted = await p.evaluate(({ x, y }) => (document.elementFromPoint(x, y)?.getAttribute('aria-label') === 'Close' ? 'backdrop' : 'choice'), at);
			expect(lifted).toBe(under);
			await touch.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
			await p.waitForTimeout(400);
			expect(await sheet.count()).toBe(1);
			expect(await p.locator('[data-testid=thread-pane], [data-testid=message-edit-input], [data-testid=confirm-dialog]').count()).toBe(0);
			expect(await message(p, text).locator('[data-testid=reaction]').count()).toBe(0);
			await p.touchscreen.tap(150, 120);
			await poll(() => sheet.count()).toBe(0);
		}
		await context.close();
	});

	it('at 1440 and 375 px: Esc closes a message\'s "…" menu, a click outside it closes it and still lands, and a line parts its groups', async () => {
		const narrow = await newPerson(browser, server.url, { viewport: PHONE });
		errorLogs.push(narrow.errors);
		await narrow.context.addCookies(await ada.context().cookies());
		await narrow.page.goto(new URL(ada.url()).pathname);
		await message(narrow.page, 'Later note 24.').waitFor();
		for (const p of [ada, narrow.page]) {
			const menu = p.locator('[data-testid=message-menu]');
			await messageAction(p, 'Agenda item 10.', 'message-more');
			await menu.waitFor();
			// Following above, the message's own actions below the line; the menu fits the list.
			const order = await menu.locator(':scope > *').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')));
			expect(order).toEqual(['message-follow', 'message-menu-divider', 'message-create-task', 'message-pin']);
			const [box, list] = [(await menu.boundingBox())!, (await p.locator('[data-testid=message-list]').boundingBox())!];
			expect(box.x).toBeGreaterThanOrEqual(list.x);
			expect(box.x + box.width).toBeLessThanOrEqual(list.x + list.width);
			if (shots) await p.screenshot({ path: `${shots}/keyboard-message-menu-${p.viewportSize()!.width}.png` });
			await p.keyboard.press('Escape');
			await poll(() => menu.count()).toBe(0);
			// Another message's button (above the menu, which opens downwards) acts in the same click:
			// nothing invisible is left to swallow it.
			await messageAction(p, 'Agenda item 10.', 'message-more');
			await menu.waitFor();
			await messageAction(p, 'Agenda item 8.', 'message-react');
			await poll(() => menu.count()).toBe(0);
			await p.locator('[data-testid=emoji-picker]').waitFor();
			await p.keyboard.press('Escape');
			await poll(() => p.locator('[data-testid=emoji-picker]').count()).toBe(0);
			// And the composer takes the focus and the text at once after the menu closes.
			await messageAction(p, 'Agenda item 10.', 'message-more');
			await menu.waitFor();
			await p.locator('[data-testid=composer]').click();
			await poll(() => menu.count()).toBe(0);
			await p.keyboard.type('typed');
			expect(await p.locator('[data-testid=composer]').inputValue()).toBe('typed');
			await p.locator('[data-testid=composer]').fill('');
			// The "…" button itself toggles it closed.
			await messageAction(p, 'Agenda item 10.', 'message-more');
			await menu.waitFor();
			await message(p, 'Agenda item 10.').locator('[data-testid=message-more]').click();
			await poll(() => menu.count()).toBe(0);
		}
		await narrow.context.close();
	});

	it('on a touchscreen phone: Esc closes the drawer, the "…" menu and the thread, and a tap after the menu lands', async () => {
		const { context, page: p, errors } = await newPerson(browser, server.url, { viewport: PHONE, touch: true });
		errorLogs.push(errors);
		await context.addCookies(await ada.context().cookies());
		await p.goto(new URL(ada.url()).pathname);
		await message(p, 'Later note 24.').waitFor();
		const drawer = p.locator('[data-testid=drawer]');
		await p.locator('[data-testid=open-drawer]').tap();
		await drawer.waitFor();
		if (shots) await p.screenshot({ path: `${shots}/keyboard-phone-drawer.png` });
		await p.keyboard.press('Escape');
		await poll(() => drawer.count()).toBe(0);

		const menu = p.locator('[data-testid=conversation-menu-items]');
		await p.locator('[data-testid=conversation-menu]').tap();
		await menu.waitFor();
		await p.keyboard.press('Escape');
		await poll(() => menu.count()).toBe(0);
		// A tap outside the open menu closes it and opens what it was on.
		await p.locator('[data-testid=conversation-menu]').tap();
		await menu.waitFor();
		await p.locator('[data-testid=open-drawer]').tap();
		await poll(() => menu.count()).toBe(0);
		await drawer.waitFor();
		await p.keyboard.press('Escape');
		await poll(() => drawer.count()).toBe(0);

		// The thread, opened from the long-press sheet, closes on Esc too.
		const box = (await message(p, 'Later note 24.').boundingBox())!;
		const touch = await context.newCDPSession(p);
		await touch.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x: box.x + 60, y: box.y + box.height / 2 }] });
		await p.waitForTimeout(800);
		await touch.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
		await p.locator('[data-testid=sheet-reply]').tap();
		const pane = p.locator('[data-testid=thread-pane]');
		await pane.waitFor();
		await p.keyboard.press('Escape');
		await poll(() => pane.count()).toBe(0);
		await message(p, 'Later note 24.').waitFor();
		await context.close();
	});

	it('ran without page errors', async () => {
		const unexpected = errorLogs.flat().filter((e) => !/401 \(Unauthorized\)/.test(e));
		expect(unexpected).toEqual([]);
	});
});
