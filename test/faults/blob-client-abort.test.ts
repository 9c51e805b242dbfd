import { request } from 'node:http';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempFilesUnder } from '../features/blob-upload-helpers.js';
import { sha256Hex } from '../features/sync-helpers.js';
import { startTestServer } from '../process/spawn.js';
import { enrollAccount, type SimulatedAccount } from './fleet.js';

// The built server, and a client that hangs up in the middle of a blob's body: a real socket
// closed by the client, and a server shut down (SIGTERM, grace period over) while a body is still
// arriving. Neither is the server's fault, so neither may leave anything behind or log an error.

const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts a 4 MiB upload, sends `sent` bytes of it, and returns the open request; its answer (if any) is ignored. */
function partialUpload(url: string, account: SimulatedAccount, sent: number) {
  const { hostname, port } = new URL(url);
  const req = request({
    hostname,
    port,
    method: 'POST',
    path: '/v1/blobs',
    headers: {
      Authorization: `Bearer ${account.sessionToken}`,
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(4 * MiB),
      'X-Homing-SHA256': sha256Hex(new Uint8Array(1)),
    },
  });
  req.on('error', () => {});
  req.on('response', (res) => res.resume());
  req.write(Buffer.alloc(sent, 7));
  return req;
}

function pendingBlobs(dataDir: string) {
  const db = new Database(join(dataDir, 'homing.db'), { readonly: true });
  try {
    return (db.prepare("SELECT count(*) AS n FROM blobs WHERE state <> 'committed'").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

const logLines = (output: string) =>
  output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level: string; message: string });

async function until(condition: () => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await sleep(50);
  return condition();
}

describe('the built server, when an upload is cut off mid-body', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let account: SimulatedAccount;
  beforeAll(async () => {
    server = await startTestServer('blob-abort', { LOG_LEVEL: 'info', SHUTDOWN_GRACE_SECONDS: '1' });
    account = await enrollAccount(server.url, { devices: 0 });
  });
  afterAll(() => server?.stop());

  const aborted = () => logLines(server.server.output()).filter((l) => l.message === 'upload aborted by client');

  it('by the client closing its connection: no pending row, no temp file, an info line and no error', async () => {
    const req = partialUpload(server.url, account, MiB);
    await sleep(300);
    req.destroy();
    expect(await until(() => aborted().length === 1)).toBe(true);
    expect(aborted()[0]!.level).toBe('info');
    expect(pendingBlobs(join(server.dir, 'data'))).toBe(0);
    expect(tempFilesUnder(join(server.dir, 'data', 'blobs'))).toEqual([]);
    expect(logLines(server.server.output()).filter((l) => l.level === 'error')).toEqual([]);
  });

  it('by the server shutting down under it: the same, and the server exits cleanly', async () => {
    const req = partialUpload(server.url, account, MiB);
    await sleep(300);
    server.server.child.kill('SIGTERM');
    expect(await server.server.exited).toBe(0);
    req.destroy();
    expect(aborted()).toHaveLength(2);
    expect(pendingBlobs(join(server.dir, 'data'))).toBe(0);
    expect(tempFilesUnder(join(server.dir, 'data', 'blobs'))).toEqual([]);
    expect(logLines(server.server.output()).filter((l) => l.level === 'error')).toEqual([]);
  });
});
