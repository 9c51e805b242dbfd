import { createECDH, randomBytes } from 'node:crypto';
import { signCommand } from '../../src/client/crypto/commands.js';
import { toBase64Url } from '../../src/protocol/encoding.js';
import { fakeSealed, sha256Hex } from '../features/sync-helpers.js';
import { TEST_KDF, uniqueEmail } from '../harness.js';
import { randomId } from './helpers.js';
import { type Attacker, type Ids, signupBody } from './matrix-world.js';

// The authorization matrix's table: every operation of /openapi.json, keyed `METHOD path`, with
// who may call it and sample inputs that aim at the victim. The test fails when the document has
// an operation this table lacks, or the table one the document no longer has.
//
// Each sample is built twice: once from the victim's ids and once from unknown ids of the same
// shapes. `expect` is the answer of the caller the scope admits (anyone for public operations;
// another account's session or device for session and device operations), `sibling` that of
// another device of the victim's own account; every other caller must get 401. An answer given
// as { victim, unknown } differs between the two on purpose, and says why.

export type Scope = 'public' | 'webhook' | 'session' | 'device';

export type Answer = number | { victim: number; unknown: number; why: string };

export interface RequestSpec {
  /** Path parameters the sample sets itself; the others come from PATH_PARAMETERS. */
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
  /** A body sent as it is (bytes or a form), with its own Content-Type in headers. */
  raw?: Uint8Array | string;
  headers?: Record<string, string>;
}

export interface SampleContext {
  attacker: Attacker;
  now(): number;
  /** A fresh login challenge for the email (a decoy one when nobody has it). */
  challengeFor(email: string): Promise<string>;
}

export interface Sample {
  note: string;
  request(ids: Ids, ctx: SampleContext): RequestSpec | Promise<RequestSpec>;
  expect: Answer;
  sibling?: Answer;
  /** Victim values (names from Ids) this answer shows to anyone by design, e.g. what a public receipt names. */
  shows?: string[];
}

export interface Operation {
  scope: Scope;
  samples: Sample[];
}

/** Which of the victim's values each path parameter of the document takes. */
export const PATH_PARAMETERS: Record<string, (ids: Ids) => string> = {
  sessionId: (ids) => ids.sessionId,
  deviceId: (ids) => ids.deviceId,
  collectionId: (ids) => ids.collectionId,
  itemId: (ids) => ids.itemId,
  blobId: (ids) => ids.blobId,
  uploadId: (ids) => ids.uploadId,
  partNumber: () => '1',
  commandId: (ids) => ids.commandId,
  eventId: (ids) => ids.eventId,
  subscriptionId: (ids) => ids.subscriptionId,
  receiptId: (ids) => ids.receiptId,
  // A report id that is nobody's: any device of an account may withdraw that account's reports,
  // so a victim's report here would be the sibling's to withdraw; another account's reports are
  // aimed at in test/security/spam-attacks.test.ts.
  reportId: () => randomId(),
  purpose: () => 'experience',
  number: (ids) => ids.phoneNumber,
};

const bytes = (n: number) => toBase64Url(randomBytes(n));
const signature = () => bytes(64);
const p256 = () => {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return toBase64Url(ecdh.getPublicKey());
};
const pushBody = (endpoint: string) => ({ endpoint, keys: { p256dh: p256(), auth: bytes(16) } });
const kdf = () => ({ salt: bytes(16), ...TEST_KDF });
const octets = (data: Uint8Array, extra: Record<string, string> = {}) => ({
  raw: data,
  headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(data.length), ...extra },
});
const changes = (...list: unknown[]) => ({ body: { changes: list } });
const command = (deviceId: string, type: 'ring' | 'wipe', now: number) =>
  signCommand({ deviceId, type, args: {}, issuedAt: now, counter: 1_000 }, randomBytes(32));

const only = (note: string, expect: Answer, request: Sample['request'] = () => ({}), sibling?: Answer): Sample[] => [
  { note, request, expect, sibling },
];

