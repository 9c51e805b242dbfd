import type { z } from 'zod';
import type { accountResponse, passwordChangeBody, passwordChangeResponse, signupBody } from '../protocol/api/accounts.js';
import type { verificationStarted } from '../protocol/api/accounts.js';
import type { challengeResponse, currentSession, loginResponse, reauthenticateResponse } from '../protocol/api/auth.js';
import type { auditLogPage } from '../protocol/api/audit.js';
import type { blobInfo, upload, uploadStatus } from '../protocol/api/blobs.js';
import type { diagnosticsAccepted, diagnosticsDeleted, diagnosticsPage, diagnosticsReportBody } from '../protocol/api/diagnostics.js';
import type { ErrorBody } from '../protocol/errors.js';
import type { consentHistoryResponse, consentsResponse, putConsentBody, putConsentResponse } from '../protocol/api/consents.js';
import type { accountPolicyResponse, policyResponse } from '../protocol/api/policy.js';
import type { accountDeletionStatus, PurgeScope } from '../protocol/api/deletion.js';
import type { Receipt } from '../protocol/receipts.js';
import type { guardianCodeBody, guardianCodeSent, guardianDeletionBody, guardianDeletionScheduled, pendingSignupResponse } from '../protocol/api/children.js';
import { CSRF_HEADER, SHA256_HEADER } from '../protocol/headers.js';
import type { device, registerDeviceBody, registeredDevice } from '../protocol/api/devices.js';
import type { command, historyResponse, lastLocationResponse } from '../protocol/api/find.js';
import type { session } from '../protocol/api/sessions.js';
import type { pushSubscription, pushSubscriptionBody } from '../protocol/api/push.js';
import type { SignedCommand } from '../protocol/commands.js';
import type { simEvent, simEventBody, simEventResponse } from '../protocol/api/sim.js';
import type { applyChangesResponse, changesResponse, collection, createCollectionBody, item, itemChange } from '../protocol/api/sync.js';
import type {
  ackResponse,
  blockedNumber,
  blockList,
  inboxResponse,
  lookupResponse,
  messagingIdentity,
  messagingOnBody,
  messagingStatus,
  sendBody,
  sendResponse,
} from '../protocol/api/messaging.js';
import type { blocklistDelta, spamReport, spamReportBody, spamReportList } from '../protocol/api/spam.js';

// Types come from the server's own request and response schemas (type-only imports), so the
// client and the API cannot drift apart without the type check noticing.

