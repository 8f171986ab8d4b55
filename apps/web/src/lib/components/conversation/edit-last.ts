import type { Message } from '@circlechat/model';

/** ↑ in an empty composer (Slack's habit): opens my newest message that I can still edit. */
export function editLast(messages: Message[], me: string, edit: (id: string) => void): boolean {
	const mine = messages.findLast((m) => m.author === me && !m.deleted && !m.card);
	if (!mine) return false;
	edit(mine.id);
	return true;
}
