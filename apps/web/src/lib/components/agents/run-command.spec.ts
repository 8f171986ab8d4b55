import { describe, expect, it } from 'vitest';
import { exampleCommand } from './run-command';

// The env names and paths are those in the header comment of each examples/*.ts.
describe('exampleCommand', () => {
	const origin = 'https://chat.example.com';
	const token = 'cc_0123456789abcdefghijklmnopqrstuv';

	it('starts the webhook example on the port its callback URL names', () => {
		expect(exampleCommand('webhook', origin, token)).toBe(`CC_URL=${origin} CC_TOKEN=${token} PORT=8787 npx tsx examples/webhook-agent.ts`);
	});

	it('starts the socket and peer examples, which need no port', () => {
		expect(exampleCommand('socket', origin, token)).toBe(`CC_URL=${origin} CC_TOKEN=${token} npx tsx examples/socket-agent.ts`);
		expect(exampleCommand('peer', origin, token)).toBe(`CC_URL=${origin} CC_TOKEN=${token} npx tsx examples/peer-agent.ts`);
	});
});