export type SignupRequest = z.input<typeof signupBody>;
export type PendingSignup = z.infer<typeof pendingSignupResponse>;
export type GuardianCode = z.input<typeof guardianCodeBody>;
export type GuardianCodeSent = z.infer<typeof guardianCodeSent>;
export type GuardianDeletionRequest = z.input<typeof guardianDeletionBody>;
export type Challenge = z.infer<typeof challengeResponse>;
export type LoginResponse = z.infer<typeof loginResponse>;
export type Account = z.infer<typeof accountResponse>;
export type Device = z.infer<typeof device>;
export type RegisteredDevice = z.infer<typeof registeredDevice>;
export type RegisterDeviceRequest = z.input<typeof registerDeviceBody>;
export type PasswordChangeRequest = z.input<typeof passwordChangeBody>;
/** A code sent to a new e-mail address or phone number, to confirm the change with. */
export type VerificationStarted = z.infer<typeof verificationStarted>;
export type CurrentSession = z.infer<typeof currentSession>;
export type KeyBundle = LoginResponse['keys'];
export type Collection = z.infer<typeof collection>;
export type CreateCollectionRequest = z.input<typeof createCollectionBody>;
export type Item = z.infer<typeof item>;
export type ItemChange = z.input<typeof itemChange>;
export type ChangesPage = z.infer<typeof changesResponse>;
export type AppliedChanges = z.infer<typeof applyChangesResponse>;
export type BlobInfo = z.infer<typeof blobInfo>;
export type Upload = z.infer<typeof upload>;
export type UploadStatus = z.infer<typeof uploadStatus>;
export type Command = z.infer<typeof command>;
export type LastLocation = z.infer<typeof lastLocationResponse>;
export type LocationHistory = z.infer<typeof historyResponse>;
export type SimEventReport = z.input<typeof simEventBody>;
export type SimEventStatus = z.infer<typeof simEventResponse>;
export type SimEvent = z.infer<typeof simEvent>;
export type PushSubscriptionRequest = z.input<typeof pushSubscriptionBody>;
export type PushSubscriptionInfo = z.infer<typeof pushSubscription>;
export type MessagingOnRequest = z.input<typeof messagingOnBody>;
export type MessagingIdentity = z.infer<typeof messagingIdentity>;
export type MessagingStatus = z.infer<typeof messagingStatus>;
export type MessagingLookup = z.infer<typeof lookupResponse>;
export type SendMessageRequest = z.input<typeof sendBody>;
export type SendMessageResult = z.infer<typeof sendResponse>;
export type Inbox = z.infer<typeof inboxResponse>;
export type InboxCopy = Inbox['messages'][number];
export type AckMessagesResult = z.infer<typeof ackResponse>;
export type BlockedNumber = z.infer<typeof blockedNumber>;
export type BlockList = z.infer<typeof blockList>;
export type SpamReportRequest = z.input<typeof spamReportBody>;
export type SpamReport = z.infer<typeof spamReport>;
export type SpamReportList = z.infer<typeof spamReportList>;
export type BlocklistDelta = z.infer<typeof blocklistDelta>;
export interface Proof {
  challengeId: string;
  signature: string;
}
export type SessionSummary = z.infer<typeof session>;
export type Consents = z.infer<typeof consentsResponse>;
export type ConsentChange = z.input<typeof putConsentBody>;
export type ConsentChanged = z.infer<typeof putConsentResponse>;
export type ConsentHistory = z.infer<typeof consentHistoryResponse>;
export type Policy = z.infer<typeof policyResponse>;
export type AccountPolicy = z.infer<typeof accountPolicyResponse>;
export type AccountDeletionStatus = z.infer<typeof accountDeletionStatus>;
export type { PurgeScope, Receipt };
export type AuditPage = z.infer<typeof auditLogPage>;
export type AuditEntry = AuditPage['entries'][number];
export type DiagnosticsReportRequest = z.input<typeof diagnosticsReportBody>;
export type DiagnosticsAccepted = z.infer<typeof diagnosticsAccepted>;
export type DiagnosticsPage = z.infer<typeof diagnosticsPage>;
export type DiagnosticsDeleted = z.infer<typeof diagnosticsDeleted>;

/** An error answered by the server, in its one error shape. */
export class HomingApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | undefined,
    readonly details?: Record<string, unknown>,
    /** The server's Retry-After, in seconds, when it sent one (429, 503). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'HomingApiError';
  }
}

/** The request never got an answer: the server was unreachable, or the connection dropped. */
export class HomingNetworkError extends Error {
  override name = 'HomingNetworkError';
}

export interface ApiClientOptions {
  baseUrl: string;
  /** Defaults to the global fetch; tests pass app.request. */
  fetch?: (input: string, init: RequestInit) => Promise<Response> | Response;
  sessionToken?: string;
  deviceToken?: string;
}

/**
 * A browser session on the server's own origin: the HttpOnly cookie travels by itself (script
 * cannot read it), and every state-changing request carries the CSRF token from the login answer.
 */
interface CookieSession {
  csrfToken: string;
}

/** 'cookie': the browser's cookie alone, before the page knows its CSRF token (reads only). */
type Auth = 'none' | 'session' | 'device' | 'cookie';

