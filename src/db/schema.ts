import { sql } from 'drizzle-orm';
import { type AnySQLiteColumn, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

// Times are Unix milliseconds from deps.clock. Keys and wrapped secrets are base64url text:
// the server stores them for the client and can open none of them.

export const accounts = sqliteTable(
  'accounts',
  {
    id: text('id').primaryKey(),
    // Personal data the server must read (to send mail or SMS) is sealed under the server key
    // and found by a keyed hash, so a copy of the database alone reveals neither.
    emailCiphertext: text('email_ciphertext').notNull(),
    emailIndex: text('email_index').notNull(),
    phoneCiphertext: text('phone_ciphertext'),
    phoneIndex: text('phone_index'),
    kdfSalt: text('kdf_salt').notNull(),
    kdfOpsLimit: integer('kdf_ops_limit').notNull(),
    kdfMemLimit: integer('kdf_mem_limit').notNull(),
    loginPublicKey: text('login_public_key').notNull(),
    wrappedMasterKey: text('wrapped_master_key').notNull(),
    recoveryLoginPublicKey: text('recovery_login_public_key').notNull(),
    recoveryWrappedMasterKey: text('recovery_wrapped_master_key').notNull(),
    x25519PublicKey: text('x25519_public_key').notNull(),
    wrappedX25519SecretKey: text('wrapped_x25519_secret_key').notNull(),
    ed25519PublicKey: text('ed25519_public_key').notNull(),
    wrappedEd25519SecretKey: text('wrapped_ed25519_secret_key').notNull(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('accounts_email_index').on(t.emailIndex),
    uniqueIndex('accounts_phone_index').on(t.phoneIndex),
  ],
);

export const loginChallenges = sqliteTable(
  'login_challenges',
  {
    id: text('id').primaryKey(),
    // Null when the email is unknown: the decoy challenge is stored like a real one so the two
    // cost the same, and it can never verify.
    accountId: text('account_id'),
    // Keys the failure backoff, which must treat known and unknown emails alike.
    emailIndex: text('email_index').notNull(),
    method: text('method', { enum: ['password', 'recovery'] }).notNull(),
    nonce: text('nonce').notNull(),
    origin: text('origin').notNull(),
    expiresAt: integer('expires_at').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('login_challenges_expires').on(t.expiresAt)],
);

export const sessions = sqliteTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    accountId: text('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull(),
    kind: text('kind', { enum: ['bearer', 'cookie'] }).notNull(),
    label: text('label'),
    createdAt: integer('created_at').notNull(),
    lastUsedAt: integer('last_used_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    // Set by a signed re-authentication; dangerous actions ask for a recent one.
    reauthenticatedAt: integer('reauthenticated_at'),
    // The phone this session was opened on: removing the device ends the session with it.
    deviceId: text('device_id').references((): AnySQLiteColumn => devices.id, { onDelete: 'cascade' }),
  },
  (t) => [
    uniqueIndex('sessions_token_hash').on(t.tokenHash),
    index('sessions_device').on(t.deviceId),
    index('sessions_account').on(t.accountId),
    index('sessions_expires').on(t.expiresAt),
  ],
);

export const devices = sqliteTable(
  'devices',
  {
    id: text('id').primaryKey(),
    accountId: text('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    model: text('model').notNull(),
    platform: text('platform', { enum: ['android', 'ios', 'other'] }).notNull(),
    // The client sends a hash of the hardware identifier; the server keys it again so the
    // stored value cannot be matched against identifiers seen elsewhere.
    identifierHash: text('identifier_hash').notNull(),
    tokenHash: text('token_hash').notNull(),
    createdAt: integer('created_at').notNull(),
    lastSeenAt: integer('last_seen_at'),
    // Find Device is off until the owner (or the phone) turns it on: consent, per device.
    findEnabled: integer('find_enabled', { mode: 'boolean' }).notNull().default(false),
    // The highest command counter accepted for this device; a command must exceed it.
    commandCounter: integer('command_counter').notNull().default(0),
    // The last-known location, sealed to the account's X25519 key; kept until replaced or until
    // Find Device is turned off, while older history expires.
    lastLocation: text('last_location'),
    lastLocationAt: integer('last_location_at'),
    // Lost Mode: set by the owner's lock command, ended by their unlock command.
    lostSince: integer('lost_since'),
    // When the owner was last told that the lost phone reported, so they are told once, not per report.
    lostNotifiedAt: integer('lost_notified_at'),
  },
  (t) => [
    uniqueIndex('devices_token_hash').on(t.tokenHash),
    uniqueIndex('devices_account_identifier').on(t.accountId, t.identifierHash),
  ],
);

export const throttles = sqliteTable(
  'throttles',
  {
    key: text('key').primaryKey(),
    count: integer('count').notNull().default(0),
    windowStartedAt: integer('window_started_at').notNull(),
    blockedUntil: integer('blocked_until').notNull().default(0),
    updatedAt: integer('updated_at').notNull().default(sql`0`),
  },
  (t) => [index('throttles_updated').on(t.updatedAt)],
);

// ---- Encrypted sync -------------------------------------------------------------------------
// Rows hold ciphertext and the little the server needs to keep devices in step: ids, versions,
// kinds, sizes and the per-account change sequence.

export const syncState = sqliteTable('sync_state', {
  accountId: text('account_id')
    .primaryKey()
    .references(() => accounts.id, { onDelete: 'cascade' }),
  // The last change sequence handed out. Every commit takes the next one inside its own atomic
  // write, and SQLite commits one writer at a time, so sequence order is commit order.
  seq: integer('seq').notNull().default(0),
  // Tombstones of deletions at or below this sequence have been purged: a client whose cursor is
  // older cannot learn of them and gets cursor_expired, then resyncs from the start.
  tombstonesPurgedThrough: integer('tombstones_purged_through').notNull().default(0),
});

export const collections = sqliteTable(
  'collections',
  {
    accountId: text('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    id: text('id').notNull(),
    kind: text('kind').notNull(),
    wrappedKey: text('wrapped_key').notNull(),
    encryptedMetadata: text('encrypted_metadata').notNull(),
    version: integer('version').notNull(),
    changeSeq: integer('change_seq').notNull(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.id] }), index('collections_changes').on(t.accountId, t.changeSeq, t.id)],
);

export const items = sqliteTable(
  'items',
  {
    accountId: text('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    id: text('id').notNull(),
    collectionId: text('collection_id').notNull(),
    version: integer('version').notNull(),
    state: text('state', { enum: ['live', 'trashed', 'deleted'] }).notNull(),
    // Null on tombstones: a deleted item keeps only what sync needs to tell other devices.
    wrappedKey: text('wrapped_key'),
    encryptedMetadata: text('encrypted_metadata'),
    blobId: text('blob_id'),
    trashedAt: integer('trashed_at'),
    changeSeq: integer('change_seq').notNull(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.id] }),
    // A delta page reads (commit, id) order straight off this index, with no sort.
    index('items_changes').on(t.accountId, t.changeSeq, t.id),
    index('items_trash').on(t.state, t.trashedAt),
    // One item per blob: a blob is never shared, so purging an item can delete its blob.
    uniqueIndex('items_blob').on(t.accountId, t.blobId),
  ],
);

export const blobs = sqliteTable(
  'blobs',
  {
    accountId: text('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    id: text('id').notNull(),
    size: integer('size').notNull(),
    sha256: text('sha256').notNull(),
    // pending: being stored, not yet checked; committed: stored whole with its hash checked.
    // deleting: dropped by its last item, its object on the way out. Only committed blobs can be
    // referenced by an item, so a blob being deleted can never be picked up again.
    state: text('state', { enum: ['pending', 'committed', 'deleting'] }).notNull(),
    // Items that reference the blob, moved inside the same atomic write as the item change, so
    // the blobs feature knows when a blob is free without reading sync's tables.
    refs: integer('refs').notNull().default(0),
    createdAt: integer('created_at').notNull(),
    committedAt: integer('committed_at'),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.id] }), index('blobs_age').on(t.state, t.createdAt)],
);

