/**
 * Files in messages: picked, pasted or dropped into the composer, uploaded with a progress bar
 * before sending, shown to everyone as a thumbnail or a typed chip, and opened in the in-app
 * viewer (images, code, PDF pages, HTML that runs nothing).
 */
import { crc32, deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { newPerson } from './support/browser';
import { startTestServer } from './support/server';
import { PHONE, startTeam, type Team } from './support/team';
import { message, messageAction, poll } from './support/people';

let team: Team;
let ada: Page;
let bob: Page;
const shots = process.env.E2E_SHOTS;
const LIMIT = 1024 * 1024;

/** A real PNG: `w`×`h`, a horizontal gradient (so the thumbnail has something to scale). */
function png(w: number, h: number): Buffer {
	const chunk = (type: string, data: Buffer) => {
		const head = Buffer.alloc(8);
		head.writeUInt32BE(data.length, 0);
		head.write(type, 4, 'latin1');
		const crc = Buffer.alloc(4);
		crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
		return Buffer.concat([head, data, crc]);
	};
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(w, 0);
	ihdr.writeUInt32BE(h, 4);
	ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
	const rows = Buffer.alloc((w * 3 + 1) * h);
	for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rows.set([Math.round((255 * x) / w), 80, 200], y * (w * 3 + 1) + 1 + x * 3);
	return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

/** A two-page PDF: a red square on page 1, a blue one on page 2. */
function pdf(): Buffer {
	const page = (rgb: string) => `${rgb} rg 20 20 160 160 re f`;
	const objects = [
		'<< /Type /Catalog /Pages 2 0 R >>',
		'<< /Type /Pages /Kids [3 0 R 5 0 R] /Count 2 >>',
		'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>',
		`<< /Length ${page('1 0 0').length} >>\nstream\n${page('1 0 0')}\nendstream`,
		'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 6 0 R >>',
		`<< /Length ${page('0 0 1').length} >>\nstream\n${page('0 0 1')}\nendstream`
	];
	let out = '%PDF-1.4\n';
	const offsets = objects.map((body, i) => {
		const at = out.length;
		out += `${i + 1} 0 obj\n${body}\nendobj\n`;
		return at;
	});
	const xref = out.length;
	out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
	out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
	return Buffer.from(out, 'latin1');
}

const HTML = `<!doctype html><html><head><title>Report</title><script>document.title = 'ran'; window.ran = true; parent.postMessage('ran', '*');</script></head><body><h1>Quarterly report</h1></body></html>`;

/** Files into the page as a paste on the composer or a drop on the conversation (a DataTransfer, as the browser builds one). */
async function transfer(page: Page, how: 'paste' | 'drop', files: { name: string; type: string; bytes: Buffer }[]) {
	await page.evaluate(
		({ how, files }) => {
			const dt = new DataTransfer();
			for (const f of files) dt.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name, { type: f.type }));
			if (how === 'paste') {
				document.querySelector('[data-testid=composer]')!.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
			} else {
				const target = document.querySelector('[data-testid=message-list], [data-testid=conversation]')!;
				for (const type of ['dragenter', 'dragover', 'drop']) target.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
			}
		},
		{ how, files: files.map((f) => ({ name: f.name, type: f.type, b64: f.bytes.toString('base64') })) }
	);
}

const uploads = (page: Page, composer = 'composer') => page.locator(`[data-testid=${composer}-uploads] [data-testid=upload]`);
const viewer = (page: Page) => page.locator('[data-testid=file-viewer]');

beforeAll(async () => {
	team = await startTeam({ server: () => startTestServer({ maxUploadBytes: LIMIT }), joiners: [PHONE] });
	({ ada, bob } = team);
});

afterAll(() => team?.close());

