/**
 * Everything the workspace shell knows: who I am, the workspace directory (`dir:` doc: members),
 * my private doc (`me:` doc: my conversations and unread counts, written live by the server),
 * and which dialog is open. One instance per signed-in shell, shared through context.
 */
import { getContext, setContext } from 'svelte';
import {
	docName,
	MAX_BODY_CHARS,
	dirMembersOf,
	dirWorkspaceOf,
	meConversationsOf,
	meUnreadOf,
	meDraftsOf,
	meMutesOf,
	meStarsOf,
	meReadsOf,
	markRead,
	type ConversationSummary,
	type DirMember,
	type UnreadCount
} from '@circlechat/model';
import { api, type Conversation, type Member, type Session } from '$lib/api';
import { docPool, keepSnapshotsOf, type SyncedDoc } from '$lib/sync';
import { describeRejection, toasts } from './toasts.svelte';
import { emit } from './events.svelte';
import { Presence } from './presence.svelte';
import { SearchState } from './search.svelte';
import { Notifier } from './notifier.svelte';
import { OfflineState } from './offline.svelte';

/** The `me:` doc's summary of a conversation, from its REST shape. */
function summaryOf(c: Conversation): ConversationSummary {
	const { id, kind, name, topic, description, isPrivate, createdBy, archivedAt, memberIds, liveSegment } = c;
	return { id, kind, name, topic, description, isPrivate, createdBy, archivedAt, memberIds, liveSegment };
}

export type DialogName = 'createChannel' | 'newDm' | 'invite' | 'browseChannels';

/** Oversized drafts a tab keeps (each may be megabytes). */
const LONG_DRAFTS = 5;

export class WorkspaceState {
	readonly session: Session;
	readonly meDoc: SyncedDoc;
	readonly dirDoc: SyncedDoc;
	#conversations = $state.raw<Map<string, ConversationSummary>>(new Map());
	/** Conversations the REST API just handed us, shown until the `me:` doc catches up. */
	#pending = $state.raw<Map<string, ConversationSummary>>(new Map());
	/** The conversation opened before the `me:` doc synced (openEarly); the doc decides after. */
	#early = $state.raw<ConversationSummary | null>(null);
	#unread = $state.raw<Map<string, UnreadCount>>(new Map());
	#drafts = $state.raw<Map<string, string>>(new Map());
	#mutes = $state.raw<Set<string>>(new Set());
	#stars = $state.raw<Set<string>>(new Set());
	#members = $state.raw<Map<string, DirMember>>(new Map());
	#restMembers = $state.raw<Map<string, DirMember>>(new Map());
	#workspaceName = $state('');
	#workspaceIcon = $state<string | null>(null);
	dialog = $state<DialogName | null>(null);
	drawerOpen = $state(false);
	readonly presence: Presence;
	readonly search: SearchState;
	readonly notifier: Notifier;
	readonly offline: OfflineState;

