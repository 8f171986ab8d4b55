/**
 * Starts the real one-process server (REST, sync relay, web build) on an ephemeral port with a
 * throwaway data directory. The web build must exist (`pnpm --filter @circlechat/web build`).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_WEB_ROOT, startServer } from '../../../../agent-gateway/src/server.ts';

export interface TestServer {
	url: string;
	dataDir: string;
	close(): Promise<void>;
}

export interface TestServerOptions {
	/** Messages per conversation segment (the server's default is 1000). */
	segmentSize?: number;
}

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
	if (!existsSync(join(DEFAULT_WEB_ROOT, '200.html'))) {
		throw new Error(`No web build at ${DEFAULT_WEB_ROOT}: run \`pnpm --filter @circlechat/web build\` first.`);
	}
	const dataDir = mkdtempSync(join(tmpdir(), 'circlechat-e2e-'));
	const server = await startServer({ dataDir, port: 0, host: '127.0.0.1', segmentSize: opts.segmentSize });
	return {
		url: server.url,
		dataDir,
		async close() {
			await server.close();
			rmSync(dataDir, { recursive: true, force: true });
		}
	};
}
