const timeFmt = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long', day: 'numeric' });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });

export const formatTime = (ms: number) => timeFmt.format(ms);
export const formatFull = (ms: number) => fullFmt.format(ms);

export function dayKey(ms: number): string {
	const d = new Date(ms);
	return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

export function formatDay(ms: number, now = Date.now()): string {
	if (dayKey(ms) === dayKey(now)) return 'Today';
	if (dayKey(ms) === dayKey(now - 86_400_000)) return 'Yesterday';
	return dayFmt.format(ms);
}

/** Messages by one author within this gap share one header, as in Slack. */
export const GROUP_GAP_MS = 5 * 60_000;
