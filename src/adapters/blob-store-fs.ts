import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import type { BlobRange, BlobStore, StoredObject } from './blob-store.js';
import {
  appendPart,
  copyStream,
  isMissing,
  openIfFile,
  readdirIfExists,
  readSmallFile,
  reportingFullDisk,
  scratchFiles,
  statIfExists,
  writeAtomically,
} from './blob-store-fs-files.js';

/**
 * The embedded default: objects are files under root. Every write goes to a temp file in the
 * target's folder, is fsynced and then renamed into place, so a reader sees the old object or
 * the new one whole, never a part. Bodies are streamed in both directions, so memory stays flat
 * whatever the object's size. Names starting with '.' are the store's own (temp files and
 * .multipart) and are never keys. A full disk is reported as BlobStoreFullError, with the temp
 * file already removed; what a crash leaves (temp files, unrecorded uploads) is swept by age.
 */
export function createFsBlobStore(root: string, options: { listPageSize?: number } = {}): BlobStore {
  const pageSize = options.listPageSize ?? 1000;
  const multipartRoot = join(root, '.multipart');

  const pathOf = (key: string) => join(root, ...checkKey(key).split('/'));

  const uploadDir = (uploadId: string) => {
    if (!UPLOAD_ID.test(uploadId)) throw new Error('no such multipart upload');
    return join(multipartRoot, uploadId);
  };

  /** The upload's folder, after checking it exists and was made for this key. */
  const openUpload = async (key: string, uploadId: string) => {
    const dir = uploadDir(uploadId);
    const owner = await readSmallFile(join(dir, 'key'));
    if (owner !== key) throw new Error('no such multipart upload');
    return dir;
  };

  return {
    name: 'fs',

    put: (key, body, size) =>
      reportingFullDisk(async () => {
        const path = pathOf(key);
        await mkdir(dirname(path), { recursive: true });
        await writeAtomically(path, async (file) => {
          const written = await copyStream(body, file, size);
          if (written !== size) throw new Error(`body yielded ${written} bytes, expected ${size}`);
        });
      }),

    async get(key, range) {
      const handle = await openIfFile(pathOf(key));
      if (!handle) return null;
      try {
        const totalSize = (await handle.stat()).size;
        const { start, end } = resolveRange(range, totalSize);
        const size = end - start + 1;
        if (size === 0) {
          await handle.close();
          return { body: new ReadableStream<Uint8Array>({ start: (c) => c.close() }), size, totalSize };
        }
        const nodeStream = handle.createReadStream({ start, end, autoClose: true });
        return { body: Readable.toWeb(nodeStream) as unknown as StoredObject['body'], size, totalSize };
      } catch (error) {
        await handle.close();
        throw error;
      }
    },

    async head(key) {
      const info = await statIfExists(pathOf(key));
      // Every put renames a new file into place, so the inode and mtime change with each version.
      return info?.isFile() ? { size: info.size, etag: `${info.size}-${info.ino}-${info.mtimeMs}` } : null;
    },

    async delete(keys) {
      for (const key of keys) {
        try {
          await unlink(pathOf(key));
        } catch (error) {
          if (!isMissing(error)) throw error;
        }
      }
    },

    async list(prefix, cursor) {
      const slash = prefix.lastIndexOf('/');
      const folder = prefix.slice(0, slash + 1);
      if (folder) checkKey(folder.slice(0, -1));
      if (prefix.includes('\0') || prefix.includes('\\') || prefix.startsWith('/')) throw new Error('invalid prefix');
      const keys: { key: string; size: number }[] = [];
      for await (const entry of walk(join(root, folder), folder, prefix, cursor)) {
        if (keys.length === pageSize) return { keys, cursor: keys[keys.length - 1]!.key };
        keys.push(entry);
      }
      return { keys };
    },

    createMultipart: (key) =>
      reportingFullDisk(async () => {
        checkKey(key);
        const uploadId = randomBytes(16).toString('hex');
        const dir = join(multipartRoot, uploadId);
        await mkdir(dir, { recursive: true });
        await writeAtomically(join(dir, 'key'), (file) => file.writeFile(key).then(() => undefined));
        return { uploadId };
      }),

    uploadPart: (key, uploadId, partNumber, body, size) =>
      reportingFullDisk(async () => {
        checkPartNumber(partNumber);
        const dir = await openUpload(key, uploadId);
        const hash = createHash('md5');
        await writeAtomically(join(dir, String(partNumber)), async (file) => {
          const written = await copyStream(body, file, size, hash);
          if (written !== size) throw new Error(`part yielded ${written} bytes, expected ${size}`);
        });
        return { partNumber, etag: hash.digest('hex') };
      }),

    // The parts stay until the joined object is in place, so a crash or a full disk part-way
    // leaves an upload that a retry completes.
    completeMultipart: (key, uploadId, parts) =>
      reportingFullDisk(async () => {
        const dir = await openUpload(key, uploadId);
        const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
        if (sorted.length === 0) throw new Error('a multipart upload needs at least one part');
        sorted.forEach((part, i) => {
          checkPartNumber(part.partNumber);
          if (i > 0 && sorted[i - 1]!.partNumber === part.partNumber) throw new Error(`part ${part.partNumber} listed twice`);
        });
        const path = pathOf(key);
        await mkdir(dirname(path), { recursive: true });
        await writeAtomically(path, async (file) => {
          for (const part of sorted) await appendPart(file, join(dir, String(part.partNumber)), part);
        });
        await rm(dir, { recursive: true, force: true });
      }),

    async abortMultipart(key, uploadId) {
      let dir: string;
      try {
        dir = await openUpload(key, uploadId);
      } catch {
        return;
      }
      await rm(dir, { recursive: true, force: true });
    },

    async listMultipart(cursor) {
      const ids = (await readdirIfExists(multipartRoot)).filter((id) => UPLOAD_ID.test(id) && (cursor === undefined || id > cursor)).sort();
      const uploads = [];
      for (const uploadId of ids.slice(0, pageSize)) {
        const keyFile = join(multipartRoot, uploadId, 'key');
        const [key, info] = [await readSmallFile(keyFile), await statIfExists(keyFile)];
        if (key !== null && info) uploads.push({ key, uploadId, startedAt: info.mtimeMs });
      }
      return ids.length > pageSize ? { uploads, cursor: ids[pageSize - 1] } : { uploads };
    },

    async discardPrefix(prefix) {
      const folder = prefix.replace(/\/+$/, '');
      const path = join(root, ...checkKey(folder).split('/'));
      let removed = 0;
      for await (const _ of scratchFiles(path)) removed++;
      await rm(path, { recursive: true, force: true });
      return removed;
    },

    async sweepScratch(before) {
      let removed = 0;
      for await (const path of scratchFiles(root)) {
        const info = await statIfExists(path);
        if (info && info.mtimeMs < before) {
          await rm(path, { force: true });
          removed++;
        }
      }
      // A folder without its key file is an upload that crashed while starting: nothing can use it.
      for (const uploadId of await readdirIfExists(multipartRoot)) {
        const dir = join(multipartRoot, uploadId);
        const info = await statIfExists(dir);
        if (info?.isDirectory() && info.mtimeMs < before && !(await statIfExists(join(dir, 'key')))) {
          await rm(dir, { recursive: true, force: true });
          removed++;
        }
      }
      return removed;
    },
  };
}

