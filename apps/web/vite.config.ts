import tailwindcss from '@tailwindcss/vite';
import adapter from '@sveltejs/adapter-static';
import { sveltekit } from '@sveltejs/kit/vite';
import { SvelteKitPWA } from '@vite-pwa/sveltekit';
import { defineConfig } from 'vite';

/** The one Node server serves build/ and answers unknown paths with this page (client routing). */
const FALLBACK = '200.html';
/** `vite dev` forwards REST and sync to a locally running server (`pnpm serve`, PORT=8091). */
const devServer = process.env.CIRCLECHAT_DEV_SERVER ?? 'http://127.0.0.1:8091';

export default defineConfig({
	plugins: [
		tailwindcss(),
		sveltekit({
			compilerOptions: {
				// Force runes mode for the project, except for libraries. Can be removed in svelte 6.
				runes: ({ filename }) => (filename.split(/[/\\]/).includes('node_modules') ? undefined : true)
			},
			// precompress: .br and .gz beside each file, which the server sends as they are.
			adapter: adapter({ fallback: FALLBACK, strict: false, precompress: true })
		}),
		SvelteKitPWA({
			// A new version waits until the user says "reload" (UpdateBanner): never swapped under them.
			registerType: 'prompt',
			// Absolute, whatever page registers it: SvelteKit's relative base would make the app
			// entered on /c/<id> register /c/sw.js (the HTML fallback), so nothing was cached.
			base: '/',
			buildBase: '/',
			scope: '/',
			kit: { adapterFallback: FALLBACK, spa: true },
			manifest: {
				name: 'CircleChat',
				short_name: 'CircleChat',
				description: 'Self-hosted team chat',
				theme_color: '#1e1b2e',
				background_color: '#1e1b2e',
				display: 'standalone',
				id: '/',
				start_url: '/',
				scope: '/',
				icons: [
					{ src: '/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
					{ src: '/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
					// Drawn by scripts/make-icons.mjs with the logo inside the safe zone.
					{ src: '/icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
					{ src: '/favicon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' }
				]
			},
			workbox: {
				// REST and sync are never answered from the cache: they are the source of truth.
				navigateFallbackDenylist: [/^\/api\//, /^\/sync\//, /^\/health/]
			}
		})
	],
	server: {
		proxy: {
			'/api': { target: devServer, changeOrigin: false },
			'/sync': { target: devServer.replace(/^http/, 'ws'), ws: true }
		}
	}
});
