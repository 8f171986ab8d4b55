/**
 * Browser notifications and the title badge. Both read the server-written `unread` map of my
 * `me:` doc, so every tab agrees. A notification fires when, with the tab hidden, a conversation
 * I have not muted gains a mention of me (channels) or any message (DMs). Permission is asked
 * only when I press the banner's button, never on load.
 */
import { goto } from '$app/navigation';
import type { UnreadCount } from '@circlechat/model';
import { api } from '$lib/api';
import type { WorkspaceState } from './workspace.svelte';

const DISMISSED_KEY = 'circlechat:notify-banner-dismissed';

export class Notifier {
	#ws: WorkspaceState;
	#permission = $state<NotificationPermission | 'unsupported'>('unsupported');
	#dismissed = $state(false);

	constructor(ws: WorkspaceState) {
		this.#ws = ws;
		this.#permission = typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
		this.#dismissed = localStorage.getItem(DISMISSED_KEY) === '1';

		let last: Map<string, UnreadCount> | null = null;
		$effect(() => {
			const now = ws.unreadAll;
			// The first figures after (re)opening are a baseline, not news.
			if (last && ws.conversationsReady) for (const [id, u] of now) this.#consider(id, u, last.get(id));
			if (ws.conversationsReady) last = now;
		});
	}

	/** My unread mentions plus unread DM messages, muted conversations left out. */
	get badge(): number {
		let n = 0;
		for (const c of this.#ws.conversations) {
			if (this.#ws.isMuted(c.id)) continue;
			const u = this.#ws.unread(c.id);
			n += c.kind === 'dm' ? u.count : u.mentions;
		}
		return n;
	}

	/** Show the "turn on notifications" banner. */
	get shouldAsk(): boolean {
		return this.#permission === 'default' && !this.#dismissed;
	}

	async enable() {
		if (typeof Notification === 'undefined') return;
		this.#permission = await Notification.requestPermission();
		this.dismiss();
	}

	dismiss() {
		this.#dismissed = true;
		localStorage.setItem(DISMISSED_KEY, '1');
	}

	#consider(id: string, now: UnreadCount, before: UnreadCount | undefined) {
		if (!document.hidden || this.#ws.isMuted(id)) return;
		if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
		const c = this.#ws.conversation(id);
		if (!c) return;
		const moreMentions = now.mentions > (before?.mentions ?? 0);
		const more = now.count > (before?.count ?? 0);
		if (!(moreMentions || (c.kind === 'dm' && more))) return;
		void this.#show(id, c.kind === 'dm' ? this.#ws.title(c) : `#${c.name}`);
	}

	async #show(conversationId: string, where: string) {
		let title = where;
		let body = NEW_MESSAGE;
		let messageId: string | null = null;
		try {
			const { messages } = await api.latestMessages(conversationId);
			const m = messages.at(-1);
			if (m) {
				const who = this.#ws.member(m.memberId)?.name ?? 'Someone';
				title = where.startsWith('#') ? `${who} in ${where}` : who;
				body = m.bodyMd.length > 140 ? `${m.bodyMd.slice(0, 139)}…` : m.bodyMd;
				messageId = m.id;
			}
		} catch {
			// Still worth a notice without the text.
		}
		notify(title, body, messageId ? `/c/${conversationId}?m=${messageId}` : `/c/${conversationId}`, conversationId);
	}
}

/** A browser notification that opens `href` in the app when clicked; nothing without permission. */
export function notify(title: string, body: string, href: string, tag: string) {
	if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
	const n = new Notification(title, { body, tag });
	n.onclick = () => {
		window.focus();
		void goto(href);
		n.close();
	};
}

const NEW_MESSAGE = 'New message';
