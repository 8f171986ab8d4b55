/**
 * Following threads and the Threads view: I follow a thread by starting or replying in it, its
 * new replies show (marked) under Threads with a count in the sidebar until I open it, and
 * unfollowing (the list, the thread pane, the message menu or, on a phone, the long-press sheet)
 * takes it away. Mentions & reactions: a mention and a reaction show (marked) and jump to their
 * message, and what I saw is seen in every browser of mine (the time lives in my me doc). At
 * 1440 px (Ada, Bob) and on a 375 px touchscreen (Cy, who opens the views from the drawer).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { newPerson } from './support/browser';
import { DESKTOP, PHONE, TOUCH_PHONE, startTeam, type Team } from './support/team';
import { longPress, message, messageAction, poll, post } from './support/people';

let team: Team;
let ada: Page;
let bob: Page;
let cy: Page;
let general: string;
let rootId: string;
const shots = process.env.E2E_SHOTS;
const ROOT = 'Who owns the launch checklist?';
/** ROOT as written: its preview in Threads reads as ROOT, without the markdown. */
const ROOT_MD = 'Who owns the **launch checklist**?';

beforeAll(async () => {
	team = await startTeam({ joiners: [DESKTOP, TOUCH_PHONE] });
	({ ada, general, bob, cy } = team);
});

afterAll(() => team?.close());

const item = (p: Page) => p.locator('[data-testid=thread-item]');
const navBadge = (p: Page) => p.locator('[data-testid=nav-threads-badge]').first();
const threadPane = (p: Page) => p.locator('[data-testid=thread-pane]');
/** Replies `md` in the open thread and waits for it to show as `shown` (its text without markdown). */
const reply = async (p: Page, md: string, shown = md) => {
	await p.locator('[data-testid=thread-composer]').fill(md);
	await p.keyboard.press('Enter');
	await threadPane(p).locator('[data-testid=message]', { hasText: shown }).waitFor();
};
/** What a Threads item says of its replies: the newest one's plain text and the count. */
const replies = (p: Page) =>
	Promise.all([item(p).locator('[data-testid=thread-last-reply]').innerText(), item(p).locator('[data-testid=thread-count]').innerText()]);
const openDrawer = async (p: Page) => {
	await p.locator('[data-testid=open-drawer]').click();
	await p.locator('[data-testid=drawer]').waitFor();
};
const openThreads = async (p: Page) => {
	if (p === cy) await openDrawer(p);
	await p.locator('[data-testid=nav-threads]:visible').click();
	await p.waitForURL('**/threads');
};

