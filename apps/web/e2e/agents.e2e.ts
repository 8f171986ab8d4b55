/**
 * Agents end to end, in real Chromium against the real one-process server: the admin provisions a
 * socket agent in the UI and sees its token once; the repository's example agent, started with
 * the exact command the dialog shows, connects; a mention in #general wakes it and its reply
 * reaches a second person's browser live; the agent page lists the run. Then an agent asks for
 * approval: the card shows in both browsers, only the admin can decide, and the decision reaches
 * the other browser and the agent.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { connectSocketAgent, type AgentPacket, type SocketAgent } from '../../../packages/agent-sdk/src/index.ts';
import { launchBrowser, newPerson } from './support/browser';
import { startTestServer, type TestServer } from './support/server';
import { DESKTOP } from './support/team';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

let server: TestServer;
let browser: Browser;
let ada: Page;
let bob: Page;
let exampleAgent: ChildProcess | null = null;
let exampleOutput = '';
let gatekeeper: SocketAgent | null = null;
let agentPageUrl = '';
const errorLogs: string[][] = [];
/** Set E2E_SHOTS=<dir> to keep screenshots of the final state of each browser. */
const shots = process.env.E2E_SHOTS;

/** Agent runs take a round trip through a child process; the timeout absorbs a busy machine. */
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 20_000, interval: 100 });

const message = (page: Page, text: string) => page.locator('[data-testid=message]', { hasText: text });

async function post(page: Page, text: string) {
	const composer = page.locator('[data-testid=composer]');
	await composer.fill(text);
	await page.keyboard.press('Enter');
	// A mention menu may take the first Enter; the composer empties once the message is sent.
	if ((await composer.inputValue()) !== '') await page.keyboard.press('Enter');
	await poll(() => composer.inputValue()).toBe('');
}

/** REST as the person signed in on `page` (their cookie; Origin as the page itself sends it). */
async function rest<T>(page: Page, method: 'GET' | 'POST', path: string, data?: unknown): Promise<T> {
	const res = await page.request.fetch(path, { method, data, headers: { origin: server.url } });
	if (!res.ok()) throw new Error(`${method} ${path}: ${res.status()} ${await res.text()}`);
	return (await res.json()) as T;
}

beforeAll(async () => {
	server = await startTestServer();
	browser = await launchBrowser();
});

afterAll(async () => {
	gatekeeper?.close();
	// The example runs as `sh -c "… npx tsx …"` in its own process group: end the whole group.
	if (exampleAgent?.pid) {
		try {
			process.kill(-exampleAgent.pid, 'SIGTERM');
		} catch {
			// Already gone.
		}
	}
	if (shots) {
		await ada?.screenshot({ path: `${shots}/agents-ada.png` });
		await bob?.screenshot({ path: `${shots}/agents-bob.png` });
	}
	await browser?.close();
	await server?.close();
});

