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
  };
}
