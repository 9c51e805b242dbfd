import { z } from 'zod';
import type { S3BlobStoreConfig } from './adapters/blob-store-s3.js';
import type { SmsConfig } from './adapters/sms-node.js';

// Every setting comes from the environment (process.env on Node, bindings on Workers) and is
// parsed here, once, at start-up. Nothing reads the environment at import time.

const MiB = 1024 * 1024;

const integer = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const envSchema = z.object({
  PORT: integer(8787, 1, 65535),
  HOST: z.string().min(1).default('127.0.0.1'),
  PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  HOMING_DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_PATH: z.string().min(1).optional(),
  HOMING_MIGRATIONS_DIR: z.string().min(1).optional(),
  HOMING_SERVER_KEY: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/, 'must be 32 bytes in base64url (43 characters)')
    .optional(),
  TRUST_PROXY_HEADER: z.enum(['x-forwarded-for', 'x-real-ip', 'cf-connecting-ip']).optional(),
  MAX_BODY_BYTES: integer(1 * MiB, 1024, 64 * MiB),
  SESSION_TTL_HOURS: integer(24 * 30, 1, 24 * 365),
  SESSION_IDLE_HOURS: integer(24 * 7, 1, 24 * 365),
  CHALLENGE_TTL_SECONDS: integer(120, 10, 900),
  KDF_MIN_OPS_LIMIT: integer(2, 1, 16),
  KDF_MIN_MEM_LIMIT: integer(64 * MiB, 8192, 1024 * MiB),
  BLOB_STORE: z.enum(['fs', 's3']).default('fs'),
  BLOB_DIR: z.string().min(1).optional(),
  S3_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_BUCKET: z.string().min(3).max(63).optional(),
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  S3_FORCE_PATH_STYLE: z.enum(['true', 'false']).default('true'),
  S3_PRESIGN: z.enum(['true', 'false']).default('false'),
  MAX_BLOB_BYTES: integer(4 * 1024 * MiB, 1024, 5 * 1024 * 1024 * MiB),
  ACCOUNT_QUOTA_BYTES: integer(10 * 1024 * MiB, 1024, 1024 * 1024 * 1024 * MiB),
  TRASH_RETENTION_DAYS: integer(30, 1, 3650),
  UPLOAD_EXPIRY_HOURS: integer(24, 1, 24 * 30),
  LOCATION_HISTORY_HOURS: integer(24, 1, 24 * 90),
  COMMAND_LEASE_SECONDS: integer(60, 1, 3600),
  SMS_PROVIDER: z.enum(['log', 'twilio']).default('log'),
  SMS_OUTBOX_PATH: z.string().min(1).optional(),
  SMS_ALLOWED_PREFIXES: z
    .string()
    .regex(/^\+[1-9][0-9]{0,3}(,\+[1-9][0-9]{0,3})*$/, 'must be calling-code prefixes like +44,+1,+49')
    .optional(),
  SMS_INBOUND_NUMBER: z.string().regex(/^\+[1-9][0-9]{6,14}$/, 'must be an E.164 number').optional(),
  TWILIO_ACCOUNT_SID: z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'must look like AC followed by 32 hex digits').optional(),
  TWILIO_AUTH_TOKEN: z.string().min(16).optional(),
  TWILIO_API_KEY_SID: z.string().regex(/^SK[0-9a-fA-F]{32}$/, 'must look like SK followed by 32 hex digits').optional(),
  TWILIO_API_KEY_SECRET: z.string().min(16).optional(),
  TWILIO_MESSAGING_SERVICE_SID: z.string().regex(/^MG[0-9a-fA-F]{32}$/, 'must look like MG followed by 32 hex digits').optional(),
  TWILIO_FROM_NUMBER: z.string().regex(/^\+[1-9][0-9]{6,14}$/, 'must be an E.164 number').optional(),
  TWILIO_REGION: z.string().regex(/^[a-z0-9]+$/).optional(),
  TWILIO_EDGE: z.string().regex(/^[a-z0-9-]+$/).optional(),
  TILE_URL_TEMPLATE: z
    .url({ protocol: /^https?$/ })
    .refine((t) => ['{z}', '{x}', '{y}'].every((p) => t.includes(p)), 'must contain {z}, {x} and {y}')
    .optional(),
  MAP_ARCHIVE_FILE: z.string().min(1).optional(),
  MAP_ARCHIVE_BLOB_KEY: z
    .string()
    .regex(/^map\/[A-Za-z0-9._-]{1,100}\.pmtiles$/, 'must look like map/<name>.pmtiles (a key under map/ in the blob store)')
    .optional(),
  MAP_FETCH_WHOLE_BELOW_MB: integer(32, 0, 1024),
  VAPID_SUBJECT: z
    .string()
    .refine((v) => /^mailto:[^@\s]+@[^@\s]+$/.test(v) || /^https:\/\/[^\s]+$/.test(v), 'must be a mailto: address or an https: URL')
    .optional(),
  PUSH_ALLOW_INSECURE_ENDPOINTS: z.enum(['true', 'false']).default('false'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  REQUEST_TIMEOUT_SECONDS: integer(300, 1, 3600),
  SHUTDOWN_GRACE_SECONDS: integer(10, 0, 600),
  TLS_CERT_FILE: z.string().min(1).optional(),
  TLS_KEY_FILE: z.string().min(1).optional(),
  EMAIL_PROVIDER: z.enum(['log', 'smtp', 'cloudflare']).default('log'),
  EMAIL_OUTBOX_PATH: z.string().min(1).optional(),
  EMAIL_FROM: z
    .string()
    .regex(/^[^@\s<>]+@[^@\s<>]+$/, 'must be a bare address such as homing@example.org')
    .optional(),
  SMTP_URL: z.url({ protocol: /^smtps?$/ }).optional(),
  POLICY_FILE: z.string().min(1).optional(),
  POLICY_VERSION: integer(1, 1, 1_000_000),
  POLICY_REDUCES_RIGHTS: z.enum(['true', 'false']).default('false'),
  DELETION_GRACE_DAYS: integer(7, 0, 365),
  AUDIT_RETENTION_DAYS: integer(365, 1, 3650),
  DIAGNOSTICS_RETENTION_DAYS: integer(90, 1, 3650),
  DIAGNOSTICS_MAX_BYTES: integer(64 * 1024, 1024, 1 * MiB),
  TOMBSTONE_RETENTION_DAYS: integer(90, 1, 3650),
  PENDING_SIGNUP_HOURS: integer(72, 1, 24 * 30),
  VERIFICATION_CODE_MINUTES: integer(30, 1, 24 * 60),
  MESSAGE_RETENTION_DAYS: integer(30, 1, 365),
  MESSAGE_MAX_BYTES: integer(64 * 1024, 1024, 1 * MiB),
  MESSAGE_QUEUE_MAX: integer(5000, 10, 1_000_000),
  MESSAGING_LOOKUPS_PER_DAY: integer(200, 1, 100_000),
  SPAM_MIN_ACCOUNTS: integer(3, 2, 100_000),
  SPAM_WINDOW_DAYS: integer(30, 1, 3650),
  SPAM_TEXT_RETENTION_HOURS: integer(0, 0, 24 * 30),
  SPAM_NEW_ACCOUNT_DAYS: integer(7, 0, 365),
});

