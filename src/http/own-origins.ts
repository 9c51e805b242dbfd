import type { Context } from 'hono';
import type { Config } from '../config.js';

// Which origins are this server's own: the ones a login challenge may be bound to, and the ones a
// cookie session's state-changing request may come from.
//
// Guarantee: exactly PUBLIC_URL's origin, unless that origin is a loopback one (the default is
// http://localhost:PORT). Then the other loopback spellings of it (localhost, 127.0.0.1, [::1]) with
// the same scheme and port count too, because the server prints its listen address as 127.0.0.1 and
// people open what it prints. Loopback origins name this machine only, so no other machine can serve
// a page under one of them: a challenge relayed through a remote server is still bound to an origin
// the client there did not dial, and its signature does not verify.

const LOOPBACK_HOSTNAMES = ['localhost', '127.0.0.1', '[::1]'];

export const isLoopbackHostname = (hostname: string) => LOOPBACK_HOSTNAMES.includes(hostname.toLowerCase());

/** PUBLIC_URL's origin, plus its other loopback spellings when it is a loopback origin. */
export function ownOrigins(publicOrigin: string): ReadonlySet<string> {
  const url = new URL(publicOrigin);
  if (!isLoopbackHostname(url.hostname)) return new Set([url.origin]);
  return new Set(
    LOOPBACK_HOSTNAMES.map((hostname) => {
      const alias = new URL(url.origin);
      alias.hostname = hostname;
      return alias.origin;
    }),
  );
}

export const isOwnOrigin = (publicOrigin: string, origin: string) => ownOrigins(publicOrigin).has(origin);

/**
 * The origin to bind a login challenge to: the one the request came from when it is one of ours
 * (see above), else PUBLIC_URL's. A foreign claim is never an error: the client that made it
 * refuses the challenge itself, and a signature for its origin would not verify.
 */
export const challengeOrigin = (publicOrigin: string, claimed: string | undefined) =>
  claimed !== undefined && isOwnOrigin(publicOrigin, claimed) ? claimed : publicOrigin;

/**
 * The origin a request says it came from: a browser's Origin header, else the request URL's scheme
 * with the Host it was sent to (the SDK and the CLI send no Origin). Only a claim: see challengeOrigin.
 */
export function requestOrigin(c: Context): string | undefined {
  const origin = c.req.header('Origin');
  if (origin !== undefined) return origin;
  try {
    return new URL(c.req.url).origin;
  } catch {
    return undefined;
  }
}

/**
 * The start-up warning for a setup where browsers cannot keep a login: a plain-HTTP origin other
 * than loopback, so the Secure session cookie is dropped (browsers allow Secure cookies over http
 * on loopback only). Either PUBLIC_URL says so, or the server listens beyond loopback without TLS
 * while PUBLIC_URL is a loopback origin (the default), so people reach it at an address it does
 * not even accept logins for.
 */
export function plainHttpWarning(config: Pick<Config, 'publicOrigin' | 'host'> & { node: Pick<Config['node'], 'tls'> }): string | undefined {
  const url = new URL(config.publicOrigin);
  const remedy = 'set up HTTPS (TLS_CERT_FILE and TLS_KEY_FILE) or a TLS-terminating proxy, and set PUBLIC_URL to its https:// address; see README, "HTTPS"';
  if (url.protocol === 'http:' && !isLoopbackHostname(url.hostname)) {
    return `PUBLIC_URL=${url.origin} is plain HTTP on a host other than localhost: browsers will drop the Secure session cookie, so the web page will not keep a login; ${remedy}`;
  }
  if (url.protocol === 'http:' && !config.node.tls && !listensOnLoopbackOnly(config.host)) {
    return `HOST=${config.host} serves plain HTTP beyond this machine, but PUBLIC_URL is ${url.origin}: browsers elsewhere will drop the Secure session cookie and logins are only accepted at ${url.origin}, so the web page will not keep a login there; ${remedy}`;
  }
  return undefined;
}

/** HOST is an address to bind: localhost, 127.x.x.x or ::1 (without brackets) listen on this machine only. */
const listensOnLoopbackOnly = (host: string) => isLoopbackHostname(host) || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
