import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlobStoreUnavailableError } from '../../src/adapters/blob-store.js';
import { createFsBlobStore } from '../../src/adapters/blob-store-fs.js';
import { createApiClient, HomingNetworkError } from '../../src/client/api.js';
import { nativeChunkCipher } from '../../src/client/crypto/blob-cipher-node.js';
import { downloadDecrypted, type RetryPolicy, uploadEncrypted } from '../../src/client/sync/blob-transfer.js';
import { createTestApp, TEST_ORIGIN, type TestApp } from '../harness.js';
import { blobRows, MiB, withInjectedFault } from './blob-upload-helpers.js';
import { newAccount } from './sync-helpers.js';

// The SDK's upload in parts over a connection that fails: through the real app, with a fetch
// that loses one request or its answer, and a real store that fails once. 11 MiB of plaintext
// goes up in two parts (8 MiB and the rest).

const video = randomBytes(11 * MiB);
const streamOf = (bytes: Uint8Array) => () => new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(bytes), c.close()) });

async function readAll(stream: ReadableStream<Uint8Array>) {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

type Fault = 'answer lost' | 'never sent';

let t: TestApp;
let storeDir: string;
let faults: ReturnType<typeof withInjectedFault>;
beforeEach(() => {
  storeDir = mkdtempSync(join(tmpdir(), 'homing-blobs-'));
  faults = withInjectedFault(createFsBlobStore(storeDir));
  t = createTestApp({}, { blobs: faults.store });
});
afterEach(() => {
  t.close();
  rmSync(storeDir, { recursive: true, force: true });
});

/**
 * A logged-in SDK client whose fetch fails the requests `faultFor` picks, and records which
 * requests reached the server; sleeps are recorded instead of waited.
 */
async function faultyClient(faultFor: (request: string, seen: number) => Fault | undefined, retry: Partial<RetryPolicy> = {}) {
  const a = await newAccount(t);
  const reached: string[] = [];
  const sleeps: number[] = [];
  const seen = new Map<string, number>();
  const api = createApiClient({
    baseUrl: TEST_ORIGIN,
    sessionToken: a.token,
    fetch: async (input, init) => {
      const request = `${init.method} ${new URL(input).pathname.replace(/\/v1\/uploads\/[^/]+/, '/v1/uploads/{id}')}`;
      seen.set(request, (seen.get(request) ?? 0) + 1);
      const fault = faultFor(request, seen.get(request)!);
      if (fault === 'never sent') throw new TypeError('fetch failed: connect ECONNRESET');
      reached.push(request);
      const response = await t.app.request(input, init);
      if (fault === 'answer lost') throw new TypeError('fetch failed: socket hang up');
      return response;
    },
  });
  const upload = () =>
    uploadEncrypted(api, streamOf(video), video.length, {
      cipher: nativeChunkCipher,
      multipartThreshold: MiB,
      retry: { sleep: async (ms) => void sleeps.push(ms), ...retry },
    });
  const count = (request: string) => reached.filter((r) => r === request).length;
  return { a, api, upload, reached, sleeps, count };
}

const PART_1 = 'PUT /v1/uploads/{id}/parts/1';
const PART_2 = 'PUT /v1/uploads/{id}/parts/2';
const STATUS = 'GET /v1/uploads/{id}';

describe('the SDK uploading in parts over a failing connection', () => {
  it('a part whose answer was lost after the server stored it is not sent again: the SDK asks which parts arrived', async () => {
    const c = await faultyClient((request, seen) => (request === PART_1 && seen === 1 ? 'answer lost' : undefined));
    const ref = await c.upload();
    expect(c.count(PART_1)).toBe(1);
    expect(c.count(STATUS)).toBe(1);
    expect(c.sleeps).toHaveLength(1);
    expect((await readAll(await downloadDecrypted(c.api, ref.blobId, ref.blobKey))).equals(video)).toBe(true);
  });

  it('a part that never reached the server is sent again', async () => {
    const c = await faultyClient((request, seen) => (request === PART_2 && seen === 1 ? 'never sent' : undefined));
    const ref = await c.upload();
    expect(c.count(PART_2)).toBe(1);
    expect(c.count(STATUS)).toBe(1);
    expect((await readAll(await downloadDecrypted(c.api, ref.blobId, ref.blobKey))).equals(video)).toBe(true);
  });

  it("a complete whose answer was lost is repeated and answers the same blob", async () => {
    const c = await faultyClient((request, seen) => (request === 'POST /v1/uploads/{id}/complete' && seen === 1 ? 'answer lost' : undefined));
    const ref = await c.upload();
    expect(c.count('POST /v1/uploads/{id}/complete')).toBe(2);
    expect(blobRows(t, c.a.accountId)).toMatchObject({ committed: 1 });
    expect((await readAll(await downloadDecrypted(c.api, ref.blobId, ref.blobKey))).equals(video)).toBe(true);
  });

  it("a 503 from a store that failed once is retried after the server's Retry-After, capped by the policy", async () => {
    let failures = 0;
    faults.failNext('uploadPart', async () => {
      failures++;
      throw new BlobStoreUnavailableError('injected: the store did not answer');
    });
    const c = await faultyClient(() => undefined, { maxDelayMs: 2_000 });
    const ref = await c.upload();
    expect(failures).toBe(1);
    expect(c.sleeps).toEqual([2_000]); // the server asked for 5 s
    expect(c.count(PART_1)).toBe(2);
    expect((await readAll(await downloadDecrypted(c.api, ref.blobId, ref.blobKey))).equals(video)).toBe(true);
  });

  it('gives up after a bounded number of tries, with growing waits, and abandons the upload on the server', async () => {
    const c = await faultyClient((request) => (request === PART_2 ? 'never sent' : undefined), { attempts: 4, baseDelayMs: 100, maxDelayMs: 1_000 });
    await expect(c.upload()).rejects.toBeInstanceOf(HomingNetworkError);
    expect(c.sleeps).toHaveLength(3);
    c.sleeps.forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual(50 * 2 ** i);
      expect(ms).toBeLessThanOrEqual(Math.min(100 * 2 ** i, 1_000));
    });
    expect(c.reached).toContain('DELETE /v1/uploads/{id}');
    expect(blobRows(t, c.a.accountId)).toEqual({ bytesUsed: 0 });
  });
});
