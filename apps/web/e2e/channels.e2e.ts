/**
 * Managing a channel as Slack users expect: topic and rename from the details panel, pins seen
 * live by another member, starring into a Starred section, removing a member, archive (a
 * read-only banner instead of the composer) and unarchive, and leaving. Ada (admin, created the
 * channel) and Bob at 1440 px, Cy at 375 px; Ada again on a phone for the creator's buttons, and
 * Bob and Cy on a 375 px touchscreen to find an archived channel by search and to leave one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { newPerson } from './support/browser';
import { DESKTOP, PHONE, createChannel, startTeam, type Team } from './support/team';
import { message, messageAction, poll, post } from './support/people';

let team: Team;
let ada: Page;
let bob: Page;
let cy: Page;
let launch: string;
const shots = process.env.E2E_SHOTS;

beforeAll(async () => {
	team = await startTeam({ joiners: [DESKTOP, PHONE] });
	({ ada, bob, cy } = team);
	launch = await createChannel(team, 'launch', [ada, bob, cy]);
});

afterAll(() => team?.close());

const details = (p: Page) => p.locator('[data-testid=members-dialog]');
const sidebarLink = (p: Page, name: string) => p.locator(`[data-testid=sidebar] [data-name="${name}"]`);
async function openDetails(p: Page, tab: 'about' | 'members' | 'pins' | 'files') {
	await p.locator('[data-testid=conversation-title]').click();
	await details(p).locator(`[data-testid=details-tab-${tab}]`).click();
}
const within375 = async (el: Locator) => {
	const box = (await el.boundingBox())!;
	return box.x >= 0 && box.x + box.width <= PHONE.width;
};
/** `who`, signed in again on a 375 px phone (a touchscreen with `touch`); close its context after. */
async function phoneOf(who: Page, touch = false) {
	const phone = await newPerson(team.browser, team.server.url, { viewport: PHONE, touch });
	team.errorLogs.push(phone.errors);
	await phone.context.addCookies(await who.context().cookies());
	return phone;
}
const closeDetails = async (p: Page) => {
	await details(p).getByRole('button', { name: 'Done' }).click();
	await poll(() => details(p).count()).toBe(0);
};

