import { type ApiClientOptions, createApiClient, HomingApiError } from '../client/api.js';
import type { Account, AccountDeletionStatus, AccountPolicy, AuditEntry, AuditPage, Command, ConsentChanged, Consents, Device, Policy, Receipt, SimEvent } from '../client/api.js';
import { changePassword, confirmSignup, logIn, logInWithRecoveryKey, proveIdentity, signUp, unlockKeyBundle } from '../client/account.js';
import type { KeyBundle, PendingSignup, SessionSummary, SignupRequest } from '../client/api.js';
import type { UnlockedKeys } from '../client/crypto/account-keys.js';
import type { Argon2id } from '../client/crypto/argon2id.js';
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

/** A cookie session still alive after a reload: who it is, and the wrapped keys the password opens here. */
export interface ResumedSession {
  accountId: string;
  email: string;
  bundle: KeyBundle;
}

export type { PendingSignup, SessionSummary };
export type GuardianContact = NonNullable<SignupRequest['guardian']>;

const SESSION_LABEL = 'Find Device web page';

export function createWebApi(origin: string, fetch?: ApiClientOptions['fetch'], argon2id?: Argon2id) {
  // The SDK's client, on the page's own origin: it runs the challenge and login (no session needed
  // for those, and its origin is the one the login signature is bound to), then every call rides
  // the cookie session with its CSRF token. `argon2id` derives every key from a password (the
  // page's Web Worker, kdf-worker-client.ts); noble's on this thread when left out.
  const sdk = createApiClient({ baseUrl: origin, fetch });

  return {
    /** Derives the keys from the password here, signs the challenge, and opens a cookie session. */
    async logIn(email: string, password: string): Promise<Session> {
      const { response, keys } = await logIn(sdk, { email, password, session: 'cookie', label: SESSION_LABEL, argon2id });
      const csrfToken = response.session.csrfToken;
      if (!csrfToken) throw new Error('the server opened no cookie session');
      sdk.setCookieSession({ csrfToken });
      keys.masterKey.fill(0);
      return { accountId: response.accountId, email, keys };
    },
    // ── the account's own life: sign-up, recovery, password, a reload (H4) ──────────────────────

    /** Makes the keys here and signs up; `pending` when a guardian must confirm with a code first. */
    signUp: (input: { email: string; password: string; birthYear: number; guardian?: GuardianContact }) => signUp(sdk, { ...input, argon2id }),
    confirmSignup: (pending: PendingSignup, code: string) => confirmSignup(sdk, pending, code),
    resendSignupCode: (pendingSignupId: string) => sdk.resendPendingSignupCode(pendingSignupId),

    /**
     * Logs in with the recovery key on a cookie session and sets the new password at once: the old
     * one is lost, and the master key the recovery key opened is re-wrapped for the new one, then
     * zeroed. If the change fails, the session is ended too, so no half-recovered login remains.
     */
    async logInWithRecoveryKey(email: string, recoveryKey: string, newPassword: string): Promise<Session> {
      const { response, keys } = await logInWithRecoveryKey(sdk, { email, recoveryKey, session: 'cookie', label: SESSION_LABEL });
      const csrfToken = response.session.csrfToken;
      if (!csrfToken) throw new Error('the server opened no cookie session');
      sdk.setCookieSession({ csrfToken });
      try {
        await changePassword(sdk, { accountId: response.accountId, email, masterKey: keys.masterKey, newPassword, recoveryKey, argon2id });
      } catch (error) {
        zeroKeys(keys);
        await sdk.logout().catch(() => undefined);
        sdk.setCookieSession(undefined);
        throw error;
      } finally {
        keys.masterKey.fill(0);
      }
      return { accountId: response.accountId, email, keys };
    },

    /**
     * Changes the password of the logged-in account. The master key comes from unlocking the key
     * bundle with the current password here (a wrong one fails before anything is sent), and is
     * zeroed as soon as it is re-wrapped. The server then signs out every other session.
     */
    async changePassword(session: Session, currentPassword: string, newPassword: string) {
      const keys = await unlockKeyBundle({ accountId: session.accountId, bundle: await sdk.keyBundle(), password: currentPassword, argon2id });
      try {
        return await changePassword(sdk, { accountId: session.accountId, email: session.email, masterKey: keys.masterKey, newPassword, currentPassword, argon2id });
      } finally {
        zeroKeys(keys);
      }
    },

    /**
     * After a reload: carries on with the cookie session if it is still alive (no new session is
     * opened), and fetches who it is and the wrapped keys. Undefined when there is none.
     */
    async resume(): Promise<ResumedSession | undefined> {
      const current = await sdk.resumeCookieSession();
      if (!current) return undefined;
      const [account, bundle] = await Promise.all([sdk.account(), sdk.keyBundle()]);
      return { accountId: current.accountId, email: account.email, bundle };
    },
    /** Opens the resumed session's keys with the password, in this page only: nothing is sent. */
    async unlock(resumed: ResumedSession, password: string): Promise<Session> {
      const keys = await unlockKeyBundle({ accountId: resumed.accountId, bundle: resumed.bundle, password, argon2id });
      keys.masterKey.fill(0);
      return { accountId: resumed.accountId, email: resumed.email, keys };
    },

    sessions: () => sdk.sessions(),
    revokeSession: (sessionId: string) => sdk.revokeSession(sessionId),
    revokeOtherSessions: () => sdk.revokeOtherSessions(),
    removeDevice: (deviceId: string) => sdk.removeDevice(deviceId),

    async logOut() {
      try {
        await sdk.logout();
      } finally {
        sdk.setCookieSession(undefined);
      }
    },
    /** A fresh signed proof of the password, which the server asks for before a wipe. */
    async reauthenticate(email: string, password: string) {
      return sdk.reauthenticate(await proveIdentity(sdk, { email, password, argon2id }));
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
      return sdk.startEmailChange(await proveIdentity(sdk, { email, password, argon2id }), newEmail);
    },
    confirmEmailChange: (verificationId: string, code: string) => sdk.confirmEmailChange(verificationId, code),
    async startPhoneChange(email: string, password: string, phoneNumber: string) {
      return sdk.startPhoneChange(await proveIdentity(sdk, { email, password, argon2id }), phoneNumber);
    },
    confirmPhoneChange: (verificationId: string, code: string) => sdk.confirmPhoneChange(verificationId, code),
    async removePhone(email: string, password: string) {
      await sdk.removePhone(await proveIdentity(sdk, { email, password, argon2id }));
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
      return sdk.requestAccountDeletion(await proveIdentity(sdk, { email, password, argon2id }));
    },
    deletion: () => sdk.accountDeletion(),
    cancelDeletion: () => sdk.cancelAccountDeletion(),
    receipts: () => sdk.receipts(),
    receiptKey: () => sdk.receiptKey(),
  };
}

export type WebApi = ReturnType<typeof createWebApi>;

/** Secrets do not outlive their use: the page's copies are overwritten, not just dropped. */
export function zeroKeys(keys: UnlockedKeys) {
  keys.masterKey.fill(0);
  keys.x25519SecretKey.fill(0);
  keys.ed25519Seed.fill(0);
}

/** What the page says when the server no longer knows its session (revoked elsewhere, expired, signed out). */
export const SESSION_ENDED = 'Your session has ended: it was signed out (from another browser, or by a password change) or it expired. Log in again.';

/** The server's own message, which is written for people; anything else gets a plain fallback. */
export function describeError(error: unknown): string {
  if (error instanceof HomingApiError) {
    if (error.code === 'unauthorized') return SESSION_ENDED;
    return error.requestId ? `${error.message} (request ${error.requestId})` : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
