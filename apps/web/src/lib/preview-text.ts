/**
 * A message's markdown as the plain text of a two-line preview (the Threads and Mentions lists):
 * fences, emphasis, code ticks and link syntax go, their text stays. Light on purpose: the
 * previews must not wait for the markdown renderer's chunk.
 */
export function previewText(bodyMd: string): string {
	return bodyMd
		.split('\n')
		.filter((line) => !/^\s*(```|~~~)/.test(line))
		.map((line) => line.replace(/^\s{0,3}(#{1,6}\s+|>\s?)/, ''))
		.join('\n')
		.replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
		.replace(/(\*\*|__|~~)(?=\S)(.+?)(?<=\S)\1/g, '$2')
		.replace(/(^|[^\w*])([*_])(?=\S)(.+?)(?<=\S)\2(?![\w*])/g, '$1$3')
		.replace(/`([^`\n]+)`/g, '$1')
		.trim();
}
