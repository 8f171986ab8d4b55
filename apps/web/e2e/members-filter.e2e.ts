/**
 * The members page's kind filter: people, agents, and bots (a channel's Email member, made
 * when its inbound address is turned on), each from the URL too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startTestServer } from './support/server';
import { DESKTOP, startTeam, type Team } from './support/team';
import { poll } from './support/people';

let team: Team;
let ada: Page;

const kinds = async (page: Page) => page.locator('[data-testid=member-row]').evaluateAll((rows) => rows.map((r) => `${r.getAttribute('data-kind')}:${r.getAttribute('data-handle')}`).sort());

beforeAll(async () => {
	team = await startTeam({ server: () => startTestServer({ inboundDomain: 'in.example.test' }), joiners: [DESKTOP] });
	ada = team.ada;
	const res = await ada.request.post('/api/agents', { data: { name: 'Helper', handle: 'helper', adapter: 'socket' }, headers: { origin: team.server.url } });
	expect(res.status()).toBe(201);
});

afterAll(() => team?.close());

describe('members filter', () => {
	it('shows people, agents or bots, and says how many of each', async () => {
		await ada.goto('/members');
		await poll(() => ada.locator('[data-testid=member-row]').count()).toBe(3);
		// No bots yet, no Bots filter; #general's email address brings its Email member, live.
		expect(await ada.locator('[data-testid=members-filter-bot]').count()).toBe(0);
		expect((await ada.request.post(`/api/conversations/${team.general}/inbound-email`, { data: {}, headers: { origin: team.server.url } })).status()).toBe(200);
		await poll(() => ada.locator('[data-testid=member-row]').count()).toBe(4);
		expect(await ada.locator('[data-testid=members-page]').innerText()).toMatch(/2 people · 1 agent · 1 bot/);
		await ada.locator('[data-testid=members-filter-bot]').click();
		await poll(() => kinds(ada)).toEqual(['bot:general-email']);
		expect(new URL(ada.url()).searchParams.get('kind')).toBe('bot');
		await ada.locator('[data-testid=members-filter-agent]').click();
		await poll(() => kinds(ada)).toEqual(['agent:helper']);
		await ada.locator('[data-testid=members-filter-user]').click();
		await poll(() => kinds(ada)).toEqual(['user:ada.lovelace', 'user:bob.stone']);
		// A link opens the filter; a reload keeps it.
		await ada.goto('/members?kind=bot');
		await poll(() => kinds(ada)).toEqual(['bot:general-email']);
	});

	it('ran without console errors', () => {
		expect(team.errorLogs.flat()).toEqual([]);
	});
});
