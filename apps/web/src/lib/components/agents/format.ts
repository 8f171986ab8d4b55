/** Small formatters for the agent and approvals pages. */

const relFmt = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const dateTimeFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', second: '2-digit' });

/** "12 s ago", "3 min ago", "yesterday"… */
export function ago(ms: number | null | undefined, now = Date.now()): string {
	if (!ms) return '—';
	const s = Math.round((ms - now) / 1000);
	const abs = Math.abs(s);
	if (abs < 45) return relFmt.format(s, 'second');
	if (abs < 45 * 60) return relFmt.format(Math.round(s / 60), 'minute');
	if (abs < 22 * 3600) return relFmt.format(Math.round(s / 3600), 'hour');
	return relFmt.format(Math.round(s / 86_400), 'day');
}

export const dateTime = (ms: number | null | undefined) => (ms ? dateTimeFmt.format(ms) : '—');

export function duration(ms: number | null | undefined): string {
	if (ms === null || ms === undefined) return '—';
	if (ms < 1000) return `${ms} ms`;
	if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
	return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** Dollars with enough places that a fraction of a cent still shows. */
export function usd(n: number | null | undefined): string {
	if (n === null || n === undefined) return '—';
	if (n === 0) return '$0.00';
	if (n < 0.01) return `$${n.toFixed(4)}`;
	return `$${n.toFixed(2)}`;
}

export function interval(sec: number): string {
	if (sec < 120) return `${sec} s`;
	if (sec < 7200) return `${Math.round(sec / 60)} min`;
	return `${Math.round(sec / 3600)} h`;
}

export function json(value: unknown): string {
	if (typeof value === 'string') return value;
	try {
		return JSON.stringify(value, null, 2) ?? String(value);
	} catch {
		return String(value);
	}
}

export const triggerLabels: Record<string, string> = {
	scheduled: 'Heartbeat',
	mention: 'Mention',
	dm: 'DM',
	channel_post: 'Channel post',
	thread_reply: 'Thread reply',
	task_assigned: 'Task assigned',
	task_comment: 'Task comment',
	ambient: 'Ambient',
	approval_response: 'Approval response',
	test: 'Test'
};
