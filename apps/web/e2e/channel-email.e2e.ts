/**
 * Mail into a channel, in the browser: Ada (admin, 1440 px) turns on the channel's address in
 * the details panel and sees it with a rotate button; a mail sent to it over SMTP (nodemailer, to
 * the server's real listener on loopback) shows for Cy (375 px) with its subject, sender and
 * SPF/DKIM verdicts above the text. Bob, a plain member, sees no address.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startTestServer } from './support/server';
import { DESKTOP, PHONE, createChannel, startTeam, type Team } from './support/team';
import { message, poll } from './support/people';

// nodemailer is the gateway's dependency (it sends CircleChat's own mail); the web app has none.
const nodemailer = createRequire(join(import.meta.dirname, '../../../agent-gateway/package.json'))('nodemailer') as {
	createTransport(o: object): { sendMail(m: object): Promise<{ accepted: string[] }>; close(): void };
};

const DOMAIN = 'in.example.test';
let team: Team;
let ada: Page;
let bob: Page;
let cy: Page;
let channel: string;
const shots = process.env.E2E_SHOTS;

beforeAll(async () => {
	team = await startTeam({ server: () => startTestServer({ inboundDomain: DOMAIN }), joiners: [DESKTOP, PHONE] });
	({ ada, bob, cy } = team);
	channel = await createChannel(team, 'support', [ada, bob, cy]);
});

afterAll(() => team?.close());

const details = (p: Page) => p.locator('[data-testid=members-dialog]');
async function openAbout(p: Page) {
	await p.locator('[data-testid=conversation-title]').click();
	await details(p).locator('[data-testid=details-tab-about]').click();
}

describe('email into a channel', () => {
	let address = '';

	it('shows the address and a rotate button to the channel manager only', async () => {
		await openAbout(ada);
		const section = details(ada).locator('[data-testid=channel-email]');
		await section.locator('[data-testid=channel-email-enable]').click();
		await poll(() => section.locator('[data-testid=channel-email-address]').textContent()).toMatch(new RegExp(`^support\\+[a-z2-7]{26}@${DOMAIN}$`));
		address = (await section.locator('[data-testid=channel-email-address]').textContent())!;
		await expect(section.locator('[data-testid=channel-email-rotate]').isVisible()).resolves.toBe(true);
		if (shots) await ada.screenshot({ path: `${shots}/channel-email-settings-1440.png` });
		// Rotating asks first, then replaces the address on screen.
		await section.locator('[data-testid=channel-email-rotate]').click();
		await section.locator('[data-testid=channel-email-rotate-confirm]').click();
		await poll(() => section.locator('[data-testid=channel-email-address]').textContent()).not.toBe(address);
		address = (await section.locator('[data-testid=channel-email-address]').textContent())!;
		// On a phone the address and its buttons fit the screen.
		await ada.setViewportSize({ width: 375, height: 740 });
		await section.locator('[data-testid=channel-email-rotate]').scrollIntoViewIfNeeded();
		for (const id of ['channel-email-address', 'channel-email-copy', 'channel-email-rotate']) {
			const box = (await section.locator(`[data-testid=${id}]`).boundingBox())!;
			expect(box.x).toBeGreaterThanOrEqual(0);
			expect(box.x + box.width).toBeLessThanOrEqual(375);
		}
		if (shots) await ada.screenshot({ path: `${shots}/channel-email-settings-375.png` });
		await ada.setViewportSize({ width: 1440, height: 900 });
		await details(ada).getByRole('button', { name: 'Done' }).click();

		await openAbout(bob);
		await details(bob).locator('[data-testid=details-about]').waitFor();
		await expect(details(bob).locator('[data-testid=channel-email]').count()).resolves.toBe(0);
		await details(bob).getByRole('button', { name: 'Done' }).click();
	});

	it('renders a mail with its subject, sender and verdicts, at 375 px too', async () => {
		const t = nodemailer.createTransport({ host: '127.0.0.1', port: team.server.inboundPort, secure: false, ignoreTLS: true });
		try {
			const sent = await t.sendMail({
				from: 'Grace Hopper <grace@sender.example>', to: address, subject: 'Printer on fire',
				text: 'The printer on floor 2 is on fire again.',
				attachments: [{ filename: 'photo.txt', content: 'smoke\n' }],
				headers: { 'Authentication-Results': `${DOMAIN}; spf=pass smtp.mailfrom=sender.example; dkim=pass header.d=sender.example` }
			});
			expect(sent.accepted).toEqual([address]);
		} finally {
			t.close();
		}
		for (const p of [cy, ada]) {
			const row = message(p, 'The printer on floor 2');
			await row.waitFor();
			await expect(row.locator('[data-testid=message-author]').textContent()).resolves.toBe('Email');
			await expect(row.locator('[data-testid=bot-badge]').count()).resolves.toBe(1);
			const header = row.locator('[data-testid=email-header]');
			await expect(header.locator('[data-testid=email-subject]').textContent()).resolves.toBe('Printer on fire');
			await expect(header.locator('[data-testid=email-from]').textContent()).resolves.toMatch(/Grace Hopper\s*<grace@sender\.example>/);
			await expect(header.locator('[data-testid=email-auth-spf]').textContent()).resolves.toMatch(/spf pass/i);
			await expect(header.locator('[data-testid=email-auth-dkim]').textContent()).resolves.toMatch(/dkim pass/i);
			// The server's header paragraph is not shown twice, and the attachment is listed.
			await expect(row.locator('[data-testid=message-body]').first().textContent()).resolves.not.toContain('From Grace');
			await expect(row.getByText('photo.txt').count()).resolves.toBeGreaterThan(0);
			const box = await header.boundingBox();
			const width = p.viewportSize()!.width;
			expect(box!.x + box!.width).toBeLessThanOrEqual(width);
		}
		if (shots) {
			await cy.screenshot({ path: `${shots}/channel-email-message-375.png` });
			await ada.screenshot({ path: `${shots}/channel-email-message-1440.png` });
		}
		expect(team.errorLogs.flat()).toEqual([]);
	});
});
