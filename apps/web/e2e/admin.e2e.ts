/**
 * The admin settings page as an admin uses it: rename the workspace and set its icon (seen live by
 * another member), change a role, deactivate a member whose open browser is signed out at once,
 * create and revoke an invite link (the revoked link says so), edit the org chart (a loop is
 * refused), and read the audit log. Ada (admin) and Bob at 1440 px, Cy at 375 px; the admin page
 * is also checked at 375 px.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { newPerson } from './support/browser';
import { DESKTOP, PHONE, startTeam, type Team } from './support/team';
import { invite, poll } from './support/people';

let team: Team;
let ada: Page;
let bob: Page;
let cy: Page;
const shots = process.env.E2E_SHOTS;
/** A 2×2 PNG: the workspace icon. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAYAAABytg0kAAAAFklEQVR42mNk+M9Qz0AEYBxVSF+FAP5FDvcfRYWgAAAAAElFTkSuQmCC', 'base64');

beforeAll(async () => {
	team = await startTeam({ joiners: [DESKTOP, PHONE] });
	({ ada, bob, cy } = team);
	await ada.locator('[data-testid=nav-admin]').click();
	await ada.locator('[data-testid=admin-page]').waitFor();
});

afterAll(() => team?.close());

const tab = (name: string) => ada.locator(`[data-testid=admin-tab-${name}]`).click();
const row = (testid: string, handle: string) => ada.locator(`[data-testid=${testid}][data-handle="${handle}"]`);

describe('admin settings', () => {
	it('renames the workspace and sets its icon; another member sees both live', async () => {
		await ada.locator('[data-testid=workspace-name-input]').fill('Acme Labs');
		await ada.locator('[data-testid=workspace-save]').click();
		await poll(() => bob.locator('[data-testid=workspace-name]').textContent()).toBe('Acme Labs');
		await ada.locator('[data-testid=workspace-icon-input]').setInputFiles({ name: 'logo.png', mimeType: 'image/png', buffer: PNG });
		await poll(() => bob.locator('[data-testid=workspace-icon]').getAttribute('src')).toMatch(/^\/files\//);
		// The icon loads for a member who did not upload it.
		await poll(() => bob.locator('[data-testid=workspace-icon]').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(2);
		await ada.locator('[data-testid=workspace-icon-preview]').waitFor();
		if (shots) await ada.screenshot({ path: `${shots}/admin-workspace-1440.png` });
	});

	it('changes a role: a member made a guest loses browsing at once', async () => {
		await tab('members');
		await expect.poll(() => bob.locator('[data-testid=browse-channels]').count()).toBe(1);
		await row('admin-member', 'bob.stone').locator('[data-testid=role-select]').selectOption('guest');
		await poll(() => bob.locator('[data-testid=browse-channels]').count()).toBe(0);
		await poll(() => row('admin-member', 'bob.stone').locator('[data-testid=role-select]').inputValue()).toBe('guest');
		await row('admin-member', 'bob.stone').locator('[data-testid=role-select]').selectOption('member');
		await poll(() => bob.locator('[data-testid=browse-channels]').count()).toBe(1);
		// Your own role is not yours to change.
		expect(await row('admin-member', 'ada.lovelace').locator('[data-testid=role-select]').isDisabled()).toBe(true);
	});

	it('deactivates a member: their open browser is signed out; reactivation lists them again', async () => {
		expect(cy.url()).toContain('/c/');
		await row('admin-member', 'cy.young').locator('[data-testid=deactivate]').click();
		await ada.locator('[data-testid=confirm-ok]').click();
		await poll(() => new URL(cy.url()).pathname).toBe('/login');
		await poll(() => row('admin-member', 'cy.young').textContent()).toContain('deactivated');
		if (shots) await ada.screenshot({ path: `${shots}/admin-members-1440.png` });
		await row('admin-member', 'cy.young').locator('[data-testid=reactivate]').click();
		await row('admin-member', 'cy.young').locator('[data-testid=deactivate]').waitFor();
	});

	it('creates an invite link, and a revoked link says so on the invite page', async () => {
		await tab('invites');
		await ada.locator('[data-testid=invite-link-expiry]').selectOption('24');
		await ada.locator('[data-testid=invite-link-create]').click();
		const url = (await ada.locator('[data-testid=invite-link-url]').textContent())!.trim();
		expect(url).toMatch(/\/invite\//);
		const visitor = await newPerson(team.browser, team.server.url, { viewport: { width: 375, height: 740 } });
		await visitor.page.goto(new URL(url).pathname);
		await poll(() => visitor.page.locator('h1').textContent()).toBe('Join Acme Labs');
		const active = ada.locator('[data-testid=invite-row][data-status=active]');
		await poll(() => active.count()).toBe(1);
		if (shots) await ada.screenshot({ path: `${shots}/admin-invites-1440.png` });
		await active.locator('[data-testid=invite-revoke]').click();
		await poll(() => ada.locator('[data-testid=invite-row][data-status=revoked]').count()).toBe(1);
		await visitor.page.reload();
		await poll(() => visitor.page.locator('h1').textContent()).toBe('This invite link was revoked');
		await expect.poll(() => visitor.page.getByText('ask them for a new one').count()).toBe(1);
		if (shots) await visitor.page.screenshot({ path: `${shots}/admin-invite-revoked-375.png` });
		await visitor.context.close();
	});

	it('a guest link joins only its channels: no browsing, no new channels, DMs only with channel mates', async () => {
		const ids = Object.fromEntries(
			((await (await ada.request.get('/api/members')).json()).members as Array<{ id: string; handle: string }>).map((m) => [m.handle, m.id])
		);
		const made = await ada.request.post('/api/conversations', {
			data: { kind: 'channel', name: 'with-client', isPrivate: true, memberIds: [ids['bob.stone']] },
			headers: { origin: team.server.url }
		});
		expect(made.status()).toBe(201);
		await ada.reload();
		await ada.locator('[data-testid=invite-link-role]').selectOption('guest');
		await ada.locator('[data-testid=invite-link-channel][data-name=with-client]').check();
		await ada.locator('[data-testid=invite-link-create]').click();
		const url = (await ada.locator('[data-testid=invite-link-url]').textContent())!.trim();
		const g = await newPerson(team.browser, team.server.url, { viewport: { width: 375, height: 740 } });
		team.errorLogs.push(g.errors);
		await g.page.goto(new URL(url).pathname);
		await g.page.locator('[data-testid=invite-email]').fill('gil@example.com');
		await g.page.locator('[data-testid=invite-name]').fill('Gil Guest');
		await g.page.locator('[data-testid=invite-password]').fill('another long password');
		await g.page.locator('[data-testid=invite-submit]').click();
		await g.page.waitForURL('**/c/**');
		await g.page.locator('[data-testid=open-drawer]').click();
		const sidebar = g.page.locator('[data-testid=sidebar]:visible');
		await poll(() => sidebar.locator('[data-testid=section-channels] [data-name]').evaluateAll((els) => [...new Set(els.map((e) => e.getAttribute('data-name')))])).toEqual(['with-client']);
		expect(await sidebar.locator('[data-testid=browse-channels]').count()).toBe(0);
		expect(await sidebar.locator('[data-testid=section-channels-add]').count()).toBe(0);
		if (shots) await g.page.screenshot({ path: `${shots}/admin-guest-sidebar-375.png` });
		await sidebar.locator('[data-testid=section-dms-add]').click();
		await poll(() => g.page.locator('[data-testid=dm-member]').evaluateAll((els) => els.map((e) => e.getAttribute('data-handle')).sort())).toEqual(['ada.lovelace', 'bob.stone']);
		await g.context.close();
	});

	it('edits the org chart; a loop is refused', async () => {
		await tab('org');
		const ids = Object.fromEntries(
			((await (await ada.request.get('/api/members')).json()).members as Array<{ id: string; handle: string }>).map((m) => [m.handle, m.id])
		);
		await row('org-row', 'bob.stone').locator('[data-testid=reports-to]').selectOption(ids['ada.lovelace']!);
		await row('org-row', 'cy.young').locator('[data-testid=reports-to]').selectOption(ids['bob.stone']!);
		// The chart nests Cy under Bob under Ada.
		await poll(() => ada.locator('[data-testid=org-node][data-handle="ada.lovelace"] [data-testid=org-node][data-handle="bob.stone"] [data-testid=org-node][data-handle="cy.young"]').count()).toBe(1);
		await row('org-row', 'ada.lovelace').locator('[data-testid=reports-to]').selectOption(ids['cy.young']!);
		await poll(() => ada.getByText('That would make a loop').count()).toBe(1);
		await poll(() => row('org-row', 'ada.lovelace').locator('[data-testid=reports-to]').inputValue()).toBe('');
		if (shots) await ada.screenshot({ path: `${shots}/admin-org-1440.png` });
	});

	it('lists every admin action in the audit log, also at 375 px', async () => {
		await tab('audit');
		const entries = ada.locator('[data-testid=audit-entry]');
		await poll(() => entries.count()).toBeGreaterThanOrEqual(8);
		const actions = await entries.evaluateAll((els) => els.map((e) => e.getAttribute('data-action')));
		for (const a of ['workspace.update', 'member.role', 'member.deactivate', 'member.reactivate', 'invite.create', 'invite.revoke', 'member.reports_to']) {
			expect(actions).toContain(a);
		}
		expect(await entries.first().textContent()).toContain('@ada.lovelace set @cy.young to report to @bob.stone');
		await ada.setViewportSize({ width: 375, height: 740 });
		await poll(() => ada.locator('[data-testid=admin-tab-audit]').isVisible()).toBe(true);
		// Nothing overflows the phone's width.
		expect(await ada.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
		if (shots) await ada.screenshot({ path: `${shots}/admin-audit-375.png` });
		await tab('members');
		await row('admin-member', 'bob.stone').waitFor();
		if (shots) await ada.screenshot({ path: `${shots}/admin-members-375.png` });
		await tab('org');
		if (shots) await ada.screenshot({ path: `${shots}/admin-org-375.png` });
	});

	it('ran without console errors', () => {
		// Cy's sockets closing on deactivation log nothing; a refused org edit is a 409 the page handles.
		const unexpected = team.errorLogs.flat().filter((e) => !/status of 40[19]|status of 410/.test(e));
		expect(unexpected).toEqual([]);
	});
});
