/**
 * An agent's memory on its page: what it stored through the agent API in each scope (global,
 * #general, a task) is listed by scope with the scope named; the admin edits an entry and deletes
 * another, at 1440 px and at 375 px, and the agent reads the result.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newPerson } from './support/browser';
import { startTestServer, type TestServer } from './support/server';
import { poll, signUpFirst } from './support/people';

let server: TestServer;
let browser: Browser;
let ada: Page;
let errors: string[];
let agent: { id: string; botToken: string };
let generalId: string;
let taskId: string;
const shots = process.env.E2E_SHOTS;

/** REST as the person signed in on `page`. */
async function rest<T>(page: Page, method: 'GET' | 'POST', path: string, data?: unknown): Promise<T> {
	const res = await page.request.fetch(path, { method, data, headers: { origin: server.url } });
	if (!res.ok()) throw new Error(`${method} ${path}: ${res.status()} ${await res.text()}`);
	return (await res.json()) as T;
}

/** The agent's own memory API, with its bot token. */
async function agentApi(method: 'GET' | 'POST', path: string, body?: unknown) {
	const res = await fetch(`${server.url}/api/agent-api${path}`, {
		method,
		headers: { authorization: `Bearer ${agent.botToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
		body: body ? JSON.stringify(body) : undefined
	});
	if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
	return (await res.json()) as { memory: Array<{ scope: string; scopeId: string; key: string; value: unknown }> };
}

const entry = (page: Page, key: string) => page.locator(`[data-testid=memory-entry][data-key="${key}"]`);

beforeAll(async () => {
	server = await startTestServer();
	browser = await launchBrowser();
	const a = await newPerson(browser, server.url, { viewport: { width: 1440, height: 900 } });
	ada = a.page;
	errors = a.errors;
	await signUpFirst(ada);
	generalId = new URL(ada.url()).pathname.split('/').pop()!;
	agent = await rest(ada, 'POST', '/api/agents', { name: 'Archivist', handle: 'archivist', adapter: 'socket', channelIds: [generalId] });
	taskId = (await rest<{ task: { id: string } }>(ada, 'POST', '/api/tasks', { conversationId: generalId, title: 'Draft the launch notes' })).task.id;
	await agentApi('POST', '/memory', { key: 'style', value: 'Short answers, no emoji.' });
	await agentApi('POST', '/memory', { key: 'standup', value: { step: 1, owner: 'ada' }, scope: 'conversation', scopeId: generalId });
	await agentApi('POST', '/memory', { key: 'outline', value: ['intro', 'pricing'], scope: 'task', scopeId: taskId });
});

afterAll(async () => {
	await browser?.close();
	await server?.close();
});

describe('agent memory on the agent page', () => {
	it('lists each scope with its name; the admin edits an entry and deletes another at 1440 px', async () => {
		await ada.goto(`/agents/${agent.id}`);
		await ada.locator('[data-testid=agent-memory]').waitFor();
		expect(await ada.locator('[data-testid=agent-memory-global] [data-testid=memory-entry]').count()).toBe(1);
		expect(await entry(ada, 'standup').innerText()).toContain('general');
		expect(await entry(ada, 'outline').innerText()).toContain('Draft the launch notes');
		if (shots) await ada.screenshot({ path: `${shots}/memory-1440.png`, fullPage: true });

		await entry(ada, 'standup').locator('[data-testid=memory-edit]').click();
		const input = ada.locator('[data-testid=memory-value-input]');
		expect(JSON.parse(await input.inputValue())).toEqual({ step: 1, owner: 'ada' });
		// Broken JSON is explained, not saved.
		await input.fill('{ step: 2 }');
		await ada.locator('[data-testid=memory-save]').click();
		expect(await ada.locator('[data-testid=memory-dialog] [data-testid=form-error]').innerText()).toMatch(/JSON/);
		await input.fill('{ "step": 2, "owner": "bob" }');
		if (shots) await ada.screenshot({ path: `${shots}/memory-edit-1440.png` });
		await ada.locator('[data-testid=memory-save]').click();
		await poll(() => ada.locator('[data-testid=memory-dialog]').count()).toBe(0);
		await poll(() => entry(ada, 'standup').locator('[data-testid=memory-value]').innerText()).toContain('"bob"');
		const mine = await agentApi('GET', `/memory?scope=conversation&scopeId=${generalId}`);
		expect(mine.memory).toEqual([expect.objectContaining({ key: 'standup', value: { step: 2, owner: 'bob' } })]);

		await entry(ada, 'outline').locator('[data-testid=memory-delete]').click();
		await ada.locator('[data-testid=confirm-ok]').click();
		await poll(() => entry(ada, 'outline').count()).toBe(0);
		expect((await agentApi('GET', '/memory?key=outline')).memory).toEqual([]);
	});

	it('edits text memory on a phone-sized screen', async () => {
		await ada.setViewportSize({ width: 375, height: 740 });
		await ada.reload();
		await entry(ada, 'style').waitFor();
		const edit = entry(ada, 'style').locator('[data-testid=memory-edit]');
		const box = (await edit.boundingBox())!;
		expect(box.x + box.width).toBeLessThanOrEqual(375);
		await edit.click();
		const input = ada.locator('[data-testid=memory-value-input]');
		expect(await input.inputValue()).toBe('Short answers, no emoji.');
		await input.fill('Short answers. Emoji are fine.');
		if (shots) await ada.screenshot({ path: `${shots}/memory-edit-375.png` });
		await ada.locator('[data-testid=memory-save]').click();
		await poll(() => entry(ada, 'style').locator('[data-testid=memory-value]').innerText()).toBe('Short answers. Emoji are fine.');
		expect((await agentApi('GET', '/memory?key=style')).memory).toEqual([expect.objectContaining({ scope: 'global', value: 'Short answers. Emoji are fine.' })]);
		if (shots) await ada.screenshot({ path: `${shots}/memory-375.png`, fullPage: true });
		expect(errors).toEqual([]);
	});

	it('adds memory in a channel and on a task through the dialog; a key already there is explained', async () => {
		await ada.setViewportSize({ width: 1440, height: 900 });
		await ada.goto(`/agents/${agent.id}`);
		await ada.locator('[data-testid=memory-add]').click();
		const dialog = ada.locator('[data-testid=memory-add-dialog]');
		await dialog.locator('[data-testid=memory-add-scope]').selectOption('conversation');
		await dialog.locator('[data-testid=memory-add-where]').selectOption({ label: '#general' });
		await dialog.locator('[data-testid=memory-add-key]').fill('escalate-to');
		await dialog.locator('[data-testid=memory-add-value]').fill('@ada, then the on-call channel');
		if (shots) await ada.screenshot({ path: `${shots}/memory-add-1440.png` });
		await dialog.locator('[data-testid=memory-add-save]').click();
		await poll(() => dialog.count()).toBe(0);
		await poll(() => entry(ada, 'escalate-to').locator('[data-testid=memory-value]').innerText()).toBe('@ada, then the on-call channel');
		expect(await entry(ada, 'escalate-to').getAttribute('data-scope')).toBe('conversation');

		// On a task, as JSON: broken JSON is explained first.
		await ada.locator('[data-testid=memory-add]').click();
		await dialog.locator('[data-testid=memory-add-scope]').selectOption('task');
		await poll(() => dialog.locator('[data-testid=memory-add-where] option', { hasText: 'Draft the launch notes' }).count()).toBe(1);
		await dialog.locator('[data-testid=memory-add-where]').selectOption({ label: 'Draft the launch notes (#general)' });
		await dialog.locator('[data-testid=memory-add-key]').fill('reviewers');
		await dialog.locator('[data-testid=memory-add-json]').check();
		await dialog.locator('[data-testid=memory-add-value]').fill('[ada, bob]');
		await dialog.locator('[data-testid=memory-add-save]').click();
		expect(await dialog.locator('[data-testid=form-error]').innerText()).toMatch(/JSON/);
		await dialog.locator('[data-testid=memory-add-value]').fill('["ada", "bob"]');
		await dialog.locator('[data-testid=memory-add-save]').click();
		await poll(() => dialog.count()).toBe(0);
		await poll(() => entry(ada, 'reviewers').count()).toBe(1);
		expect(await entry(ada, 'reviewers').innerText()).toContain('Draft the launch notes');
		const onTask = await agentApi('GET', `/memory?scope=task&scopeId=${taskId}`);
		expect(onTask.memory).toEqual([expect.objectContaining({ key: 'reviewers', value: ['ada', 'bob'] })]);
		expect((await agentApi('GET', '/memory?key=escalate-to')).memory).toEqual([expect.objectContaining({ scope: 'conversation', scopeId: generalId })]);

		// The same key again in the same scope: the server's reason, and nothing changes.
		await ada.locator('[data-testid=memory-add]').click();
		await dialog.locator('[data-testid=memory-add-key]').fill('style');
		await dialog.locator('[data-testid=memory-add-value]').fill('Loud');
		await dialog.locator('[data-testid=memory-add-save]').click();
		await poll(() => dialog.locator('[data-testid=form-error]').innerText()).toMatch(/already remembers/);
		await ada.keyboard.press('Escape');
		expect((await agentApi('GET', '/memory?key=style')).memory).toEqual([expect.objectContaining({ value: 'Short answers. Emoji are fine.' })]);
		// The one refusal above is the browser's only complaint.
		expect(errors).toEqual([expect.stringMatching(/status of 409 \(Conflict\).*\/memory\)$/)]);
	});
});
