import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { expect } from 'vitest';

// Captures what the log scan (scripts/scan-test-logs.mjs) needs after a test run: every server
// log line the tests produced (in-process apps and spawned servers) and every secret the tests
// handled (e-mails, phone numbers, tokens, codes, keys). Both go to files in HOMING_TEST_LOG_DIR,
// which the vitest global setup (./global-setup.ts) makes; without it (the benchmarks, a lone
// script) every function here does nothing. Writes never throw: a test must not fail because
// its logs could not be kept.

const dir = () => process.env.HOMING_TEST_LOG_DIR;

/** Shorter strings would match by chance; 6-digit SMS codes are kept and matched as whole numbers. */
const MIN_SECRET_CHARS = 8;
const SMS_CODE = /^[0-9]{6}$/;

const recorded = new Set<string>();
let secretsFd: number | undefined;

function append(fd: number, text: string) {
  try {
    writeSync(fd, text);
  } catch {
    // the folder went away (another run cleaned up): nothing to keep
  }
}

function openFile(name: string): number | undefined {
  try {
    return openSync(join(dir()!, name), 'a', 0o600);
  } catch {
    return undefined;
  }
}

/** The test file running now, for naming log files after it. */
function testFileName(): string {
  try {
    const path = expect.getState().testPath;
    if (path) return basename(path).replace(/\.test\.ts$/, '');
  } catch {
    // not inside a test
  }
  return 'setup';
}

/** Remembers a secret the tests handled, so the scan can look for it in every log line. */
export function recordSecret(value: string | undefined | null): void {
  if (!dir() || typeof value !== 'string') return;
  const secret = value.trim();
  if (recorded.has(secret) || (secret.length < MIN_SECRET_CHARS && !SMS_CODE.test(secret))) return;
  recorded.add(secret);
  secretsFd ??= openFile(`secrets-${process.pid}.txt`);
  if (secretsFd !== undefined) append(secretsFd, `${JSON.stringify(secret)}\n`);
  // A phone number may be logged without its +.
  if (/^\+[0-9]{8,15}$/.test(secret)) recordSecret(secret.slice(1));
}

/** A line writer for an in-process app's logger: each line goes to this test file's app log. */
export function appLogWriter(): ((line: string) => void) | undefined {
  if (!dir()) return undefined;
  let fd: number | undefined;
  return (line) => {
    fd ??= openFile(`app-${testFileName()}-${process.pid}.log`);
    if (fd !== undefined) append(fd, `${line}\n`);
  };
}

/** A writer for a spawned server's stdout and stderr, one file per process. */
export function processLogWriter(childPid: number | undefined): { write(chunk: Buffer | string): void; close(): void } | undefined {
  if (!dir()) return undefined;
  const fd = openFile(`process-${testFileName()}-${process.pid}-${childPid ?? 'unknown'}.log`);
  if (fd === undefined) return undefined;
  return {
    write: (chunk) => append(fd, chunk.toString()),
    close: () => {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
    },
  };
}

// ---- what the tests send and receive ----

/** JSON fields that hold personal data or credentials, in requests and responses. */
const SECRET_FIELDS = new Set([
  'email',
  'phoneNumber',
  'claimedNumber',
  'verifiedNumber',
  'code',
  'token',
  'sessionToken',
  'deviceToken',
  'csrfToken',
  'password',
  'recoveryKey',
  'hardwareId',
  'auth',
  'p256dh',
]);

/** Records the secret fields anywhere in a parsed JSON value. `error.code` names an error, not an SMS code. */
export function recordSecretsIn(value: unknown, key?: string): void {
  if (typeof value === 'string') {
    if (key && SECRET_FIELDS.has(key) && (key !== 'code' || SMS_CODE.test(value))) recordSecret(value);
  } else if (Array.isArray(value)) {
    for (const item of value) recordSecretsIn(item);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) recordSecretsIn(v, k);
  }
}

/** Bearer tokens, cookie values and CSRF tokens in a set of headers. */
function recordHeaderSecrets(headers: Headers) {
  const bearer = headers.get('authorization')?.match(/^Bearer\s+(.+)$/i)?.[1];
  recordSecret(bearer);
  const cookieValue = (pair: string) => pair.split('=').slice(1).join('=');
  for (const pair of (headers.get('cookie') ?? '').split(';')) recordSecret(cookieValue(pair));
  // After the first pair of a Set-Cookie come its attributes (Path, Max-Age), which are not secret.
  for (const setCookie of headers.getSetCookie()) recordSecret(cookieValue(setCookie.split(';')[0]!));
  recordSecret(headers.get('x-csrf-token'));
}

type RequestFunction = (input: any, init?: any, ...rest: any[]) => Response | Promise<Response>;

/**
 * Wraps app.request so the secrets of every request and JSON response pass through recordSecret.
 * Outside a capturing run the app is left as it is.
 */
export function withSecretCapture<A extends { request: RequestFunction }>(app: A): A {
  if (!dir()) return app;
  const request = app.request;
  app.request = (async (input: unknown, init?: RequestInit, ...rest: unknown[]) => {
    recordHeaderSecrets(new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined)));
    if (typeof init?.body === 'string') recordSecretsIn(parseJson(init.body));
    const response = await request(input, init, ...rest);
    recordHeaderSecrets(response.headers);
    if (response.headers.get('content-type')?.startsWith('application/json')) {
      recordSecretsIn(await response.clone().json().catch(() => undefined));
    }
    return response;
  }) as A['request'];
  return app;
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

// ---- spawned processes ----

/** Environment values that are credentials or keys; `…_FILE` variables (TLS_KEY_FILE) name where one is, which a log may say. */
const SECRET_ENV = /KEY|SECRET|TOKEN|PASSWORD/;
const PATH_ENV = /_FILE$/;
const EMAIL = /^[^\s@]+@[^\s@]+$/;
const PHONE = /^\+[0-9]{8,15}$/;

/** Records the secrets a process is started with: credential variables, and e-mails or numbers among its arguments. */
export function recordProcessSecrets(env: Record<string, string | undefined>, args: string[]): void {
  for (const [name, value] of Object.entries(env)) if (SECRET_ENV.test(name) && !PATH_ENV.test(name)) recordSecret(value);
  for (const arg of args) if (EMAIL.test(arg) || PHONE.test(arg)) recordSecret(arg);
}

/** Records what a process left behind once it exited: a CLI's state file, a server's SMS outbox. */
export function recordSecretsInFiles(paths: string[]): void {
  if (!dir()) return;
  for (const path of paths) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      continue;
    }
    // A CLI state file is one JSON document; an outbox is one JSON object a line.
    recordSecretsIn(parseJson(text));
    for (const line of text.split('\n')) {
      const parsed = parseJson(line);
      recordSecretsIn(parsed);
      const entry = parsed as { body?: unknown; text?: unknown } | undefined;
      // An SMS body and an e-mail text carry codes inside them.
      for (const body of [entry?.body, entry?.text]) if (typeof body === 'string') for (const match of body.matchAll(/(?<![0-9])[0-9]{6}(?![0-9])/g)) recordSecret(match[0]);
      recordSecret((parsed as { to?: string } | undefined)?.to);
    }
  }
}
