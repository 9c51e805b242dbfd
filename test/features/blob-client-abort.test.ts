import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, TEST_ORIGIN, type TestApp } from '../harness.js';
import { blobRows, MiB, startUpload, tempFilesUnder, uploadRows } from './blob-upload-helpers.js';
import { newAccount, sha256Hex } from './sync-helpers.js';

// A client that goes away mid-body (or a server shutting down under it) is not a fault of the
// server's: nothing of the body may stay behind, and the log says what happened at info level
// rather than raising an "unhandled error".

let t: TestApp;
beforeEach(() => {
  t = createTestApp();
});
afterEach(() => t.close());

/** A body that yields `before` bytes and then fails, as a request stream does when its connection drops. */
function cutOff(before: number) {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent >= before) return controller.error(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
      const chunk = randomBytes(Math.min(64 * 1024, before - sent));
      sent += chunk.length;
      controller.enqueue(chunk);
    },
  });
}

const send = (method: string, path: string, headers: Record<string, string>, body: ReadableStream<Uint8Array>) =>
  t.app.request(`${TEST_ORIGIN}${path}`, { method, headers, body, duplex: 'half' } as RequestInit);

const logged = () => t.logLines.map((line) => JSON.parse(line) as { level: string; message: string });

describe('an upload whose client goes away mid-body', () => {
  it('a streamed blob leaves no row and no temp file, and is logged as aborted by the client, not as an error', async () => {
    const a = await newAccount(t);
    const size = 2 * MiB;
    const res = await send('POST', '/v1/blobs', { ...a.auth, 'Content-Length': String(size), 'X-Homing-SHA256': sha256Hex(randomBytes(8)) }, cutOff(MiB));
    expect(res.status).toBe(422);
    expect(blobRows(t, a.accountId)).toEqual({ bytesUsed: 0 });
    expect(tempFilesUnder(join(t.dir, 'blobs'))).toEqual([]);
    expect(logged().filter((l) => l.level === 'error')).toEqual([]);
    expect(logged()).toContainEqual(expect.objectContaining({ level: 'info', message: 'upload aborted by client' }));
  });

  it('a part leaves no part and no temp file; the upload takes the part again afterwards', async () => {
    const a = await newAccount(t);
    const bytes = randomBytes(5 * MiB + 10);
    const upload = await startUpload(a, bytes);
    const path = `/v1/uploads/${upload.uploadId}/parts/1`;
    const res = await send('PUT', path, { ...a.auth, 'Content-Length': String(5 * MiB) }, cutOff(MiB));
    expect(res.status).toBe(422);
    expect(uploadRows(t, a.accountId, upload.uploadId).parts).toEqual([]);
    expect(tempFilesUnder(join(t.dir, 'blobs'))).toEqual([]);
    expect(logged().filter((l) => l.level === 'error')).toEqual([]);
    expect(logged()).toContainEqual(expect.objectContaining({ level: 'info', message: 'upload aborted by client' }));

    const whole = new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(upload.parts[0]!), c.close()) });
    expect((await send('PUT', path, { ...a.auth, 'Content-Length': String(5 * MiB) }, whole)).status).toBe(200);
  });
});
