/**
 * Approval requests of the workspace, as the REST API lists them (with `canDecide` for me). One
 * instance per workspace shell, shared by the sidebar badge, the Approvals page and the cards in
 * conversations. Decisions arrive from other people without a push channel, so whoever shows
 * approvals `watch()`es: the list is refreshed every few seconds while anyone is watching.
 */
import { api, errorMessage, type Approval, type ApprovalStatus } from '$lib/api';
import { useWorkspace, type WorkspaceState } from './workspace.svelte';

/** Often enough that a badge feels live, rare enough to be idle noise (one small GET). */
const POLL_MS = 8_000;

export class ApprovalsState {
	#items = $state.raw<Approval[]>([]);
	#loaded = $state(false);
	#error = $state<string | null>(null);
	#watchers = 0;
	#timer: ReturnType<typeof setInterval> | null = null;
	#inflight: Promise<void> | null = null;

	get items(): Approval[] {
		return this.#items;
	}
	get loaded(): boolean {
		return this.#loaded;
	}
	get error(): string | null {
		return this.#error;
	}
	get pending(): Approval[] {
		return this.#items.filter((a) => a.status === 'pending');
	}
	get decided(): Approval[] {
		return this.#items.filter((a) => a.status !== 'pending');
	}
	/** Requests waiting on me: what the sidebar badge counts. */
	get awaitingMe(): number {
		return this.#items.filter((a) => a.status === 'pending' && a.canDecide).length;
	}

	byId(id: string): Approval | undefined {
		return this.#items.find((a) => a.id === id);
	}

	refresh(): Promise<void> {
		// Several watchers asking at once share one request.
		this.#inflight ??= (async () => {
			try {
				const { approvals } = await api.approvals();
				this.#items = approvals;
				this.#error = null;
			} catch (err) {
				this.#error = errorMessage(err);
			} finally {
				this.#loaded = true;
				this.#inflight = null;
			}
		})();
		return this.#inflight;
	}

	/** Keeps the list fresh while the caller is mounted; returns the stop function for `$effect`. */
	watch(): () => void {
		this.#watchers++;
		// Whoever starts showing approvals wants them current, not up to one poll old.
		void this.refresh();
		if (this.#watchers === 1) {
			this.#timer = setInterval(() => {
				if (document.visibilityState === 'visible') void this.refresh();
			}, POLL_MS);
		}
		return () => {
			this.#watchers--;
			if (this.#watchers === 0 && this.#timer) {
				clearInterval(this.#timer);
				this.#timer = null;
			}
		};
	}

	/** Approves or denies; throws the server's message so a form can show it. */
	async decide(id: string, decision: 'approve' | 'deny', note?: string): Promise<ApprovalStatus> {
		try {
			const { status } = await api.decideApproval(id, decision, note?.trim() || undefined);
			return status;
		} finally {
			await this.refresh();
		}
	}
}

const byWorkspace = new WeakMap<WorkspaceState, ApprovalsState>();

/** The workspace's approvals (created on first use, lives as long as the shell). */
export function useApprovals(): ApprovalsState {
	const ws = useWorkspace();
	let state = byWorkspace.get(ws);
	if (!state) {
		state = new ApprovalsState();
		byWorkspace.set(ws, state);
	}
	return state;
}
