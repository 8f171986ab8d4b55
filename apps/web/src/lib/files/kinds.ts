/**
 * How an attachment looks (its chip's label and colour) and how the viewer shows it, from the
 * model's `fileKind` (sniffed type first, then the name).
 */
import { fileKind, type FileKind } from '@circlechat/model';

export const KIND_STYLE: Record<FileKind, { label: string; tint: string }> = {
	image: { label: 'IMG', tint: 'bg-teal-600' },
	video: { label: 'VID', tint: 'bg-fuchsia-600' },
	audio: { label: 'AUD', tint: 'bg-violet-600' },
	pdf: { label: 'PDF', tint: 'bg-red-600' },
	doc: { label: 'DOC', tint: 'bg-blue-600' },
	sheet: { label: 'XLS', tint: 'bg-green-600' },
	slides: { label: 'PPT', tint: 'bg-orange-500' },
	code: { label: '</>', tint: 'bg-slate-700' },
	archive: { label: 'ZIP', tint: 'bg-amber-600' },
	text: { label: 'TXT', tint: 'bg-slate-500' },
	other: { label: 'FILE', tint: 'bg-slate-400' }
};

export type ViewAs = 'image' | 'svg' | 'pdf' | 'markdown' | 'html' | 'code' | 'video' | 'audio' | 'none';

const ext = (name: string) => /\.([a-z0-9]{1,10})$/i.exec(name)?.[1]?.toLowerCase() ?? '';

export function viewAs(contentType: string, name: string): ViewAs {
	const type = contentType.split(';')[0]!.trim().toLowerCase();
	if (type === 'image/svg+xml') return 'svg';
	if (type === 'text/html' || type === 'application/xhtml+xml') return 'html';
	if (type === 'text/markdown' || ext(name) === 'md' || ext(name) === 'markdown') return 'markdown';
	const kind = fileKind(contentType, name);
	if (kind === 'image' || kind === 'pdf' || kind === 'video' || kind === 'audio') return kind;
	if (kind === 'code' || kind === 'text' || type.startsWith('text/') || type === 'application/json') return 'code';
	return 'none';
}

/** highlight.js language for a file name (the ones the highlighter chunk registers). */
const LANG: Record<string, string> = {
	ts: 'typescript', tsx: 'typescript', mts: 'typescript', js: 'javascript', jsx: 'javascript', mjs: 'javascript', cjs: 'javascript',
	py: 'python', rs: 'rust', go: 'go', java: 'java', c: 'c', h: 'c', cpp: 'cpp', hpp: 'cpp', cc: 'cpp', css: 'css',
	json: 'json', yaml: 'yaml', yml: 'yaml', sh: 'bash', bash: 'bash', sql: 'sql', xml: 'xml', html: 'xml', svg: 'xml',
	svelte: 'xml', vue: 'xml', diff: 'diff', patch: 'diff'
};
export const languageOf = (name: string): string | null => LANG[ext(name)] ?? null;

export function formatSize(bytes: number): string {
	if (bytes < 1024) return `${bytes} B`;
	const units = ['KB', 'MB', 'GB'];
	let n = bytes / 1024;
	let i = 0;
	while (n >= 1024 && i < units.length - 1) {
		n /= 1024;
		i++;
	}
	return `${n < 10 ? n.toFixed(1) : Math.round(n)} ${units[i]}`;
}

/** An image's box in the message list: its stored size scaled into max × max, never enlarged. */
export function thumbBox(width: number | undefined, height: number | undefined, maxW = 360, maxH = 280): { w: number; h: number } {
	if (!width || !height) return { w: maxW, h: Math.round(maxH * 0.75) };
	const scale = Math.min(1, maxW / width, maxH / height);
	return { w: Math.max(1, Math.round(width * scale)), h: Math.max(1, Math.round(height * scale)) };
}
