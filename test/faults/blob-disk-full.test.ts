import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFsBlobStore } from '../../src/adapters/blob-store-fs.js';
import { blobRows, downloaded, MiB, putPart, startUpload, tempFilesUnder } from '../features/blob-upload-helpers.js';
import { newAccount } from '../features/sync-helpers.js';
import { createTestApp, type TestApp } from '../harness.js';
import { expectError } from '../security/helpers.js';

// A full disk under the blob folder, for real: a 12 MiB tmpfs mounted as the fs store's root,
// filled by a file standing for everything else on the disk. Mounting needs root; elsewhere the
// tests are skipped. The database is on the ordinary disk, so only the blob writes run out.

const mountPoint = mkdtempSync(join(tmpdir(), 'homing-full-disk-'));

function mountTmpfs(dir: string): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=12m', 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const mounted = mountTmpfs(mountPoint);
afterAll(() => {
  if (mounted) execFileSync('umount', [mountPoint]);
  rmSync(mountPoint, { recursive: true, force: true });
});

const filler = join(mountPoint, 'other-data');
const fill = (bytes: number) => writeFileSync(filler, Buffer.alloc(bytes, 1));

describe.skipIf(!mounted)('the blob folder’s disk fills up (a real tmpfs; needs root to mount it)', () => {
  let t: TestApp;
  beforeEach(() => {
    for (const name of readdirSync(mountPoint)) rmSync(join(mountPoint, name), { recursive: true, force: true });
    t = createTestApp({}, { blobs: createFsBlobStore(join(mountPoint, 'blobs')) });
  });
  afterEach(() => t.close());

  it('a streamed upload answers 503 storage_full with Retry-After, commits nothing, and succeeds once space is freed', async () => {
    const a = await newAccount(t);
    fill(9 * MiB);
    const first = await a.uploadBlob(randomBytes(MiB));
    expect(first.status).toBe(201);
    const { blobId } = await first.json();

    const big = randomBytes(3 * MiB);
    const full = await expectError(a.uploadBlob(big), 503, 'storage_full');
    expect(full.headers.get('Retry-After')).toBe('60');
    expect(full.message).toContain('nothing was saved');
    expect(blobRows(t, a.accountId)).toEqual({ committed: 1, bytesUsed: MiB });
    expect(tempFilesUnder(mountPoint)).toEqual([]);

    rmSync(filler);
    expect((await a.uploadBlob(big)).status).toBe(201);
    expect(blobRows(t, a.accountId)).toEqual({ committed: 2, bytesUsed: 4 * MiB });
    expect((await downloaded(a, blobId)).status).toBe(200);
  });

  it('a part, then the join at complete, run out of space: 503 each time, the upload keeps what it had, and completes later', async () => {
    const a = await newAccount(t);
    const bytes = randomBytes(5 * MiB + 10);
    const upload = await startUpload(a, bytes);

    fill(8 * MiB);
    await expectError(putPart(t, a, upload.uploadId, 1, upload.parts[0]!), 503, 'storage_full');
    expect((await a.json('GET', `/v1/uploads/${upload.uploadId}`)).body.parts).toEqual([]);

    // Room for the parts, not for joining them into a second copy.
    fill(5 * MiB);
    expect((await putPart(t, a, upload.uploadId, 1, upload.parts[0]!)).status).toBe(200);
    expect((await putPart(t, a, upload.uploadId, 2, upload.parts[1]!)).status).toBe(200);
    const full = await expectError(a.call('POST', `/v1/uploads/${upload.uploadId}/complete`), 503, 'storage_full');
    expect(full.headers.get('Retry-After')).toBe('60');
    expect(blobRows(t, a.accountId)).toEqual({ pending: 1, bytesUsed: 0 });
    expect((await a.json('GET', `/v1/uploads/${upload.uploadId}`)).body.parts).toHaveLength(2);
    expect(tempFilesUnder(mountPoint)).toEqual([]);

    rmSync(filler);
    const done = await a.json('POST', `/v1/uploads/${upload.uploadId}/complete`);
    expect(done).toMatchObject({ status: 201, body: { blobId: upload.blobId, size: bytes.length } });
    expect((await downloaded(a, upload.blobId)).bytes.equals(bytes)).toBe(true);
    expect(blobRows(t, a.accountId)).toEqual({ committed: 1, bytesUsed: bytes.length });
  });
});