async function throwApiError(response: Response): Promise<never> {
  let error: Partial<ErrorBody['error']> | undefined;
  try {
    error = ((await response.json()) as Partial<ErrorBody> | null)?.error;
  } catch {
    // not our error shape: a proxy's page, say
  }
  throw new HomingApiError(
    response.status,
    error?.code ?? 'unknown',
    error?.message ?? `HTTP ${response.status}`,
    error?.requestId ?? response.headers.get('X-Request-Id') ?? undefined,
    error?.details,
    /^\d+$/.test(response.headers.get('Retry-After') ?? '') ? Number(response.headers.get('Retry-After')) : undefined,
  );
}

export function createApiClient(options: ApiClientOptions) {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? ((input: string, init: RequestInit) => fetch(input, init));
  let sessionToken = options.sessionToken;
  let cookieSession: CookieSession | undefined;
  const deviceToken = options.deviceToken;

  /** Sends a request and returns the response, throwing HomingApiError for an error answer. */
  async function send(
    method: string,
    path: string,
    auth: Auth,
    body?: { json: unknown } | { raw: ReadableStream<Uint8Array> | Uint8Array; size: number },
    extraHeaders: Record<string, string> = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...extraHeaders };
    // Never follow redirects: the API has none, credentials must not travel to another URL, and
    // Node's fetch keeps a copy of a streamed body (the whole blob) in case it must resend it.
    const init: RequestInit & { duplex?: 'half' } = { method, headers, redirect: 'error' };
    const token = auth === 'session' ? sessionToken : auth === 'device' ? deviceToken : undefined;
    if (auth === 'cookie' || (auth === 'session' && !token && cookieSession)) {
      init.credentials = 'same-origin';
      init.cache = 'no-store';
      if (method !== 'GET') {
        if (!cookieSession) throw new Error('not logged in');
        headers[CSRF_HEADER] = cookieSession.csrfToken;
      }
    } else if (auth !== 'none') {
      if (!token) throw new Error(auth === 'session' ? 'not logged in' : 'this device is not registered');
      headers.Authorization = `Bearer ${token}`;
    }
    if (body && 'json' in body) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body.json);
    } else if (body) {
      headers['Content-Type'] = 'application/octet-stream';
      headers['Content-Length'] = String(body.size);
      init.body = body.raw as BodyInit;
      // A streamed request body needs half-duplex fetch (Node, Chromium).
      if (body.raw instanceof ReadableStream) init.duplex = 'half';
    }
    let response: Response;
    try {
      response = await doFetch(`${baseUrl}${path}`, init);
    } catch (err) {
      throw new HomingNetworkError(`cannot reach ${baseUrl}: ${(err as Error).message}`, { cause: err });
    }
    if (!response.ok) await throwApiError(response);
    return response;
  }

  async function call<T>(method: string, path: string, auth: Auth, body?: unknown): Promise<T> {
    const response = await send(method, path, auth, body === undefined ? undefined : { json: body });
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    try {
      return (text ? JSON.parse(text) : undefined) as T;
    } catch {
      throw new HomingApiError(response.status, 'invalid_response', `the server answered ${response.status} with non-JSON`, undefined);
    }
  }

  return {
    baseUrl,
    /** The origin that login signatures are bound to: the one this client actually talks to. */
    origin: new URL(baseUrl).origin,
    setSessionToken(token: string | undefined) {
      sessionToken = token;
    },
    /** Switches to the cookie session a browser login opened (undefined ends it). */
    setCookieSession(session: CookieSession | undefined) {
      cookieSession = session;
    },
    /** 201 { accountId } for an adult; 202 PendingSignup when a guardian must consent first. */
    signUp: (body: SignupRequest) => call<{ accountId: string } | PendingSignup>('POST', '/v1/accounts', 'none', body),
    confirmPendingSignup: (pendingSignupId: string, body: GuardianCode) =>
      call<{ accountId: string }>('POST', `/v1/accounts/pending/${encodeURIComponent(pendingSignupId)}/confirm`, 'none', body),
    resendPendingSignupCode: (pendingSignupId: string) =>
      call<GuardianCodeSent>('POST', `/v1/accounts/pending/${encodeURIComponent(pendingSignupId)}/resend`, 'none'),
    requestGuardianDeletion: (body: GuardianDeletionRequest) => call<GuardianCodeSent>('POST', '/v1/guardian/deletion', 'none', body),
    confirmGuardianDeletion: (body: GuardianCode) =>
      call<z.infer<typeof guardianDeletionScheduled>>('POST', '/v1/guardian/deletion/confirm', 'none', body),
    challenge: (email: string, method: 'password' | 'recovery' = 'password', trustedClient?: string) =>
      call<Challenge>('POST', '/v1/auth/challenge', 'none', { email, method, trustedClient }),
    login: (body: Proof & { session?: 'bearer' | 'cookie'; label?: string; deviceToken?: string; trustedClient?: string }) =>
      call<LoginResponse>('POST', '/v1/auth/login', 'none', body),
    currentSession: () => call<CurrentSession>('GET', '/v1/auth/session', 'session'),
    /**
     * After a reload: the browser may still hold a live session cookie, which script cannot read.
     * Asks with the cookie alone (a read needs no CSRF token) and, when it names a live cookie
     * session, carries on with it and its CSRF token. Undefined when there is none (401), so no
     * new session is ever opened here.
     */
    async resumeCookieSession(): Promise<CurrentSession | undefined> {
      let current: CurrentSession;
      try {
        current = await call<CurrentSession>('GET', '/v1/auth/session', 'cookie');
      } catch (error) {
        if (error instanceof HomingApiError && error.status === 401) return undefined;
        throw error;
      }
      if (current.kind !== 'cookie' || !current.csrfToken) return undefined;
      cookieSession = { csrfToken: current.csrfToken };
      return current;
    },
    reauthenticate: (proof: Proof) =>
      call<z.infer<typeof reauthenticateResponse>>('POST', '/v1/auth/reauthenticate', 'session', proof),
    logout: () => call<void>('POST', '/v1/auth/logout', 'session'),
    account: () => call<Account>('GET', '/v1/account', 'session'),
    /** One page of the audit log, newest first; pass nextCursor back for the next. */
    auditLog: (page: { cursor?: string; limit?: number } = {}) => {
      const query = new URLSearchParams();
      if (page.cursor !== undefined) query.set('cursor', page.cursor);
      if (page.limit !== undefined) query.set('limit', String(page.limit));
      const search = query.toString();
      return call<AuditPage>('GET', `/v1/account/audit${search ? `?${search}` : ''}`, 'session');
    },
    changePassword: (body: PasswordChangeRequest) =>
      call<z.infer<typeof passwordChangeResponse>>('POST', '/v1/account/password', 'session', body),
    // Personal data: each change takes a fresh proof (account.ts makes one from the password), then a code.
    startEmailChange: (proof: Proof, email: string) =>
      call<VerificationStarted>('POST', '/v1/account/email', 'session', { proof, email }),
    confirmEmailChange: (verificationId: string, code: string) =>
      call<Account>('POST', '/v1/account/email/confirm', 'session', { verificationId, code }),
    startPhoneChange: (proof: Proof, phoneNumber: string) =>
      call<VerificationStarted>('POST', '/v1/account/phone', 'session', { proof, phoneNumber }),
    confirmPhoneChange: (verificationId: string, code: string) =>
      call<Account>('POST', '/v1/account/phone/confirm', 'session', { verificationId, code }),
    removePhone: (proof: Proof) => call<void>('DELETE', '/v1/account/phone', 'session', { proof }),
    sessions: () => call<{ sessions: SessionSummary[] }>('GET', '/v1/sessions', 'session'),
    revokeSession: (id: string) => call<void>('DELETE', `/v1/sessions/${encodeURIComponent(id)}`, 'session'),
    revokeOtherSessions: () => call<{ revoked: number }>('POST', '/v1/sessions/revoke-others', 'session'),
    registerDevice: (body: RegisterDeviceRequest) => call<RegisteredDevice>('POST', '/v1/devices', 'session', body),
    devices: () => call<{ devices: Device[] }>('GET', '/v1/devices', 'session'),
    device: (id: string) => call<Device>('GET', `/v1/devices/${encodeURIComponent(id)}`, 'session'),
    renameDevice: (id: string, name: string) =>
      call<Device>('PATCH', `/v1/devices/${encodeURIComponent(id)}`, 'session', { name }),
    removeDevice: (id: string) => call<void>('DELETE', `/v1/devices/${encodeURIComponent(id)}`, 'session'),
    thisDevice: () => call<Device>('GET', '/v1/device', 'device'),

    keyBundle: () => call<KeyBundle>('GET', '/v1/account/keys', 'session'),
    /** The account's export archive as it streams (src/protocol/api/export.ts); needs a recent re-authentication. */
    exportArchive: async () => {
      const response = await send('GET', '/v1/account/export', 'session');
      return response.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() });
    },
    collections: () => call<{ collections: Collection[] }>('GET', '/v1/sync/collections', 'session'),
    createCollection: (body: CreateCollectionRequest) => call<Collection>('POST', '/v1/sync/collections', 'session', body),
    updateCollection: (id: string, body: { baseVersion: number; encryptedMetadata: string }) =>
      call<Collection>('PATCH', `/v1/sync/collections/${encodeURIComponent(id)}`, 'session', body),
    applyChanges: (changes: ItemChange[]) => call<AppliedChanges>('POST', '/v1/sync/changes', 'session', { changes }),
    changes: (since: string, limit = 200) =>
      call<ChangesPage>('GET', `/v1/sync/changes?since=${encodeURIComponent(since)}&limit=${limit}`, 'session'),
    item: (id: string) => call<Item>('GET', `/v1/sync/items/${encodeURIComponent(id)}`, 'session'),

    /** Streams an (already encrypted) blob of exactly `size` bytes whose SHA-256 is known. */
    uploadBlob: async (body: ReadableStream<Uint8Array> | Uint8Array, size: number, sha256: string) =>
      (await send('POST', '/v1/blobs', 'session', { raw: body, size }, { [SHA256_HEADER]: sha256 })).json() as Promise<BlobInfo>,
    /** The blob's bytes as a stream, or one range of them. */
    downloadBlob: async (id: string, range?: { start: number; end: number }) => {
      const headers: Record<string, string> = range ? { Range: `bytes=${range.start}-${range.end}` } : {};
      const response = await send('GET', `/v1/blobs/${encodeURIComponent(id)}`, 'session', undefined, headers);
      return response.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() });
    },
    createUpload: (body: { size: number; sha256: string; partSize?: number }) => call<Upload>('POST', '/v1/uploads', 'session', body),
    uploadPart: async (uploadId: string, partNumber: number, bytes: Uint8Array) =>
      (await send('PUT', `/v1/uploads/${encodeURIComponent(uploadId)}/parts/${partNumber}`, 'session', { raw: bytes, size: bytes.length })).json(),
    /** Which parts of an upload the server holds. */
    uploadStatus: (uploadId: string) => call<UploadStatus>('GET', `/v1/uploads/${encodeURIComponent(uploadId)}`, 'session'),
    completeUpload: (uploadId: string) => call<BlobInfo>('POST', `/v1/uploads/${encodeURIComponent(uploadId)}/complete`, 'session'),
    abortUpload: (uploadId: string) => call<void>('DELETE', `/v1/uploads/${encodeURIComponent(uploadId)}`, 'session'),

    setFindEnabled: (deviceId: string, enabled: boolean) =>
      call<Device>('PUT', `/v1/devices/${encodeURIComponent(deviceId)}/find`, 'session', { enabled }),
    lastLocation: (deviceId: string) => call<LastLocation>('GET', `/v1/devices/${encodeURIComponent(deviceId)}/location`, 'session'),
    locationHistory: (deviceId: string, from?: number) =>
      call<LocationHistory>('GET', `/v1/devices/${encodeURIComponent(deviceId)}/locations${from === undefined ? '' : `?from=${from}`}`, 'session'),
    sendCommand: (deviceId: string, signed: SignedCommand) =>
      call<Command>('POST', `/v1/devices/${encodeURIComponent(deviceId)}/commands`, 'session', signed),
    commands: (deviceId: string) => call<{ commands: Command[] }>('GET', `/v1/devices/${encodeURIComponent(deviceId)}/commands`, 'session'),

    // As the device itself (device token):
    setThisDeviceFind: (enabled: boolean) => call<Device>('PUT', '/v1/device/find', 'device', { enabled }),
    reportLocations: (sealed: string[]) =>
      call<{ accepted: number }>('POST', '/v1/device/locations', 'device', { reports: sealed.map((s) => ({ sealed: s })) }),
    pollCommands: (waitSeconds = 0) => call<{ commands: Command[] }>('GET', `/v1/device/commands?wait=${waitSeconds}`, 'device'),
    ackCommand: (commandId: string, status: 'succeeded' | 'failed' | 'rejected', result?: string) =>
      call<Command>('POST', `/v1/device/commands/${encodeURIComponent(commandId)}/ack`, 'device', { status, result }),
    reportSimEvent: (body: SimEventReport) => call<SimEventStatus>('POST', '/v1/device/sim-events', 'device', body),
    verifySimCode: (eventId: string, code: string) =>
      call<SimEventStatus>('POST', `/v1/device/sim-events/${encodeURIComponent(eventId)}/verify`, 'device', { code }),
    resendSimCode: (eventId: string) => call<SimEventStatus>('POST', `/v1/device/sim-events/${encodeURIComponent(eventId)}/resend`, 'device'),
    vapidKey: () => call<{ publicKey: string }>('GET', '/v1/push/vapid-key', 'none'),
    setThisDevicePush: (body: PushSubscriptionRequest) => call<PushSubscriptionInfo>('PUT', '/v1/device/push', 'device', body),
    removeThisDevicePush: () => call<void>('DELETE', '/v1/device/push', 'device'),
    pushSubscriptions: () => call<{ subscriptions: PushSubscriptionInfo[] }>('GET', '/v1/push/subscriptions', 'session'),
    subscribePush: (body: PushSubscriptionRequest) => call<PushSubscriptionInfo>('POST', '/v1/push/subscriptions', 'session', body),
    removePushSubscription: (id: string) => call<void>('DELETE', `/v1/push/subscriptions/${encodeURIComponent(id)}`, 'session'),
    // Consents and the privacy policy:
    policy: () => call<Policy>('GET', '/v1/policy', 'none'),
    accountPolicy: () => call<AccountPolicy>('GET', '/v1/account/policy', 'session'),
    /** Accepts the policy in force (its version, as read) and grants again the purposes named. */
    acceptPolicy: (version: number, regrant: string[] = []) =>
      call<Consents>('POST', '/v1/account/policy/accept', 'session', { version, regrant }),
    consents: () => call<Consents>('GET', '/v1/account/consents', 'session'),
    /** Turning a data kind (sync:<kind>) off needs stored: 'keep' or 'delete'; find needs the deviceId. */
    setConsent: (purpose: string, change: ConsentChange) =>
      call<ConsentChanged>('PUT', `/v1/account/consents/${encodeURIComponent(purpose)}`, 'session', change),
    consentHistory: (cursor?: string, limit = 50) =>
      call<ConsentHistory>('GET', `/v1/account/consents/history?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, 'session'),
    thisDeviceConsents: () => call<Consents>('GET', '/v1/device/consents', 'device'),
    setConsentFromThisDevice: (purpose: string, change: ConsentChange) =>
      call<ConsentChanged>('PUT', `/v1/device/consents/${encodeURIComponent(purpose)}`, 'device', change),
    simEvents: (deviceId: string) => call<{ events: SimEvent[] }>('GET', `/v1/devices/${encodeURIComponent(deviceId)}/sim-events`, 'session'),
    /** A crash report or usage events from this device (needs consent diagnostics or experience). */
    sendDeviceDiagnostics: (body: DiagnosticsReportRequest) =>
      call<DiagnosticsAccepted>('POST', '/v1/device/diagnostics', 'device', body),
    /** The same from a session (the web page's own reports). */
    sendDiagnostics: (body: DiagnosticsReportRequest) => call<DiagnosticsAccepted>('POST', '/v1/account/diagnostics', 'session', body),
    diagnostics: (page: { cursor?: string; limit?: number } = {}) => {
      const query = new URLSearchParams();
      if (page.cursor) query.set('cursor', page.cursor);
      if (page.limit !== undefined) query.set('limit', String(page.limit));
      const qs = query.toString();
      return call<DiagnosticsPage>('GET', `/v1/account/diagnostics${qs ? `?${qs}` : ''}`, 'session');
    },
    deleteDiagnostics: () => call<DiagnosticsDeleted>('DELETE', '/v1/account/diagnostics', 'session'),

    // Deletion, and its receipts (verify them with verifyReceipt from src/protocol/receipts.ts):
    /** Deletes an item, a collection, a data kind or a device with its data, now; answers the signed receipt. */
    purge: (scope: PurgeScope) => call<{ receipt: Receipt }>('POST', '/v1/account/purge', 'session', { scope }),
    /** Schedules the account's deletion after the grace period; needs a fresh proof (proveIdentity). */
    requestAccountDeletion: (proof: Proof) => call<AccountDeletionStatus>('POST', '/v1/account/deletion', 'session', { proof }),
    accountDeletion: () => call<AccountDeletionStatus>('GET', '/v1/account/deletion', 'session'),
    cancelAccountDeletion: () => call<void>('DELETE', '/v1/account/deletion', 'session'),
    receiptKey: () => call<{ publicKey: string }>('GET', '/v1/receipts/key', 'none'),
    receipt: (id: string) => call<Receipt>('GET', `/v1/receipts/${encodeURIComponent(id)}`, 'none'),
    receipts: () => call<{ receipts: Receipt[] }>('GET', '/v1/account/receipts', 'session'),

    // Messages (src/client/messaging/ seals, signs, opens and checks them) and spam reports:
    messagingStatus: () => call<MessagingStatus>('GET', '/v1/device/messaging', 'device'),
    /** Turns messaging on for a number this device verified by SIM-change verification, publishing its messaging keys. */
    turnMessagingOn: (body: MessagingOnRequest) => call<MessagingIdentity>('PUT', '/v1/device/messaging', 'device', body),
    turnMessagingOff: () => call<void>('DELETE', '/v1/device/messaging', 'device'),
    lookUpNumbers: (numbers: string[]) => call<MessagingLookup>('POST', '/v1/device/messaging/lookup', 'device', { numbers }),
    sendMessage: (body: SendMessageRequest) => call<SendMessageResult>('POST', '/v1/device/messages', 'device', body),
    fetchInbox: (limit?: number) => call<Inbox>('GET', `/v1/device/messages${limit === undefined ? '' : `?limit=${limit}`}`, 'device'),
    acknowledgeMessages: (ids: string[]) => call<AckMessagesResult>('POST', '/v1/device/messages/ack', 'device', { ids }),
    blockNumber: (number: string) => call<BlockedNumber>('POST', '/v1/device/messaging/blocks', 'device', { number }),
    unblockNumber: (number: string) => call<void>('DELETE', `/v1/device/messaging/blocks/${encodeURIComponent(number)}`, 'device'),
    blockedNumbers: () => call<BlockList>('GET', '/v1/device/messaging/blocks', 'device'),
    reportSpam: (body: SpamReportRequest) => call<SpamReport>('POST', '/v1/device/spam-reports', 'device', body),
    spamReports: () => call<SpamReportList>('GET', '/v1/device/spam-reports', 'device'),
    withdrawSpamReport: (reportId: string) => call<void>('DELETE', `/v1/device/spam-reports/${encodeURIComponent(reportId)}`, 'device'),
    spamBlocklist: (since = 0) => call<BlocklistDelta>('GET', `/v1/device/spam/blocklist?since=${since}`, 'device'),
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;
