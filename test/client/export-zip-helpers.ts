import { nodeSha256 } from '../../src/client/export/open-folder.js';
import type { RandomAccessSource } from '../../src/client/export/archive.js';
import { exportArchiveStream } from '../../src/features/export/service.js';
import type { ZipSource } from '../../src/features/export/zip-writer.js';
import { utf8 } from '../../src/protocol/encoding.js';

// Archives made by the export's own writer (exportArchiveStream: client-zip, each entry hashed,
// the manifest last) from entries a test makes up, without an account behind them; and a way to
// hold a > 4 GiB archive without 4 GiB of memory or disk.

export const HEADER = { accountId: 'acc_zip64', server: 'https://homing.test', exportedAt: Date.UTC(2026, 10, 1) };

export const textEntry = (name: string, text: string): ZipSource => ({
  name,
  body: (async function* () {
    yield utf8(text);
  })(),
});

export function writeExport(entries: Iterable<ZipSource> | AsyncIterable<ZipSource>) {
  async function* all() {
    yield* entries;
  }
  return exportArchiveStream(nodeSha256, HEADER, all());
}

export async function collect(stream: ReadableStream<Uint8Array>) {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Reads an archive stream, keeping every chunk but `zero` (a run of zeros the test streams again
 * and again) in memory; the zero runs are only counted. Reads of the result synthesise them.
 */
export async function sparseCapture(stream: ReadableStream<Uint8Array>, zero: Uint8Array) {
  const segments: { at: number; bytes: Uint8Array | null; length: number }[] = [];
  let size = 0;
  let kept = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value: chunk } = await reader.read();
    if (done) break;
    const isZero = chunk === zero;
    const last = segments.at(-1);
    if (isZero && last && last.bytes === null) last.length += chunk.length;
    else segments.push({ at: size, bytes: isZero ? null : chunk, length: chunk.length });
    if (!isZero) kept += chunk.length;
    size += chunk.length;
  }
  const patches: { at: number; bytes: Uint8Array }[] = [];
  const source: RandomAccessSource & { kept: number; patch(at: number, bytes: Uint8Array): void } = {
    size,
    kept,
    patch: (at, bytes) => void patches.push({ at, bytes }),
    async read(offset, length) {
      const end = Math.min(size, offset + length);
      const out = new Uint8Array(Math.max(0, end - offset));
      // Binary search for the segment holding `offset`, then copy forward.
      let lo = 0;
      let hi = segments.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (segments[mid]!.at <= offset) lo = mid;
        else hi = mid - 1;
      }
      for (let i = lo; i < segments.length && segments[i]!.at < end; i++) {
        const s = segments[i]!;
        const from = Math.max(offset, s.at);
        const to = Math.min(end, s.at + s.length);
        if (s.bytes && to > from) out.set(s.bytes.subarray(from - s.at, to - s.at), from - offset);
      }
      for (const p of patches) {
        for (let i = 0; i < p.bytes.length; i++) {
          const at = p.at + i;
          if (at >= offset && at < end) out[at - offset] = p.bytes[i]!;
        }
      }
      return out;
    },
  };
  return source;
}

/** Where each central directory record starts in a small (not ZIP64) archive, and the end record. */
export function directoryOf(bytes: Uint8Array) {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.length - 22;
  const records: { at: number; name: string; localOffset: number }[] = [];
  let at = v.getUint32(end + 16, true);
  while (at < end) {
    const nameLength = v.getUint16(at + 28, true);
    records.push({ at, name: new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLength)), localOffset: v.getUint32(at + 42, true) });
    at += 46 + nameLength + v.getUint16(at + 30, true) + v.getUint16(at + 32, true);
  }
  return { view: v, end, records };
}
