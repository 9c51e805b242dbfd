import { z } from 'zod';

// The export archive (GET /v1/account/export): a ZIP of stored entries (no compression: nearly
// all of it is ciphertext), written by the server as it reads, and opened offline by the SDK
// (src/client/export/). Every entry is listed, with its size and SHA-256, in manifest.json, which
// is always the last entry: an archive that ends without it was cut off. The formats below are
// the contract between the two sides; docs/OPERATIONS.md ("Exporting an account") describes them.
//
// `.json` entries hold one JSON value; `.ndjson` entries one JSON object per line. Binary values
// (keys, ciphertext) are base64url, as on the API; times are Unix milliseconds.

export const EXPORT_FORMAT = 'homing-export';
export const EXPORT_FORMAT_VERSION = 1;

export const EXPORT_ENTRY = {
  account: 'account.json',
  devices: 'devices.json',
  sessions: 'sessions.json',
  consents: 'consents.json',
  collections: 'collections.ndjson',
  items: 'items.ndjson',
  locations: 'locations.ndjson',
  commands: 'commands.ndjson',
  simEvents: 'sim-events.ndjson',
  audit: 'audit.ndjson',
  diagnostics: 'diagnostics.ndjson',
  receipts: 'receipts.json',
  messagingIdentities: 'messaging-identities.json',
  messageBlocks: 'message-blocks.json',
  messages: 'messages.ndjson',
  spamReports: 'spam-reports.ndjson',
  manifest: 'manifest.json',
} as const;

/** Blob objects are stored under blobs/<blobId>, byte for byte as the store holds them (ciphertext). */
export const BLOB_ENTRY_PREFIX = 'blobs/';
export const blobEntryName = (blobId: string) => `${BLOB_ENTRY_PREFIX}${blobId}`;

/** account.json: the account record, with the e-mail and phone number the server holds, opened. */
export const exportAccount = z
  .object({
    accountId: z.string(),
    email: z.string(),
    phoneNumber: z.string().nullable(),
    createdAt: z.number().int(),
    updatedAt: z.number().int(),
    kdf: z.object({ salt: z.string(), opsLimit: z.number().int(), memLimit: z.number().int() }),
    loginPublicKey: z.string(),
    wrappedMasterKey: z.string(),
    recoveryLoginPublicKey: z.string(),
    recoveryWrappedMasterKey: z.string(),
    x25519PublicKey: z.string(),
    wrappedX25519SecretKey: z.string(),
    ed25519PublicKey: z.string(),
    wrappedEd25519SecretKey: z.string(),
  })
  .meta({ id: 'ExportAccount' });

/** devices.json: an array of these. The last location stays sealed to the account's X25519 key. */
export const exportDevice = z
  .object({
    id: z.string(),
    name: z.string(),
    model: z.string(),
    platform: z.string(),
    createdAt: z.number().int(),
    lastSeenAt: z.number().int().nullable(),
    findEnabled: z.boolean(),
    commandCounter: z.number().int(),
    lostSince: z.number().int().nullable(),
    lastLocation: z.string().nullable(),
    lastLocationAt: z.number().int().nullable(),
  })
  .meta({ id: 'ExportDevice' });

/** sessions.json: an array of these; never a token or its hash. */
export const exportSession = z
  .object({
    id: z.string(),
    kind: z.string(),
    label: z.string().nullable(),
    deviceId: z.string().nullable(),
    createdAt: z.number().int(),
    lastUsedAt: z.number().int(),
    expiresAt: z.number().int(),
    reauthenticatedAt: z.number().int().nullable(),
  })
  .meta({ id: 'ExportSession' });

/** collections.ndjson: the collection key wrapped by the master key, metadata sealed by the collection key. */
export const exportCollection = z
  .object({
    id: z.string(),
    kind: z.string(),
    wrappedKey: z.string(),
    encryptedMetadata: z.string(),
    version: z.number().int(),
    seq: z.number().int(),
    createdAt: z.number().int(),
    updatedAt: z.number().int(),
  })
  .meta({ id: 'ExportCollection' });

/** items.ndjson: live, trashed and deleted items (tombstones carry no key or metadata). */
export const exportItem = z
  .object({
    id: z.string(),
    collectionId: z.string(),
    version: z.number().int(),
    state: z.enum(['live', 'trashed', 'deleted']),
    wrappedKey: z.string().nullable(),
    encryptedMetadata: z.string().nullable(),
    blobId: z.string().nullable(),
    trashedAt: z.number().int().nullable(),
    seq: z.number().int(),
    createdAt: z.number().int(),
    updatedAt: z.number().int(),
  })
  .meta({ id: 'ExportItem' });

/** locations.ndjson: each report as the phone sealed it (crypto_box_seal to the account's X25519 key). */
export const exportLocation = z
  .object({ id: z.string(), deviceId: z.string(), sealed: z.string(), receivedAt: z.number().int() })
  .meta({ id: 'ExportLocation' });

