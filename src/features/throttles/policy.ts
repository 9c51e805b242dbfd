import type { RateLimit } from './service.js';

// The request rate limits, in one table: every operation that changes something, and the reads of
// a device's location, belong to exactly one bucket, and test/security/rate-limits.test.ts fails
// when an operation in /openapi.json has none. These are flood guards in front of the handlers,
// set well above what a working phone or page does; the tighter limits on guessing (login, SIM
// codes) and on cost (SMS, location reports) live with their features.
//
// Counters: 'memory' for the busy buckets, where a database write per request would cost more
// than the request (see memory-windows.ts); 'db' for the rare ones, which must hold across every
// Workers isolate and cost one small upsert beside the write the request makes anyway.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Who a bucket counts: the session's account, the device token's device, or the client address. */
export type RateKey = 'account' | 'device' | 'address';

export interface RateBucket extends RateLimit {
  name: string;
  key: RateKey;
  /** "METHOD /path/{param}" exactly as in /openapi.json. */
  operations: string[];
  /** Why the number is what it is; shown in the README's table. */
  reason: string;
}

export const RATE_BUCKETS: RateBucket[] = [
  {
    name: 'sync writes',
    key: 'account',
    limit: 600,
    windowMs: MINUTE,
    counter: 'memory',
    operations: ['POST /v1/sync/changes', 'POST /v1/sync/collections', 'PATCH /v1/sync/collections/{collectionId}'],
    reason: 'a batch holds up to 500 changes, so a first backup of 100,000 items takes 200 batches',
  },
  {
    name: 'blob uploads',
    key: 'account',
    limit: 1200,
    windowMs: MINUTE,
    counter: 'memory',
    operations: [
      'POST /v1/blobs',
      'POST /v1/blobs/presign',
      'POST /v1/blobs/{blobId}/commit',
      'POST /v1/uploads',
      'PUT /v1/uploads/{uploadId}/parts/{partNumber}',
      'POST /v1/uploads/{uploadId}/complete',
      'DELETE /v1/uploads/{uploadId}',
    ],
    reason: 'a 5 GB file is 640 parts of 8 MiB, about 900 a minute at 1 Gbit/s; small photos go one request each',
  },
  {
    name: 'location reads',
    key: 'account',
    limit: 300,
    windowMs: MINUTE,
    counter: 'memory',
    operations: ['GET /v1/devices/{deviceId}/location', 'GET /v1/devices/{deviceId}/locations'],
    reason: 'the page refreshing ten devices every two seconds',
  },
  {
    name: 'commands',
    key: 'account',
    limit: 60,
    windowMs: MINUTE,
    counter: 'db',
    operations: ['POST /v1/devices/{deviceId}/commands'],
    reason: 'ring, lock, locate and wipe are clicks by a person',
  },
  {
    name: 'device registration',
    key: 'account',
    limit: 30,
    windowMs: HOUR,
    counter: 'db',
    operations: ['POST /v1/devices'],
    reason: 'each registration makes a device and its token; a household registers a few phones a year',
  },
  {
    name: 'device settings',
    key: 'account',
    limit: 120,
    windowMs: MINUTE,
    counter: 'db',
    operations: ['PATCH /v1/devices/{deviceId}', 'DELETE /v1/devices/{deviceId}', 'PUT /v1/devices/{deviceId}/find'],
    reason: 'renaming, removing and switching Find Device on or off are clicks by a person',
  },
  {
    name: 'push subscriptions',
    key: 'account',
    limit: 60,
    windowMs: HOUR,
    counter: 'db',
    operations: ['POST /v1/push/subscriptions', 'DELETE /v1/push/subscriptions/{subscriptionId}'],
    reason: 'a browser subscribes once, and again when its push service rotates the endpoint',
  },
  {
    name: 'account and sessions',
    key: 'account',
    limit: 60,
    windowMs: MINUTE,
    counter: 'db',
    operations: [
      'POST /v1/auth/reauthenticate',
      'POST /v1/auth/logout',
      'POST /v1/account/password',
      'POST /v1/sessions/revoke-others',
      'DELETE /v1/sessions/{sessionId}',
      'POST /v1/account/deletion',
      'DELETE /v1/account/deletion',
    ],
    reason: 'clicks by a person; proofs of the password are also limited by the login limits',
  },
  {
    name: 'data export',
    key: 'account',
    limit: 4,
    windowMs: 24 * HOUR,
    counter: 'db',
    operations: ['GET /v1/account/export'],
    reason: "the policy's \"unreasonably repetitive requests\": an export reads the whole account (up to gigabytes); a person needs it a few times a year",
  },
  {
    name: 'personal data',
    key: 'account',
    limit: 20,
    windowMs: HOUR,
    counter: 'db',
    operations: [
      'POST /v1/account/email',
      'POST /v1/account/email/confirm',
      'POST /v1/account/phone',
      'POST /v1/account/phone/confirm',
      'DELETE /v1/account/phone',
    ],
    reason: 'a person corrects an address or number a few times a year; codes sent have a tighter cap (5 a day an account, 3 an address or number)',
  },
  {
    name: 'data deletion',
    key: 'account',
    limit: 120,
    windowMs: MINUTE,
    counter: 'db',
    operations: ['POST /v1/account/purge'],
    reason: 'a person deleting items, collections or devices one by one; bulk deletes go through sync batches',
  },
  {
    name: 'device reports',
    key: 'device',
    limit: 120,
    windowMs: MINUTE,
    counter: 'memory',
    operations: [
      'POST /v1/device/locations',
      'PUT /v1/device/find',
      'POST /v1/device/commands/{commandId}/ack',
      'PUT /v1/device/push',
      'DELETE /v1/device/push',
    ],
    reason: 'a phone in Lost Mode reports once a second at most (60 a minute, checked by Find Device) and acknowledges each command once',
  },
  {
    name: 'SIM events',
    key: 'device',
    limit: 30,
    windowMs: HOUR,
    counter: 'db',
    operations: [
      'POST /v1/device/sim-events',
      'POST /v1/device/sim-events/{eventId}/verify',
      'POST /v1/device/sim-events/{eventId}/resend',
    ],
    reason: 'a SIM is swapped a few times a year; SMS sent and codes tried have tighter limits of their own',
  },
  {
    name: 'messages',
    key: 'device',
    limit: 120,
    windowMs: MINUTE,
    counter: 'memory',
    operations: ['POST /v1/device/messages', 'POST /v1/device/messages/ack'],
    reason: 'a fast typist sends a message every few seconds and the phone acknowledges each inbox page; copies sent have a cap of 1,000 a day a device',
  },
  {
    name: 'messaging switch',
    key: 'device',
    limit: 30,
    windowMs: HOUR,
    counter: 'db',
    operations: ['PUT /v1/device/messaging', 'DELETE /v1/device/messaging'],
    reason: 'a phone turns messaging on once per app install and off rarely; each change writes the consent ledger',
  },
  {
    name: 'directory lookups',
    key: 'device',
    limit: 30,
    windowMs: MINUTE,
    counter: 'memory',
    operations: ['POST /v1/device/messaging/lookup'],
    reason: 'a phone checks its contacts 50 numbers a request when messaging starts; the numbers themselves have a daily cap per account (MESSAGING_LOOKUPS_PER_DAY)',
  },
  {
    name: 'message blocks',
    key: 'device',
    limit: 60,
    windowMs: HOUR,
    counter: 'db',
    operations: ['POST /v1/device/messaging/blocks', 'DELETE /v1/device/messaging/blocks/{number}'],
    reason: 'a person blocks or unblocks a number from a conversation; more than one a minute is not a person',
  },
  {
    name: 'spam reports',
    key: 'device',
    limit: 60,
    windowMs: HOUR,
    counter: 'db',
    operations: ['POST /v1/device/spam-reports', 'DELETE /v1/device/spam-reports/{reportId}'],
    reason: 'a person taps "report spam" on a message, or withdraws a report; more than one a minute is not a person',
  },
  {
    name: 'device diagnostics',
    key: 'device',
    limit: 60,
    windowMs: HOUR,
    counter: 'db',
    operations: ['POST /v1/device/diagnostics'],
    reason: 'a crash report per crash, and usage events sent in batches every few minutes at most',
  },
  {
    name: 'diagnostics of the account',
    key: 'account',
    limit: 60,
    windowMs: HOUR,
    counter: 'db',
    operations: ['POST /v1/account/diagnostics', 'DELETE /v1/account/diagnostics'],
    reason: "the web page's own crash reports and usage batches, and the owner's deletions, which are clicks",
  },
  {
    name: 'consent choices',
    key: 'account',
    limit: 60,
    windowMs: MINUTE,
    counter: 'db',
    operations: ['PUT /v1/account/consents/{purpose}', 'POST /v1/account/policy/accept'],
    reason: 'switches a person flips in settings, and accepting a new policy once; a withdrawal with delete purges a whole data kind',
  },
  {
    name: 'device consent choices',
    key: 'device',
    limit: 60,
    windowMs: MINUTE,
    counter: 'db',
    operations: ['PUT /v1/device/consents/{purpose}'],
    reason: 'the same switches, flipped in the phone app',
  },
  {
    name: 'login and sign-up',
    key: 'address',
    limit: 120,
    windowMs: MINUTE,
    counter: 'memory',
    operations: ['POST /v1/auth/challenge', 'POST /v1/auth/login', 'POST /v1/accounts'],
    reason: 'above the login limits (30 challenges a minute an address), so they decide; stops floods of made-up logins before the database',
  },
  {
    name: 'guardian consent and deletion',
    key: 'address',
    limit: 30,
    windowMs: HOUR,
    counter: 'db',
    operations: [
      'POST /v1/accounts/pending/{pendingSignupId}/confirm',
      'POST /v1/accounts/pending/{pendingSignupId}/resend',
      'POST /v1/guardian/deletion',
      'POST /v1/guardian/deletion/confirm',
    ],
    reason: 'a family confirms a sign-up or a deletion in a few tries; codes die after 5 wrong ones, and sends per sign-up, guardian and child have daily limits of their own',
  },
  {
    name: 'SMS webhook',
    key: 'address',
    limit: 600,
    windowMs: MINUTE,
    counter: 'memory',
    operations: ['POST /v1/sms/inbound'],
    reason: "Twilio posts every inbound SMS from a small pool of its own addresses",
  },
];

const templateRegex = (template: string) =>
  new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^/}]+\}/g, '[^/]+')}$`);

const compiled = RATE_BUCKETS.flatMap((bucket) =>
  bucket.operations.map((operation) => {
    const [method, path] = operation.split(' ') as [string, string];
    return { bucket, method, path: templateRegex(path) };
  }),
);

/** The bucket a request (or an OpenAPI operation, by its path template) counts against, if any. */
export function rateBucketOf(method: string, path: string): RateBucket | undefined {
  const upper = method.toUpperCase();
  return compiled.find((entry) => entry.method === upper && entry.path.test(path))?.bucket;
}
