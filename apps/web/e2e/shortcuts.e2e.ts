/**
 * The keyboard a Slack user reaches for on day one: the quick switcher (Ctrl+K, fuzzy, recent
 * first, unread marked), search on Ctrl+F and `/`, moving between conversations with Alt+↑/↓
 * (and between unread ones with Alt+Shift), ↑ to edit my last message, Esc to mark this
 * conversation read and Shift+Esc everything, and the `?` sheet. The same steps at 1440 px (Ada)
 * and on a 375 px touchscreen with a keyboard attached (Cy, whose sidebar is the drawer); Bob
 * writes the messages they read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { DESKTOP, PHONE, TOUCH_PHONE, createChannel, startTeam, type Team } from './support/team';
import { longPress, message, messageAction, poll, post } from './support/people';

let team: Team;
const ids: Record<string, string> = {};

beforeAll(async () => {
	team = await startTeam({ joiners: [DESKTOP, TOUCH_PHONE] });
	ids.general = team.general;
	ids.launch = await createChannel(team, 'launch-plan', []);
	ids.design = await createChannel(team, 'design', []);
	// An agent for the switcher to offer next to the people.
	const agent = await team.ada.request.post('/api/agents', { data: { name: 'Scout', handle: 'scout', adapter: 'peer' }, headers: { origin: team.server.url } });
	expect(agent.ok()).toBe(true);
});

afterAll(async () => {
	for (const errors of team?.errorLogs ?? []) expect(errors).toEqual([]);
	await team?.close();
});

const postAsBob = async (id: string, body: string) => {
	const res = await team.bob.request.post(`/api/conversations/${id}/messages`, { data: { bodyMd: body }, headers: { origin: team.server.url } });
	expect(res.status()).toBe(201);
};
const currentId = (p: Page) => p.locator('[data-testid=conversation]').getAttribute('data-id');

describe.each([
	{ size: '1440 px', touch: false, tag: 'desk', who: () => team.ada },
	{ size: '375 px on a touchscreen', touch: true, tag: 'phone', who: () => team.cy }
])('keyboard at $size: switcher and shortcuts', ({ touch, tag, who }) => {
	let p: Page;
	const press = (el: Locator) => (touch ? el.tap() : el.click());
	/** Runs `check` on the sidebar: on a phone the drawer, opened for it and closed after. */
	const inSidebar = async <T,>(check: (sidebar: Locator) => Promise<T>): Promise<T> => {
		if (!touch) return check(p.locator('[data-testid=sidebar]'));
		await p.locator('[data-testid=open-drawer]').tap();
		const drawer = p.locator('[data-testid=drawer]');
		await drawer.waitFor();
		try {
			return await check(drawer);
		} finally {
			await p.keyboard.press('Escape');
			await poll(() => drawer.count()).toBe(0);
		}
	};
	/** The sidebar's unread badge (shown on the open conversation too while it is marked unread). */
	const unread = async (sidebar: Locator, id: string) => (await sidebar.locator(`a[href="/c/${id}"]`).locator('[data-testid=unread-count], [data-testid=unread-mentions]').count()) > 0;
	const pollUnread = (id: string, expected: boolean) => inSidebar((s) => poll(() => unread(s, id)).toBe(expected));
	const open = async (id: string) => {
		await p.goto(`/c/${id}`);
		await p.locator('[data-testid=composer]').waitFor();
	};
	const fits = async (selector: string) => {
		const box = (await p.locator(selector).boundingBox())!;
		return box.x >= 0 && box.x + box.width <= (touch ? PHONE.width : DESKTOP.width);
	};

	beforeAll(() => {
		p = who();
	});

	it('Ctrl+K jumps to a channel by a fuzzy name; Esc closes it where I was', async () => {
		await open(ids.general);
		await p.keyboard.press('Control+k');
		const input = p.locator('[data-testid=switcher-input]');
		await poll(() => p.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('switcher-input');
		expect(await fits('[data-testid=quick-switcher] [role=dialog]')).toBe(true);
		await input.pressSequentially('lnch');
		await poll(() => p.locator('[data-testid=switcher-item]').first().innerText()).toContain('launch-plan');
		await p.keyboard.press('Enter');
		await poll(() => currentId(p)).toBe(ids.launch);
		await poll(() => p.locator('[data-testid=quick-switcher]').count()).toBe(0);

		await p.keyboard.press('Control+k');
		await input.pressSequentially('desi');
		await p.keyboard.press('Escape');
		await poll(() => p.locator('[data-testid=quick-switcher]').count()).toBe(0);
		expect(await currentId(p)).toBe(ids.launch);
	});

	it('marks unread conversations, opens a DM with someone I never wrote to, and offers agents', async () => {
		await postAsBob(ids.design, `new mockups are up for ${tag}`);
		await pollUnread(ids.design, true);
		await p.keyboard.press('Control+k');
		await poll(() => p.locator('[data-testid=switcher-item]', { hasText: 'design' }).locator('[data-testid=switcher-unread]').count()).toBe(1);
		await p.locator('[data-testid=switcher-input]').pressSequentially('bob');
		const first = p.locator('[data-testid=switcher-item]').first();
		await poll(() => first.innerText()).toContain('Bob Stone');
		await press(first);
		await poll(() => p.locator('[data-testid=conversation-header]').innerText()).toContain('Bob Stone');
		await inSidebar((s) => poll(() => s.locator('[data-testid=sidebar-dm]', { hasText: 'Bob Stone' }).count()).toBe(1));
		// Agents are offered too, marked as such.
		await p.keyboard.press('Control+k');
		await p.locator('[data-testid=switcher-input]').pressSequentially('scou');
		await poll(() => p.locator('[data-testid=switcher-item]').first().innerText()).toMatch(/Scout\s*AGENT/);
		await p.keyboard.press('Escape');
		await poll(() => p.locator('[data-testid=quick-switcher]').count()).toBe(0);
	});

	it('Alt+↑/↓ walks the sidebar; Alt+Shift+↓/↑ go to the next and previous unread one; the switcher lists what I read last first', async () => {
		await open(ids.general);
		// Sidebar order: channels by name (design, general, launch-plan), then DMs.
		await p.keyboard.press('Alt+ArrowDown');
		await poll(() => currentId(p)).toBe(ids.launch);
		await p.keyboard.press('Alt+ArrowUp');
		await poll(() => currentId(p)).toBe(ids.general);
		await pollUnread(ids.design, true);
		await p.keyboard.press('Alt+Shift+ArrowDown');
		await poll(() => currentId(p)).toBe(ids.design);
		await message(p, `new mockups are up for ${tag}`).waitFor();
		// Backwards, past the DM (read), to the end of the channels: launch-plan.
		await postAsBob(ids.launch, `kickoff moved to Monday for ${tag}`);
		await pollUnread(ids.launch, true);
		await p.keyboard.press('Alt+Shift+ArrowUp');
		await poll(() => currentId(p)).toBe(ids.launch);
		await message(p, `kickoff moved to Monday for ${tag}`).waitFor();

		// Recent first: launch-plan, then design (by the messages read), before the unread-free rest.
		await p.keyboard.press('Control+k');
		const labels = () => p.locator('[data-testid=switcher-item]').allInnerTexts();
		await poll(async () => (await labels()).slice(0, 2).map((t) => t.split('\n')[0]!.trim())).toEqual(['launch-plan', 'design']);
		await p.keyboard.press('Escape');
	});

	it('↑ in an empty composer edits my last message', async () => {
		await open(ids.design);
		await post(p, `first draft of the brief, ${tag}`);
		const last = `second thought on it, ${tag}`;
		await post(p, last);
		await message(p, last).waitFor();
		await press(p.locator('[data-testid=composer]'));
		await p.keyboard.press('ArrowUp');
		const editor = p.locator('[data-testid=message-edit-input]');
		await poll(() => editor.inputValue()).toBe(last);
		await editor.fill(`${last}, revised`);
		await p.keyboard.press('Enter');
		await poll(() => message(p, `${last}, revised`).count()).toBe(1);
		await team.bob.goto(`/c/${ids.design}`);
		await poll(() => message(team.bob, `${last}, revised`).count()).toBe(1);
	});

	it('Esc marks this conversation read, and not the others', async () => {
		const text = `one more mockup for ${tag}`;
		await postAsBob(ids.design, text);
		await postAsBob(ids.launch, `launch moved to Friday for ${tag}`);
		await message(p, text).waitFor();
		// Mark Bob's message unread: #design is unread though open.
		if (touch) {
			await longPress(p, text);
			await p.locator('[data-testid=sheet-mark-unread]').tap();
		} else {
			await messageAction(p, text, 'message-more');
			await p.locator('[data-testid=message-mark-unread]').click();
		}
		await pollUnread(ids.design, true);
		await pollUnread(ids.launch, true);
		await p.locator('[data-testid=composer]').blur();
		await p.keyboard.press('Escape');
		await pollUnread(ids.design, false);
		await pollUnread(ids.launch, true);
	});

	it('Shift+Esc marks every conversation read, kept across a reload', async () => {
		await postAsBob(ids.general, `all hands at noon for ${tag}`);
		await pollUnread(ids.general, true);
		await p.locator('[data-testid=composer]').blur();
		await p.keyboard.press('Shift+Escape');
		await pollUnread(ids.launch, false);
		await pollUnread(ids.general, false);
		// It is stored in my me: doc, so a reload (another device) agrees.
		await p.reload();
		await p.locator('[data-testid=composer]').waitFor();
		await inSidebar(async (s) => {
			await s.locator(`a[href="/c/${ids.launch}"]`).waitFor();
			expect(await unread(s, ids.launch)).toBe(false);
			expect(await unread(s, ids.general)).toBe(false);
		});
	});

	it('Ctrl+F and / open search; ? shows the shortcut sheet, but not while typing', async () => {
		// On a phone the search pane takes the screen; on a desktop the header's box takes the focus.
		const searching = () => p.evaluate(() => document.activeElement?.closest('[data-search-box], [data-testid=search-pane]') !== null);
		for (const key of ['Control+f', 'Slash']) {
			await p.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
			await p.keyboard.press(key);
			await poll(searching).toBe(true);
			if (touch) {
				await p.locator('[data-testid=search-back]').tap();
				await poll(() => p.locator('[data-testid=search-pane]').count()).toBe(0);
			} else await p.keyboard.press('Escape');
		}

		await press(p.locator('[data-testid=composer]'));
		await p.keyboard.type('?');
		expect(await p.locator('[data-testid=shortcut-sheet]').count()).toBe(0);
		await p.locator('[data-testid=composer]').fill('');
		await p.locator('[data-testid=composer]').blur();
		await p.keyboard.press('Shift+Slash');
		await p.locator('[data-testid=shortcut-sheet]').waitFor();
		expect(await fits('[data-testid=shortcut-sheet]')).toBe(true);
		expect(await p.locator('[data-testid=shortcut-sheet]').innerText()).toContain('Jump to a channel');
		await p.keyboard.press('Escape');
		await poll(() => p.locator('[data-testid=shortcut-sheet]').count()).toBe(0);
	});
});