const UPLOAD_ID = /^[0-9a-f]{32}$/;

/**
 * Defence in depth: keys are made by the server (blobKey), but a key that could name a path
 * outside root, or one of the store's own files, is refused here too.
 */
function checkKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0) throw new Error('invalid blob key: empty');
  if (key.startsWith('/') || key.includes('\\') || key.includes('\0') || key.includes('..')) {
    throw new Error('invalid blob key: absolute, or contains "..", "\\" or NUL');
  }
  for (const segment of key.split('/')) {
    if (segment === '') throw new Error('invalid blob key: empty segment');
    if (segment.startsWith('.')) throw new Error('invalid blob key: segment starts with "."');
  }
  return key;
}

function checkPartNumber(partNumber: number) {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10_000) {
    throw new Error('part numbers are integers from 1 to 10000');
  }
}

function resolveRange(range: BlobRange | undefined, totalSize: number): BlobRange {
  if (!range) return { start: 0, end: totalSize - 1 };
  const { start, end } = range;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start) {
    throw new RangeError('invalid byte range');
  }
  if (start >= totalSize) throw new RangeError('range not satisfiable');
  return { start, end: Math.min(end, totalSize - 1) };
}

/**
 * Yields the files under folder whose keys start with prefix and sort after cursor, in byte
 * order of the whole key. A folder sorts as its name plus '/', which is where all its keys sort,
 * and a folder whose keys all sort before the cursor is skipped without being read.
 */
async function* walk(
  path: string,
  folder: string,
  prefix: string,
  cursor: string | undefined,
): AsyncGenerator<{ key: string; size: number }> {
  let entries;
  try {
    entries = await readdir(path, { withFileTypes: true });
  } catch (error) {
    if (isMissing(error)) return;
    throw error;
  }
  const named = entries
    .filter((e) => !e.name.startsWith('.') && (e.isFile() || e.isDirectory()))
    .map((e) => ({ entry: e, key: folder + e.name + (e.isDirectory() ? '/' : '') }))
    .filter(({ key }) => key.startsWith(prefix) || prefix.startsWith(key))
    .sort((a, b) => compareKeys(a.key, b.key));
  for (const { entry, key } of named) {
    if (entry.isDirectory()) {
      if (cursor !== undefined && compareKeys(key, cursor) < 0 && !cursor.startsWith(key)) continue;
      yield* walk(join(path, entry.name), key, prefix, cursor);
    } else {
      if (!key.startsWith(prefix) || (cursor !== undefined && compareKeys(key, cursor) <= 0)) continue;
      const info = await statIfExists(join(path, entry.name));
      if (info?.isFile()) yield { key, size: info.size };
    }
  }
}

/** S3 orders keys by their UTF-8 bytes; JavaScript's < compares UTF-16 units. */
const compareKeys = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

