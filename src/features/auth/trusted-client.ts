import { constantTimeEqual } from '../../protocol/encoding.js';
import type { Deps } from '../../deps.js';

// A trusted-client token ("device cookie", OWASP): proof that this client logged in to this
// email's account before. It is issued on a successful login and only ever relaxes a limit a
// stranger could otherwise exhaust (see login-limits.ts); it opens nothing by itself. It is
// stateless: the MAC under the server key binds it to the email's blind index and its expiry, so
// it cannot be forged, moved to another email, or kept alive past its expiry, and the server
// stores nothing per client.

const LIFETIME_MS = 365 * 24 * 3_600_000;
const PREFIX = 'htc_';
const MAC_PURPOSE = 'trusted-client';

export const TRUSTED_CLIENT_LIFETIME_SECONDS = LIFETIME_MS / 1000;

const macOf = (deps: Deps, emailIndex: string, id: string, expiresAt: number) =>
  deps.secrets.blindIndex(MAC_PURPOSE, `${emailIndex}.${id}.${expiresAt}`);

export function issueTrustedClient(deps: Deps, emailIndex: string): string {
  const id = deps.random.id();
  const expiresAt = deps.clock.now() + LIFETIME_MS;
  return `${PREFIX}${id}.${expiresAt}.${macOf(deps, emailIndex, id, expiresAt)}`;
}

/**
 * The token's id when it is a valid, unexpired token for this email; otherwise undefined, and
 * the client is treated as any stranger (a stale token never fails a login, it just helps less).
 */
export function trustedClientId(deps: Deps, emailIndex: string, token: string | undefined): string | undefined {
  const parts = token?.startsWith(PREFIX) ? token.slice(PREFIX.length).split('.') : [];
  if (parts.length !== 3) return undefined;
  const [id, expiry, mac] = parts as [string, string, string];
  const expiresAt = Number(expiry);
  if (!Number.isSafeInteger(expiresAt) || expiresAt <= deps.clock.now()) return undefined;
  return constantTimeEqual(macOf(deps, emailIndex, id, expiresAt), mac) ? id : undefined;
}
