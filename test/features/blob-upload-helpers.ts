import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import type { BlobStore } from '../../src/adapters/blob-store.js';
import { TEST_ORIGIN, type TestApp } from '../harness.js';
import { type Account, sha256Hex } from './sync-helpers.js';

// Shared by the blob fault tests: raw requests for resumable uploads, and what the database and
// the blob folder hold afterwards, read directly so a test sees what a crash would leave.

export const MiB = 1024 * 1024;
export const HOUR = 3_600_000;

const sqlite = (t: TestApp) => (t.deps.db as unknown as { $client: Database }).$client;

/** What the blob tables hold for an account: rows by state, and the bytes counted against its quota. */
export function blobRows(t: TestApp, accountId: string) {
  const db = sqlite(t);
  const states = db.prepare('SELECT state, count(*) AS n FROM blobs WHERE account_id = ? GROUP BY state').all(accountId) as {
    state: string;
    n: number;
  }[];
  const usage = db.prepare('SELECT bytes_used AS bytesUsed FROM blob_usage WHERE account_id = ?').get(accountId) as
    | { bytesUsed: number }
    | undefined;
  return { ...Object.fromEntries(states.map((s) => [s.state, s.n])), bytesUsed: usage?.bytesUsed ?? 0 } as {
    pending?: number;
    committed?: number;
    deleting?: number;
    bytesUsed: number;
  };
}

/** The upload row and its parts as stored, which a crashed server would have left behind. */
export function uploadRows(t: TestApp, accountId: string, uploadId: string) {
  const db = sqlite(t);
  const upload = db.prepare('SELECT blob_id AS blobId, store_upload_id AS storeUploadId FROM uploads WHERE account_id = ? AND id = ?').get(
    accountId,
    uploadId,
  ) as { blobId: string; storeUploadId: string } | undefined;
  const parts = db
    .prepare('SELECT part_number AS partNumber, etag FROM upload_parts WHERE account_id = ? AND upload_id = ? ORDER BY part_number')
    .all(accountId, uploadId) as { partNumber: number; etag: string }[];
  return { upload, parts };
}

/** Forgets an upload's rows, as a crash between starting it in the store and recording it would. */
export function dropUploadRows(t: TestApp, accountId: string, uploadId: string) {
  sqlite(t).prepare('DELETE FROM upload_parts WHERE account_id = ? AND upload_id = ?').run(accountId, uploadId);
  sqlite(t).prepare('DELETE FROM uploads WHERE account_id = ? AND id = ?').run(accountId, uploadId);
}

/** Every temp file under a folder (the fs store names them .tmp-…), however deep. */
export function tempFilesUnder(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) =>
    e.isDirectory() ? tempFilesUnder(join(dir, e.name)) : e.name.startsWith('.tmp-') ? [join(dir, e.name)] : [],
  );
}

export const putPart = (t: TestApp, a: Account, uploadId: string, n: number, part: Uint8Array) =>
  t.app.request(`${TEST_ORIGIN}/v1/uploads/${uploadId}/parts/${n}`, {
    method: 'PUT',
    headers: { ...a.auth, 'Content-Length': String(part.length) },
    body: part as Uint8Array<ArrayBuffer>,
  });

/** Starts a resumable upload of bytes in 5 MiB parts and returns it with its parts cut out. */
export async function startUpload(a: Account, bytes: Uint8Array) {
  const { status, body } = await a.json('POST', '/v1/uploads', { size: bytes.length, sha256: sha256Hex(bytes), partSize: 5 * MiB });
  if (status !== 201) throw new Error(`POST /v1/uploads answered ${status}: ${JSON.stringify(body)}`);
  const parts = Array.from({ length: body.partCount as number }, (_, i) => bytes.subarray(i * 5 * MiB, (i + 1) * 5 * MiB));
  return { uploadId: body.uploadId as string, blobId: body.blobId as string, parts };
}

/** Sends every part; fails the test unless each one is stored. */
export async function putAllParts(t: TestApp, a: Account, upload: { uploadId: string; parts: Uint8Array[] }) {
  for (const [i, part] of upload.parts.entries()) {
    const res = await putPart(t, a, upload.uploadId, i + 1, part);
    if (res.status !== 200) throw new Error(`part ${i + 1} answered ${res.status}: ${await res.text()}`);
  }
}

export async function downloaded(a: Account, blobId: string) {
  const res = await a.call('GET', `/v1/blobs/${blobId}`);
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) };
}

/**
 * A store that forwards to a real one, except that the next call of one method fails the way the
 * test arms it. Nothing else about the real store changes.
 */
export function withInjectedFault(store: BlobStore) {
  const armed = new Map<keyof BlobStore, (...args: any[]) => Promise<unknown>>();
  const forward =
    <K extends 'get' | 'put' | 'uploadPart' | 'completeMultipart'>(method: K) =>
    (...args: Parameters<BlobStore[K]>) => {
      const fault = armed.get(method);
      armed.delete(method);
      return (fault ?? (store[method] as (...a: unknown[]) => Promise<unknown>))(...args);
    };
  const wrapped: BlobStore = {
    ...store,
    get: forward('get') as BlobStore['get'],
    put: forward('put') as BlobStore['put'],
    uploadPart: forward('uploadPart') as BlobStore['uploadPart'],
    completeMultipart: forward('completeMultipart') as BlobStore['completeMultipart'],
  };
  return {
    store: wrapped,
    /** The next call of method runs fault instead (which may still call the real store). */
    failNext<K extends 'get' | 'put' | 'uploadPart' | 'completeMultipart'>(method: K, fault: BlobStore[K]) {
      armed.set(method, fault as (...args: any[]) => Promise<unknown>);
    },
  };
}
