import { createApiClient, HomingApiError } from '../client/api.js';
import type { Command, Device, SimEvent } from '../client/api.js';
import { logIn, proveIdentity } from '../client/account.js';
import type { UnlockedKeys } from '../client/crypto/account-keys.js';
import type { SignedCommand } from '../client/crypto/commands.js';

// The page talks to its own origin only, with the HttpOnly session cookie. The cookie cannot be
// read by script, so a stolen page script could not take it away; every change also carries the
// CSRF token that only a same-origin page learns from the login answer.

export type { Command, Device, SimEvent };

export interface Session {
  accountId: string;
  email: string;
  keys: UnlockedKeys;
}

export function createWebApi(origin: string) {
  // The SDK's client, on the page's own origin: it runs the challenge and login (no session needed
  // for those, and its origin is the one the login signature is bound to), then every call rides
  // the cookie session with its CSRF token.
  const sdk = createApiClient({ baseUrl: origin });

  return {
    /** Derives the keys from the password here, signs the challenge, and opens a cookie session. */
    async logIn(email: string, password: string): Promise<Session> {
      const { response, keys } = await logIn(sdk, { email, password, session: 'cookie', label: 'Find Device web page' });
      const csrfToken = response.session.csrfToken;
      if (!csrfToken) throw new Error('the server opened no cookie session');
      sdk.setCookieSession({ csrfToken });
      keys.masterKey.fill(0);
      return { accountId: response.accountId, email, keys };
    },
    async logOut() {
      try {
        await sdk.logout();
      } finally {
        sdk.setCookieSession(undefined);
      }
    },
    /** A fresh signed proof of the password, which the server asks for before a wipe. */
    async reauthenticate(email: string, password: string) {
      return sdk.reauthenticate(await proveIdentity(sdk, { email, password }));
    },
    devices: () => sdk.devices(),
    setFind: (deviceId: string, enabled: boolean) => sdk.setFindEnabled(deviceId, enabled),
    lastLocation: (deviceId: string) => sdk.lastLocation(deviceId),
    locations: (deviceId: string, from: number) => sdk.locationHistory(deviceId, Math.floor(from)),
    commands: (deviceId: string) => sdk.commands(deviceId),
    sendCommand: (deviceId: string, signed: SignedCommand) => sdk.sendCommand(deviceId, signed),
    simEvents: (deviceId: string) => sdk.simEvents(deviceId),
  };
}

export type WebApi = ReturnType<typeof createWebApi>;

/** The server's own message, which is written for people; anything else gets a plain fallback. */
export function describeError(error: unknown): string {
  if (error instanceof HomingApiError) {
    if (error.code === 'unauthorized') return 'Your session has ended. Log in again.';
    return error.requestId ? `${error.message} (request ${error.requestId})` : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