describe('files in messages', () => {
	it('uploads a picked image with a progress bar and a cancel, and the other browser sees its preview', async () => {
		// Hold the uploads at the network so their in-flight state can be seen.
		let release!: () => void;
		const held = new Promise<void>((r) => (release = r));
		await ada.route('**/api/uploads', async (route) => {
			await held;
			await route.continue().catch(() => {}); // the cancelled one is gone
		});
		await ada.locator('[data-testid=composer-file-input]').setInputFiles([
			{ name: 'chart.png', mimeType: 'image/png', buffer: png(640, 400) },
			{ name: 'draft.txt', mimeType: 'text/plain', buffer: Buffer.from('not this one') }
		]);
		await poll(() => uploads(ada).count()).toBe(2);
		expect(await uploads(ada).locator('[data-testid=upload-progress]').count()).toBe(2);
		expect(await ada.locator('[data-testid=composer-send]').isDisabled()).toBe(true);
		if (shots) await ada.screenshot({ path: `${shots}/files-uploading-1440.png` });
		await uploads(ada).filter({ hasText: 'draft.txt' }).locator('[data-testid=upload-remove]').click();
		expect(await uploads(ada).count()).toBe(1);
		release();
		await poll(() => uploads(ada).first().getAttribute('data-status')).toBe('done');
		await ada.unroute('**/api/uploads');

		await ada.locator('[data-testid=composer]').fill('Chart attached');
		await ada.keyboard.press('Enter');
		await poll(() => uploads(ada).count()).toBe(0);
		for (const page of [ada, bob]) {
			const image = message(page, 'Chart attached').locator('[data-testid=attachment-image]');
			await poll(() => image.count()).toBe(1);
			expect(await message(page, 'Chart attached').locator('[data-testid=attachment-file]').count()).toBe(0);
			// The thumbnail loads, and its box has the image's proportions from the start.
			await poll(() => image.locator('img').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBeGreaterThan(0);
			const box = (await image.boundingBox())!;
			expect(box.width / box.height).toBeCloseTo(640 / 400, 1);
		}
		if (shots) {
			await ada.screenshot({ path: `${shots}/files-image-1440.png` });
			await bob.screenshot({ path: `${shots}/files-image-375.png` });
		}
	});

	it('takes a pasted screenshot and a dropped file, and the viewer pages through them with the arrow keys', async () => {
		await transfer(ada, 'paste', [{ name: 'image.png', type: 'image/png', bytes: png(300, 300) }]);
		await transfer(ada, 'drop', [{ name: 'answer.ts', type: 'text/plain', bytes: Buffer.from('const answer: number = 42;\n') }]);
		await poll(() => uploads(ada).count()).toBe(2);
		await poll(() => uploads(ada).evaluateAll((els) => els.map((e) => e.getAttribute('data-status')))).toEqual(['done', 'done']);
		await ada.locator('[data-testid=composer]').fill('Two files');
		await ada.keyboard.press('Enter');

		const row = message(ada, 'Two files');
		await poll(() => row.locator('[data-testid=attachment-image]').count()).toBe(1);
		const chip = row.locator('[data-testid=attachment-file]');
		expect(await chip.getAttribute('data-kind')).toBe('code');
		expect(await chip.innerText()).toContain('answer.ts');

		await row.locator('[data-testid=attachment-image]').click();
		await viewer(ada).waitFor();
		expect(await viewer(ada).getAttribute('data-view')).toBe('image');
		expect(await ada.locator('[data-testid=file-viewer-position]').innerText()).toContain('1 of 2');
		await poll(() => ada.locator('[data-testid=file-viewer-image]').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(300);
		await ada.locator('[data-testid=file-viewer-zoom-in]').click();
		expect(await ada.locator('[data-testid=file-viewer-image]').getAttribute('data-zoom')).toBe('1.5');

		await ada.keyboard.press('ArrowRight');
		await poll(() => viewer(ada).getAttribute('data-view')).toBe('code');
		await poll(() => ada.locator('[data-testid=file-viewer-code] .hljs-keyword').count()).toBeGreaterThan(0);
		expect(await ada.locator('[data-testid=file-viewer-code]').innerText()).toContain('const answer: number = 42;');
		if (shots) await ada.screenshot({ path: `${shots}/files-viewer-code-1440.png` });
		await ada.keyboard.press('ArrowRight');
		await poll(() => viewer(ada).getAttribute('data-view')).toBe('image');
		await ada.keyboard.press('ArrowLeft');
		await poll(() => viewer(ada).getAttribute('data-view')).toBe('code');
		await ada.keyboard.press('Escape');
		await poll(() => viewer(ada).count()).toBe(0);
	});

	it('attaches to a thread reply, sent without text', async () => {
		await messageAction(ada, 'Chart attached', 'message-reply');
		await ada.locator('[data-testid=thread-composer-file-input]').setInputFiles({ name: 'notes.md', mimeType: 'text/markdown', buffer: Buffer.from('# Notes\n\nThe **plan** stands.\n') });
		await poll(() => uploads(ada, 'thread-composer').first().getAttribute('data-status')).toBe('done');
		await ada.locator('[data-testid=thread-composer-send]').click();
		const chip = ada.locator('[data-testid=thread-pane] [data-testid=message] [data-testid=attachment-file]');
		await poll(() => chip.count()).toBe(1);
		await chip.click();
		await poll(() => ada.locator('[data-testid=file-viewer-markdown] strong').innerText()).toBe('plan');
		await ada.keyboard.press('Escape');
		await poll(() => viewer(ada).count()).toBe(0);
		await ada.keyboard.press('Escape'); // and the thread
		await poll(() => ada.locator('[data-testid=thread-pane]').count()).toBe(0);
	});

	it("says why an upload was refused (over the limit) and keeps the message's text", async () => {
		await ada.locator('[data-testid=composer]').fill('Keep this text');
		await ada.locator('[data-testid=composer-file-input]').setInputFiles({ name: 'big.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(LIMIT + 64 * 1024, 7) });
		await poll(() => uploads(ada).first().getAttribute('data-status')).toBe('error');
		expect(await uploads(ada).first().locator('[data-testid=upload-error]').innerText()).toContain('limited to 1 MB');
		expect(await ada.locator('[data-testid=composer]').inputValue()).toBe('Keep this text');
		await uploads(ada).first().locator('[data-testid=upload-remove]').click();
		await ada.locator('[data-testid=composer]').fill('');
		// The browser logs the refused request; nothing else may be logged.
		const i = team.errorLogs[0]!.findIndex((e) => e.includes('413') && e.includes('/api/uploads'));
		expect(i).toBeGreaterThanOrEqual(0);
		team.errorLogs[0]!.splice(i, 1);
	});

	it('runs no script of an HTML file, in the viewer or opened by its URL', async () => {
		// Control: the same page, loaded plainly, does run its script.
		const plain = await ada.context().newPage();
		await plain.setContent(HTML);
		expect(await plain.title()).toBe('ran');
		await plain.close();

		await ada.evaluate(() => {
			const w = window as unknown as { posted: unknown[] };
			w.posted = [];
			addEventListener('message', (e) => w.posted.push(e.data));
		});
		await ada.locator('[data-testid=composer-file-input]').setInputFiles({ name: 'report.html', mimeType: 'text/html', buffer: Buffer.from(HTML) });
		await poll(() => uploads(ada).first().getAttribute('data-status')).toBe('done');
		await ada.locator('[data-testid=composer]').fill('The report');
		await ada.keyboard.press('Enter');
		const chip = message(ada, 'The report').locator('[data-testid=attachment-file]');
		await poll(() => chip.count()).toBe(1);
		const key = (await chip.getAttribute('data-key'))!;
		await chip.click();
		await poll(() => viewer(ada).getAttribute('data-view')).toBe('html');
		expect(await ada.locator('[data-testid=file-viewer-html]').getAttribute('sandbox')).toBe('');
		const frame = () => ada.frames().find((f) => f.url().includes(`/files/${key}?view=1`));
		await poll(() => frame()?.locator('h1').innerText()).toBe('Quarterly report');
		expect(await frame()!.evaluate(() => [document.title, (window as unknown as { ran?: boolean }).ran ?? null])).toEqual(['Report', null]);
		expect(await ada.evaluate(() => (window as unknown as { posted: unknown[] }).posted)).toEqual([]);
		// Chromium says why: the frame is sandboxed without allow-scripts.
		const blocked = team.errorLogs[0]!.findIndex((e) => e.includes('Blocked script execution') && e.includes(key));
		expect(blocked).toBeGreaterThanOrEqual(0);
		team.errorLogs[0]!.splice(blocked, 1);
		if (shots) await ada.screenshot({ path: `${shots}/files-viewer-html-1440.png` });
		await ada.keyboard.press('Escape');

		// Opened directly, the viewer's copy runs nothing either; the plain URL is a download.
		const direct = await ada.context().newPage();
		await direct.goto(`/files/${key}?view=1`);
		expect(await direct.locator('h1').innerText()).toBe('Quarterly report');
		expect(await direct.evaluate(() => [document.title, (window as unknown as { ran?: boolean }).ran ?? null])).toEqual(['Report', null]);
		await direct.close();
		const disposition = await ada.evaluate(async (k) => (await fetch(`/files/${k}`)).headers.get('content-disposition'), key);
		expect(disposition).toMatch(/^attachment;/);
	});

	it('renders a PDF page by page', async () => {
		await ada.locator('[data-testid=composer-file-input]').setInputFiles({ name: 'squares.pdf', mimeType: 'application/pdf', buffer: pdf() });
		await poll(() => uploads(ada).first().getAttribute('data-status')).toBe('done');
		await ada.locator('[data-testid=composer]').fill('Two squares');
		await ada.keyboard.press('Enter');
		const chip = message(ada, 'Two squares').locator('[data-testid=attachment-file]');
		await poll(() => chip.getAttribute('data-kind')).toBe('pdf');
		await chip.click();
		const view = ada.locator('[data-testid=file-viewer-pdf]');
		await poll(() => view.getAttribute('data-rendered')).toBe('1');
		expect(await view.getAttribute('data-pages')).toBe('2');
		const centre = () =>
			ada.locator('[data-testid=file-viewer-pdf-page]').evaluate((c: HTMLCanvasElement) => [...c.getContext('2d')!.getImageData(c.width / 2, c.height / 2, 1, 1).data.slice(0, 3)]);
		expect(await centre()).toEqual([255, 0, 0]);
		if (shots) await ada.screenshot({ path: `${shots}/files-viewer-pdf-1440.png` });
		await ada.locator('[data-testid=pdf-next]').click();
		await poll(() => view.getAttribute('data-rendered')).toBe('2');
		expect(await centre()).toEqual([0, 0, 255]);
		await ada.keyboard.press('Escape');
		await poll(() => viewer(ada).count()).toBe(0);
	});

	it('opens the viewer full screen on a phone', async () => {
		await message(bob, 'Chart attached').locator('[data-testid=attachment-image]').click();
		await viewer(bob).waitFor();
		await poll(() => bob.locator('[data-testid=file-viewer-image]').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(640);
		expect(await viewer(bob).boundingBox()).toEqual({ x: 0, y: 0, width: 375, height: 740 });
		const image = (await bob.locator('[data-testid=file-viewer-image]').boundingBox())!;
		expect(image.width).toBeLessThanOrEqual(375);
		if (shots) await bob.screenshot({ path: `${shots}/files-viewer-375.png` });
		await bob.keyboard.press('Escape');
		await poll(() => viewer(bob).count()).toBe(0);
	});

	it('lists every file on the Files page: filters, name search, the viewer and a jump to the message', async () => {
		await ada.locator('[data-testid=nav-files]').click();
		const rows = ada.locator('[data-testid=file-row]');
		const names = () => rows.locator('[data-testid=file-name]').allInnerTexts();
		// Newest attachment first (the two of one message in either order); the thread reply's file too.
		await poll(names).toHaveLength(6);
		const listed = await names();
		expect([listed.slice(0, 3), listed.slice(3, 5).sort(), listed[5]]).toEqual([['squares.pdf', 'report.html', 'notes.md'], ['answer.ts', 'image.png'], 'chart.png']);
		await ada.locator('[data-testid=files-kind]').selectOption('pdf');
		await poll(names).toEqual(['squares.pdf']);
		await ada.locator('[data-testid=files-kind]').selectOption('');
		await ada.locator('[data-testid=files-search]').fill('ANSWER');
		await poll(names).toEqual(['answer.ts']);
		await ada.locator('[data-testid=files-search]').fill('');
		await poll(() => rows.count()).toBe(6);
		const general = await ada.locator('[data-testid=files-conversation] option').nth(1).getAttribute('value');
		await ada.locator('[data-testid=files-conversation]').selectOption(general!);
		await poll(() => rows.count()).toBe(6);
		if (shots) await ada.screenshot({ path: `${shots}/files-page-1440.png` });

		await rows.filter({ hasText: 'notes.md' }).locator('[data-testid=file-open]').click();
		await poll(() => viewer(ada).getAttribute('data-view')).toBe('markdown');
		await ada.keyboard.press('ArrowRight'); // the list is the viewer's siblings
		await poll(() => ada.locator('[data-testid=file-viewer-name]').innerText()).toBe(listed[3]);
		await ada.keyboard.press('Escape');
		await poll(() => viewer(ada).count()).toBe(0);

		await rows.filter({ hasText: 'chart.png' }).locator('[data-testid=file-jump]').click();
		await poll(() => message(ada, 'Chart attached').getAttribute('data-highlighted')).toBe('true');

		await bob.goto('/files');
		await poll(() => bob.locator('[data-testid=file-row]').count()).toBe(6);
		if (shots) await bob.screenshot({ path: `${shots}/files-page-375.png` });
	});

	it('plays a video from its byte ranges and seeks in it', async () => {
		// A 3 s WebM recorded in the page itself (a canvas through MediaRecorder): no fixture file.
		const b64 = await ada.evaluate(async () => {
			const canvas = Object.assign(document.createElement('canvas'), { width: 160, height: 120 });
			const g = canvas.getContext('2d')!;
			const recorder = new MediaRecorder(canvas.captureStream(25), { mimeType: 'video/webm' });
			const chunks: Blob[] = [];
			recorder.ondataavailable = (e) => chunks.push(e.data);
			const done = new Promise((r) => (recorder.onstop = r));
			recorder.start(100);
			const start = performance.now();
			await new Promise<void>((resolve) => {
				const draw = () => {
					const t = performance.now() - start;
					g.fillStyle = `hsl(${(t / 10) % 360} 80% 50%)`;
					g.fillRect(0, 0, 160, 120);
					if (t < 3000) requestAnimationFrame(draw);
					else resolve();
				};
				draw();
			});
			recorder.stop();
			await done;
			const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
			let bin = '';
			for (const b of bytes) bin += String.fromCharCode(b);
			return btoa(bin);
		});
		const ranges: number[] = [];
		ada.on('response', (r) => {
			if (/\/files\/[^/]+$/.test(new URL(r.url()).pathname) && r.request().headers().range) ranges.push(r.status());
		});
		await ada.locator('[data-testid=composer-file-input]').setInputFiles({ name: 'clip.webm', mimeType: 'video/webm', buffer: Buffer.from(b64, 'base64') });
		await poll(() => uploads(ada).first().getAttribute('data-status')).toBe('done');
		await ada.locator('[data-testid=composer]').fill('A short clip');
		await ada.keyboard.press('Enter');
		await message(ada, 'A short clip').locator('[data-testid=attachment-file]').click();
		const video = ada.locator('[data-testid=file-viewer-video]');
		await video.waitFor();
		const seeked = await video.evaluate(async (v: HTMLVideoElement) => {
			if (v.readyState < 1) await new Promise((r) => v.addEventListener('loadedmetadata', r, { once: true }));
			v.currentTime = 1.5;
			await new Promise((r) => v.addEventListener('seeked', r, { once: true }));
			return v.currentTime;
		});
		expect(seeked).toBeGreaterThan(1);
		// The player asked for byte ranges and got partial content.
		expect(ranges.length).toBeGreaterThan(0);
		expect(ranges.every((s) => s === 206)).toBe(true);
		await ada.keyboard.press('Escape');
		await poll(() => viewer(ada).count()).toBe(0);
	});

	it('takes files dropped on a task comment box, and the other browser sees them on the comment', async () => {
		await ada.goto('/');
		await ada.waitForURL('**/c/**');
		const general = new URL(ada.url()).pathname.split('/')[2]!;
		const taskId = await ada.evaluate(async (conversationId) => {
			const res = await fetch('/api/tasks', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ conversationId, title: 'Dropped files' }) });
			return ((await res.json()) as { task: { id: string } }).task.id;
		}, general);
		await ada.goto(`/c/${general}/board?task=${taskId}`);
		const modal = ada.locator('[data-testid=task-modal]');
		// The comment box renders once the board doc has synced, after the modal itself.
		await modal.locator('[data-testid=comment-input-box]').waitFor();
		await ada.evaluate((files) => {
			const dt = new DataTransfer();
			for (const f of files) dt.items.add(new File([f.text], f.name, { type: 'text/plain' }));
			const target = document.querySelector('[data-testid=task-modal] [data-testid=comment-input-box]')!;
			for (const type of ['dragenter', 'dragover', 'drop']) target.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
		}, [{ name: 'first.txt', text: 'one' }, { name: 'second.txt', text: 'two' }]);
		const chips = modal.locator('[data-testid=comment-input-uploads] [data-testid=upload]');
		await poll(() => chips.count()).toBe(2);
		await poll(() => chips.evaluateAll((els) => els.map((e) => e.getAttribute('data-status')))).toEqual(['done', 'done']);
		await modal.locator('[data-testid=comment-input]').fill('both files');
		await modal.locator('[data-testid=comment-input-submit]').click();
		await bob.goto(`/c/${general}/board?task=${taskId}`);
		const comment = bob.locator('[data-testid=task-modal] [data-testid=task-comment]', { hasText: 'both files' });
		await poll(() => comment.locator('[data-testid=attachment-file]').allInnerTexts()).toEqual([expect.stringContaining('first.txt'), expect.stringContaining('second.txt')]);
		if (shots) await bob.screenshot({ path: `${shots}/files-comment-drop-375.png` });
	});

	it('ran without errors', () => {
		for (const errors of team.errorLogs) expect(errors).toEqual([]);
	});
});
