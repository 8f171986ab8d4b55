/**
 * Single sign-on in real Chromium: a real OpenID Connect provider (oidc-provider) runs on
 * loopback, the sign-in page offers "Sign in with Acme ID", and a person of an allowed domain
 * goes through the provider's login form into the workspace, at desktop and phone widths.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { freePort, startTestProvider, type TestProvider } from '../../../agent-gateway/src/test/oidc-provider.ts';
import { launchBrowser, newPerson } from './support/browser';
import { startTestServer, type TestServer } from './support/server';
import { poll } from './support/people';

let server: TestServer;
let provider: TestProvider;
let browser: Browser;
const shots = process.env.E2E_SHOTS;

beforeAll(async () => {
	const port = await freePort();
	provider = await startTestProvider({
		redirectUri: `http://127.0.0.1:${port}/api/auth/oidc/callback`,
		accounts: {
			cara: { email: 'cara@example.com', emailVerified: true, name: 'Cara Desktop' },
			dan: { email: 'dan@example.com', emailVerified: true, name: 'Dan Phone' },
			ada: { email: 'ada@example.com', emailVerified: true, name: 'Ada at Acme ID' }
		}
	});
	server = await startTestServer({
		port,
		oidc: {
			issuer: provider.issuer, clientId: provider.clientId, clientSecret: provider.clientSecret,
			name: 'Acme ID', allowedDomains: ['example.com'], only: false
		}
	});
	// The workspace exists (its first admin signed up with a password).
	const res = await fetch(`${server.url}/api/auth/signup`, {
		method: 'POST',
		headers: { 'content-type': 'application/json', origin: server.url },
		body: JSON.stringify({ email: 'ada@example.com', password: 'correct horse battery', name: 'Ada', handle: 'ada', workspaceName: 'Acme' })
	});
	expect(res.status).toBe(201);
	browser = await launchBrowser();
});

afterAll(async () => {
	await browser?.close();
	await server?.close();
	await provider?.close();
});

describe('single sign-on', () => {
	for (const [who, viewport] of [
		['cara', { width: 1440, height: 900 }],
		['dan', { width: 375, height: 740 }]
	] as const) {
		it(`${who} signs in with the provider at ${viewport.width} px and lands in the workspace`, async () => {
			const { page, context, errors } = await newPerson(browser, server.url, { viewport });
			await page.goto('/login');
			const button = page.locator('[data-testid=sso-start]');
			await poll(() => button.innerText()).toBe('Sign in with Acme ID');
			// Both ways in are offered, the button first, and nothing overflows the card.
			await page.locator('[data-testid=login-form]').waitFor();
			const box = (await button.boundingBox())!;
			expect(box.x).toBeGreaterThanOrEqual(0);
			expect(box.x + box.width).toBeLessThanOrEqual(viewport.width);
			if (shots) await page.screenshot({ path: `${shots}/sso-login-${viewport.width}.png` });

			await button.click();
			await page.waitForURL(`${provider.issuer}/interaction/**`);
			await page.locator('input[name=login]').fill(who);
			await page.getByRole('button', { name: 'Sign in' }).click();
			await page.waitForURL('**/c/**');
			await page.locator('[data-testid=composer]').waitFor();
			await poll(() => page.locator('[data-testid=workspace-name]').innerText()).toBe('Acme');
			await poll(() => page.locator('[data-testid=conversation-title]').innerText()).toContain('general');
			const me = await page.evaluate(() => fetch('/api/me').then((r) => r.json()));
			expect(me.user.email).toBe(`${who}@example.com`);
			if (shots) await page.screenshot({ path: `${shots}/sso-workspace-${viewport.width}.png` });
			// The expected 401 of /api/me on the sign-in page aside; the provider's own page is not ours.
			const unexpected = errors.filter((e) => !/401 \(Unauthorized\)/.test(e) && !e.includes(provider.issuer));
			expect(unexpected).toEqual([]);
			await context.close();
		});
	}

	it('links an existing account once, after its password, at 375 px', async () => {
		const { page, context } = await newPerson(browser, server.url, { viewport: { width: 375, height: 740 } });
		await page.goto('/login');
		await page.locator('[data-testid=sso-start]').click();
		await page.waitForURL(`${provider.issuer}/interaction/**`);
		await page.locator('input[name=login]').fill('ada');
		await page.getByRole('button', { name: 'Sign in' }).click();
		await page.waitForURL('**/login?sso=link');
		const form = page.locator('[data-testid=sso-link-form]');
		await poll(() => form.innerText()).toContain('ada@example.com');
		// Only the link form: the password sign-in form is not on screen beside it.
		expect(await page.locator('[data-testid=login-form]').count()).toBe(0);
		if (shots) await page.screenshot({ path: `${shots}/sso-link-375.png` });
		await page.locator('[data-testid=sso-link-password]').fill('wrong password');
		await page.locator('[data-testid=sso-link-submit]').click();
		await poll(() => form.innerText()).toContain('That password is wrong.');
		await page.locator('[data-testid=sso-link-password]').fill('correct horse battery');
		await page.locator('[data-testid=sso-link-submit]').click();
		await page.waitForURL('**/c/**');
		await poll(() => page.locator('[data-testid=workspace-name]').innerText()).toBe('Acme');
		const me = await page.evaluate(() => fetch('/api/me').then((r) => r.json()));
		expect(me.member.handle).toBe('ada');
		await context.close();
	});

	it('shows a refused sign-in as a message on the sign-in page', async () => {
		const { page, context } = await newPerson(browser, server.url, { viewport: { width: 375, height: 740 } });
		await page.goto('/login');
		await page.locator('[data-testid=sso-start]').click();
		await page.waitForURL(`${provider.issuer}/interaction/**`);
		await page.getByRole('button', { name: 'Cancel' }).click();
		await page.waitForURL('**/login?sso=provider_error**');
		await poll(() => page.locator('[data-testid=sso-error]').innerText()).toContain('Acme ID did not sign you in (cancelled or refused)');
		if (shots) await page.screenshot({ path: `${shots}/sso-error-375.png` });
		await context.close();
	});
});