describe('agents', () => {
	it('the admin signs up and a second person joins through the API', async () => {
		const admin = await newPerson(browser, server.url, { viewport: DESKTOP });
		ada = admin.page;
		errorLogs.push(admin.errors);
		await ada.goto('/signup');
		await ada.locator('[data-testid=signup-workspace]').fill('Acme');
		await ada.locator('[data-testid=signup-name]').fill('Ada Lovelace');
		await ada.locator('[data-testid=signup-email]').fill('ada@example.com');
		await ada.locator('[data-testid=signup-password]').fill('correct horse battery');
		await ada.locator('[data-testid=signup-submit]').click();
		await ada.waitForURL('**/c/**');
		await poll(() => ada.locator('[data-testid=conversation-title]').innerText()).toContain('general');

		const { token } = await rest<{ token: string }>(ada, 'POST', '/api/auth/invite', { email: 'bob@example.com', role: 'member' });
		const member = await newPerson(browser, server.url, { viewport: DESKTOP });
		bob = member.page;
		errorLogs.push(member.errors);
		await rest(bob, 'POST', '/api/auth/accept-invite', {
			token,
			email: 'bob@example.com',
			name: 'Bob Stone',
			handle: 'bob.stone',
			password: 'another good password'
		});
		await bob.goto('/');
		await bob.waitForURL('**/c/**');
		await poll(() => bob.locator('[data-testid=conversation-title]').innerText()).toContain('general');
		// Only admins provision agents.
		await bob.locator('[data-testid=nav-members]').click();
		await poll(() => bob.locator('[data-testid=member-row]').count()).toBe(2);
		expect(await bob.locator('[data-testid=open-provision]').count()).toBe(0);
		await bob.locator('[data-testid=sidebar-channel][data-name=general]').click();
	});

	let botToken = '';
	let runCommand = '';

	it('the admin provisions a socket agent and sees its token once', async () => {
		await ada.locator('[data-testid=nav-members]').click();
		await ada.waitForURL('**/members');
		await ada.locator('[data-testid=open-provision]').click();
		await ada.locator('[data-testid=agent-name]').fill('Echo Bot');
		await poll(() => ada.locator('[data-testid=agent-handle]').inputValue()).toBe('echo.bot');
		await ada.locator('[data-testid=agent-title]').fill('Repeats what it hears');
		// #general is preselected; socket is the default runtime.
		expect(await ada.locator('[data-testid=agent-channel][data-name=general]').getAttribute('aria-pressed')).toBe('true');
		expect(await ada.locator('[data-testid=agent-adapter-socket]').isChecked()).toBe(true);

		// The server's refusal shows in the form: this server does not allow loopback callbacks.
		await ada.locator('[data-testid=agent-adapter-webhook]').check();
		expect(await ada.locator('[data-testid=agent-callback]').inputValue()).toBe('http://127.0.0.1:8787');
		await ada.locator('[data-testid=provision-submit]').click();
		await poll(() => ada.locator('[data-testid=form-error]').innerText()).toContain('Callback URL refused');
		await ada.locator('[data-testid=agent-adapter-socket]').check();
		expect(await ada.locator('[data-testid=agent-callback]').count()).toBe(0);

		// A bad heartbeat is refused before anything is sent.
		await ada.locator('[data-testid=agent-heartbeat]').fill('2');
		await ada.locator('[data-testid=provision-submit]').click();
		await poll(() => ada.locator('[data-testid=form-error]').innerText()).toContain('5 to 86400');
		await ada.locator('[data-testid=agent-heartbeat]').fill('30');

		await ada.locator('[data-testid=provision-submit]').click();
		botToken = (await ada.locator('[data-testid=bot-token]').innerText()).trim();
		expect(botToken).toMatch(/^cc_[0-9a-z]{32}$/);
		runCommand = (await ada.locator('[data-testid=run-command]').innerText()).trim();
		expect(runCommand).toBe(`CC_URL=${server.url} CC_TOKEN=${botToken} npx tsx examples/socket-agent.ts`);

		await ada.locator('[data-testid=provision-done]').click();
		await poll(() => ada.locator('[data-testid=provision-dialog]').count()).toBe(0);
		// Shown once: nowhere on the page any more.
		expect(await ada.content()).not.toContain(botToken);
		const row = ada.locator('[data-testid=member-row][data-handle="echo.bot"]');
		await poll(() => row.count()).toBe(1);
		expect(await row.locator('[data-testid=agent-badge]').innerText()).toMatch(/agent/i);

		// A taken handle is refused with the server's own words.
		await ada.locator('[data-testid=open-provision]').click();
		await ada.locator('[data-testid=agent-name]').fill('Echo Bot');
		await ada.locator('[data-testid=provision-submit]').click();
		await poll(() => ada.locator('[data-testid=form-error]').innerText()).toMatch(/handle|taken|use/i);
		await ada.keyboard.press('Escape');
	});

	it('a webhook agent may be provisioned without a URL; the token screen says how it registers one', async () => {
		await ada.locator('[data-testid=open-provision]').click();
		await ada.locator('[data-testid=agent-name]').fill('Hook Later');
		await ada.locator('[data-testid=agent-adapter-webhook]').check();
		await ada.locator('[data-testid=agent-callback]').fill('');
		await ada.locator('[data-testid=provision-submit]').click();
		await poll(() => ada.locator('[data-testid=register-hint]').count()).toBe(1);
		expect(await ada.locator('[data-testid=register-hint]').innerText()).toContain('/register');
		if (shots) await ada.screenshot({ path: `${shots}/agent-register-hint.png` });
		await ada.locator('[data-testid=provision-done]').click();
		await poll(() => ada.locator('[data-testid=member-row][data-handle="hook.later"]').count()).toBe(1);
	});

	it('the example agent, started with the command shown, connects', async () => {
		exampleAgent = spawn('sh', ['-c', runCommand], { cwd: REPO_ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
		exampleAgent.stdout?.on('data', (d) => (exampleOutput += String(d)));
		exampleAgent.stderr?.on('data', (d) => (exampleOutput += String(d)));
		await expect.poll(() => exampleOutput, { timeout: 60_000, interval: 200 }).toContain('connected as @echo.bot');

		await ada.locator('[data-testid=member-row][data-handle="echo.bot"] [data-testid=member-open-agent]').click();
		await ada.waitForURL('**/agents/**');
		agentPageUrl = new URL(ada.url()).pathname;
		await poll(() => ada.locator('[data-testid=agent-name]').innerText()).toBe('Echo Bot');
		await poll(() => ada.locator('[data-testid=agent-connected]').getAttribute('data-connected')).toBe('true');
		expect(await ada.locator('[data-testid=agent-adapter]').innerText()).toMatch(/socket/i);
	});

	it('a mention wakes the agent and its reply reaches the other browser live', async () => {
		await ada.locator('[data-testid=sidebar-channel][data-name=general]').click();
		await ada.waitForURL('**/c/**');
		await post(ada, '@echo.bot hi there');
		const reply = message(bob, 'Got it — you said');
		await poll(() => reply.count()).toBe(1);
		expect(await reply.innerText()).toContain('hi there');
		expect(await reply.locator('[data-testid=message-author]').innerText()).toBe('Echo Bot');
		expect(await reply.locator('[data-testid=agent-badge]').count()).toBe(1);
		await poll(() => message(ada, 'Got it — you said').count()).toBe(1);
	});

	it('the agent page lists the run with what it applied', async () => {
		await ada.goto(agentPageUrl);
		const run = ada.locator('[data-testid=run-row][data-trigger=mention]');
		await poll(() => run.count()).toBe(1);
		await poll(() => run.getAttribute('data-status')).toBe('ok');
		expect(Number(await ada.locator('[data-testid=agent-total-runs]').innerText())).toBeGreaterThanOrEqual(1);
		// The echo agent names no model: nothing to price it by, so no dollar figure.
		expect(await ada.locator('[data-testid=agent-total-cost]').innerText()).toBe('—');
		await run.click();
		const drawer = ada.locator('[data-testid=run-drawer]');
		await poll(() => drawer.locator('[data-testid=run-applied-list]').innerText()).toContain('post_message');
		expect(await drawer.locator('[data-testid=run-reply]').innerText()).toContain('Got it');
		await ada.keyboard.press('Escape');
		await poll(() => drawer.count()).toBe(0);

		// Test says how the run it queued ended, and the run is listed.
		await ada.locator('[data-testid=agent-test]').click();
		await poll(() => ada.locator('[data-testid=agent-test]').innerText()).toContain('Testing');
		await poll(() => ada.locator('[data-testid=toast]').allInnerTexts()).toEqual(expect.arrayContaining([expect.stringMatching(/^Test run (answered|finished)/)]));
		expect(await ada.locator('[data-testid=run-row][data-trigger=test]').count()).toBe(1);
	});

	it('anyone can open a DM with the agent from its page, and it answers there', async () => {
		await bob.locator('[data-testid=nav-members]').click();
		await bob.locator('[data-testid=member-row][data-handle="echo.bot"] [data-testid=member-open-agent]').click();
		await bob.waitForURL('**/agents/**');
		// Not an admin: no Test, Rotate or Edit.
		await poll(() => bob.locator('[data-testid=agent-message]').count()).toBe(1);
		expect(await bob.locator('[data-testid=agent-test], [data-testid=agent-rotate], [data-testid=agent-edit]').count()).toBe(0);
		await bob.locator('[data-testid=agent-message]').click();
		await bob.waitForURL('**/c/**');
		await poll(() => bob.locator('[data-testid=conversation-title]').innerText()).toContain('Echo Bot');
		// A socket agent opens no docs; while its socket is up the server shows it online.
		await poll(() => bob.locator('[data-testid=sidebar-dm]', { hasText: 'Echo Bot' }).locator('[data-testid=presence]').getAttribute('data-status')).toBe('online');
		await post(bob, 'ping from a DM');
		await poll(() => message(bob, 'Got it — you said').count()).toBe(1);
		expect(await message(bob, 'Got it — you said').innerText()).toContain('ping from a DM');
		await bob.locator('[data-testid=sidebar-channel][data-name=general]').click();
	});

	it('on a touchscreen phone: no dollar figure, Test says how the run ended, the agent shows online', async () => {
		const phone = await newPerson(browser, server.url, { viewport: { width: 375, height: 740 }, touch: true });
		errorLogs.push(phone.errors);
		await phone.context.addCookies(await ada.context().cookies());
		const p = phone.page;
		await p.goto(agentPageUrl);
		await poll(() => p.locator('[data-testid=agent-total-cost]').innerText()).toBe('—');
		const tests = await p.locator('[data-testid=run-row][data-trigger=test]').count();
		await p.locator('[data-testid=agent-test]').tap();
		await poll(() => p.locator('[data-testid=toast]').allInnerTexts()).toEqual(expect.arrayContaining([expect.stringMatching(/^Test run (answered|finished)/)]));
		await poll(() => p.locator('[data-testid=run-row][data-trigger=test]').count()).toBe(tests + 1);
		if (shots) await p.screenshot({ path: `${shots}/agent-page-375.png` });
		// Bob's DM with the agent, in his drawer on a phone: the connected socket agent is online.
		await phone.context.clearCookies();
		await phone.context.addCookies(await bob.context().cookies());
		await p.goto('/');
		await p.locator('[data-testid=open-drawer]').tap();
		await poll(() => p.locator('[data-testid=drawer] [data-testid=sidebar-dm]', { hasText: 'Echo Bot' }).locator('[data-testid=presence]').getAttribute('data-status')).toBe('online');
		await phone.context.close();
	});

	it('an approval request is decided by the admin and the card updates live', async () => {
		const { conversations } = await rest<{ conversations: Array<{ id: string; name: string }> }>(ada, 'GET', '/api/conversations');
		const general = conversations.find((c) => c.name === 'general')!;
		const provisioned = await rest<{ botToken: string }>(ada, 'POST', '/api/agents', {
			name: 'Gatekeeper',
			handle: 'gatekeeper',
			adapter: 'socket',
			channelIds: [general.id]
		});
		const responses: AgentPacket[] = [];
		let connected = false;
		gatekeeper = connectSocketAgent({
			url: server.url,
			token: provisioned.botToken,
			onHello: () => (connected = true),
			onPacket: async (packet) => {
				if (packet.trigger === 'approval_response') {
					responses.push(packet);
					return 'HEARTBEAT_OK';
				}
				if (packet.trigger !== 'mention') return 'HEARTBEAT_OK';
				// Long enough for the "is thinking…" row to be seen.
				await new Promise((r) => setTimeout(r, 1500));
				return {
					actions: [{ type: 'request_approval', scope: 'email', action: 'Send the launch email to 1,200 customers', conversation_id: general.id }]
				};
			}
		});
		await poll(() => connected).toBe(true);

		await ada.locator('[data-testid=sidebar-channel][data-name=general]').click();
		await ada.waitForURL('**/c/**');
		await post(bob, '@gatekeeper may we send the launch email?');
		await poll(() => bob.locator('[data-testid=thinking]').innerText()).toContain('Gatekeeper is thinking');

		const adaCard = ada.locator('[data-testid=approval-card]');
		const bobCard = bob.locator('[data-testid=approval-card]');
		await poll(() => adaCard.getAttribute('data-status')).toBe('pending');
		await poll(() => bobCard.getAttribute('data-status')).toBe('pending');
		await poll(() => bob.locator('[data-testid=thinking]').count()).toBe(0);
		await poll(() => adaCard.locator('[data-testid=approval-scope]').innerText()).toBe('email');
		expect(await adaCard.locator('[data-testid=approval-action]').innerText()).toBe('Send the launch email to 1,200 customers');
		// Bob is neither an admin nor the agent's manager: no buttons for him.
		await poll(() => bobCard.locator('[data-testid=approval-action]').count()).toBe(1);
		expect(await bobCard.locator('[data-testid=approval-approve]').count()).toBe(0);
		// The admin's sidebar counts it.
		await poll(() => ada.locator('[data-testid=nav-approvals-badge]').innerText()).toBe('1');

		await adaCard.locator('[data-testid=approval-note]').fill('Go ahead, ship it');
		await adaCard.locator('[data-testid=approval-approve]').click();
		await poll(() => adaCard.getAttribute('data-status')).toBe('approved');
		// The server rewrote the card: Bob's view follows without a reload.
		await poll(() => bobCard.getAttribute('data-status')).toBe('approved');
		await poll(() => bobCard.locator('[data-testid=approval-decided]').innerText()).toContain('@ada.lovelace');
		await poll(() => ada.locator('[data-testid=nav-approvals-badge]').count()).toBe(0);

		// The agent is woken with the decision.
		await poll(() => responses.length).toBeGreaterThan(0);
		expect(responses[0]!.approvalResponse).toMatchObject({ status: 'approved', note: 'Go ahead, ship it', decidedByHandle: 'ada.lovelace' });

		// The Approvals page keeps who decided and why.
		await ada.locator('[data-testid=nav-approvals]').click();
		await ada.locator('[data-testid=approvals-tab-decided]').click();
		const item = ada.locator('[data-testid=approval-item][data-status=approved]');
		await poll(() => item.count()).toBe(1);
		expect(await item.locator('[data-testid=approval-decided]').innerText()).toContain('@ada.lovelace');
		expect(await item.locator('[data-testid=approval-note-shown]').innerText()).toContain('Go ahead, ship it');
	});

	it('ran without page errors', () => {
		// Expected: the 401 of /api/me before signing in, the 400 of the refused callback URL and
		// the 409 of the taken handle.
		const unexpected = errorLogs.flat().filter((e) => !/(401 \(Unauthorized\)|400 \(Bad Request\)|409 \(Conflict\))/.test(e));
		expect(unexpected).toEqual([]);
	});
});
