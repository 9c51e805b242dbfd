import { EXPORT_ENTRY, EXPORT_FORMAT, EXPORT_FORMAT_VERSION, exportManifest, type ExportManifest } from '../../protocol/api/export.js';
import type { HashFactory } from '../../protocol/hash.js';
import { type ByteSource, readDataDescriptor, readLocalHeader, readZipDirectory, readZipEnd, ZipFormatError } from './zip-directory.js';

// Reading an export archive offline, from any source that can read a range of bytes (a file on
// Node, a Blob in a browser): the ZIP's central directory says where each entry is, so an entry
// streams from its offset without the archive ever being held in memory. ZIP64 archives (past
// 4 GiB or 65,535 entries) read like any other (zip-directory.ts). Only what the server writes is
// accepted: stored entries, each name once, laid end to end with nothing between or overlapping,
// each local header and data descriptor agreeing with the directory.

export type RandomAccessSource = ByteSource;

export interface ArchiveEntry {
  name: string;
  size: number;
  /** Where the entry's bytes start in the archive. */
  dataOffset: number;
}

/** The archive is not one the server wrote whole, or was changed since: nothing in it is trusted. */
export class ArchiveRejectedError extends Error {
  override name = 'ArchiveRejectedError';
}

const reject = (why: string): never => {
  throw new ArchiveRejectedError(`this is not an intact homing export: ${why}`);
};

const READ_CHUNK = 1024 * 1024;

/** Every entry, checked against the layout the server writes. */
async function listEntries(source: RandomAccessSource) {
  const end = await readZipEnd(source);
  const entries = new Map<string, ArchiveEntry>();
  const order: string[] = [];
  // Where the next local header must start: entries follow each other with no gap or overlap.
  let next = 0;
  for await (const record of readZipDirectory(source, end)) {
    const label = JSON.stringify(record.name);
    if (record.compression !== 0 || record.compressedSize !== record.size) reject(`entry ${label} is compressed; exports store entries as they are`);
    if (entries.has(record.name)) reject(`entry ${label} appears twice`);
    if (record.localOffset !== next) reject(`entry ${label} does not start where the one before it ends`);
    const { dataOffset, descriptor } = await readLocalHeader(source, record);
    const dataEnd = dataOffset + record.size;
    if (dataEnd > end.directoryOffset) reject(`entry ${label} runs past the end of the data`);
    next = descriptor ? await readDataDescriptor(source, record, dataEnd) : dataEnd;
    entries.set(record.name, { name: record.name, size: record.size, dataOffset });
    order.push(record.name);
  }
  if (next !== end.directoryOffset) reject('there are bytes between the last entry and the ZIP directory');
  return { entries, order };
}

/** Lists the archive's entries from its central directory. */
export async function readArchive(source: RandomAccessSource) {
  const { entries, order } = await listEntries(source).catch((err: unknown) => {
    throw err instanceof ZipFormatError ? new ArchiveRejectedError(`this is not an intact homing export: ${err.message}`) : err;
  });

  const entry = (name: string) => entries.get(name) ?? reject(`entry ${JSON.stringify(name)} is missing`);

  /** An entry's bytes, read a chunk at a time as they are consumed. */
  function stream(name: string): ReadableStream<Uint8Array> {
    const { size, dataOffset } = entry(name);
    let done = 0;
    return new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          if (done >= size) {
            controller.close();
            return;
          }
          const length = Math.min(READ_CHUNK, size - done);
          const bytes = await source.read(dataOffset + done, length);
          if (bytes.length !== length) throw new ArchiveRejectedError('the archive ended early');
          done += length;
          controller.enqueue(bytes);
        },
      },
      { highWaterMark: 0 },
    );
  }

  async function bytes(name: string) {
    const { size, dataOffset } = entry(name);
    return source.read(dataOffset, size);
  }

  const text = async (name: string) => new TextDecoder().decode(await bytes(name));

  return {
    /** Entry names in the order they were written. */
    names: () => [...order],
    has: (name: string) => entries.has(name),
    entry,
    stream,
    bytes,
    text,
    json: async <T = unknown>(name: string): Promise<T> => {
      try {
        return JSON.parse(await text(name)) as T;
      } catch {
        return reject(`entry ${name} is not JSON`);
      }
    },
    /** An .ndjson entry's objects, one at a time. */
    async *lines<T = unknown>(name: string): AsyncIterable<T> {
      const reader = stream(name).getReader();
      const decoder = new TextDecoder();
      let rest = '';
      for (;;) {
        const { done, value } = await reader.read();
        rest += done ? decoder.decode() : decoder.decode(value, { stream: true });
        const parts = rest.split('\n');
        rest = done ? '' : parts.pop()!;
        for (const part of parts) if (part.trim() !== '') yield JSON.parse(part) as T;
        if (done) return;
      }
    },
  };
}

export type ExportArchive = Awaited<ReturnType<typeof readArchive>>;

async function hashOf(stream: ReadableStream<Uint8Array>, sha256: HashFactory) {
  const hash = sha256();
  let size = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { size, sha256: hash.hex() };
    size += value.length;
    hash.update(value);
  }
}

/**
 * Checks the archive against its manifest before anything in it is used: the manifest is there
 * (a download cut off has none), lists exactly the entries the archive holds, and every entry has
 * the size and SHA-256 it lists. Throws ArchiveRejectedError naming the first entry that differs.
 */
export async function verifyArchive(archive: ExportArchive, sha256: HashFactory, onEntry?: (name: string, bytes: number) => void): Promise<ExportManifest> {
  if (!archive.has(EXPORT_ENTRY.manifest)) reject('it has no manifest.json (the download was cut off?)');
  const parsed = exportManifest.safeParse(await archive.json(EXPORT_ENTRY.manifest));
  if (!parsed.success) reject(`manifest.json is not a ${EXPORT_FORMAT} version ${EXPORT_FORMAT_VERSION} manifest`);
  const manifest = parsed.data!;
  const listed = new Map(manifest.entries.map((e) => [e.name, e]));
  for (const name of archive.names()) {
    if (name !== EXPORT_ENTRY.manifest && !listed.has(name)) reject(`entry ${JSON.stringify(name)} is not in the manifest`);
  }
  for (const expected of manifest.entries) {
    if (!archive.has(expected.name)) reject(`entry ${JSON.stringify(expected.name)} listed in the manifest is missing`);
    const actual = await hashOf(archive.stream(expected.name), sha256);
    if (actual.size !== expected.size || actual.sha256 !== expected.sha256) {
      reject(`entry ${JSON.stringify(expected.name)} does not match its SHA-256 in the manifest (altered or damaged)`);
    }
    onEntry?.(expected.name, actual.size);
  }
  return manifest;
}
