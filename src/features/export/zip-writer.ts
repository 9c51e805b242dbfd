import { makeZip } from 'client-zip';
import type { HashFactory } from '../../protocol/hash.js';

// A ZIP written as it is read, with stored (uncompressed) entries: nearly everything in an export
// is ciphertext, which does not compress. client-zip writes each entry's local header, its bytes
// and a data descriptor (the CRC-32 and size it counted on the way), then the central directory;
// it switches to ZIP64 by itself wherever a size, an offset or the directory passes 32 bits, so
// no account is too large for one archive. It uses web streams only and runs alike on Node and
// Workers.
//
// Guarantees:
// - Pulled: an entry's source is read only as the archive is read, one entry at a time; what sits
//   between the source and the reader is a chunk or two.
// - Each entry is hashed (SHA-256) on its way in, and reported with its size once all of it is
//   written, so the caller can list exactly what the archive holds.
// - An error in a source errors the archive stream where it stands (nothing after it is written).
// - Cancelling the archive stream cancels the source being read (a blob from the store) and stops
//   the list of sources; a source handed over but not yet read is cancelled too.

export interface ZipSource {
  name: string;
  /** A stream (a blob from the store) or a lazy iterable (rows as they are read). */
  body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;
}

export interface WrittenEntry {
  name: string;
  size: number;
  sha256: string;
}

const SIG_END = 0x06054b50;
const SIG_END64 = 0x06064b50;
const SIG_LOCATOR64 = 0x07064b50;

/**
 * client-zip writes the ZIP64 end records only when an offset needs them; past 65,535 entries in
 * an archive under 4 GiB it fills the 16-bit count and stops there, which Info-ZIP and others
 * report as a damaged archive. Given its end record, this adds the ZIP64 end record and locator
 * that carry the real count, as the format asks.
 */
function endRecords(end: Uint8Array, entries: number, at: number): Uint8Array[] {
  const e = new DataView(end.buffer, end.byteOffset, end.byteLength);
  if (end.length !== 22 || e.getUint32(0, true) !== SIG_END) throw new Error('the ZIP writer did not end with an end record');
  const directorySize = e.getUint32(12, true);
  const directoryOffset = e.getUint32(16, true);
  if (entries < 0xffff || directoryOffset === 0xffff_ffff) return [end];
  if (directoryOffset + directorySize !== at) throw new Error('the ZIP writer\'s end record does not follow its directory');
  const z = new DataView(new ArrayBuffer(56 + 20));
  z.setUint32(0, SIG_END64, true);
  z.setBigUint64(4, 44n, true);
  z.setUint16(12, 45, true); // made by, and needed: 4.5, as client-zip writes
  z.setUint16(14, 45, true);
  z.setBigUint64(24, BigInt(entries), true);
  z.setBigUint64(32, BigInt(entries), true);
  z.setBigUint64(40, BigInt(directorySize), true);
  z.setBigUint64(48, BigInt(directoryOffset), true);
  z.setUint32(56, SIG_LOCATOR64, true);
  z.setBigUint64(64, BigInt(at), true);
  z.setUint32(72, 1, true);
  return [new Uint8Array(z.buffer), end];
}

const isStream = (body: ZipSource['body']): body is ReadableStream<Uint8Array> => typeof (body as ReadableStream).getReader === 'function';

async function* chunksOf(body: ZipSource['body']): AsyncGenerator<Uint8Array> {
  if (!isStream(body)) {
    yield* body;
    return;
  }
  const reader = body.getReader();
  let done = false;
  try {
    for (;;) {
      const next = await reader.read();
      if (next.done) {
        done = true;
        return;
      }
      yield next.value;
    }
  } finally {
    // Left early (the archive was cancelled): stop the read at its source.
    if (!done) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

async function discard(body: ZipSource['body']) {
  if (isStream(body)) {
    if (!body.locked) await body.cancel().catch(() => undefined);
  } else {
    await (body as AsyncGenerator<Uint8Array>).return?.(undefined)?.catch(() => undefined);
  }
}

export function createZipStream(
  sources: AsyncIterable<ZipSource>,
  options: { mtime: number; sha256: HashFactory; onWritten(entry: WrittenEntry): void },
): ReadableStream<Uint8Array> {
  const lastModified = new Date(options.mtime);
  let stopped = false;
  let current: { source: ZipSource; chunks: AsyncGenerator<Uint8Array> } | undefined;

  async function* hashed(source: ZipSource): AsyncGenerator<Uint8Array> {
    const hash = options.sha256();
    let size = 0;
    for await (const chunk of chunksOf(source.body)) {
      hash.update(chunk);
      size += chunk.length;
      yield chunk;
    }
    options.onWritten({ name: source.name, size, sha256: hash.hex() });
  }

  let entries = 0;
  let listedAll = false;
  async function* inputs() {
    for await (const source of sources) {
      if (stopped) {
        await discard(source.body);
        return;
      }
      const chunks = hashed(source);
      current = { source, chunks };
      entries++;
      // No `size`: client-zip writes the size it counts, and decides ZIP64 from it, either way.
      yield { name: source.name, lastModified, input: chunks };
    }
    current = undefined;
    listedAll = true;
  }

  const zip = makeZip(inputs(), { buffersAreUTF8: true }).getReader();
  let written = 0;
  // Once every entry is written, what follows is the directory and the end record: the last
  // chunk is held back until the end, to add the ZIP64 end records if the count needs them.
  let held: Uint8Array | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          const next = await zip.read();
          if (next.done) {
            if (held) for (const chunk of endRecords(held, entries, written)) controller.enqueue(chunk);
            controller.close();
            return;
          }
          if (listedAll) {
            const previous = held;
            held = next.value;
            if (!previous) continue;
            written += previous.length;
            controller.enqueue(previous);
            return;
          }
          written += next.value.length;
          controller.enqueue(next.value);
          return;
        }
      },
      async cancel(reason) {
        stopped = true;
        const reading = current;
        // Runs the reading generators' finally blocks: the blob being read is cancelled.
        await reading?.chunks.return(undefined).catch(() => undefined);
        if (reading) await discard(reading.source.body);
        // client-zip passes the cancel on to the list of sources, which ends.
        await zip.cancel(reason).catch(() => undefined);
      },
    },
    { highWaterMark: 0 },
  );
}
