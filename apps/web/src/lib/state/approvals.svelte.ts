/**
 * Approval requests of the workspace, as the REST API lists them (with `canDecide` for me). One
 * instance per workspace shell, shared by the sidebar badge, the Approvals page and the cards in
 * conversations. Decisions arrive from other people without a push channel, so whoever shows
 * approvals `watch()`es (see PolledList).
 */
import { api, type Approval, type ApprovalStatus } from '$lib/api';
import { PolledList } from './polled-list.svelte';
import { useWorkspace, type WorkspaceState } from './workspace.svelte';

/** Often enough that a badge feels live, rare enough to be idle noise (one small GET). */
const POLL_MS = 8_000;

export class ApprovalsState extends PolledList<Approval> {
	constructor() {
		super(async () => (await api.approvals()).approvals, POLL_MS);
	}

	get pending(): Approval[] {
		return this.items.filter((a) => a.status === 'pending');
	}
	get decided(): Approval[] {
		return this.items.filter((a) => a.status !== 'pending');
	}
	/** Requests waiting on me: what the sidebar badge counts. */
	get awaitingMe(): number {
		return this.items.filter((a) => a.status === 'pending' && a.canDecide).length;
	}

	byId(id: string): Approval | undefined {
		return this.items.find((a) => a.id === id);
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
