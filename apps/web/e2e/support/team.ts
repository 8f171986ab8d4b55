/**
 * The workspace most e2e files start from: a server, one Chromium, Ada signing up (the admin, at
 * 1440 px) and the others joining by invite through `joiner`, each at the viewport asked for.
 */
import { expect } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { joiner, launchBrowser, newPerson } from './browser';
import { startTestServer, type TestServer } from './server';
import { invite, signUpFirst } from './people';

export const DESKTOP = { width: 1440, height: 900 };
export const PHONE = { width: 375, height: 740 };
/** A phone people hold: touch events, as Chromium emulates a touchscreen. */
export const TOUCH_PHONE = { ...PHONE, touch: true };

/** Who joins, in order: the first viewport is Bob's, the second Cy's. */
const CAST = [
	{ name: 'Bob Stone', email: 'bob@example.com' },
	{ name: 'Cy Young', email: 'cy@example.com' }
];

type Viewport = { width: number; height: number; touch?: boolean };

export interface Team<S extends TestServer = TestServer> {
	server: S;
	browser: Browser;
	/** Every person's console errors, for the file's closing "ran without errors". */
	errorLogs: string[][];
	ada: Page;
	/** #general's id. */
	general: string;
	/** Bob and Cy, when a viewport was asked for them (reading one that did not join throws). */
	bob: Page;
	cy: Page;
	close(): Promise<void>;
}

export interface TeamOptions<S extends TestServer> {
	/** Default: the in-process server with its defaults. */
	server?: () => Promise<S>;
	/** Chromium flags the file needs (a fake microphone). */
	browserArgs?: string[];
	/** One viewport per person joining after Ada. */
	joiners?: readonly Viewport[];
	/** What Ada does before anyone joins (messages they find already read). */
	beforeInvites?: (ada: Page) => Promise<void>;
}

export async function startTeam<S extends TestServer = TestServer>(opts: TeamOptions<S> = {}): Promise<Team<S>> {
	if ((opts.joiners?.length ?? 0) > CAST.length) throw new Error(`startTeam: at most ${CAST.length} people join`);
	const server = await (opts.server ?? (() => startTestServer() as Promise<S>))();
	let browser: Browser | undefined;
	const close = async () => {
		await browser?.close();
		await server.close();
	};
	try {
		browser = await launchBrowser(opts.browserArgs);
		const errorLogs: string[][] = [];
		const a = await newPerson(browser, server.url, { viewport: DESKTOP });
		errorLogs.push(a.errors);
		await signUpFirst(a.page);
		const general = new URL(a.page.url()).pathname.split('/').pop()!;
		await opts.beforeInvites?.(a.page);
		const join = joiner(browser, server.url, errorLogs);
		const people: Page[] = [];
		for (const [i, viewport] of (opts.joiners ?? []).entries()) people.push(await invite(a.page, CAST[i]!, join(viewport)));
		const joined = (i: number) => {
			if (!people[i]) throw new Error(`${CAST[i]!.name} did not join: give startTeam a viewport for them`);
			return people[i];
		};
		return {
			server,
			browser,
			errorLogs,
			ada: a.page,
			general,
			get bob() {
				return joined(0);
			},
			get cy() {
				return joined(1);
			},
			close
		};
	} catch (err) {
		await close();
		throw err;
	}
}

/** Ada creates channel `name` with everyone in it; each of `pages` opens it. Returns its id. */
export async function createChannel(team: Pick<Team, 'ada' | 'server'>, name: string, pages: Page[]): Promise<string> {
	const { ada, server } = team;
	const members = (await (await ada.request.get('/api/members')).json()).members as Array<{ id: string; handle: string }>;
	const res = await ada.request.post('/api/conversations', {
		data: { kind: 'channel', name, memberIds: members.filter((m) => m.handle !== 'ada').map((m) => m.id) },
		headers: { origin: server.url }
	});
	expect(res.status()).toBe(201);
	const id: string = (await res.json()).conversation.id;
	for (const p of pages) {
		await p.goto(`/c/${id}`);
		await p.locator('[data-testid=composer]').waitFor();
	}
	return id;
}
