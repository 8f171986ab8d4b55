import type { ConversationSummary } from '@circlechat/model';
import type { BrowseChannel } from './api';

/** Channels a guest invite may name: the public ones and the private ones I am in, by name. */
export function inviteChannels(mine: ConversationSummary[], publicChannels: BrowseChannel[]): { id: string; name: string }[] {
	const all = new Map<string, string>(publicChannels.map((c) => [c.id, c.name]));
	for (const c of mine) if (c.kind === 'channel' && !c.archivedAt) all.set(c.id, c.name);
	return [...all].map(([id, name]) => ({ id, name })).sort((a, b) => a.name.localeCompare(b.name));
}
