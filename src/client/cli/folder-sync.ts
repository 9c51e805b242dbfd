import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, extname, isAbsolute, join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ApiClient } from '../api.js';
import { nativeChunkCipher } from '../crypto/blob-cipher-node.js';
import { toBase64Url } from '../../protocol/encoding.js';
import type { HashFactory } from '../../protocol/hash.js';
import { conflictName, type ItemMetadata, type ReplicaItem, type SyncEngine } from '../sync/engine.js';
import { downloadDecrypted, uploadEncrypted } from '../sync/blob-transfer.js';
import { createProgress } from './progress.js';

// Backing up a folder to the account, and restoring it on another device, byte for byte.

const nodeSha256: HashFactory = () => {
  const hash = createHash('sha256');
  return { update: (bytes) => void hash.update(bytes), hex: () => hash.digest('hex') };
};
const transfer = { cipher: nativeChunkCipher, sha256: nodeSha256 };

const KIND_BY_EXTENSION: Record<string, string> = {
  '.vcf': 'contacts',
  '.ics': 'calendar',
  '.md': 'notes',
  '.txt': 'notes',
  '.jpg': 'photos',
  '.jpeg': 'photos',
  '.png': 'photos',
  '.heic': 'photos',
  '.gif': 'photos',
  '.webp': 'photos',
  '.eml': 'email',
};

export const kindOf = (path: string) => KIND_BY_EXTENSION[extname(path).toLowerCase()] ?? 'files';

async function walk(root: string, dir = root): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files = await Promise.all(
    entries.map(async (entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return walk(root, path);
      return entry.isFile() ? [relative(root, path).split(sep).join('/')] : [];
    }),
  );
  return files.flat().sort();
}

