import { createHash, randomBytes } from 'node:crypto';
import { type FileHandle, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BlobStoreFullError, type MultipartPart } from './blob-store.js';

// The fs store's file handling: crash-safe writes through temp files, full writes, and the
// lookups that treat a missing file as an answer rather than an error.

/** Temp files start with this; no key segment may (checkKey), so they are never mistaken for objects. */
export const TEMP_PREFIX = '.tmp-';

const DISK_FULL_CODES = new Set(['ENOSPC', 'EDQUOT']);

/** Runs a write, turning "no space left" into the one error type the API answers 503 for. */
export async function reportingFullDisk<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException)?.code;
    if (code && DISK_FULL_CODES.has(code)) throw new BlobStoreFullError(`the blob folder's disk is full (${code})`, { cause: error });
    throw error;
  }
}

/** Every temp file under folder, however deep: objects' and parts' alike. */
export async function* scratchFiles(folder: string): AsyncGenerator<string> {
  let entries;
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch (error) {
    if (isMissing(error)) return;
    throw error;
  }
  for (const entry of entries) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) yield* scratchFiles(path);
    else if (entry.name.startsWith(TEMP_PREFIX)) yield path;
  }
}

export async function readdirIfExists(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
}

/**
 * Writes through a temp file beside path and renames it into place, fsyncing the file and then
 * the folder so the rename survives a crash. On any failure the temp file is removed.
 */
export async function writeAtomically(path: string, write: (file: FileHandle) => Promise<void>) {
  const temp = join(dirname(path), `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
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
export async function copyStream(
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
      await writeAll(file, value);
    }
  } catch (error) {
    await reader.cancel(error).catch(() => {});
    throw error;
  } finally {
    reader.releaseLock();
  }
}

/**
 * Writes all of chunk. A write may store only part of it (a disk filling up does that), and only
 * the next write reports ENOSPC, so a short write that went unnoticed would keep a cut-off file.
 */
async function writeAll(file: FileHandle, chunk: Uint8Array) {
  for (let offset = 0; offset < chunk.byteLength; ) {
    const { bytesWritten } = await file.write(chunk, offset);
    offset += bytesWritten;
  }
}

/** Streams one part onto the end of file, checking the part's MD5 against the listed etag. */
export async function appendPart(file: FileHandle, partPath: string, part: MultipartPart) {
  const source = await openIfFile(partPath);
  if (!source) throw new Error(`part ${part.partNumber} was never uploaded`);
  const hash = createHash('md5');
  try {
    for await (const chunk of source.createReadStream({ autoClose: false }) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      await writeAll(file, chunk);
    }
  } finally {
    await source.close();
  }
  if (hash.digest('hex') !== part.etag.replaceAll('"', '')) throw new Error(`part ${part.partNumber}: etag does not match`);
}

export async function openIfFile(path: string): Promise<FileHandle | null> {
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

export async function statIfExists(path: string) {
  try {
    return await stat(path);
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
}

export async function readSmallFile(path: string): Promise<string | null> {
  const handle = await openIfFile(path);
  if (!handle) return null;
  try {
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

export const isMissing = (error: unknown) => {
  const code = (error as NodeJS.ErrnoException)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
};