	constructor(session: Session) {
		this.session = session;
		this.#workspaceName = session.workspace.name;
		this.#workspaceIcon = session.workspace.icon ?? null;
		const hooks = {
			onReject: (reason: string) => toasts.error(describeRejection(reason)),
			onFatal: (code: number, message: string) => {
				toasts.error(message);
				if (code === 4401) emit('signedOut', undefined);
			}
		};
		const dirOpts = { ...hooks, readOnly: true };
		this.meDoc = docPool.open(docName.me(session.member.id), hooks);
		this.dirDoc = docPool.open(docName.dir(session.workspace.id), dirOpts);
		// Every doc left with unsent changes (an earlier tab, another conversation) sends them now.
		docPool.resumeUnsynced();

		$effect(() => {
			const map = meConversationsOf(this.meDoc.doc);
			const read = () => {
				this.#conversations = new Map(map.entries());
				if (this.#pending.size > 0) {
					const rest = new Map([...this.#pending].filter(([id]) => !map.has(id)));
					if (rest.size !== this.#pending.size) this.#pending = rest;
				}
			};
			read();
			map.observe(read);
			return () => map.unobserve(read);
		});
		$effect(() => {
			// Left or removed: its snapshot goes (the server's list decides, not a stale local copy).
			const mine = this.#conversations;
			if (this.meDoc.synced) keepSnapshotsOf((id) => mine.has(id));
		});
		$effect(() => {
			const map = meUnreadOf(this.meDoc.doc);
			const read = () => (this.#unread = new Map(map.entries()));
			read();
			map.observe(read);
			return () => map.unobserve(read);
		});
		$effect(() => {
			const map = meDraftsOf(this.meDoc.doc);
			const read = () => (this.#drafts = new Map([...map.entries()].filter(([, text]) => text.trim() !== '')));
			read();
			map.observe(read);
			return () => map.unobserve(read);
		});
		for (const [of, set] of [
			[meMutesOf, (ids: Set<string>) => (this.#mutes = ids)],
			[meStarsOf, (ids: Set<string>) => (this.#stars = ids)]
		] as const) {
			$effect(() => {
				const map = of(this.meDoc.doc);
				const read = () => set(new Set([...map.entries()].filter(([, on]) => on).map(([id]) => id)));
				read();
				map.observe(read);
				return () => map.unobserve(read);
			});
		}
		$effect(() => {
			const doc = this.dirDoc.doc;
			const members = dirMembersOf(doc);
			const ws = dirWorkspaceOf(doc);
			const readMembers = () => (this.#members = new Map(members.entries()));
			const readWs = () => {
				const name = ws.get('name');
				if (name) this.#workspaceName = name;
				// '' once removed; absent in a directory written before icons existed.
				if (ws.has('icon')) this.#workspaceIcon = ws.get('icon') || null;
			};
			readMembers();
			readWs();
			members.observe(readMembers);
			ws.observe(readWs);
			return () => {
				members.unobserve(readMembers);
				ws.unobserve(readWs);
			};
		});
		$effect(() => () => {
			docPool.close(this.meDoc, hooks);
			docPool.close(this.dirDoc, dirOpts);
		});
		this.presence = new Presence(() => this.dirDoc, session.member.id);
		this.search = new SearchState(this);
		this.notifier = new Notifier(this);
		this.offline = new OfflineState(this);
		void this.refreshMembers();
	}

	get me(): Member {
		return this.session.member;
	}
	get workspaceName(): string {
		return this.#workspaceName;
	}
	/** The workspace icon's URL (live from the `dir:` doc), or null. */
	get workspaceIcon(): string | null {
		return this.#workspaceIcon;
	}
	/** My role, live: an admin's change reaches the `dir:` doc at once (the server checks anyway). */
	get role(): Member['role'] {
		return this.#members.get(this.session.member.id)?.role ?? this.session.member.role;
	}
	get isAdmin(): boolean {
		return this.role === 'admin';
	}
	/** Guests see only the channels they were added to: no browsing, no new channels. */
	get isGuest(): boolean {
		return this.role === 'guest';
	}

	/** Every conversation I am in, channels then DMs, each sorted by name. */
	get conversations(): ConversationSummary[] {
		const all = new Map([...this.#pending, ...this.#conversations]);
		return [...all.values()];
	}
	get channels(): ConversationSummary[] {
		return this.conversations
			.filter((c) => c.kind === 'channel')
			.sort((a, b) => a.name.localeCompare(b.name));
	}
	/** Where the workspace opens: #general, or the first channel or DM; never `except` (one I am leaving). */
	landing(except?: string): ConversationSummary | undefined {
		const open = (list: ConversationSummary[]) => list.filter((c) => c.id !== except);
		const channels = open(this.channels);
		return channels.find((c) => c.name === 'general') ?? channels[0] ?? open(this.dms)[0];
	}

	get dms(): ConversationSummary[] {
		return this.conversations
			.filter((c) => c.kind === 'dm')
			.sort((a, b) => this.title(a).localeCompare(this.title(b)));
	}
	/**
	 * The sidebar's sections: starred conversations first, then the rest; archived channels are
	 * left out (still open by link and found by search).
	 */
	get sidebar(): { starred: ConversationSummary[]; channels: ConversationSummary[]; dms: ConversationSummary[] } {
		const shown = (c: ConversationSummary) => !c.archivedAt;
		const starred = [...this.channels, ...this.dms].filter((c) => shown(c) && this.#stars.has(c.id));
		const rest = (list: ConversationSummary[]) => list.filter((c) => shown(c) && !this.#stars.has(c.id));
		return { starred, channels: rest(this.channels), dms: rest(this.dms) };
	}
	/** True once the server's copy of my conversations has arrived. */
	get conversationsReady(): boolean {
		return this.meDoc.synced;
	}

	conversation(id: string): ConversationSummary | undefined {
		const early = this.#early?.id === id && !this.meDoc.synced ? this.#early : undefined;
		return this.#conversations.get(id) ?? this.#pending.get(id) ?? early;
	}

	unread(id: string): UnreadCount {
		return this.#unread.get(id) ?? { count: 0, mentions: 0 };
	}

	/** Every unread figure the server published, by conversation id. */
	get unreadAll(): Map<string, UnreadCount> {
		return this.#unread;
	}

	/** Muted conversations do not notify and show dimmed (kept in my `me:` doc's `mutes`). */
	isMuted(id: string): boolean {
		return this.#mutes.has(id);
	}

	setMuted(id: string, muted: boolean) {
		const mutes = meMutesOf(this.meDoc.doc);
		if (mutes.get(id) === true ? muted : !muted) return;
		this.meDoc.doc.transact(() => (muted ? mutes.set(id, true) : mutes.delete(id)));
	}

	/** Starred conversations sit in their own section at the top (my `me:` doc's `stars`). */
	isStarred(id: string): boolean {
		return this.#stars.has(id);
	}

	setStarred(id: string, starred: boolean) {
		const stars = meStarsOf(this.meDoc.doc);
		if (stars.get(id) === true ? starred : !starred) return;
		this.meDoc.doc.transact(() => (starred ? stars.set(id, true) : stars.delete(id)));
	}

	/** Renames, archives and removes members: the channel's creator or a workspace admin. */
	canManage(c: ConversationSummary): boolean {
		return c.kind === 'channel' && (this.isAdmin || c.createdBy === this.me.id);
	}

	get members(): DirMember[] {
		const all = new Map([...this.#restMembers, ...this.#members]);
		return [...all.values()].filter((m) => !m.deactivated).sort((a, b) => a.name.localeCompare(b.name));
	}

	member(id: string): DirMember | undefined {
		return this.#members.get(id) ?? this.#restMembers.get(id);
	}

	memberByHandle(handle: string): DirMember | undefined {
		const h = handle.toLowerCase();
		return this.members.find((m) => m.handle.toLowerCase() === h);
	}

	/** Display name of a conversation: `name` for channels, the other people for DMs. */
	title(c: ConversationSummary): string {
		if (c.kind === 'channel') return c.name;
		const others = c.memberIds.filter((id) => id !== this.me.id);
		if (others.length === 0) return `${this.me.name} (you)`;
		return others.map((id) => this.member(id)?.name ?? 'Unknown').join(', ');
	}

	/** Members of the DM other than me (for avatars). */
	dmPeers(c: ConversationSummary): DirMember[] {
		return c.memberIds
			.filter((id) => id !== this.me.id)
			.map((id) => this.member(id))
			.filter((m): m is DirMember => !!m);
	}

	/** Shows a conversation the REST API just created or joined before the `me:` doc has it. */
	adopt(c: Conversation) {
		if (this.#conversations.has(c.id)) return;
		this.#pending = new Map([...this.#pending, [c.id, summaryOf(c)]]);
	}

	/**
	 * A conversation opened by its address before the `me:` doc has synced (a first visit): its
	 * pane shows it at once; the sidebar waits for the doc, and so does everything else.
	 */
	openEarly(c: Conversation) {
		if (!this.meDoc.synced) this.#early = summaryOf(c);
	}

	/** Unsent composer text by conversation id, live (the Drafts view, the sidebar's pencils). */
	get drafts(): ReadonlyMap<string, string> {
		return this.#drafts;
	}

	/**
	 * Drafts over the message limit, which the guard refuses in the me: doc (and that refusal would
	 * reset the whole doc): kept in this tab instead, the newest few; the last draft that fit stays
	 * in the doc, for my other devices.
	 */
	#longDrafts = new Map<string, string>();

	/** The unsent composer text of a conversation (kept in my `me:` doc, so it follows me). */
	draft(conversationId: string): string {
		return this.#longDrafts.get(conversationId) ?? meDraftsOf(this.meDoc.doc).get(conversationId) ?? '';
	}

	saveDraft(conversationId: string, text: string) {
		this.#longDrafts.delete(conversationId);
		if (text.length > MAX_BODY_CHARS) {
			this.#longDrafts.set(conversationId, text);
			for (const key of this.#longDrafts.keys()) if (this.#longDrafts.size > LONG_DRAFTS) this.#longDrafts.delete(key);
			return;
		}
		const drafts = meDraftsOf(this.meDoc.doc);
		const value = text.trim() ? text : '';
		if ((drafts.get(conversationId) ?? '') === value) return;
		this.meDoc.doc.transact(() => (value ? drafts.set(conversationId, value) : drafts.delete(conversationId)));
	}

	/**
	 * A conversation I marked unread while it is open: its pane stops moving my read marker and
	 * the sidebar keeps its badge, until I read it on purpose (Esc, a post) or leave it.
	 */
	heldUnread = $state<string | null>(null);

	/** My read marker: createdAt of the last message I read there (0: none). */
	readMarker(conversationId: string): number {
		return meReadsOf(this.meDoc.doc).get(conversationId) ?? 0;
	}

	markRead(conversationId: string, at: number) {
		if (this.heldUnread === conversationId) this.heldUnread = null;
		markRead(this.meDoc.doc, conversationId, at);
	}

	/** Moves my read marker back to `at` (markRead only moves it forward); the server recounts. */
	markUnread(conversationId: string, at: number) {
		this.heldUnread = conversationId;
		this.meDoc.doc.transact(() => meReadsOf(this.meDoc.doc).set(conversationId, at));
	}

	async refreshMembers() {
		try {
			const { members } = await api.members();
			this.#restMembers = new Map(members.map((m) => [m.id, m]));
		} catch {
			// The directory doc is the live source; this is only a head start.
		}
	}

	openDialog(name: DialogName) {
		this.drawerOpen = false;
		this.dialog = name;
	}

	closeDialog() {
		this.dialog = null;
	}
}

const KEY = Symbol('workspace');

export function setWorkspace(ws: WorkspaceState): WorkspaceState {
	return setContext(KEY, ws);
}

export function useWorkspace(): WorkspaceState {
	const ws = getContext<WorkspaceState | undefined>(KEY);
	if (!ws) throw new Error('useWorkspace() called outside the workspace shell');
	return ws;
}
