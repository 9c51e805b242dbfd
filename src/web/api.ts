import { createApiClient, HomingApiError } from '../client/api.js';
import type { Account, AccountDeletionStatus, AccountPolicy, AuditEntry, AuditPage, Command, ConsentChanged, Consents, Device, Policy, Receipt, SimEvent } from '../client/api.js';
import { logIn, proveIdentity } from '../client/account.js';
import type { UnlockedKeys } from '../client/crypto/account-keys.js';
import type { SignedCommand } from '../client/crypto/commands.js';

// The page talks to its own origin only, with the HttpOnly session cookie. The cookie cannot be
// read by script, so a stolen page script could not take it away; every change also carries the
// CSRF token that only a same-origin page learns from the login answer.

export type { Account, AccountDeletionStatus, AccountPolicy, AuditEntry, AuditPage, Command, ConsentChanged, Consents, Device, Policy, Receipt, SimEvent };

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

    // Your account and privacy. Each dangerous change signs a fresh challenge with the password
    // here; the password itself never leaves the page.
    account: () => sdk.account(),
    async startEmailChange(email: string, password: string, newEmail: string) {
      return sdk.startEmailChange(await proveIdentity(sdk, { email, password }), newEmail);
    },
    confirmEmailChange: (verificationId: string, code: string) => sdk.confirmEmailChange(verificationId, code),
    async startPhoneChange(email: string, password: string, phoneNumber: string) {
      return sdk.startPhoneChange(await proveIdentity(sdk, { email, password }), phoneNumber);
    },
    confirmPhoneChange: (verificationId: string, code: string) => sdk.confirmPhoneChange(verificationId, code),
    async removePhone(email: string, password: string) {
      await sdk.removePhone(await proveIdentity(sdk, { email, password }));
    },
    consents: () => sdk.consents(),
    setConsent: (purpose: string, change: { granted: boolean; deviceId?: string; stored?: 'keep' | 'delete' }) => sdk.setConsent(purpose, change),
    policy: () => sdk.policy(),
    accountPolicy: () => sdk.accountPolicy(),
    acceptPolicy: (version: number, regrant: string[] = []) => sdk.acceptPolicy(version, regrant),
    auditLog: (cursor?: string, limit = 25) => sdk.auditLog({ cursor, limit }),
    /** The export archive as it streams; the server wants a re-authentication within minutes. */
    exportArchive: () => sdk.exportArchive(),
    async requestDeletion(email: string, password: string) {
      return sdk.requestAccountDeletion(await proveIdentity(sdk, { email, password }));
    },
    deletion: () => sdk.accountDeletion(),
    cancelDeletion: () => sdk.cancelAccountDeletion(),
    receipts: () => sdk.receipts(),
    receiptKey: () => sdk.receiptKey(),
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