export type Env = Record<string, string | undefined>;

export interface Config {
  port: number;
  host: string;
  /** The origin clients reach us at; login challenges are bound to it. */
  publicOrigin: string;
  dataDir: string;
  databasePath: string;
  /** The drizzle/ migrations folder (Node); unset, the package's own, found from the running code. */
  migrationsDir?: string;
  serverKey?: string;
  trustProxyHeader?: 'x-forwarded-for' | 'x-real-ip' | 'cf-connecting-ip';
  maxBodyBytes: number;
  sessionTtlMs: number;
  sessionIdleMs: number;
  challengeTtlMs: number;
  kdfMinimum: { opsLimit: number; memLimit: number };
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  blobs:
    | { store: 'fs'; dir: string }
    | ({ store: 's3'; presign: boolean } & S3BlobStoreConfig);
  maxBlobBytes: number;
  accountQuotaBytes: number;
  trashRetentionMs: number;
  uploadExpiryMs: number;
  locationHistoryMs: number;
  /** How long a handed-out command waits for its acknowledgement before a poll hands it out again. */
  commandLeaseMs: number;
  sms: SmsConfig;
  /** Calling-code prefixes SMS may go to; empty means any (guard against SMS pumping with it). */
  smsAllowedPrefixes: string[];
  /** The number phones text their inbound verification token to (Twilio only). */
  smsInboundNumber?: string;
  /** Raster tiles under the Find Device map; unset, the page draws offline and asks no third party. */
  tileUrlTemplate?: string;
  /**
   * The street map the page draws: a PMTiles archive served from this origin (GET /v1/map/archive),
   * from a local file (Node) or a key under map/ in the blob store (S3, R2). Unset, the page draws
   * the offline world map.
   */
  map: {
    file?: string;
    blobKey?: string;
    /** Archives smaller than this are fetched whole by the page, so the server never learns which tiles it shows. */
    fetchWholeBelowBytes: number;
  };
  push: {
    /** The VAPID `sub` claim push services may contact the operator through. */
    subject: string;
    /** http: and private or loopback endpoints (local development and tests only: see SECURITY.md). */
    allowInsecureEndpoints: boolean;
  };
  email: {
    /** log: an outbox file (Node) or the log, masked (Workers); smtp: SMTP_URL; cloudflare: the send_email binding. */
    provider: 'log' | 'smtp' | 'cloudflare';
    outboxPath: string;
    /** The From address of every message. */
    from: string;
    /** smtp:// or smtps:// with credentials, e.g. smtps://user:pass@mail.example.org:465. */
    smtpUrl?: string;
  };
  policy: {
    /** A UTF-8 text file with the privacy policy; unset, the policy shipped in docs/privacy-policy.txt. */
    file?: string;
    /** Raised by the operator with each new text; consents record the version in force. */
    version: number;
    /** This version takes rights away: consents given under older versions count as off until accepted again. */
    reducesRights: boolean;
  };
  /** How long a requested account deletion waits (cancelable) before the purge runs. */
  deletionGraceMs: number;
  auditRetentionMs: number;
  diagnosticsRetentionMs: number;
  /** Largest crash report or usage batch accepted, in bytes. */
  diagnosticsMaxBytes: number;
  /** How long sync keeps tombstones of deleted items; a client behind that must resync. */
  tombstoneRetentionMs: number;
  /** How long an under-14 sign-up waits for its guardian's consent before it is forgotten. */
  pendingSignupMs: number;
  /** How long an e-mail or SMS verification code stays valid. */
  verificationCodeMs: number;
  /** Device-to-device messages (features/messaging). */
  messaging: {
    /** How long an unacknowledged sealed copy waits for its device before it is deleted. */
    retentionMs: number;
    /** Largest sealed copy accepted, in bytes (decoded). */
    maxSealedBytes: number;
    /** Most copies one device's queue holds; past it, copies to that device are refused. */
    queueMax: number;
    /** Numbers an account may look up in the directory per day (docs/SECURITY.md says why). */
    lookupsPerDay: number;
  };
  /** Spam reports and the published blocklist (features/spam). */
  spam: {
    /** Distinct accounts (established ones; a new account counts half) that must report a number or a text before it is published. At least 2. */
    minAccounts: number;
    /** Only reports this recent count. */
    windowMs: number;
    /** How long reported text is kept, sealed, after its fingerprint is taken; 0 keeps none. */
    textRetentionMs: number;
    /** An account younger than this counts half towards publishing. */
    newAccountMs: number;
  };
  /** The Node server's own settings (Workers ignore them). */
  node: {
    /** How long a client may take to send one whole request, body included. */
    requestTimeoutMs: number;
    /** How long requests in flight may run on after SIGTERM before they are cut. */
    shutdownGraceMs: number;
    /** PEM files to serve https with directly; unset, plain http (e.g. behind a TLS proxy). */
    tls?: { certFile: string; keyFile: string };
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

/** Parses the environment; throws ConfigError with one line per bad variable. */
export function parseConfig(env: Env): Config {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = issue.path.join('.');
        return `${name}=${JSON.stringify(present[name] ?? '')}: ${issue.message}`;
      }),
    );
  }
  const e = parsed.data;
  if (e.KDF_MIN_MEM_LIMIT % 1024 !== 0) {
    throw new ConfigError([`KDF_MIN_MEM_LIMIT=${e.KDF_MIN_MEM_LIMIT}: must be a multiple of 1024`]);
  }
  let blobs: Config['blobs'] = { store: 'fs', dir: e.BLOB_DIR ?? `${e.HOMING_DATA_DIR}/blobs` };
  if (e.BLOB_STORE === 's3') {
    const missing = (['S3_BUCKET', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'] as const).filter((name) => !e[name]);
    if (missing.length) throw new ConfigError(missing.map((name) => `${name}: required when BLOB_STORE=s3`));
    blobs = {
      store: 's3',
      endpoint: e.S3_ENDPOINT,
      region: e.S3_REGION,
      bucket: e.S3_BUCKET!,
      accessKeyId: e.S3_ACCESS_KEY_ID!,
      secretAccessKey: e.S3_SECRET_ACCESS_KEY!,
      forcePathStyle: e.S3_FORCE_PATH_STYLE === 'true',
      presign: e.S3_PRESIGN === 'true',
    };
  }
  let sms: Config['sms'] = { provider: 'log', outboxPath: e.SMS_OUTBOX_PATH ?? `${e.HOMING_DATA_DIR}/sms-outbox.jsonl` };
  if (e.SMS_PROVIDER === 'twilio') {
    const problems: string[] = [];
    if (!e.TWILIO_ACCOUNT_SID) problems.push('TWILIO_ACCOUNT_SID: required when SMS_PROVIDER=twilio');
    if (!e.TWILIO_AUTH_TOKEN && !(e.TWILIO_API_KEY_SID && e.TWILIO_API_KEY_SECRET)) {
      problems.push('TWILIO_AUTH_TOKEN: required (or TWILIO_API_KEY_SID with TWILIO_API_KEY_SECRET) when SMS_PROVIDER=twilio');
    }
    if (Boolean(e.TWILIO_MESSAGING_SERVICE_SID) === Boolean(e.TWILIO_FROM_NUMBER)) {
      problems.push('TWILIO_MESSAGING_SERVICE_SID: set exactly one of it and TWILIO_FROM_NUMBER');
    }
    if (problems.length) throw new ConfigError(problems);
    sms = {
      provider: 'twilio',
      accountSid: e.TWILIO_ACCOUNT_SID!,
      authToken: e.TWILIO_AUTH_TOKEN,
      apiKeySid: e.TWILIO_API_KEY_SID,
      apiKeySecret: e.TWILIO_API_KEY_SECRET,
      messagingServiceSid: e.TWILIO_MESSAGING_SERVICE_SID,
      fromNumber: e.TWILIO_FROM_NUMBER,
      region: e.TWILIO_REGION,
      edge: e.TWILIO_EDGE,
    };
  }
  if (Boolean(e.TLS_CERT_FILE) !== Boolean(e.TLS_KEY_FILE)) {
    const missing = e.TLS_CERT_FILE ? 'TLS_KEY_FILE' : 'TLS_CERT_FILE';
    throw new ConfigError([`${missing}: required: set TLS_CERT_FILE and TLS_KEY_FILE together, or neither`]);
  }
  if (e.MAP_ARCHIVE_FILE && e.MAP_ARCHIVE_BLOB_KEY) {
    throw new ConfigError(['MAP_ARCHIVE_FILE, MAP_ARCHIVE_BLOB_KEY: set one of them, not both']);
  }
  if (e.EMAIL_PROVIDER === 'smtp' && !e.SMTP_URL) throw new ConfigError(['SMTP_URL: required when EMAIL_PROVIDER=smtp']);
  // With TLS on the port, the URL that works is https: its origin is what login signatures name.
  const publicUrl = new URL(e.PUBLIC_URL ?? `${e.TLS_CERT_FILE ? 'https' : 'http'}://localhost:${e.PORT}`);
  const DAY = 86_400_000;
  return {
    port: e.PORT,
    host: e.HOST,
    publicOrigin: publicUrl.origin,
    dataDir: e.HOMING_DATA_DIR,
    databasePath: e.DATABASE_PATH ?? `${e.HOMING_DATA_DIR}/homing.db`,
    migrationsDir: e.HOMING_MIGRATIONS_DIR,
    serverKey: e.HOMING_SERVER_KEY,
    trustProxyHeader: e.TRUST_PROXY_HEADER,
    maxBodyBytes: e.MAX_BODY_BYTES,
    sessionTtlMs: e.SESSION_TTL_HOURS * 3_600_000,
    sessionIdleMs: e.SESSION_IDLE_HOURS * 3_600_000,
    challengeTtlMs: e.CHALLENGE_TTL_SECONDS * 1000,
    kdfMinimum: { opsLimit: e.KDF_MIN_OPS_LIMIT, memLimit: e.KDF_MIN_MEM_LIMIT },
    logLevel: e.LOG_LEVEL,
    blobs,
    maxBlobBytes: e.MAX_BLOB_BYTES,
    accountQuotaBytes: e.ACCOUNT_QUOTA_BYTES,
    trashRetentionMs: e.TRASH_RETENTION_DAYS * 86_400_000,
    uploadExpiryMs: e.UPLOAD_EXPIRY_HOURS * 3_600_000,
    locationHistoryMs: e.LOCATION_HISTORY_HOURS * 3_600_000,
    commandLeaseMs: e.COMMAND_LEASE_SECONDS * 1000,
    sms,
    smsAllowedPrefixes: e.SMS_ALLOWED_PREFIXES?.split(',') ?? [],
    smsInboundNumber: e.SMS_INBOUND_NUMBER,
    tileUrlTemplate: e.TILE_URL_TEMPLATE,
    map: { file: e.MAP_ARCHIVE_FILE, blobKey: e.MAP_ARCHIVE_BLOB_KEY, fetchWholeBelowBytes: e.MAP_FETCH_WHOLE_BELOW_MB * 1024 * 1024 },
    push: { subject: e.VAPID_SUBJECT ?? publicUrl.origin, allowInsecureEndpoints: e.PUSH_ALLOW_INSECURE_ENDPOINTS === 'true' },
    email: {
      provider: e.EMAIL_PROVIDER,
      outboxPath: e.EMAIL_OUTBOX_PATH ?? `${e.HOMING_DATA_DIR}/email-outbox.jsonl`,
      from: e.EMAIL_FROM ?? `homing@${publicUrl.hostname}`,
      smtpUrl: e.SMTP_URL,
    },
    policy: { file: e.POLICY_FILE, version: e.POLICY_VERSION, reducesRights: e.POLICY_REDUCES_RIGHTS === 'true' },
    deletionGraceMs: e.DELETION_GRACE_DAYS * DAY,
    auditRetentionMs: e.AUDIT_RETENTION_DAYS * DAY,
    diagnosticsRetentionMs: e.DIAGNOSTICS_RETENTION_DAYS * DAY,
    diagnosticsMaxBytes: e.DIAGNOSTICS_MAX_BYTES,
    tombstoneRetentionMs: e.TOMBSTONE_RETENTION_DAYS * DAY,
    pendingSignupMs: e.PENDING_SIGNUP_HOURS * 3_600_000,
    verificationCodeMs: e.VERIFICATION_CODE_MINUTES * 60_000,
    messaging: {
      retentionMs: e.MESSAGE_RETENTION_DAYS * DAY,
      maxSealedBytes: e.MESSAGE_MAX_BYTES,
      queueMax: e.MESSAGE_QUEUE_MAX,
      lookupsPerDay: e.MESSAGING_LOOKUPS_PER_DAY,
    },
    spam: {
      minAccounts: e.SPAM_MIN_ACCOUNTS,
      windowMs: e.SPAM_WINDOW_DAYS * DAY,
      textRetentionMs: e.SPAM_TEXT_RETENTION_HOURS * 3_600_000,
      newAccountMs: e.SPAM_NEW_ACCOUNT_DAYS * DAY,
    },
    node: {
      requestTimeoutMs: e.REQUEST_TIMEOUT_SECONDS * 1000,
      shutdownGraceMs: e.SHUTDOWN_GRACE_SECONDS * 1000,
      tls: e.TLS_CERT_FILE && e.TLS_KEY_FILE ? { certFile: e.TLS_CERT_FILE, keyFile: e.TLS_KEY_FILE } : undefined,
    },
  };
}