export const blobUsage = sqliteTable('blob_usage', {
  accountId: text('account_id')
    .primaryKey()
    .references(() => accounts.id, { onDelete: 'cascade' }),
  // Bytes of committed blobs, counted by the server from what it stored.
  bytesUsed: integer('bytes_used').notNull().default(0),
});

export const uploads = sqliteTable(
  'uploads',
  {
    accountId: text('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    id: text('id').notNull(),
    blobId: text('blob_id').notNull(),
    storeUploadId: text('store_upload_id').notNull(),
    size: integer('size').notNull(),
    sha256: text('sha256').notNull(),
    partSize: integer('part_size').notNull(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.id] }), index('uploads_expiry').on(t.expiresAt)],
);

export const uploadParts = sqliteTable(
  'upload_parts',
  {
    accountId: text('account_id').notNull(),
    uploadId: text('upload_id').notNull(),
    partNumber: integer('part_number').notNull(),
    size: integer('size').notNull(),
    etag: text('etag').notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.uploadId, t.partNumber] })],
);

/**
 * Never holds a row. A batch that must stop when a condition fails inserts NULL here, which
 * violates NOT NULL and aborts the whole batch: D1 has no interactive transactions, so this is
 * how a multi-statement write checks versions and quotas and still commits all or nothing.
 */