describe('threads', () => {
	it('follows a thread by replying; a new reply shows in Threads until I read it', async () => {
		await post(ada, ROOT_MD);
		await messageAction(bob, ROOT, 'message-reply');
		await reply(bob, 'I can take it');
		// An open thread is a read one: Bob closes it to get news of it.
		await threadPane(bob).locator('[data-testid=thread-close]').click();

		// Ada started it: she follows it now that it has a reply, and the reply is news to her.
		await poll(() => navBadge(ada).textContent()).toBe('1');
		await openThreads(ada);
		await poll(() => item(ada).count()).toBe(1);
		expect(await item(ada).getAttribute('data-unread')).toBe('true');
		expect(await item(ada).locator('[data-testid=thread-text]').innerText()).toBe(ROOT);
		await poll(() => replies(ada)).toEqual(['Bob Stone: I can take it', '1 reply']);
		rootId = (await item(ada).getAttribute('data-id'))!;
		if (shots) await ada.screenshot({ path: `${shots}/threads-unread-1440.png` });
		await item(ada).locator('[data-testid=thread-open]').click();
		await ada.waitForURL(`**/c/${general}?thread=*`);
		await threadPane(ada).locator('[data-testid=message]', { hasText: 'I can take it' }).waitFor();
		await poll(() => navBadge(ada).count()).toBe(0);
		expect(await threadPane(ada).locator('[data-testid=thread-follow]').innerText()).toContain('Unfollow');

		// Cy, on a phone, replies: she follows it; Bob (who replied) gets her reply as news.
		await message(cy, ROOT).locator('[data-testid=thread-summary]').click();
		await reply(cy, 'I will check the copy');
		// The thread covers the phone's screen; Back shows the conversation again.
		await threadPane(cy).locator('[data-testid=thread-back]').click();
		await poll(() => navBadge(bob).textContent()).toBe('1');
		await openThreads(cy);
		await poll(() => item(cy).count()).toBe(1);
		// Her own reply is the newest: nothing new for her.
		expect(await item(cy).getAttribute('data-unread')).toBeNull();
		await poll(() => replies(cy)).toEqual(['You: I will check the copy', '2 replies']);

		await messageAction(bob, ROOT, 'message-reply');
		await reply(bob, 'Review on **Friday**', 'Review on Friday');
		await poll(() => item(cy).getAttribute('data-unread')).toBe('true');
		// The list follows the new reply live: its plain text and the count.
		await poll(() => replies(cy)).toEqual(['Bob Stone: Review on Friday', '3 replies']);
		// The header's subtitle fits the phone whole, not cut short.
		expect(await cy.locator('[data-testid=page-subtitle]').evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
		if (shots) await cy.screenshot({ path: `${shots}/threads-unread-375.png` });
		await item(cy).locator('[data-testid=thread-open]').click();
		await threadPane(cy).locator('[data-testid=message]', { hasText: 'Review on Friday' }).waitFor();
		if (shots) await cy.screenshot({ path: `${shots}/threads-pane-375.png` });
		await threadPane(cy).locator('[data-testid=thread-back]').click();
		await openThreads(cy);
		await poll(() => item(cy).getAttribute('data-unread')).toBeNull();
	});

	it('unfollows from the list, the thread pane and the message menu', async () => {
		// Cy: from the Threads list.
		await item(cy).locator('[data-testid=thread-unfollow]').click();
		await poll(() => cy.locator('[data-testid=threads-empty]').count()).toBe(1);
		// And from the long-press sheet, which follows it again first.
		const sheetFollow = async (label: string) => {
			await cy.goto(`/c/${general}`);
			await longPress(cy, ROOT);
			const choice = cy.locator('[data-testid=sheet-follow]');
			expect(await choice.innerText()).toBe(label);
			await choice.click();
			await poll(() => cy.locator('[data-testid=action-sheet]').count()).toBe(0);
			await openThreads(cy);
		};
		await sheetFollow('Follow thread');
		await poll(() => item(cy).count()).toBe(1);
		if (shots) await cy.screenshot({ path: `${shots}/threads-followed-from-sheet-375.png` });
		await sheetFollow('Unfollow thread');
		await poll(() => cy.locator('[data-testid=threads-empty]').count()).toBe(1);

		// Bob: from the thread pane, which now offers Follow.
		const follow = threadPane(bob).locator('[data-testid=thread-follow]');
		await poll(() => follow.innerText()).toContain('Unfollow');
		await follow.click();
		await poll(() => follow.innerText()).toBe('Follow');
		await openThreads(bob);
		await poll(() => bob.locator('[data-testid=threads-empty]').count()).toBe(1);

		// Ada: from the message menu; a reply from someone else does not follow her back.
		await threadPane(ada).locator('[data-testid=thread-close]').click();
		await messageAction(ada, ROOT, 'message-more');
		await ada.locator('[data-testid=message-follow]').click();
		await openThreads(ada);
		await poll(() => ada.locator('[data-testid=threads-empty]').count()).toBe(1);
		const res = await cy.request.post(`/api/conversations/${general}/messages`, {
			data: { bodyMd: 'One more thing', parentId: rootId },
			headers: { origin: team.server.url }
		});
		expect(res.status()).toBe(201);
		await ada.waitForTimeout(500);
		expect(await item(ada).count()).toBe(0);
		if (shots) await ada.screenshot({ path: `${shots}/threads-empty-1440.png` });
	});

	it('shows a mention and a reaction under Mentions & reactions, each jumping to its message', async () => {
		const handles = (await (await ada.request.get('/api/members')).json()).members as Array<{ id: string; name: string; handle: string }>;
		const bobHandle = handles.find((m) => m.name === 'Bob Stone')!.handle;
		const api = (p: Page, path: string, data: object) => p.request.post(path, { data, headers: { origin: team.server.url } });
		const mention = await (await api(ada, `/api/conversations/${general}/messages`, { bodyMd: `Please **review** the [launch post](https://example.com/post) @${bobHandle}` })).json();
		await poll(() => bob.locator('[data-testid=nav-activity-badge]').first().textContent()).toBe('1');
		await bob.locator('[data-testid=nav-activity]').click();
		await bob.waitForURL('**/activity');
		const bobItem = bob.locator('[data-testid=activity-item]');
		await poll(() => bobItem.count()).toBe(1);
		expect(await bobItem.getAttribute('data-kind')).toBe('mention');
		expect(await bobItem.getAttribute('data-unread')).toBe('true');
		// The preview reads as text, not as markdown.
		expect(await bobItem.locator('[data-testid=activity-text]').innerText()).toBe(`Please review the launch post @${bobHandle}`);
		if (shots) await bob.screenshot({ path: `${shots}/activity-1440.png` });
		await poll(() => bob.locator('[data-testid=nav-activity-badge]').count()).toBe(0);
		await bobItem.locator('[data-testid=activity-open]').click();
		await bob.waitForURL(`**/c/${general}?m=${mention.message.id}`);
		await poll(() => message(bob, 'Please review the launch post').getAttribute('data-highlighted')).toBe('true');

		// Cy, on a phone: Ada reacts to what she wrote.
		const mine = await (await api(cy, `/api/conversations/${general}/messages`, { bodyMd: 'Proofread done' })).json();
		expect((await api(ada, `/api/messages/${mine.message.id}/reactions`, { emoji: '🎉' })).status()).toBe(200);
		await openDrawer(cy);
		await poll(() => cy.locator('[data-testid=nav-activity-badge]:visible').textContent()).toBe('1');
		await cy.locator('[data-testid=nav-activity]:visible').click();
		await cy.waitForURL('**/activity');
		const cyItem = cy.locator('[data-testid=activity-item]');
		await poll(() => cyItem.count()).toBe(1);
		expect(await cyItem.getAttribute('data-kind')).toBe('reaction');
		expect(await cyItem.innerText()).toContain('🎉');
		if (shots) await cy.screenshot({ path: `${shots}/activity-375.png` });
		await cyItem.locator('[data-testid=activity-open]').click();
		await cy.waitForURL(`**/c/${general}?m=${mine.message.id}`);
		await poll(() => message(cy, 'Proofread done').getAttribute('data-highlighted')).toBe('true');
	});

	it('marks Mentions & reactions seen for all my browsers: no mark on my next visit, nor in my other browser', async () => {
		const api = (p: Page, path: string, data: object) => p.request.post(path, { data, headers: { origin: team.server.url } });
		const handles = (await (await ada.request.get('/api/members')).json()).members as Array<{ name: string; handle: string }>;
		const bobHandle = handles.find((m) => m.name === 'Bob Stone')!.handle;
		// Bob saw the first mention in the last test: on his next visit it is listed, unmarked.
		await bob.goto('/activity');
		const bobItems = bob.locator('[data-testid=activity-item]');
		await poll(() => bobItems.count()).toBe(1);
		expect(await bobItems.getAttribute('data-unread')).toBeNull();

		// Bob's phone (touch, 375 px): the same time seen, from his me doc.
		const { context, page: phone, errors } = await newPerson(team.browser, team.server.url, { viewport: PHONE, touch: true });
		team.errorLogs.push(errors);
		await context.addCookies(await bob.context().cookies());
		await phone.goto(`/c/${general}`);
		await phone.locator('[data-testid=composer]').waitFor();
		await bob.goto(`/c/${general}`);
		await bob.locator('[data-testid=composer]').waitFor();
		await api(ada, `/api/conversations/${general}/messages`, { bodyMd: `And the release notes too @${bobHandle}` });
		await poll(() => bob.locator('[data-testid=nav-activity-badge]').first().textContent()).toBe('1');
		await phone.locator('[data-testid=open-drawer]').tap();
		await poll(() => phone.locator('[data-testid=nav-activity-badge]:visible').textContent()).toBe('1');
		await phone.locator('[data-testid=nav-activity]:visible').tap();
		await phone.waitForURL('**/activity');
		const phoneItems = phone.locator('[data-testid=activity-item]');
		await poll(() => phoneItems.count()).toBe(2);
		// Only the new one is marked, and the mark stays while the view is open.
		expect(await phoneItems.evaluateAll((els) => els.map((e) => e.getAttribute('data-unread')))).toEqual(['true', null]);
		if (shots) await phone.screenshot({ path: `${shots}/activity-seen-375.png` });
		// Seen there: the desktop's count clears without opening the view.
		await poll(() => bob.locator('[data-testid=nav-activity-badge]').count()).toBe(0);
		await phone.waitForTimeout(300);
		expect(await phoneItems.first().getAttribute('data-unread')).toBe('true');
		await bob.goto('/activity');
		await poll(() => bobItems.count()).toBe(2);
		expect(await bobItems.evaluateAll((els) => els.map((e) => e.getAttribute('data-unread')))).toEqual([null, null]);
		if (shots) await bob.screenshot({ path: `${shots}/activity-seen-1440.png` });
		await context.close();
	});

	it('ran without errors', () => {
		for (const errors of team.errorLogs) expect(errors).toEqual([]);
	});
});
