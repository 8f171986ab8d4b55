import type { AgentAdapter } from '$lib/api';

/** Where the example agents listen by default (examples/webhook-agent.ts, `PORT`). */
export const EXAMPLE_WEBHOOK_PORT = 8787;
export const EXAMPLE_WEBHOOK_URL = `http://127.0.0.1:${EXAMPLE_WEBHOOK_PORT}`;

/**
 * The copy-paste command that starts the repository's example agent for this runtime against
 * this server (env names as in examples/CONTEXT.md: CC_URL, CC_TOKEN, PORT). Run it from a
 * checkout of the repository.
 */
export function exampleCommand(adapter: AgentAdapter, origin: string, token: string): string {
	const env = `CC_URL=${origin} CC_TOKEN=${token}`;
	switch (adapter) {
		case 'webhook':
			return `${env} PORT=${EXAMPLE_WEBHOOK_PORT} npx tsx examples/webhook-agent.ts`;
		case 'socket':
			return `${env} npx tsx examples/socket-agent.ts`;
		case 'peer':
			return `${env} npx tsx examples/peer-agent.ts`;
	}
}
