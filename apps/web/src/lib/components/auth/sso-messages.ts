/**
 * What the sign-in page says for each `/login?sso=<code>` the server's OIDC callback redirects to
 * (agent-gateway/src/routes/oidc.ts). Only these fixed sentences are shown: the query string is
 * anyone's to write, so no text from it reaches the page except a checked error code.
 */
const REASONS: Record<string, string> = {
	issuer: 'it came from the wrong issuer',
	audience: 'it was issued for another app',
	nonce: 'it answered a different sign-in',
	signature: 'its signature did not match',
	token: 'it was not a valid ID token'
};

export function ssoMessage(code: string, detail: string | null, provider: string): string | null {
	switch (code) {
		case 'state':
			return 'That sign-in was already used or has expired. Start again.';
		case 'provider_error':
			return detail === 'access_denied'
				? `${provider} did not sign you in (cancelled or refused). Try again, or ask an admin.`
				: `${provider} did not sign you in${detail && /^[a-z_]{1,40}$/.test(detail) ? ` (${detail})` : ''}. Try again, or ask an admin.`;
		case 'invalid_token':
			return `${provider}'s answer failed a security check (${REASONS[detail ?? ''] ?? REASONS.token}), so nobody was signed in. Ask an admin to check OIDC_ISSUER and OIDC_CLIENT_ID.`;
		case 'unverified_email':
			return `${provider} has not verified your email address. Verify it there, then sign in again.`;
		case 'not_invited':
			return `Your ${provider} account has no invite to this workspace. Ask an admin to invite your email address.`;
		case 'deactivated':
			return 'This account has been deactivated. Ask an admin if that is a mistake.';
		case 'already_linked':
			return `Another ${provider} account is already linked to this CircleChat account. Sign in with that one.`;
		case 'no_workspace':
			return 'This server has no workspace yet. Create it first.';
		case 'unreachable':
			return `CircleChat could not reach ${provider}. Try again in a moment; if it persists, tell an admin.`;
		case 'busy':
			return 'Too many sign-ins are in progress. Wait a minute and try again.';
		default:
			return null;
	}
}