async function fileSha256(path: string) {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

export interface FileMeta {
  name: string;
  size: number;
  sha256: string;
  modifiedAt: number;
  blobKey: string;
  chunkSize: number;
}

type Plan = 'unchanged' | 'newer-elsewhere' | 'create' | 'update' | 'keep-both';

/**
 * What to do with a local file, given what this device last synced of it and what the account
 * holds now. When both sides changed it since, neither wins: the local file goes up as a copy.
 */
function planFor(local: string, lastSynced: { version: number; sha256: unknown } | undefined, remote: { version: number; meta: ItemMetadata } | undefined): Plan {
  if (!remote) return 'create';
  if (remote.meta.sha256 === local) return 'unchanged';
  const remoteChanged = !lastSynced || lastSynced.version !== remote.version;
  if (!remoteChanged) return 'update';
  return lastSynced && lastSynced.sha256 === local ? 'newer-elsewhere' : 'keep-both';
}

/** Uploads new and changed files; unchanged ones (same path and SHA-256) are skipped. */
export async function backupFolder(api: ApiClient, engine: SyncEngine, root: string) {
  const lastSynced = new Map(engine.liveItems().map((item) => [item.meta.name, { version: item.version, sha256: item.meta.sha256 }]));
  await engine.pull();
  const byName = new Map(engine.liveItems().map((item) => [item.meta.name, item]));
  const files = await walk(root);
  const sizes = await Promise.all(files.map(async (f) => (await stat(join(root, f))).size));
  const progress = createProgress('backup', sizes.reduce((a, b) => a + b, 0));
  const counts = { uploaded: 0, unchanged: 0, keptBoth: 0, newerElsewhere: 0 };

  for (const [i, name] of files.entries()) {
    const path = join(root, name);
    const { size, mtimeMs } = await stat(path);
    const sha256 = await fileSha256(path);
    const existing = byName.get(name);
    const plan = planFor(sha256, lastSynced.get(name), existing);
    if (plan === 'unchanged' || plan === 'newer-elsewhere') {
      counts[plan === 'unchanged' ? 'unchanged' : 'newerElsewhere']++;
      progress.fileDone(sizes[i]!);
      continue;
    }
    const blob = await uploadEncrypted(api, () => Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>, size, {
      ...transfer,
      onProgress: progress.update,
    });
    const savedName = plan === 'keep-both' ? conflictName(name) : name;
    const meta: FileMeta = { name: savedName, size, sha256, modifiedAt: Math.round(mtimeMs), blobKey: toBase64Url(blob.blobKey), chunkSize: blob.chunkSize };
    const itemId = plan === 'update' ? existing?.id : undefined;
    const { outcome } = await engine.saveItem({ kind: kindOf(name), meta: { ...meta }, blobId: blob.blobId, itemId });
    if (outcome === 'kept-both' || plan === 'keep-both') counts.keptBoth++;
    else counts.uploaded++;
    progress.fileDone(sizes[i]!);
  }
  progress.finish();
  return counts;
}

// Control characters (NUL among them) have no place in a file name, and NUL cuts a path short.
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A path from metadata, checked to stay inside the target folder. */
function safeTarget(root: string, name: string) {
  const parts = name.split('/');
  if (isAbsolute(name) || parts.some((p) => p === '' || p === '.' || p === '..') || name.includes('\\') || CONTROL.test(name)) {
    throw new Error('unsafe path: absolute, or with an empty, "." or ".." part, a backslash or a control character');
  }
  return join(root, ...parts);
}

type BlobItem = { meta: ItemMetadata; blob: NonNullable<ReplicaItem['blob']> };

/**
 * Writes one file item into the folder. It is decrypted into a temporary file and renamed into
 * place only after the whole blob verified, so a failed or tampered download never leaves a partial
 * file under the real name. Only what docs/CRYPTO.md §8 requires is relied on (name, blobKey; the
 * blob header holds the chunk size): size and sha256 are this CLI's own extras, checked when present.
 */
async function restoreFile(api: ApiClient, root: string, item: BlobItem, onProgress: (bytes: number) => void) {
  const { name, blobKey, sha256 } = item.meta;
  if (typeof name !== 'string') throw new Error('its metadata has no name');
  if (typeof blobKey !== 'string') throw new Error('its metadata has no blobKey');
  const target = safeTarget(root, name);
  const expectedSha256 = typeof sha256 === 'string' ? sha256 : undefined;
  const current = await stat(target).catch(() => undefined);
  if (expectedSha256 && current?.isFile() && (await fileSha256(target)) === expectedSha256) return 'unchanged';
  await mkdir(dirname(target), { recursive: true });
  const temp = `${target}.homing-partial`;
  try {
    const plain = await downloadDecrypted(api, item.blob.id, blobKey, { ...transfer, onProgress });
    await pipeline(Readable.fromWeb(plain as import('node:stream/web').ReadableStream<Uint8Array>), createWriteStream(temp));
    if (expectedSha256 && (await fileSha256(temp)) !== expectedSha256) throw new Error('the restored bytes do not match the backed-up SHA-256');
    await rename(temp, target);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  return 'restored';
}

export interface SkippedItem {
  name: unknown;
  reason: string;
}

/**
 * Writes every live file item into the folder. An item that cannot be restored (an unsafe name,
 * metadata without a blob key, a tampered blob) is skipped and reported, and the rest still are.
 */
export async function restoreFolder(api: ApiClient, engine: SyncEngine, root: string) {
  await engine.pull();
  const items = engine.liveItems().flatMap((item) => (item.blob ? [{ ...item, blob: item.blob }] : []));
  const expectedBytes = (item: BlobItem) => (typeof item.meta.size === 'number' ? item.meta.size : item.blob.size);
  const progress = createProgress('restore', items.reduce((sum, item) => sum + expectedBytes(item), 0));
  const result = { restored: 0, unchanged: 0, skipped: [] as SkippedItem[] };

  for (const item of items) {
    try {
      result[await restoreFile(api, root, item, progress.update)]++;
    } catch (err) {
      result.skipped.push({ name: item.meta.name, reason: (err as Error).message });
    }
    progress.fileDone(expectedBytes(item));
  }
  progress.finish();
  return result;
}