// Sign-up refuses an email, phone number or account id that is taken, and saying so tells a
// stranger that someone has that email or number, although POST /v1/auth/challenge takes care not
// to. A known leak, pinned here so that it stays visible until sign-up stops answering it; the
// account id is harmless (128 random bits nobody else is shown).
const TAKEN = (what: string) => ({ victim: 409, unknown: 201, why: `sign-up answers 409 when ${what} is taken` });

const ENDPOINT_HELD = { victim: 409, unknown: 200, why: 'a push endpoint another device or session of the account holds is not the caller’s to take' };

export const OPERATIONS: Record<string, Operation> = {
  // ---- public ----
  'POST /v1/auth/challenge': {
    scope: 'public',
    samples: [
      { note: "for the victim's email", request: (ids) => ({ body: { email: ids.email, method: 'password' } }), expect: 200 },
      { note: "recovery, for the victim's email", request: (ids) => ({ body: { email: ids.email, method: 'recovery' } }), expect: 200 },
    ],
  },
  'POST /v1/auth/login': {
    scope: 'public',
    samples: only("a challenge of the victim's, signed wrongly", 401, async (ids, ctx) => ({
      body: { challengeId: await ctx.challengeFor(ids.email), signature: signature() },
    })),
  },
  'POST /v1/accounts': {
    scope: 'public',
    samples: [
      { note: "the victim's account id", request: (ids) => ({ body: signupBody({ accountId: ids.accountId }) }), expect: TAKEN('the account id') },
      { note: "the victim's email", request: (ids) => ({ body: signupBody({ email: ids.email }) }), expect: TAKEN('the email') },
      { note: "the victim's phone number", request: (ids) => ({ body: signupBody({ phoneNumber: ids.phoneNumber }) }), expect: TAKEN('the phone number') },
      {
        note: "an under-14 sign-up with the victim's email",
        request: (ids) => ({ body: { ...signupBody({ email: ids.email }), birthYear: 2015, guardian: { email: uniqueEmail('guardian') } } }),
        expect: { victim: 409, unknown: 202, why: 'a pending sign-up meets the same TAKEN answer as any sign-up; 202 waits for the guardian' },
      },
    ],
  },
  // The victim is an adult: no pending sign-up and no guardian of theirs exists to aim at, so these
  // show that made-up ids and codes are refused and that a deletion request answers alike for all.
  'POST /v1/accounts/pending/{pendingSignupId}/confirm': {
    scope: 'public',
    samples: only('a made-up pending sign-up and code', 400, () => ({
      params: { pendingSignupId: randomId() },
      body: { verificationId: randomId(), code: '000000' },
    })),
  },
  'POST /v1/accounts/pending/{pendingSignupId}/resend': {
    scope: 'public',
    samples: only('a made-up pending sign-up', 404, () => ({ params: { pendingSignupId: randomId() } })),
  },
  'POST /v1/guardian/deletion': {
    scope: 'public',
    samples: only("the victim's email with their own phone as guardian", 202, (ids) => ({
      body: { childEmail: ids.email, guardian: { phoneNumber: ids.phoneNumber } },
    })),
  },
  'POST /v1/guardian/deletion/confirm': {
    scope: 'public',
    samples: only('a made-up code', 400, () => ({ body: { verificationId: randomId(), code: '000000' } })),
  },
  'GET /v1/push/vapid-key': { scope: 'public', samples: only('the server key', 200) },
  'GET /v1/receipts/key': { scope: 'public', samples: only('the receipt key', 200) },
  'GET /v1/receipts/{receiptId}': {
    scope: 'public',
    samples: [
      {
        note: "the victim's receipt",
        request: () => ({}),
        expect: { victim: 200, unknown: 404, why: 'a receipt is public by its unguessable id, so it outlives the account' },
        // What it records: the account and, for an item, the collection it was in (ids, never content).
        shows: ['accountId', 'collectionId'],
      },
    ],
  },
  'GET /healthz': { scope: 'public', samples: only('health', 200) },
  'GET /v1/policy': { scope: 'public', samples: only('the privacy policy', 200) },
  'POST /v1/sms/inbound': {
    scope: 'webhook',
    samples: only("an unsigned SMS from the victim's numbers", 403, (ids) => ({
      raw: new URLSearchParams({ From: ids.phoneNumber, To: '+447700900999', Body: `${ids.simCode} ${ids.eventId}` }).toString(),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': bytes(20) },
    })),
  },

  // ---- the session and the account ----
  'GET /v1/auth/session': { scope: 'session', samples: only('its own session', 200) },
  'POST /v1/auth/reauthenticate': {
    scope: 'session',
    samples: only("a challenge of the victim's", 401, async (ids, ctx) => ({
      body: { challengeId: await ctx.challengeFor(ids.email), signature: signature() },
    })),
  },
  'POST /v1/auth/logout': { scope: 'session', samples: only('its own session', 204) },
  'POST /v1/account/password': {
    scope: 'session',
    samples: only("a proof on a challenge of the victim's", 401, async (ids, ctx) => ({
      body: {
        proof: { challengeId: await ctx.challengeFor(ids.email), signature: signature() },
        kdf: kdf(),
        loginPublicKey: bytes(32),
        wrappedMasterKey: bytes(72),
      },
    })),
  },
  // Personal data: a proof must be a fresh challenge of the caller's own account, and a code the caller's own.
  'POST /v1/account/email': {
    scope: 'session',
    samples: only("a proof on a challenge of the victim's", 401, async (ids, ctx) => ({
      body: { proof: { challengeId: await ctx.challengeFor(ids.email), signature: signature() }, email: 'new-address@example.org' },
    })),
  },
  'POST /v1/account/email/confirm': {
    scope: 'session',
    samples: only('a code the caller was never sent', 400, () => ({ body: { verificationId: randomId(), code: '123456' } })),
  },
  'POST /v1/account/phone': {
    scope: 'session',
    samples: only("a proof on a challenge of the victim's, for the victim's number", 401, async (ids, ctx) => ({
      body: { proof: { challengeId: await ctx.challengeFor(ids.email), signature: signature() }, phoneNumber: ids.phoneNumber },
    })),
  },
  'POST /v1/account/phone/confirm': {
    scope: 'session',
    samples: only('a code the caller was never sent', 400, () => ({ body: { verificationId: randomId(), code: '123456' } })),
  },
  'DELETE /v1/account/phone': {
    scope: 'session',
    samples: only("a proof on a challenge of the victim's", 401, async (ids, ctx) => ({
      body: { proof: { challengeId: await ctx.challengeFor(ids.email), signature: signature() } },
    })),
  },
  'GET /v1/account': { scope: 'session', samples: only('its own account', 200) },
  'GET /v1/account/keys': { scope: 'session', samples: only('its own keys', 200) },
  'GET /v1/account/audit': { scope: 'session', samples: only('its own audit log', 200) },
  'GET /v1/account/receipts': { scope: 'session', samples: only('its own receipts', 200) },
  'POST /v1/account/purge': {
    scope: 'session',
    samples: [
      { note: "delete the victim's item", request: (ids) => ({ body: { scope: { type: 'item', itemId: ids.itemId } } }), expect: 404 },
      { note: "delete the victim's collection", request: (ids) => ({ body: { scope: { type: 'collection', collectionId: ids.collectionId } } }), expect: 404 },
      { note: "delete the victim's phone with its data", request: (ids) => ({ body: { scope: { type: 'device', deviceId: ids.deviceId } } }), expect: 404 },
      // A kind names no one's data: the caller deletes its own photos (none), never the victim's.
      { note: "the victim's data kind, in its own account", request: () => ({ body: { scope: { type: 'data-kind', kind: 'photos' } } }), expect: 200 },
    ],
  },
  'POST /v1/account/deletion': {
    scope: 'session',
    samples: only("schedule with a proof on a challenge of the victim's", 401, async (ids, ctx) => ({
      body: { proof: { challengeId: await ctx.challengeFor(ids.email), signature: signature() } },
    })),
  },
  'GET /v1/account/deletion': { scope: 'session', samples: only('its own scheduled deletion', 200) },
  'DELETE /v1/account/deletion': { scope: 'session', samples: only('cancel its own (none scheduled)', 404) },
  // Diagnostics need a consent that is off by default, so a report of the caller's own is refused
  // (nothing of the victim's can be named: the account comes from the credential alone).
  'POST /v1/device/diagnostics': {
    scope: 'device',
    samples: only('a crash report of its own, consent off', 403, () => ({ body: { kind: 'crash', report: { error: 'x' } } }), 403),
  },
  'POST /v1/account/diagnostics': {
    scope: 'session',
    samples: only('a crash report of its own, consent off', 403, () => ({ body: { kind: 'crash', report: { error: 'x' } } })),
  },
  'GET /v1/account/diagnostics': { scope: 'session', samples: only('its own reports', 200) },
  'DELETE /v1/account/diagnostics': { scope: 'session', samples: only('its own reports', 200) },

  // ---- consents and the policy ----
  'GET /v1/account/consents': { scope: 'session', samples: only('its own consents', 200) },
  'GET /v1/account/consents/history': { scope: 'session', samples: only('its own consent ledger', 200) },
  'PUT /v1/account/consents/{purpose}': {
    scope: 'session',
    samples: [
      {
        note: "turn Find Device on for the victim's phone",
        request: (ids) => ({ params: { purpose: 'find' }, body: { granted: true, deviceId: ids.deviceId } }),
        expect: 404,
      },
      { note: 'its own experience program', request: () => ({ body: { granted: true } }), expect: 200 },
    ],
  },
  'GET /v1/account/policy': { scope: 'session', samples: only('its own policy status', 200) },
  'POST /v1/account/policy/accept': {
    scope: 'session',
    samples: only('accept for itself, regranting Find Device', 200, () => ({ body: { version: 1, regrant: ['find'] } })),
  },
  'GET /v1/device/consents': { scope: 'device', samples: only("its account's consents", 200, undefined, 200) },
  'PUT /v1/device/consents/{purpose}': {
    scope: 'device',
    // A phone chooses Find Device for itself only: another device of the same account is refused like a stranger's.
    samples: only("turn off Find Device on the victim's phone", 404, (ids) => ({ params: { purpose: 'find' }, body: { granted: false, deviceId: ids.deviceId } }), 404),
  },
  // The attacker's own archive (its login is recent enough); the matrix checks nothing of the victim's is in it.
  'GET /v1/account/export': { scope: 'session', samples: only('its own export', 200) },
  'GET /v1/sessions': { scope: 'session', samples: only('its own sessions', 200) },
  'POST /v1/sessions/revoke-others': { scope: 'session', samples: only('its own other sessions', 200) },
  'DELETE /v1/sessions/{sessionId}': { scope: 'session', samples: only("the victim's session", 404) },

  // ---- devices ----
  'POST /v1/devices': {
    scope: 'session',
    samples: only("the victim's phone hardware", 201, (ids) => ({
      body: { name: 'attacker clone', model: 'Pixel 9', platform: 'android', identifierHash: ids.identifierHash },
    })),
  },
  'GET /v1/devices': { scope: 'session', samples: only('its own devices', 200) },
  'GET /v1/devices/{deviceId}': { scope: 'session', samples: only("the victim's phone", 404) },
  'PATCH /v1/devices/{deviceId}': { scope: 'session', samples: only("rename the victim's phone", 404, () => ({ body: { name: 'pwned' } })) },
  'DELETE /v1/devices/{deviceId}': { scope: 'session', samples: only("remove the victim's phone", 404) },
  'GET /v1/device': { scope: 'device', samples: only('its own device', 200, undefined, 200) },

  // ---- sync ----
  'GET /v1/sync/collections': { scope: 'session', samples: only('its own collections', 200) },
  'POST /v1/sync/collections': {
    scope: 'session',
    // Collection ids are chosen by clients and unique per account, so another account may use the same one.
    samples: only("the victim's collection id, in its own account", 201, (ids) => ({
      body: { id: ids.collectionId, kind: 'notes', wrappedKey: fakeSealed(), encryptedMetadata: fakeSealed(40) },
    })),
  },
  'PATCH /v1/sync/collections/{collectionId}': {
    scope: 'session',
    samples: only("the victim's collection", 404, () => ({ body: { baseVersion: 1, encryptedMetadata: fakeSealed(40) } })),
  },
  'POST /v1/sync/changes': {
    scope: 'session',
    samples: [
      { note: "update the victim's item", request: (ids) => changes({ op: 'update', itemId: ids.itemId, baseVersion: 1, encryptedMetadata: fakeSealed(40) }), expect: 404 },
      { note: "drop the victim's item's blob", request: (ids) => changes({ op: 'update', itemId: ids.itemId, baseVersion: 1, encryptedMetadata: fakeSealed(40), blobId: null }), expect: 404 },
      { note: "trash the victim's item", request: (ids) => changes({ op: 'trash', itemId: ids.itemId, baseVersion: 1 }), expect: 404 },
      { note: "delete the victim's item", request: (ids) => changes({ op: 'delete', itemId: ids.itemId, baseVersion: 1 }), expect: 404 },
      {
        note: "create an item in the victim's collection",
        request: (ids) => changes({ op: 'create', itemId: randomId(), collectionId: ids.collectionId, wrappedKey: fakeSealed(), encryptedMetadata: fakeSealed(40) }),
        expect: 404,
      },
      {
        note: "attach the victim's blob to an item of its own",
        request: (ids, ctx) =>
          changes({ op: 'create', itemId: randomId(), collectionId: ctx.attacker.collectionId, wrappedKey: fakeSealed(), encryptedMetadata: fakeSealed(40), blobId: ids.blobId }),
        expect: 404,
      },
      {
        note: "the victim's item id, in a collection of its own",
        request: (ids, ctx) =>
          changes({ op: 'create', itemId: ids.itemId, collectionId: ctx.attacker.collectionId, wrappedKey: fakeSealed(), encryptedMetadata: fakeSealed(40) }),
        expect: 200,
      },
    ],
  },
  'GET /v1/sync/changes': { scope: 'session', samples: only('its own feed, from the start', 200, () => ({ query: { since: '0', limit: '1000' } })) },
  'GET /v1/sync/items/{itemId}': { scope: 'session', samples: only("the victim's item", 404) },

  // ---- blobs ----
  'POST /v1/blobs': {
    scope: 'session',
    samples: only('a blob of its own', 201, () => {
      const data = randomBytes(100);
      return octets(data, { 'X-Homing-SHA256': sha256Hex(data) });
    }),
  },
  'GET /v1/blobs/{blobId}': {
    scope: 'session',
    samples: [
      { note: "the victim's blob", request: () => ({}), expect: 404 },
      { note: "a range of the victim's blob", request: () => ({ headers: { Range: 'bytes=0-99' } }), expect: 404 },
      { note: "the victim's blob still uploading", request: (ids) => ({ params: { blobId: ids.pendingBlobId } }), expect: 404 },
    ],
  },
  'POST /v1/uploads': { scope: 'session', samples: only('an upload of its own', 201, () => ({ body: { size: 1000, sha256: sha256Hex(randomBytes(8)) } })) },
  'PUT /v1/uploads/{uploadId}/parts/{partNumber}': {
    scope: 'session',
    samples: only("a part into the victim's upload", 404, () => octets(randomBytes(1000))),
  },
  'GET /v1/uploads/{uploadId}': { scope: 'session', samples: only("the parts of the victim's upload", 404) },
  'POST /v1/uploads/{uploadId}/complete': { scope: 'session', samples: only("complete the victim's upload", 404) },
  'DELETE /v1/uploads/{uploadId}': { scope: 'session', samples: only("abort the victim's upload", 404) },
  // The fs store has no presigned URLs, so this is refused whoever asks; it names nothing of anyone's.
  'POST /v1/blobs/presign': { scope: 'session', samples: only('presign on a store without it', 400, () => ({ body: { size: 100, sha256: sha256Hex(randomBytes(8)) } })) },
  'POST /v1/blobs/{blobId}/commit': {
    scope: 'session',
    samples: [
      { note: "the victim's committed blob", request: () => ({}), expect: 404 },
      { note: "the victim's pending blob", request: (ids) => ({ params: { blobId: ids.pendingBlobId } }), expect: 404 },
    ],
  },
  'GET /v1/blobs/{blobId}/url': { scope: 'session', samples: only("a URL for the victim's blob", 404) },

  // ---- the street map ----
  // Public map data, the same for every account; the matrix app configures none, so a session
  // gets 404 whatever it asks, and nothing of the victim's is in it either way.
  'GET /v1/map/archive': {
    scope: 'session',
    samples: [
      { note: 'the whole archive', request: () => ({}), expect: 404 },
      { note: 'a range of it', request: () => ({ headers: { Range: 'bytes=0-16383' } }), expect: 404 },
    ],
  },

  // ---- Find Device ----
  'PUT /v1/devices/{deviceId}/find': { scope: 'session', samples: only("turn off the victim's Find Device", 404, () => ({ body: { enabled: false } })) },
  'PUT /v1/device/find': { scope: 'device', samples: only('turn off its own Find Device', 200, () => ({ body: { enabled: false } }), 200) },
  'POST /v1/device/locations': {
    scope: 'device',
    samples: only('report its own location', 202, () => ({ body: { reports: [{ sealed: bytes(100) }] } }), 202),
  },
  'GET /v1/devices/{deviceId}/location': { scope: 'session', samples: only("the victim's last location", 404) },
  'GET /v1/devices/{deviceId}/locations': { scope: 'session', samples: only("the victim's history", 404, () => ({ query: { from: '0' } })) },
  'POST /v1/devices/{deviceId}/commands': {
    scope: 'session',
    samples: [
      { note: "ring the victim's phone", request: (ids, ctx) => ({ body: command(ids.deviceId, 'ring', ctx.now()) }), expect: 404 },
      { note: "wipe the victim's phone", request: (ids, ctx) => ({ body: command(ids.deviceId, 'wipe', ctx.now()) }), expect: 404 },
    ],
  },
  'GET /v1/devices/{deviceId}/commands': { scope: 'session', samples: only("the victim's commands", 404) },
  'GET /v1/device/commands': { scope: 'device', samples: only('poll its own commands', 200, () => ({ query: { wait: '0' } }), 200) },
  'POST /v1/device/commands/{commandId}/ack': {
    scope: 'device',
    samples: only("acknowledge the phone's command", 404, () => ({ body: { status: 'succeeded', result: 'done' } }), 404),
  },

  // ---- SIM change ----
  'POST /v1/device/sim-events': {
    scope: 'device',
    samples: only(
      "the phone's SIM event id",
      201,
      (ids) => ({ body: { eventId: ids.eventId, kind: 'removed', simIdHash: bytes(32) } }),
      // Event ids are chosen by devices and unique within an account: a sibling reusing the
      // phone's is told it is taken (and reaches nothing of it); another account's is its own.
      { victim: 409, unknown: 201, why: "a SIM event id another device of the account used is taken" },
    ),
  },
  'POST /v1/device/sim-events/{eventId}/verify': {
    scope: 'device',
    samples: only("the phone's event, with the right code", 404, (ids) => ({ body: { code: ids.simCode } }), 404),
  },
  'POST /v1/device/sim-events/{eventId}/resend': { scope: 'device', samples: only("resend the phone's code", 404, undefined, 404) },
  'GET /v1/devices/{deviceId}/sim-events': { scope: 'session', samples: only("the victim's SIM history", 404) },

  // ---- push ----
  'PUT /v1/device/push': {
    scope: 'device',
    samples: [
      // A device acts only for itself: it may not take over the endpoint another device or a
      // session of its account holds (it would have to know that secret URL first).
      { note: "the phone's push endpoint", request: (ids) => ({ body: pushBody(ids.devicePushEndpoint) }), expect: 200, sibling: ENDPOINT_HELD },
      { note: "the owner's browser endpoint", request: (ids) => ({ body: pushBody(ids.pushEndpoint) }), expect: 200, sibling: ENDPOINT_HELD },
    ],
  },
  'DELETE /v1/device/push': { scope: 'device', samples: only('its own subscription', 204, undefined, 204) },
  'GET /v1/push/subscriptions': { scope: 'session', samples: only('its own subscriptions', 200) },
  'POST /v1/push/subscriptions': {
    scope: 'session',
    samples: [
      { note: "the owner's browser endpoint", request: (ids) => ({ body: pushBody(ids.pushEndpoint) }), expect: 201 },
      { note: "the phone's endpoint", request: (ids) => ({ body: pushBody(ids.devicePushEndpoint) }), expect: 201 },
    ],
  },
  'DELETE /v1/push/subscriptions/{subscriptionId}': {
    scope: 'session',
    samples: [
      { note: "the owner's browser subscription", request: () => ({}), expect: 404 },
      { note: "the phone's subscription", request: (ids) => ({ params: { subscriptionId: ids.deviceSubscriptionId } }), expect: 404 },
    ],
  },

  // ---- messages (the queue; test/security/messages-attacks.test.ts aims at a victim's copies) ----
  'POST /v1/device/messages': {
    scope: 'device',
    // The callers here have not turned messaging on, so sending is refused before any copy is
    // looked at; what a sender with messaging on can and cannot do is in messages-attacks.
    samples: only('a copy for the phone', 403, (ids) => ({ body: { messageId: randomId(), copies: [{ deviceId: ids.deviceId, sealed: bytes(200) }] } }), 403),
  },
  'GET /v1/device/messages': { scope: 'device', samples: only('its own inbox, never the phone’s', 200, () => ({ query: { limit: '10' } }), 200) },
  'POST /v1/device/messages/ack': {
    scope: 'device',
    samples: only('acknowledge ids that are not its own', 200, () => ({ body: { ids: [randomId(), randomId()] } }), 200),
  },

  // ---- messaging: identities, the directory, blocks (test/security/messaging-attacks.test.ts aims at a victim with messaging on) ----
  'GET /v1/device/messaging': { scope: 'device', samples: only('its own messaging status', 200, undefined, 200) },
  'PUT /v1/device/messaging': {
    scope: 'device',
    // Only a number the calling device itself verified by SIM-change verification: none here has.
    samples: only("the victim's number with the caller's keys", 403, (ids) => ({ body: { number: ids.phoneNumber, x25519PublicKey: bytes(32), ed25519PublicKey: bytes(32) } }), 403),
  },
  'DELETE /v1/device/messaging': { scope: 'device', samples: only('its own messaging, already off', 204, undefined, 204) },
  'POST /v1/device/messaging/lookup': {
    scope: 'device',
    // Only a device with messaging on looks numbers up; what such a device learns is in messaging-attacks.
    samples: only("the victim's number", 403, (ids) => ({ body: { numbers: [ids.phoneNumber] } }), 403),
  },
  'GET /v1/device/messaging/blocks': { scope: 'device', samples: only("its own account's blocks, never the phone's", 200, undefined, 200) },
  'POST /v1/device/messaging/blocks': {
    scope: 'device',
    samples: only("block the victim's number on its own account", 201, (ids) => ({ body: { number: ids.phoneNumber } }), 201),
  },
  'DELETE /v1/device/messaging/blocks/{number}': { scope: 'device', samples: only("unblock the victim's number on its own account", 204, undefined, 204) },

  // ---- spam reports (the caller's own account only) ----
  'POST /v1/device/spam-reports': {
    scope: 'device',
    samples: only('report a number for its own account', 201, () => ({ body: { number: `+4477009${String(randomBytes(3).readUIntBE(0, 3) % 100_000).padStart(5, '0')}` } }), 201),
  },
  'GET /v1/device/spam-reports': { scope: 'device', samples: only("its own account's reports, never the phone's", 200, undefined, 200) },
  'DELETE /v1/device/spam-reports/{reportId}': { scope: 'device', samples: only('a report id that is not its own', 404, undefined, 404) },
  'GET /v1/device/spam/blocklist': { scope: 'device', samples: only('the published list', 200, () => ({ query: { since: '0' } }), 200) },
};