/** commands.ndjson: each signed command and what became of it. */
export const exportCommand = z
  .object({
    id: z.string(),
    deviceId: z.string(),
    type: z.string(),
    args: z.string(),
    issuedAt: z.number().int(),
    expiresAt: z.number().int(),
    counter: z.number().int(),
    signature: z.string(),
    status: z.string(),
    deliveries: z.number().int(),
    result: z.string().nullable(),
    createdAt: z.number().int(),
    deliveredAt: z.number().int().nullable(),
    acknowledgedAt: z.number().int().nullable(),
  })
  .meta({ id: 'ExportCommand' });

/** sim-events.ndjson: carrier and numbers are personal data the server sealed for itself: opened here. */
export const exportSimEvent = z
  .object({
    id: z.string(),
    deviceId: z.string(),
    kind: z.string(),
    carrier: z.string().nullable(),
    claimedNumber: z.string().nullable(),
    verifiedNumber: z.string().nullable(),
    method: z.string().nullable(),
    status: z.string(),
    alert: z.boolean(),
    createdAt: z.number().int(),
    verifiedAt: z.number().int().nullable(),
  })
  .meta({ id: 'ExportSimEvent' });

/** audit.ndjson: the account's whole audit log, oldest first. */
export const exportAuditEntry = z
  .object({
    id: z.string(),
    at: z.number().int(),
    action: z.string(),
    deviceId: z.string().nullable(),
    sessionId: z.string().nullable(),
    detail: z.string().nullable(),
  })
  .meta({ id: 'ExportAuditEntry' });

/** messaging-identities.json: an array of these, one per device with messaging on; the number opened from the server's seal. */
export const exportMessagingIdentity = z
  .object({
    deviceId: z.string(),
    number: z.string(),
    x25519PublicKey: z.string(),
    ed25519PublicKey: z.string(),
    since: z.number().int(),
  })
  .meta({ id: 'ExportMessagingIdentity' });

/** message-blocks.json: an array of these, the numbers the account blocked, opened. */
export const exportMessageBlock = z.object({ number: z.string(), since: z.number().int() }).meta({ id: 'ExportMessageBlock' });

/**
 * messages.ndjson: the copies still waiting for one of the account's devices, as the sender sealed
 * them (crypto_box_seal to that device's messaging X25519 key). Only that phone holds the secret
 * key, so neither the server nor the password opens them: the receiving device's key does.
 * Copies the account sent to others are the recipients' data and stay out of this archive.
 */
export const exportMessageCopy = z
  .object({ id: z.string(), deviceId: z.string(), sealed: z.string(), size: z.number().int(), receivedAt: z.number().int() })
  .meta({ id: 'ExportMessageCopy' });

/** spam-reports.ndjson: the account's spam reports, the number opened, and the fingerprint of the reported text (the server keeps no text by default). */
export const exportSpamReport = z
  .object({ id: z.string(), deviceId: z.string(), number: z.string(), fingerprint: z.string().nullable(), createdAt: z.number().int() })
  .meta({ id: 'ExportSpamReport' });

// consents.json (an array) and diagnostics.ndjson hold the consent ledger's events and the
// diagnostics reports as their own features list them (src/protocol/api/consents.ts, diagnostics.ts).
// receipts.json is an array of DeletionReceipt (src/protocol/receipts.ts), each verifiable offline.

export const manifestEntry = z
  .object({
    name: z.string(),
    size: z.number().int().min(0),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .meta({ id: 'ExportManifestEntry' });

/** manifest.json, the last entry: every other entry with its size and SHA-256, computed as it was written. */
export const exportManifest = z
  .object({
    format: z.literal(EXPORT_FORMAT),
    version: z.literal(EXPORT_FORMAT_VERSION),
    accountId: z.string(),
    server: z.string().meta({ description: "The server's public origin" }),
    exportedAt: z.number().int(),
    entries: z.array(manifestEntry),
  })
  .meta({ id: 'ExportManifest' });

export type ExportAccount = z.infer<typeof exportAccount>;
export type ExportDevice = z.infer<typeof exportDevice>;
export type ExportSession = z.infer<typeof exportSession>;
export type ExportCollection = z.infer<typeof exportCollection>;
export type ExportItem = z.infer<typeof exportItem>;
export type ExportLocation = z.infer<typeof exportLocation>;
export type ExportCommand = z.infer<typeof exportCommand>;
export type ExportSimEvent = z.infer<typeof exportSimEvent>;
export type ExportAuditEntry = z.infer<typeof exportAuditEntry>;
export type ExportMessagingIdentity = z.infer<typeof exportMessagingIdentity>;
export type ExportMessageBlock = z.infer<typeof exportMessageBlock>;
export type ExportMessageCopy = z.infer<typeof exportMessageCopy>;
export type ExportSpamReport = z.infer<typeof exportSpamReport>;
export type ExportManifest = z.infer<typeof exportManifest>;
export type ManifestEntry = z.infer<typeof manifestEntry>;
