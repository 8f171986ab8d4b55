/** Suggests an @handle from a display name: "Ada Lovelace" → "ada.lovelace". */
export function suggestHandle(name: string): string {
	return name
		.normalize('NFKD')
		.replace(/[\u0300-\u036f]/g, '')
		.toLowerCase()
		.trim()
		.replace(/[^a-z0-9]+/g, '.')
		.replace(/^[._-]+|[._-]+$/g, '')
		.slice(0, 40);
}

/** Channel names are lowercase words joined by dashes, as the server requires. */
export function toChannelName(input: string): string {
	return input
		.toLowerCase()
		.replace(/\s+/g, '-')
		.replace(/[^a-z0-9_-]/g, '')
		.slice(0, 80);
}