describe('OIDC_ONLY', () => {
	let only: TestServer;
	let idp: TestProvider;

	beforeAll(async () => {
		const port = await freePort();
		idp = await startTestProvider({
			redirectUri: `http://127.0.0.1:${port}/api/auth/oidc/callback`,
			accounts: { bob: { email: 'bob@example.com', emailVerified: true, name: 'Bob Invited' } }
		});
		only = await startTestServer({
			port,
			oidc: { issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, name: 'Acme ID', allowedDomains: [], only: true }
		});
	});
	afterAll(async () => {
		await only?.close();
		await idp?.close();
	});

	it('offers passwords to the break-glass admin only behind a link, and invites through the provider', async () => {
		const signup = await fetch(`${only.url}/api/auth/signup`, {
			method: 'POST',
			headers: { 'content-type': 'application/json', origin: only.url },
			body: JSON.stringify({ email: 'ada@example.com', password: 'correct horse battery', name: 'Ada', handle: 'ada', workspaceName: 'Acme' })
		});
		const cookie = /cc_session=[^;]+/.exec(signup.headers.get('set-cookie') ?? '')![0];
		const invite = await fetch(`${only.url}/api/auth/invite`, {
			method: 'POST',
			headers: { 'content-type': 'application/json', origin: only.url, cookie },
			body: JSON.stringify({ email: 'bob@example.com', role: 'member' })
		}).then((r) => r.json() as Promise<{ url: string }>);

		const { page, context } = await newPerson(browser, only.url, { viewport: { width: 1440, height: 900 } });
		await page.goto('/login');
		await page.locator('[data-testid=sso-start]').waitFor();
		await page.locator('[data-testid=sso-password-reveal]').waitFor();
		expect(await page.locator('[data-testid=login-form]').count()).toBe(0);
		if (shots) await page.screenshot({ path: `${shots}/sso-only-1440.png` });
		await page.locator('[data-testid=sso-password-reveal]').click();
		await page.locator('[data-testid=login-form]').waitFor();

		// The invite page has no password form: the provider accepts the invite.
		await page.goto(new URL(invite.url).pathname);
		await page.locator('[data-testid=sso-start]').waitFor();
		expect(await page.locator('[data-testid=invite-form]').count()).toBe(0);
		expect(await page.locator('[data-testid=sso-password-reveal]').count()).toBe(0);
		await page.locator('[data-testid=sso-start]').click();
		await page.waitForURL(`${idp.issuer}/interaction/**`);
		await page.locator('input[name=login]').fill('bob');
		await page.getByRole('button', { name: 'Sign in' }).click();
		await page.waitForURL('**/c/**');
		const me = await page.evaluate(() => fetch('/api/me').then((r) => r.json()));
		expect(me.member.name).toBe('Bob Invited');
		await context.close();
	});
});
