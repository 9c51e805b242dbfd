import { createHash, randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import type { BlobRange, BlobStore, MultipartPart, StoredObject } from './blob-store.js';

/**
 * The embedded default: objects are files under root. Every write goes to a temp file in the
 * target's folder, is fsynced and then renamed into place, so a reader sees the old object or
 * the new one whole, never a part. Bodies are streamed in both directions, so memory stays flat
 * whatever the object's size. Names starting with '.' are the store's own (temp files and
 * .multipart) and are never keys.
 */
export function createFsBlobStore(root: string, options: { listPageSize?: number } = {}): BlobStore {
  const pageSize = options.listPageSize ?? 1000;
  const multipartRoot = join(root, '.multipart');

  const pathOf = (key: string) => join(root, ...checkKey(key).split('/'));

  const uploadDir = (uploadId: string) => {
    if (!/^[0-9a-f]{32}$/.test(uploadId)) throw new Error('no such multipart upload');
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

    async put(key, body, size) {
      const path = pathOf(key);
      await mkdir(dirname(path), { recursive: true });
      await writeAtomically(path, async (file) => {
        const written = await copyStream(body, file, size);
        if (written !== size) throw new Error(`body yielded ${written} bytes, expected ${size}`);
      });
    },

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
      return info?.isFile() ? { size: info.size } : null;
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

    async createMultipart(key) {
      checkKey(key);
      const uploadId = randomBytes(16).toString('hex');
      const dir = join(multipartRoot, uploadId);
      await mkdir(dir, { recursive: true });
      await writeAtomically(join(dir, 'key'), (file) => file.writeFile(key).then(() => undefined));
      return { uploadId };
    },

    async uploadPart(key, uploadId, partNumber, body, size) {
      checkPartNumber(partNumber);
      const dir = await openUpload(key, uploadId);
      const hash = createHash('md5');
      await writeAtomically(join(dir, String(partNumber)), async (file) => {
        const written = await copyStream(body, file, size, hash);
        if (written !== size) throw new Error(`part yielded ${written} bytes, expected ${size}`);
      });
      return { partNumber, etag: hash.digest('hex') };
    },

    async completeMultipart(key, uploadId, parts) {
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
    },

    async abortMultipart(key, uploadId) {
      let dir: string;
      try {
        dir = await openUpload(key, uploadId);
      } catch {
        return;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

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
 * Writes through a temp file beside path and renames it into place, fsyncing the file and then
 * the folder so the rename survives a crash. On any failure the temp file is removed.
 */
async function writeAtomically(path: string, write: (file: FileHandle) => Promise<void>) {
  const temp = join(dirname(path), `.tmp-${randomBytes(8).toString('hex')}`);
  const file = await open(temp, 'wx', 0o600);
  try {
    await write(file);
    await file.sync();
    await file.close();
    await rename(temp, path);
  } catch (error) {
    await file.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw error;
  }
  await syncFolder(dirname(path));
}

async function syncFolder(path: string) {
  const folder = await open(path, 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}

/** Copies body into file and returns the byte count; stops reading as soon as it passes limit. */
async function copyStream(
  body: ReadableStream<Uint8Array>,
  file: FileHandle,
  limit: number,
  hash?: ReturnType<typeof createHash>,
): Promise<number> {
  const reader = body.getReader();
  let written = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return written;
      written += value.byteLength;
      if (written > limit) throw new Error(`body yielded more than ${limit} bytes`);
      hash?.update(value);
      await file.write(value);
    }
  } catch (error) {
    await reader.cancel(error).catch(() => {});
    throw error;
  } finally {
    reader.releaseLock();
  }
}

/** Streams one part onto the end of file, checking the part's MD5 against the listed etag. */
async function appendPart(file: FileHandle, partPath: string, part: MultipartPart) {
  const source = await openIfFile(partPath);
  if (!source) throw new Error(`part ${part.partNumber} was never uploaded`);
  const hash = createHash('md5');
  try {
    for await (const chunk of source.createReadStream({ autoClose: false }) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      await file.write(chunk);
    }
  } finally {
    await source.close();
  }
  if (hash.digest('hex') !== part.etag.replaceAll('"', '')) throw new Error(`part ${part.partNumber}: etag does not match`);
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

async function openIfFile(path: string): Promise<FileHandle | null> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
  if ((await handle.stat()).isFile()) return handle;
  await handle.close();
  return null;
}

async function statIfExists(path: string) {
  try {
    return await stat(path);
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
}

async function readSmallFile(path: string): Promise<string | null> {
  const handle = await openIfFile(path);
  if (!handle) return null;
  try {
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

const isMissing = (error: unknown) => {
  const code = (error as NodeJS.ErrnoException)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
};
