import { z } from 'zod';

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
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
});

export type Env = Record<string, string | undefined>;

export interface Config {
  port: number;
  host: string;
  /** The origin clients reach us at; login challenges are bound to it. */
  publicOrigin: string;
  dataDir: string;
  databasePath: string;
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
    | {
        store: 's3';
        endpoint?: string;
        region: string;
        bucket: string;
        accessKeyId: string;
        secretAccessKey: string;
        forcePathStyle: boolean;
        presign: boolean;
      };
  maxBlobBytes: number;
  accountQuotaBytes: number;
  trashRetentionMs: number;
  uploadExpiryMs: number;
  locationHistoryMs: number;
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
  const publicUrl = new URL(e.PUBLIC_URL ?? `http://localhost:${e.PORT}`);
  return {
    port: e.PORT,
    host: e.HOST,
    publicOrigin: publicUrl.origin,
    dataDir: e.HOMING_DATA_DIR,
    databasePath: e.DATABASE_PATH ?? `${e.HOMING_DATA_DIR}/homing.db`,
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
  };
}
