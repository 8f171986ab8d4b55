/**
 * Draws the PWA's PNG icons from static/favicon.svg (run after changing the logo; the PNGs are
 * committed so a build needs no image tooling):
 *   icon-192.png, icon-512.png   purpose "any": the logo edge to edge
 *   icon-maskable-512.png        purpose "maskable": the logo inside the 80 % safe zone on the
 *                                logo's own colour, so a launcher's circle or squircle mask
 *                                never cuts into it
 *
 *   node apps/web/scripts/make-icons.mjs
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';

const dir = new URL('../static/', import.meta.url);
const svg = await readFile(new URL('favicon.svg', dir));
const BACKGROUND = '#4f46e5';

for (const size of [192, 512]) {
	await sharp(svg, { density: (72 * size) / 64 }).resize(size, size).png().toFile(new URL(`icon-${size}.png`, dir).pathname);
}
const inner = Math.round(512 * 0.7);
const logo = await sharp(svg, { density: (72 * inner) / 64 }).resize(inner, inner).png().toBuffer();
await sharp({ create: { width: 512, height: 512, channels: 4, background: BACKGROUND } })
	.composite([{ input: logo, gravity: 'centre' }])
	.png()
	.toFile(new URL('icon-maskable-512.png', dir).pathname);
console.log('icons written to', dir.pathname);
