/**
 * Starts the real one-process server (REST, sync relay, web build) on an ephemeral port with a
 * throwaway data directory. The web build must exist (`pnpm --filter @circlechat/web build`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_WEB_ROOT, startServer } from '../../../../agent-gateway/src/server.ts';
import type { OidcSettings } from '../../../../agent-gateway/src/oidc/settings.ts';

const MAIN = join(import.meta.dirname, '../../../../agent-gateway/src/main.ts');

export interface TestServer {
	url: string;
	dataDir: string;
	/** The inbound SMTP listener's port, when `inboundDomain` was given. */
	inboundPort?: number | null;
	close(): Promise<void>;
}

export interface TestServerOptions {
	/** Messages per conversation segment (the server's default is 1000). */
	segmentSize?: number;
	/** Largest upload in bytes (the server's default is 25 MiB). */
	maxUploadBytes?: number;
	/** Let webhook agents call back to loopback (a test's own agent server). */
	agentAllowPrivateUrls?: boolean;
	/** Mail (invites, resets, digests) to this SMTP server, e.g. a test's own listener. */
	smtp?: { url: string; from?: string };
	/** Single sign-on through a test provider (its redirect URI names `port`). */
	oidc?: OidcSettings;
	/** Mail into channels: an SMTP listener on a free loopback port for this domain. */
	inboundDomain?: string;
	/** A port chosen beforehand (a provider must know the redirect URI); default any free one. */
	port?: number;
	/** Serve the web app from this copy of the build (a test that deploys a changed one). */
	webRoot?: string;
}

function needWebBuild() {
	if (!existsSync(join(DEFAULT_WEB_ROOT, '200.html'))) {
		throw new Error(`No web build at ${DEFAULT_WEB_ROOT}: run \`pnpm --filter @circlechat/web build\` first.`);
	}
}

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
	needWebBuild();
	const dataDir = mkdtempSync(join(tmpdir(), 'circlechat-e2e-'));
	const server = await startServer({
		...opts, dataDir, port: opts.port ?? 0, host: '127.0.0.1', ...(opts.inboundDomain ? { smtpInboundPort: 0 } : {})
	});
	return {
		url: server.url,
		dataDir,
		inboundPort: server.inboundPort,
		async close() {
			await server.close();
			rmSync(dataDir, { recursive: true, force: true });
		}
	};
}

export interface ProcessServer extends TestServer {
	/** SIGKILL: no shutdown, no flush — only what was acknowledged may survive. */
	kill9(): Promise<void>;
	/** Starts the server again on the same port and data directory. */
	restart(): Promise<void>;
}

async function freePort(): Promise<number> {
	const probe = createServer();
	await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
	const { port } = probe.address() as { port: number };
	await new Promise((resolve) => probe.close(resolve));
	return port;
}

/** The production entry point (`pnpm serve`) in its own process, so a test can kill it with SIGKILL. */
export async function startServerProcess(): Promise<ProcessServer> {
	needWebBuild();
	const dataDir = mkdtempSync(join(tmpdir(), 'circlechat-e2e-'));
	const port = await freePort();
	const url = `http://127.0.0.1:${port}`;
	let child: ChildProcess | null = null;

	const spawnServer = async () => {
		const proc = spawn(process.execPath, ['--import', 'tsx', MAIN], {
			env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1' },
			stdio: ['ignore', 'pipe', 'inherit']
		});
		child = proc;
		await new Promise<void>((resolve, reject) => {
			let out = '';
			proc.stdout!.on('data', (chunk: Buffer) => {
				out += chunk.toString();
				if (out.includes('CircleChat listening')) resolve();
			});
			proc.once('exit', (code) => reject(new Error(`server exited with ${code} before listening: ${out}`)));
		});
	};
	const stop = async (signal: NodeJS.Signals) => {
		const proc = child;
		child = null;
		if (!proc || proc.exitCode !== null) return;
		const exited = new Promise((resolve) => proc.once('exit', resolve));
		proc.kill(signal);
		await exited;
	};

	await spawnServer();
	return {
		url,
		dataDir,
		kill9: () => stop('SIGKILL'),
		restart: spawnServer,
		async close() {
			await stop('SIGTERM');
			rmSync(dataDir, { recursive: true, force: true });
		}
	};
}