export const writeGuards = sqliteTable('write_guards', {
  ok: integer('ok').notNull(),
});

// ---- Find Device ----------------------------------------------------------------------------

export const locationReports = sqliteTable(
  'location_reports',
  {
    accountId: text('account_id').notNull(),
    deviceId: text('device_id')
      .notNull()
      .references(() => devices.id, { onDelete: 'cascade' }),
    id: text('id').notNull(),
    // crypto_box_seal to the account's X25519 key: the server cannot read where the phone was.
    sealed: text('sealed').notNull(),
    receivedAt: integer('received_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.id] }),
    index('location_reports_device').on(t.accountId, t.deviceId, t.receivedAt),
    index('location_reports_age').on(t.receivedAt),
  ],
);

export const commands = sqliteTable(
  'commands',
  {
    accountId: text('account_id').notNull(),
    deviceId: text('device_id')
      .notNull()
      .references(() => devices.id, { onDelete: 'cascade' }),
    id: text('id').notNull(),
    type: text('type', { enum: ['ring', 'stop-ring', 'lock', 'unlock', 'locate', 'wipe'] }).notNull(),
    // Exactly the string the owner signed; the device verifies the signature itself.
    args: text('args').notNull(),
    issuedAt: integer('issued_at').notNull(),
    // Signed by the owner with the command: the device carries it out until then, however late
    // it comes online, and the server marks it expired at that time if it was never acknowledged.
    expiresAt: integer('expires_at').notNull().default(0),
    counter: integer('counter').notNull(),
    signature: text('signature').notNull(),
    status: text('status', { enum: ['pending', 'delivered', 'succeeded', 'failed', 'rejected', 'cancelled', 'expired'] }).notNull(),
    // A handed-out command is leased, not consumed: after this time without an acknowledgement
    // the next poll hands it out again (the reply may never have reached the phone).
    leaseUntil: integer('lease_until'),
    deliveries: integer('deliveries').notNull().default(0),
    result: text('result'),
    createdAt: integer('created_at').notNull(),
    deliveredAt: integer('delivered_at'),
    acknowledgedAt: integer('acknowledged_at'),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.id] }),
    index('commands_device').on(t.deviceId, t.status, t.createdAt),
    index('commands_expiry').on(t.status, t.expiresAt),
  ],
);

/** What happened to an account's sensitive data, for the account's own eyes. */
export const auditLog = sqliteTable(
  'audit_log',
  {
    accountId: text('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    id: text('id').notNull(),
    at: integer('at').notNull(),
    action: text('action').notNull(),
    deviceId: text('device_id'),
    sessionId: text('session_id'),
    // What the entry is about, never content: a command's type, a consent's purpose, counts.
    detail: text('detail'),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.id] }),
    index('audit_log_account').on(t.accountId, t.at),
    index('audit_log_age').on(t.at),
  ],
);

// ---- SIM-change verification ------------------------------------------------------------------

export const simEvents = sqliteTable(
  'sim_events',
  {
    accountId: text('account_id').notNull(),
    deviceId: text('device_id')
      .notNull()
      .references(() => devices.id, { onDelete: 'cascade' }),
    // Chosen by the device, so a retried report is the same event, not a second SMS.
    id: text('id').notNull(),
    kind: text('kind', { enum: ['inserted', 'replaced', 'removed'] }).notNull(),
    // Keyed hash of the device's (already hashed) SIM identifier.
    simIdHash: text('sim_id_hash').notNull(),
    // Phone numbers and carrier names are personal data the server must read: sealed under the
    // server key, like emails.
    carrierSealed: text('carrier_sealed'),
    claimedNumberSealed: text('claimed_number_sealed'),
    verifiedNumberSealed: text('verified_number_sealed'),
    method: text('method', { enum: ['outbound', 'inbound'] }),
    status: text('status', { enum: ['recorded', 'pending', 'verified', 'failed'] }).notNull(),
    // Raised when the SIM changed while the device was locked as lost.
    alert: integer('alert', { mode: 'boolean' }).notNull().default(false),
    createdAt: integer('created_at').notNull(),
    verifiedAt: integer('verified_at'),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.id] }), index('sim_events_device').on(t.deviceId, t.createdAt)],
);

