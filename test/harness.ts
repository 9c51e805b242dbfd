import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BlobStore } from '../src/adapters/blob-store.js';
import { createFsBlobStore } from '../src/adapters/blob-store-fs.js';
import { createManualClock } from '../src/adapters/clock.js';
import type { SmsSender } from '../src/adapters/sms.js';
import { createLogSmsSender } from '../src/adapters/sms-log.js';
import type { EmailSender } from '../src/adapters/email.js';
import { createLogEmailSender } from '../src/adapters/email-log.js';
import { createJsonLogger } from '../src/adapters/log.js';
import { cryptoRandom } from '../src/adapters/random.js';
import { createApp } from '../src/app.js';
import { createApiClient } from '../src/client/api.js';
import { parseConfig, type Env } from '../src/config.js';
import { createNodeDeps } from '../src/node-deps.js';
import { toBase64Url } from '../src/protocol/encoding.js';
import { appLogWriter, recordSecret, recordSecretsInFiles, withSecretCapture } from './log-scan/capture.js';
import { withOpenApiContract } from './openapi-contract.js';

/** Cheap Argon2id parameters, so tests spend their time on the service rather than the KDF. */
export const TEST_KDF = { opsLimit: 1, memLimit: 8192 };

export const TEST_ORIGIN = 'http://localhost:8787';

/**
 * A real app on a real SQLite file and a real blob store (a folder by default) in a fresh temp
 * folder, with a clock the test moves and the log captured. Nothing is mocked; the API is reached
 * through app.request().
 */
export function createTestApp(env: Env = {}, options: { blobs?: BlobStore; sms?: SmsSender; email?: EmailSender } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'homing-test-'));
  const config = parseConfig({
    HOMING_DATA_DIR: dir,
    PUBLIC_URL: TEST_ORIGIN,
    KDF_MIN_OPS_LIMIT: String(TEST_KDF.opsLimit),
    KDF_MIN_MEM_LIMIT: String(TEST_KDF.memLimit),
    TRUST_PROXY_HEADER: 'x-forwarded-for',
    VAPID_SUBJECT: 'mailto:operator@homing.test',
    ...env,
  });
  const clock = createManualClock(Date.UTC(2026, 10, 1, 12));
  const logLines: string[] = [];
  // Kept for the log scan after the run (scripts/scan-test-logs.mjs); a no-op outside vitest.
  const keepLine = appLogWriter();
  const serverKey = cryptoRandom.bytes(32);
  recordSecret(toBase64Url(serverKey));
  const logSms = createLogSmsSender({ outboxPath: join(dir, 'sms-outbox.jsonl'), log: createJsonLogger('silent') });
  const logEmail = createLogEmailSender({ outboxPath: join(dir, 'email-outbox.jsonl'), log: createJsonLogger('silent'), now: clock.now });
  const { deps, settle, close } = createNodeDeps(config, {
    serverKey,
    blobs: options.blobs ?? createFsBlobStore(join(dir, 'blobs')),
    clock,
    log: createJsonLogger(
      'debug',
      (line) => {
        logLines.push(line);
        keepLine?.(line);
      },
      clock.now,
    ),
    sms: options.sms ?? logSms,
    email: options.email ?? logEmail,
  });
  const app = withSecretCapture(withOpenApiContract(createApp(deps)));
  const fetchViaApp = (input: string, init: RequestInit) => app.request(input, init);
  const api = (tokens: { sessionToken?: string; deviceToken?: string } = {}) =>
    createApiClient({ baseUrl: TEST_ORIGIN, fetch: fetchViaApp, ...tokens });

  /** A raw request through the front door, JSON body and headers as given. */
  const request = (method: string, path: string, init: { body?: unknown; headers?: Record<string, string>; raw?: string } = {}) =>
    app.request(`${TEST_ORIGIN}${path}`, {
      method,
      headers: {
        ...(init.body !== undefined || init.raw !== undefined ? { 'Content-Type': 'application/json' } : {}),
        ...init.headers,
      },
      body: init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body)),
    });

  return {
    app,
    deps,
    clock,
    api,
    request,
    logLines,
    dir,
    /** Waits for the background work requests started (push deliveries) to finish. */
    settle: () => settle(),
    /** SMS the log provider "sent" (the embedded default). */
    outbox: () => logSms.readOutbox(),
    /** E-mail the log provider "sent" (the embedded default). */
    emailOutbox: () => logEmail.readOutbox(),
    close() {
      close();
      recordSecretsInFiles([join(dir, 'sms-outbox.jsonl'), join(dir, 'email-outbox.jsonl')]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type TestApp = ReturnType<typeof createTestApp>;

let counter = 0;
export const uniqueEmail = (name = 'user') => {
  const email = `${name}.${Date.now()}.${++counter}@example.org`;
  recordSecret(email);
  return email;
};
