import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { accountPrefix, blobKey } from '../../src/adapters/blob-store.js';
import { createS3BlobStore, ensureBucket } from '../../src/adapters/blob-store-s3.js';
import { runMaintenance } from '../../src/jobs.js';
import { s3rverConfig, startS3rver } from '../adapters/s3-servers.js';
import { blobRows, downloaded, MiB, putPart, startUpload } from '../features/blob-upload-helpers.js';
import { newAccount, sha256Hex } from '../features/sync-helpers.js';
import { createTestApp, TEST_ORIGIN, type TestApp } from '../harness.js';
import { expectError } from '../security/helpers.js';

// The S3 server is killed (SIGKILL) while a body streams through to it, then started again on
// the same port and folder, as an operator restarting a crashed MinIO would. Clients are told to
// come back later; nothing is committed or counted meanwhile; the retry completes; what the
// failure left behind is collected by maintenance.

let t: TestApp;
let s3rver: Awaited<ReturnType<typeof startS3rver>>;
let restarted: Awaited<ReturnType<typeof startS3rver>> | undefined;
beforeEach(async () => {
  s3rver = await startS3rver();
  const config = s3rverConfig(s3rver.port);
  await ensureBucket(config);
  t = createTestApp({}, { blobs: createS3BlobStore(config) });
});
afterEach(async () => {
  t.close();
  await restarted?.stop();
  restarted = undefined;
  // Stopped last: the first server's stop removes the folder the restarted one used.
  await s3rver.stop();
});

const restart = async () => {
  restarted = await startS3rver({ port: s3rver.port, directory: s3rver.directory });
};

/** bytes, streamed slowly, killing the S3 server once `killAfter` bytes have gone. */
function killingBody(bytes: Uint8Array, killAfter: number) {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent >= killAfter && s3rver.child.exitCode === null && s3rver.child.signalCode === null) s3rver.child.kill('SIGKILL');
      if (sent >= bytes.length) return controller.close();
      await new Promise((r) => setTimeout(r, 2));
      const chunk = bytes.subarray(sent, sent + 64 * 1024);
      sent += chunk.length;
      controller.enqueue(chunk);
    },
  });
}

const send = (method: string, path: string, headers: Record<string, string>, body: ReadableStream<Uint8Array>) =>
  t.app.request(`${TEST_ORIGIN}${path}`, { method, headers, body, duplex: 'half' } as RequestInit);

describe('the S3 server dies mid-upload and comes back', () => {
  it('a streamed upload: 503 with Retry-After, nothing committed or counted; after the restart the retry stores it and maintenance clears the leftovers', async () => {
    const a = await newAccount(t);
    const bytes = randomBytes(4 * MiB);
    const headers = { ...a.auth, 'Content-Length': String(bytes.length), 'X-Homing-SHA256': sha256Hex(bytes) };
    const failed = await expectError(send('POST', '/v1/blobs', headers, killingBody(bytes, MiB)), 503, 'service_unavailable');
    expect(Number(failed.headers.get('Retry-After'))).toBeGreaterThan(0);
    const afterFailure = blobRows(t, a.accountId);
    expect(afterFailure.committed).toBeUndefined();
    expect(afterFailure.bytesUsed).toBe(0);

    await restart();
    const retried = await a.uploadBlob(bytes);
    expect(retried.status).toBe(201);
    const { blobId } = await retried.json();
    expect((await downloaded(a, blobId)).bytes.equals(bytes)).toBe(true);

    // The failed upload's row could not be cleared while S3 was down (and s3rver may keep part of
    // its object); maintenance finishes the job.
    await runMaintenance(t.deps);
    expect(blobRows(t, a.accountId)).toEqual({ committed: 1, bytesUsed: bytes.length });
    const keys = (await t.deps.blobs.list(accountPrefix(a.accountId))).keys.map((k) => k.key);
    expect(keys).toEqual([blobKey(a.accountId, blobId)]);
  });

  it('a part of a resumable upload: 503 with Retry-After, the part not recorded; after the restart the part and complete go through', async () => {
    const a = await newAccount(t);
    const bytes = randomBytes(5 * MiB + 2 * MiB);
    const upload = await startUpload(a, bytes);
    expect((await putPart(t, a, upload.uploadId, 1, upload.parts[0]!)).status).toBe(200);
    const part2 = upload.parts[1]!;
    const failed = await expectError(
      send('PUT', `/v1/uploads/${upload.uploadId}/parts/2`, { ...a.auth, 'Content-Length': String(part2.length) }, killingBody(part2, MiB)),
      503,
      'service_unavailable',
    );
    expect(Number(failed.headers.get('Retry-After'))).toBeGreaterThan(0);
    expect(blobRows(t, a.accountId)).toEqual({ pending: 1, bytesUsed: 0 });
    expect((await a.json('GET', `/v1/uploads/${upload.uploadId}`)).body.parts.map((p: { partNumber: number }) => p.partNumber)).toEqual([1]);

    await restart();
    expect((await putPart(t, a, upload.uploadId, 2, part2)).status).toBe(200);
    const done = await a.json('POST', `/v1/uploads/${upload.uploadId}/complete`);
    expect(done).toMatchObject({ status: 201, body: { blobId: upload.blobId, size: bytes.length } });
    expect((await downloaded(a, upload.blobId)).bytes.equals(bytes)).toBe(true);
    expect(blobRows(t, a.accountId)).toEqual({ committed: 1, bytesUsed: bytes.length });
  });
});