export const simVerifications = sqliteTable(
  'sim_verifications',
  {
    accountId: text('account_id').notNull(),
    eventId: text('event_id').notNull(),
    deviceId: text('device_id')
      .notNull()
      .references(() => devices.id, { onDelete: 'cascade' }),
    // Outbound: keyed hash of the code texted to the claimed number.
    codeHash: text('code_hash'),
    // Inbound: blind index of the one-time token the phone texts to us.
    inboundTokenIndex: text('inbound_token_index'),
    numberIndex: text('number_index'),
    attempts: integer('attempts').notNull().default(0),
    sends: integer('sends').notNull().default(0),
    expiresAt: integer('expires_at').notNull(),
    consumedAt: integer('consumed_at'),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.eventId] }),
    uniqueIndex('sim_verifications_inbound').on(t.inboundTokenIndex),
    index('sim_verifications_expiry').on(t.expiresAt),
  ],
);

export const pushSubscriptions = sqliteTable(
  'push_subscriptions',
  {
    id: text('id').primaryKey(),
    accountId: text('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    // A phone's own subscription (woken for its commands), or a browser's, bound to its session;
    // either way it dies with what it is bound to.
    deviceId: text('device_id').references(() => devices.id, { onDelete: 'cascade' }),
    sessionId: text('session_id').references(() => sessions.id, { onDelete: 'cascade' }),
    // RFC 8030 push resource, and the RFC 8291 keys the payload is encrypted to.
    endpoint: text('endpoint').notNull(),
    p256dh: text('p256dh').notNull(),
    auth: text('auth').notNull(),
    createdAt: integer('created_at').notNull(),
    lastSuccessAt: integer('last_success_at'),
    failures: integer('failures').notNull().default(0),
  },
  (t) => [
    uniqueIndex('push_subscriptions_endpoint').on(t.accountId, t.endpoint),
    index('push_subscriptions_device').on(t.deviceId),
    index('push_subscriptions_session').on(t.sessionId),
  ],
);

// ---- The user's rights (privacy policy) -------------------------------------------------------

/**
 * The consent ledger: every choice, never overwritten. The current state of a purpose is its
 * newest row; a purpose with no row has its default (src/protocol/api/consents.ts).
 */
export const consentEvents = sqliteTable(
  'consent_events',
  {
    accountId: text('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    id: text('id').notNull(),
    // e.g. sync:contacts, find, sim_sms, experience, diagnostics.
    purpose: text('purpose').notNull(),
    // Set for choices that belong to one phone (Find Device); empty for the account's own.
    deviceId: text('device_id').notNull().default(''),
    granted: integer('granted', { mode: 'boolean' }).notNull(),
    // The policy version in force when the choice was made.
    policyVersion: integer('policy_version').notNull(),
    // Who made it: the session or device that asked, or 'system' (sign-up, a policy change).
    actorSessionId: text('actor_session_id'),
    actorDeviceId: text('actor_device_id'),
    // On withdrawal: whether stored data was kept or deleted, and the deletion's receipt.
    choice: text('choice', { enum: ['keep', 'delete'] }),
    receiptId: text('receipt_id'),
    at: integer('at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.id] }),
    // The newest row of a purpose is the highest rowid, which an index holds after its columns:
    // the consent check that every consented write makes reads one entry, with no sort.
    index('consent_events_purpose').on(t.accountId, t.purpose, t.deviceId),
  ],
);

/** Each policy version the server has published, recorded at start-up; never deleted. */
export const policyVersions = sqliteTable('policy_versions', {
  version: integer('version').primaryKey(),
  reducesRights: integer('reduces_rights', { mode: 'boolean' }).notNull(),
  textSha256: text('text_sha256').notNull(),
  publishedAt: integer('published_at').notNull(),
});

/** Which accounts were told of which policy version, by e-mail and in the app. */
export const policyNotices = sqliteTable(
  'policy_notices',
  {
    accountId: text('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    emailedAt: integer('emailed_at'),
    acknowledgedAt: integer('acknowledged_at'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.version] })],
);

/** One-time codes sent by e-mail or SMS: new addresses, new numbers, guardians. */
export const verificationCodes = sqliteTable(
  'verification_codes',
  {
    id: text('id').primaryKey(),
    purpose: text('purpose', { enum: ['email_change', 'phone_change', 'guardian_consent', 'guardian_deletion'] }).notNull(),
    // The account or pending sign-up the code is for.
    subjectId: text('subject_id').notNull(),
    channel: text('channel', { enum: ['email', 'sms'] }).notNull(),
    // Where the code went, sealed under the server key, and its blind index.
    targetSealed: text('target_sealed').notNull(),
    targetIndex: text('target_index').notNull(),
    codeHash: text('code_hash').notNull(),
    attempts: integer('attempts').notNull().default(0),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    consumedAt: integer('consumed_at'),
  },
  (t) => [index('verification_codes_subject').on(t.subjectId, t.purpose), index('verification_codes_expiry').on(t.expiresAt)],
);

/**
 * An under-14 sign-up waiting for its guardian: the request sealed under the server key and
 * nothing else. It becomes an account when the guardian confirms, or is forgotten when it expires.
 */
export const pendingSignups = sqliteTable(
  'pending_signups',
  {
    id: text('id').primaryKey(),
    accountId: text('account_id').notNull(),
    emailIndex: text('email_index').notNull(),
    requestSealed: text('request_sealed').notNull(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [uniqueIndex('pending_signups_email').on(t.emailIndex), index('pending_signups_expiry').on(t.expiresAt)],
);

/** A child's account and the guardian who consented, who may later have it deleted. */
export const guardianships = sqliteTable(
  'guardianships',
  {
    accountId: text('account_id')
      .primaryKey()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    channel: text('channel', { enum: ['email', 'sms'] }).notNull(),
    guardianSealed: text('guardian_sealed').notNull(),
    guardianIndex: text('guardian_index').notNull(),
    birthYear: integer('birth_year').notNull(),
    consentedAt: integer('consented_at').notNull(),
  },
  (t) => [index('guardianships_guardian').on(t.guardianIndex)],
);

/** Crash reports and usage events, kept only with consent and only for the retention window. */
export const diagnostics = sqliteTable(
  'diagnostics',
  {
    accountId: text('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    id: text('id').notNull(),
    deviceId: text('device_id').references(() => devices.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: ['crash', 'usage'] }).notNull(),
    // What the app sent, as JSON text, size-limited; never the client's address.
    body: text('body').notNull(),
    size: integer('size').notNull(),
    appVersion: text('app_version'),
    receivedAt: integer('received_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.id] }),
    index('diagnostics_account').on(t.accountId, t.receivedAt),
    index('diagnostics_age').on(t.receivedAt),
  ],
);

/** An account deletion the owner (or a child's guardian) asked for, waiting out its grace period. */
export const accountDeletions = sqliteTable(
  'account_deletions',
  {
    accountId: text('account_id')
      .primaryKey()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    requestedBy: text('requested_by', { enum: ['owner', 'guardian'] }).notNull(),
    requestedAt: integer('requested_at').notNull(),
    dueAt: integer('due_at').notNull(),
    // Set when the purge begins: from then on it cannot be cancelled, only finished.
    purgeStartedAt: integer('purge_started_at'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
  },
  (t) => [index('account_deletions_due').on(t.dueAt)],
);

/**
 * Signed receipts of deletions. They outlive the account on purpose: with the tombstone they are
 * all that remains, so a user can prove what was deleted and when.
 */
export const deletionReceipts = sqliteTable(
  'deletion_receipts',
  {
    id: text('id').primaryKey(),
    accountId: text('account_id').notNull(),
    // The canonical JSON that was signed, and the server's Ed25519 signature of it.
    payload: text('payload').notNull(),
    signature: text('signature').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('deletion_receipts_account').on(t.accountId, t.createdAt)],
);

/** A deleted account's id and when it went, so the id is never reused; nothing personal. */
export const accountTombstones = sqliteTable('account_tombstones', {
  accountId: text('account_id').primaryKey(),
  deletedAt: integer('deleted_at').notNull(),
  receiptId: text('receipt_id').notNull(),
});

/** Each housekeeping job's last run, for the operator. */
export const jobRuns = sqliteTable('job_runs', {
  name: text('name').primaryKey(),
  startedAt: integer('started_at').notNull(),
  finishedAt: integer('finished_at'),
  durationMs: integer('duration_ms'),
  // JSON: what the run removed or did, e.g. {"rows":12,"objects":3}.
  counts: text('counts'),
  error: text('error'),
  runs: integer('runs').notNull().default(0),
  failures: integer('failures').notNull().default(0),
});

// ---- messages (features/messaging) ----

/**
 * A device's messaging identity: the number it verified by SIM-change verification, and the
 * public keys others seal to (X25519) and check its signatures with (Ed25519). The row existing
 * is the switch: turning messaging off, removing the device or deleting the account removes it.
 */
export const messagingIdentities = sqliteTable(
  'messaging_identities',
  {
    deviceId: text('device_id')
      .primaryKey()
      .references(() => devices.id, { onDelete: 'cascade' }),
    accountId: text('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    // The directory is looked up by blind index; the number itself is sealed like every other.
    numberIndex: text('number_index').notNull(),
    numberSealed: text('number_sealed').notNull(),
    x25519PublicKey: text('x25519_public_key').notNull(),
    ed25519PublicKey: text('ed25519_public_key').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('messaging_identities_number').on(t.numberIndex), index('messaging_identities_account').on(t.accountId)],
);

/**
 * One sealed copy of a message waiting for one recipient device: deleted when that device
 * acknowledges it, or after MESSAGE_RETENTION_DAYS. The server holds only ciphertext, its size,
 * and who sent it (kept only until delivery, so the recipient can check the signature).
 */
export const messageCopies = sqliteTable(
  'message_copies',
  {
    id: text('id').primaryKey(),
    accountId: text('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    deviceId: text('device_id')
      .notNull()
      .references(() => devices.id, { onDelete: 'cascade' }),
    // Keyed hash of (sending device, the sender's message id): a retried send is the same copy.
    dedupeKey: text('dedupe_key').notNull(),
    sealed: text('sealed').notNull(),
    size: integer('size').notNull(),
    senderDeviceId: text('sender_device_id').notNull(),
    senderNumberSealed: text('sender_number_sealed').notNull(),
    senderEd25519PublicKey: text('sender_ed25519_public_key').notNull(),
    receivedAt: integer('received_at').notNull(),
  },
  (t) => [
    uniqueIndex('message_copies_dedupe').on(t.deviceId, t.dedupeKey),
    index('message_copies_queue').on(t.deviceId, t.receivedAt),
    index('message_copies_age').on(t.receivedAt),
    index('message_copies_account').on(t.accountId),
  ],
);

/** A number whose messages the account's devices never receive; the sender cannot tell. */
export const messageBlocks = sqliteTable(
  'message_blocks',
  {
    accountId: text('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    numberIndex: text('number_index').notNull(),
    numberSealed: text('number_sealed').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.numberIndex] })],
);

// ---- spam reports (features/spam) ----

/**
 * At most one report per account per number. Reported text becomes a similarity fingerprint
 * (src/protocol/spam-fingerprint.ts); the text itself is kept only if SPAM_TEXT_RETENTION_HOURS
 * says so, sealed, until textExpiresAt.
 */
export const spamReports = sqliteTable(
  'spam_reports',
  {
    id: text('id').primaryKey(),
    accountId: text('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    deviceId: text('device_id')
      .notNull()
      .references(() => devices.id, { onDelete: 'cascade' }),
    numberIndex: text('number_index').notNull(),
    numberSealed: text('number_sealed').notNull(),
    fingerprint: text('fingerprint'),
    textSealed: text('text_sealed'),
    textExpiresAt: integer('text_expires_at'),
    // What the report counts towards publishing: 2 for an established account, 1 for a new one.
    weight: integer('weight').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('spam_reports_account_number').on(t.accountId, t.numberIndex),
    index('spam_reports_number').on(t.numberIndex, t.createdAt),
    index('spam_reports_age').on(t.createdAt),
  ],
);

/**
 * The published blocklist: numbers and text fingerprints reported by enough accounts. Every
 * change (listed or unlisted again) takes the next version, so devices fetch a delta. No row
 * names a reporter or a time.
 */
export const spamBlocklist = sqliteTable(
  'spam_blocklist',
  {
    kind: text('kind', { enum: ['number', 'text'] }).notNull(),
    value: text('value').notNull(),
    version: integer('version').notNull(),
    listed: integer('listed', { mode: 'boolean' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.kind, t.value] }), uniqueIndex('spam_blocklist_version').on(t.version)],
);