describe('channels', () => {
	it('any member sets the topic and the description; the creator renames; all show live for everyone', async () => {
		await openDetails(bob, 'about');
		// Bob did not create the channel and is no admin: no renaming for him.
		await expect(details(bob).locator('[data-testid=details-edit-name]').count()).resolves.toBe(0);
		await details(bob).locator('[data-testid=details-edit-topic]').click();
		await details(bob).locator('[data-testid=details-input-topic]').fill('Ship it on Friday');
		await details(bob).locator('[data-testid=details-save]').click();
		await poll(() => details(bob).locator('[data-testid=details-topic]').textContent()).toBe('Ship it on Friday');
		await closeDetails(bob);
		await poll(() => ada.locator('[data-testid=conversation-topic]').textContent()).toBe('Ship it on Friday');

		await openDetails(ada, 'about');
		await details(ada).locator('[data-testid=details-edit-name]').click();
		await details(ada).locator('[data-testid=details-input-name]').fill('launch-day');
		await details(ada).locator('[data-testid=details-save]').click();
		await poll(() => details(ada).locator('[data-testid=details-name]').textContent()).toBe('#launch-day');
		if (shots) await ada.screenshot({ path: `${shots}/channels-about-1440.png` });
		await closeDetails(ada);
		await sidebarLink(bob, 'launch-day').waitFor();
		await poll(() => cy.locator('[data-testid=conversation-title]').textContent()).toContain('launch-day');
		await poll(() => cy.locator('[data-testid=conversation-topic]').textContent()).toBe('Ship it on Friday');
		if (shots) await cy.screenshot({ path: `${shots}/channels-header-375.png` });

		// Any member sets the description, here from a phone; the others' panels show it.
		await openDetails(cy, 'about');
		await details(cy).locator('[data-testid=details-edit-description]').click();
		await details(cy).locator('[data-testid=details-input-description]').fill('Everything about the Friday launch.');
		await details(cy).locator('[data-testid=details-save]').click();
		await poll(() => details(cy).locator('[data-testid=details-description]').textContent()).toBe('Everything about the Friday launch.');
		if (shots) await cy.screenshot({ path: `${shots}/channels-description-375.png` });
		await closeDetails(cy);
		await openDetails(bob, 'about');
		await poll(() => details(bob).locator('[data-testid=details-description]').textContent()).toBe('Everything about the Friday launch.');
		await closeDetails(bob);
	});

	it('a pin shows in another member\'s open details panel, and leaves it on unpin', async () => {
		await post(bob, 'The plan lives in this doc');
		await message(bob, 'The plan lives in this doc').waitFor();
		await openDetails(cy, 'pins');
		await details(cy).locator('[data-testid=no-pins]').waitFor();
		await messageAction(bob, 'The plan lives in this doc', 'message-more');
		await bob.locator('[data-testid=message-pin]').click();
		await message(bob, 'The plan lives in this doc').locator('[data-testid=message-pinned]').waitFor();
		await poll(() => details(cy).locator('[data-testid=pinned-message]').textContent()).toContain('The plan lives in this doc');
		await expect(details(cy).locator('[data-testid=pinned-message]').textContent()).resolves.toContain('Pinned by Bob Stone');
		if (shots) {
			await cy.screenshot({ path: `${shots}/channels-pins-375.png` });
			await bob.screenshot({ path: `${shots}/channels-pinned-row-1440.png` });
		}
		await messageAction(bob, 'The plan lives in this doc', 'message-more');
		await expect(bob.locator('[data-testid=message-pin]').textContent()).resolves.toContain('Unpin');
		await bob.locator('[data-testid=message-pin]').click();
		await details(cy).locator('[data-testid=no-pins]').waitFor();
		await poll(() => message(bob, 'The plan lives in this doc').locator('[data-testid=message-pinned]').count()).toBe(0);
		await closeDetails(cy);
	});

	it('the Files tab lists the channel\'s files for every member and jumps to the message', async () => {
		await bob.locator('[data-testid=composer-file-input]').setInputFiles({ name: 'launch-spec.txt', mimeType: 'text/plain', buffer: Buffer.from('Scope, dates, owners.\n') });
		await poll(() => bob.locator('[data-testid=composer-uploads] [data-testid=upload]').first().getAttribute('data-status')).toBe('done');
		await post(bob, 'Spec attached');
		await message(cy, 'Spec attached').waitFor();
		// Older messages push it up the list: the jump must bring it back.
		for (let n = 1; n <= 12; n++) await post(ada, `Filler ${n}`);
		await message(cy, 'Filler 12').waitFor();
		for (const [p, size] of [[bob, 1440], [cy, 375]] as const) {
			await openDetails(p, 'files');
			const row = details(p).locator('[data-testid=file-row]');
			await poll(() => row.count()).toBe(1);
			expect(await row.locator('[data-testid=file-name]').textContent()).toBe('launch-spec.txt');
			expect(await row.innerText()).toContain('Bob Stone');
			// The size, sender and day fit their line at either width (the jump link makes room).
			expect(await row.locator('[data-testid=file-open] span.truncate').last().evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
			if (shots) await p.screenshot({ path: `${shots}/channels-files-${size}.png` });
			await row.locator('[data-testid=file-jump]').click();
			await poll(() => details(p).count()).toBe(0);
			await poll(() => message(p, 'Spec attached').getAttribute('data-highlighted')).toBe('true');
		}
		// A channel without files says what the tab will hold.
		await ada.goto(`/c/${team.general}`);
		await ada.locator('[data-testid=composer]').waitFor();
		await openDetails(ada, 'files');
		await poll(() => details(ada).locator('[data-testid=no-files]').textContent()).toContain('No files yet');
		await closeDetails(ada);
		await ada.goto(`/c/${launch}`);
		await ada.locator('[data-testid=composer]').waitFor();
	});

	it('on a phone the views and the member count move into the "…" menu, so the name has the header', async () => {
		const menu = (p: Page) => p.locator('[data-testid=conversation-menu-items]');
		expect(await cy.locator('[data-testid=conversation-tabs]').isVisible()).toBe(false);
		expect(await cy.locator('[data-testid=member-count]').isVisible()).toBe(false);
		// The whole name shows, not cut short by the tabs.
		expect(await cy.locator('[data-testid=conversation-title] span.truncate').evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
		await cy.locator('[data-testid=conversation-menu]').click();
		await menu(cy).waitFor();
		expect(await menu(cy).locator('[data-testid=menu-members]').innerText()).toContain('Members 3');
		// A line parts the views from the conversation's own options.
		const order = await menu(cy).locator(':scope > *').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')));
		expect(order.slice(order.indexOf('menu-members'), order.indexOf('menu-members') + 3)).toEqual(['menu-members', 'menu-divider', 'open-details']);
		expect(await menu(cy).locator('[data-testid=menu-divider]').isVisible()).toBe(true);
		if (shots) await cy.screenshot({ path: `${shots}/channels-phone-menu-375.png` });
		await menu(cy).locator('[data-testid=menu-board]').click();
		await cy.waitForURL(`**/c/${launch}/board`);
		await cy.locator('[data-testid=conversation-menu]').click();
		await menu(cy).locator('[data-testid=menu-messages]').click();
		await cy.waitForURL((url) => url.pathname === `/c/${launch}`);
		await cy.locator('[data-testid=composer]').waitFor();
		await cy.locator('[data-testid=conversation-menu]').click();
		await menu(cy).locator('[data-testid=menu-members]').click();
		await poll(() => details(cy).locator('[data-testid=conversation-member]').count()).toBe(3);
		await closeDetails(cy);
		// At 1440 px the tabs and the count stay in the header, and the menu does not repeat them.
		expect(await bob.locator('[data-testid=conversation-tabs]').isVisible()).toBe(true);
		expect(await bob.locator('[data-testid=member-count]').isVisible()).toBe(true);
		await bob.locator('[data-testid=conversation-menu]').click();
		await menu(bob).waitFor();
		if (shots) await bob.screenshot({ path: `${shots}/channels-menu-1440.png` });
		expect(await menu(bob).locator('[data-testid=menu-board], [data-testid=menu-members], [data-testid=menu-divider]').evaluateAll((els) => els.filter((e) => (e as HTMLElement).offsetParent !== null).length)).toBe(0);
		await bob.keyboard.press('Escape');
		await poll(() => menu(bob).count()).toBe(0);
	});

	it('a star moves the conversation to a Starred section at the top of the sidebar, at 1440 and 375 px', async () => {
		for (const p of [bob, cy]) {
			const phone = p === cy;
			const sidebar = phone ? '[data-testid=drawer]' : '[data-testid=sidebar]';
			const starred = p.locator(`${sidebar} [data-testid=section-starred]`);
			const openSidebar = async () => {
				if (!phone) return;
				await p.locator('[data-testid=open-drawer]').click();
				await p.locator('[data-testid=drawer]').waitFor();
			};
			const closeSidebar = async () => {
				if (!phone) return;
				await p.keyboard.press('Escape');
				await poll(() => p.locator('[data-testid=drawer]').count()).toBe(0);
			};
			await openSidebar();
			await expect(starred.count()).resolves.toBe(0);
			await closeSidebar();
			await p.locator('[data-testid=toggle-star]').click();
			await openSidebar();
			await starred.locator('[data-name="launch-day"]').waitFor();
			await expect(p.locator(`${sidebar} [data-testid=section-channels] [data-name="launch-day"]`).count()).resolves.toBe(0);
			const [starTop, channelsTop] = await Promise.all([starred.boundingBox(), p.locator(`${sidebar} [data-testid=section-channels]`).boundingBox()]);
			expect(starTop!.y).toBeLessThan(channelsTop!.y);
			if (shots) await p.screenshot({ path: `${shots}/channels-starred-${phone ? 375 : 1440}.png` });
			await closeSidebar();
			await p.locator('[data-testid=toggle-star]').click();
			await openSidebar();
			await poll(() => starred.count()).toBe(0);
			await p.locator(`${sidebar} [data-testid=section-channels] [data-name="launch-day"]`).waitFor();
			await closeSidebar();
		}
	});

	it('the creator removes a member, who loses the channel at once', async () => {
		await openDetails(ada, 'members');
		await details(ada).locator('[data-testid=conversation-member]', { hasText: 'Cy Young' }).locator('[data-testid=remove-member]').click();
		await poll(() => details(ada).locator('[data-testid=conversation-member]').count()).toBe(2);
		await closeDetails(ada);
		// Cy had it open: the pane turns to "not a member" at once, and the sidebar drops it.
		await cy.locator('[data-testid=not-a-member]').waitFor();
		await expect(cy.locator('[data-testid=composer]').count()).resolves.toBe(0);
		if (shots) await cy.screenshot({ path: `${shots}/channels-removed-375.png` });
		await cy.locator('button[aria-label="Open menu"]').click();
		await cy.locator('[data-testid=drawer]').waitFor();
		await poll(() => sidebarLink(cy, 'launch-day').count()).toBe(0);
		await cy.locator('[data-testid=drawer] [data-name="general"]').waitFor();
	});

	it('archiving makes it read-only, out of the sidebar; the creator unarchives from the banner', async () => {
		await messageAction(bob, 'The plan lives in this doc', 'message-reply');
		await bob.locator('[data-testid=thread-composer]').waitFor();
		await openDetails(ada, 'members');
		await details(ada).locator('[data-testid=archive-channel]').click();
		await poll(() => details(ada).locator('[data-testid=unarchive-channel]').count()).toBe(1);
		await closeDetails(ada);
		await bob.locator('[data-testid=archived-banner]').waitFor();
		await expect(bob.locator('[data-testid=composer]').count()).resolves.toBe(0);
		// The open thread closes its replies too.
		await bob.locator('[data-testid=thread-archived]').waitFor();
		await expect(bob.locator('[data-testid=thread-composer]').count()).resolves.toBe(0);
		await expect(bob.locator('[data-testid=archived-banner] [data-testid=unarchive-channel]').count()).resolves.toBe(0);
		await poll(() => sidebarLink(bob, 'launch-day').count()).toBe(0);
		// Read-only: no actions on its messages; history stays.
		const row = bob.locator('[data-testid=message-list] [data-testid=message]', { hasText: 'The plan lives in this doc' });
		await row.hover();
		await expect(row.locator('[data-testid=message-actions]').count()).resolves.toBe(0);
		if (shots) {
			await bob.screenshot({ path: `${shots}/channels-archived-1440.png` });
			await ada.screenshot({ path: `${shots}/channels-archived-admin-1440.png` });
		}
		await ada.locator('[data-testid=archived-banner] [data-testid=unarchive-channel]').click();
		await bob.locator('[data-testid=composer]').waitFor();
		await bob.locator('[data-testid=thread-composer]').waitFor();
		await bob.locator('[data-testid=thread-close]').click();
		await sidebarLink(bob, 'launch-day').waitFor();
		await post(bob, 'Back in business');
		await message(ada, 'Back in business').waitFor();
	});

	it('an archived channel stays in Browse with a badge, opens read-only with its threads, and search finds it', async () => {
		const root = await (await bob.request.post(`/api/conversations/${launch}/messages`, { data: { bodyMd: 'Retro notes: what went well' }, headers: { origin: team.server.url } })).json();
		await bob.request.post(`/api/conversations/${launch}/messages`, { data: { bodyMd: 'The demo landed', parentId: root.message.id }, headers: { origin: team.server.url } });
		await message(bob, 'Retro notes').locator('[data-testid=thread-summary]').waitFor();
		await openDetails(ada, 'members');
		await details(ada).locator('[data-testid=archive-channel]').click();
		await poll(() => details(ada).locator('[data-testid=unarchive-channel]').count()).toBe(1);
		await closeDetails(ada);
		await poll(() => sidebarLink(bob, 'launch-day').count()).toBe(0);
		await bob.goto(`/c/${team.general}`);
		await bob.locator('[data-testid=composer]').waitFor();

		// Browse lists it, marked, and opens it to read.
		await bob.locator('[data-testid=browse-channels]').click();
		const entry = bob.locator('[data-testid=browse-channel][data-name="launch-day"]');
		await entry.locator('[data-testid=browse-archived]').waitFor();
		expect(await entry.locator('[data-testid=browse-join]').innerText()).toBe('Open');
		expect(await bob.locator('[data-testid=browse-channel][data-name="general"] [data-testid=browse-archived]').count()).toBe(0);
		if (shots) await bob.screenshot({ path: `${shots}/channels-browse-archived-1440.png` });
		await entry.locator('[data-testid=browse-join]').click();
		await bob.locator('[data-testid=archived-banner]').waitFor();
		expect(await bob.locator('[data-testid=composer]').count()).toBe(0);
		// Still out of the sidebar after opening it.
		expect(await sidebarLink(bob, 'launch-day').count()).toBe(0);

		// Its thread opens, with no actions on the root or the replies.
		await message(bob, 'Retro notes').locator('[data-testid=thread-summary]').click();
		const pane = bob.locator('[data-testid=thread-pane]');
		await pane.locator('[data-testid=thread-archived]').waitFor();
		for (const text of ['Retro notes', 'The demo landed']) {
			const row = pane.locator('[data-testid=message]', { hasText: text });
			await row.hover();
			await expect(row.locator('[data-testid=message-actions]').count()).resolves.toBe(0);
		}
		await bob.keyboard.press('Escape');
		await poll(() => pane.count()).toBe(0);

		// Search still finds its messages, and a hit opens the archived channel.
		await bob.goto(`/c/${team.general}`);
		await bob.locator('[data-testid=composer]').waitFor();
		await bob.keyboard.press('Control+f');
		await bob.keyboard.type('retro notes');
		const hit = bob.locator('[data-testid=search-result]');
		await poll(() => hit.count()).toBe(1);
		await hit.click();
		await poll(() => message(bob, 'Retro notes').getAttribute('data-highlighted')).toBe('true');
		await bob.locator('[data-testid=archived-banner]').waitFor();
		// And on his 375 px touchscreen, from the header's search button.
		const phone = await phoneOf(bob, true);
		const p = phone.page;
		await p.goto(`/c/${team.general}`);
		await p.locator('[data-testid=composer]').waitFor();
		await p.locator('[data-testid=search-open]').tap();
		await p.locator('[data-testid=search-input-phone]').fill('retro notes');
		const phoneHit = p.locator('[data-testid=search-result]');
		await poll(() => phoneHit.count()).toBe(1);
		expect(await within375(phoneHit)).toBe(true);
		if (shots) await p.screenshot({ path: `${shots}/channels-search-archived-375.png` });
		await phoneHit.tap();
		// The pane made way for the channel, read-only, the hit ringed.
		await poll(() => p.locator('[data-testid=search-pane]').count()).toBe(0);
		await p.waitForURL(`**/c/${launch}**`);
		await poll(() => message(p, 'Retro notes').getAttribute('data-highlighted')).toBe('true');
		await p.locator('[data-testid=archived-banner]').waitFor();
		expect(await p.locator('[data-testid=composer]').count()).toBe(0);
		await phone.context.close();

		// Cy, no longer a member, sees the badge at 375 px too.
		await cy.goto(`/c/${team.general}`);
		await cy.locator('[data-testid=composer]').waitFor();
		await cy.locator('[data-testid=open-drawer]').click();
		await cy.locator('[data-testid=drawer] [data-testid=browse-channels]').click();
		await cy.locator('[data-testid=browse-channel][data-name="launch-day"] [data-testid=browse-archived]').waitFor();
		if (shots) await cy.screenshot({ path: `${shots}/channels-browse-archived-375.png` });
		// Open reads it there too: the banner, no composer, nothing added to the sidebar.
		await cy.locator('[data-testid=browse-channel][data-name="launch-day"] [data-testid=browse-join]').click();
		await cy.locator('[data-testid=archived-banner]').waitFor();
		expect(await cy.locator('[data-testid=composer]').count()).toBe(0);
		await poll(() => message(cy, 'Retro notes').count()).toBe(1);
		if (shots) await cy.screenshot({ path: `${shots}/channels-archived-375.png` });
		expect((await cy.request.post(`/api/conversations/${launch}/leave`, { headers: { origin: team.server.url } })).status()).toBe(200);

		await ada.locator('[data-testid=archived-banner] [data-testid=unarchive-channel]').click();
		await sidebarLink(bob, 'launch-day').waitFor();
	});

	it('on a phone the creator\'s details buttons fit the screen, and archive and unarchive work there', async () => {
		const phone = await phoneOf(ada);
		const p = phone.page;
		await p.goto(`/c/${launch}`);
		await p.locator('[data-testid=composer]').waitFor();
		await openDetails(p, 'members');
		const buttons = details(p).locator('footer button');
		expect(await buttons.count()).toBe(4); // Leave, Archive, Add people, Done
		for (const box of await buttons.evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON() as DOMRect))) {
			expect(box.left).toBeGreaterThanOrEqual(0);
			expect(box.right).toBeLessThanOrEqual(PHONE.width);
		}
		if (shots) await p.screenshot({ path: `${shots}/channels-details-footer-375.png` });
		await details(p).locator('[data-testid=archive-channel]').click();
		await poll(() => details(p).locator('[data-testid=unarchive-channel]').count()).toBe(1);
		await closeDetails(p);
		const banner = p.locator('[data-testid=archived-banner]');
		await banner.waitFor();
		expect(await p.locator('[data-testid=composer]').count()).toBe(0);
		expect(await within375(banner)).toBe(true);
		await bob.locator('[data-testid=archived-banner]').waitFor();
		if (shots) await p.screenshot({ path: `${shots}/channels-archived-creator-375.png` });
		await banner.locator('[data-testid=unarchive-channel]').click();
		await p.locator('[data-testid=composer]').waitFor();
		await bob.locator('[data-testid=composer]').waitFor();
		await phone.context.close();
	});

	it('leaving takes the channel out of my sidebar, on a 375 px touchscreen and at 1440 px', async () => {
		// Cy, removed earlier, joins again and leaves from her phone, by touch.
		const phone = await phoneOf(cy, true);
		const p = phone.page;
		expect((await p.request.post(`/api/conversations/${launch}/join`, { headers: { origin: team.server.url } })).status()).toBe(200);
		await poll(() => ada.locator('[data-testid=member-count]').textContent()).toContain('3');
		await p.goto(`/c/${launch}`);
		await p.locator('[data-testid=composer]').waitFor();
		const inDrawer = async (name: string) => {
			await p.locator('[data-testid=open-drawer]').tap();
			await p.locator('[data-testid=drawer]').waitFor();
			const n = await p.locator(`[data-testid=drawer] [data-name="${name}"]`).count();
			await p.keyboard.press('Escape');
			await poll(() => p.locator('[data-testid=drawer]').count()).toBe(0);
			return n;
		};
		expect(await inDrawer('launch-day')).toBe(1);
		await p.locator('[data-testid=conversation-title]').tap();
		await details(p).locator('[data-testid=details-tab-members]').tap();
		const leave = details(p).locator('[data-testid=leave-channel]');
		expect(await within375(leave)).toBe(true);
		await leave.tap();
		await p.waitForURL((url) => url.pathname !== `/c/${launch}`);
		await poll(() => details(p).count()).toBe(0);
		await p.locator('[data-testid=composer]').waitFor();
		expect(await inDrawer('launch-day')).toBe(0);
		expect(await inDrawer('general')).toBe(1);
		await poll(() => ada.locator('[data-testid=member-count]').textContent()).toContain('2');
		// The server's revocation of my access follows; it is no error for a channel I chose to leave.
		await p.waitForTimeout(300);
		expect(await p.locator('[data-testid=toast]').allInnerTexts()).toEqual([]);
		if (shots) await p.screenshot({ path: `${shots}/channels-left-375.png` });
		await phone.context.close();

		await openDetails(bob, 'members');
		await details(bob).locator('[data-testid=leave-channel]').click();
		await poll(() => sidebarLink(bob, 'launch-day').count()).toBe(0);
		await poll(() => ada.locator('[data-testid=member-count]').textContent()).toContain('1');
		await bob.waitForTimeout(300);
		expect(await bob.locator('[data-testid=toast]').allInnerTexts()).toEqual([]);
		for (const errors of team.errorLogs) expect(errors).toEqual([]);
	});
});
