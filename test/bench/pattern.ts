// Deterministic test bytes made on the fly, so gigabyte bodies never sit in memory: a 1 MiB block
// of seeded pseudo-random bytes, repeated, with each copy stamped with its index so no two
// chunks are alike. The same (seed, size) always gives the same bytes.
import { createHash } from 'node:crypto';

export const PATTERN_CHUNK = 1024 * 1024;

function seededBlock(seed: number): Uint8Array {
  const block = new Uint8Array(PATTERN_CHUNK);
  const words = new Uint32Array(block.buffer);
  let x = seed >>> 0 || 0x9e3779b9;
  for (let i = 0; i < words.length; i++) {
    // xorshift32
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    words[i] = x;
  }
  return block;
}

const blocks = new Map<number, Uint8Array>();

/** Chunk `index` of the pattern (a fresh array the caller may keep or hand off), cut to `length`. */
export function patternChunk(seed: number, index: number, length = PATTERN_CHUNK): Uint8Array {
  let block = blocks.get(seed);
  if (!block) blocks.set(seed, (block = seededBlock(seed)));
  const chunk = block.slice(0, length);
  const view = new DataView(chunk.buffer);
  if (length >= 8) {
    view.setUint32(0, view.getUint32(0, true) ^ index, true);
    view.setUint32(4, view.getUint32(4, true) ^ Math.floor(index / 2 ** 32), true);
  }
  return chunk;
}

/** The chunks of `size` pattern bytes, in order. */
export function* patternChunks(seed: number, size: number): Generator<Uint8Array> {
  for (let index = 0, offset = 0; offset < size; index++, offset += PATTERN_CHUNK) {
    yield patternChunk(seed, index, Math.min(PATTERN_CHUNK, size - offset));
  }
}

/** `size` pattern bytes as a stream that makes each chunk only when asked for it. */
export function patternStream(seed: number, size: number, onBytes?: (sent: number) => void): ReadableStream<Uint8Array> {
  const chunks = patternChunks(seed, size);
  let sent = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const next = chunks.next();
        if (next.done) {
          controller.close();
          return;
        }
        sent += next.value.length;
        onBytes?.(sent);
        controller.enqueue(next.value);
      },
    },
    { highWaterMark: 0 },
  );
}

/** SHA-256 (hex) of `size` pattern bytes: a first pass over the same generator. */
export function patternSha256(seed: number, size: number): string {
  const hash = createHash('sha256');
  for (const chunk of patternChunks(seed, size)) hash.update(chunk);
  return hash.digest('hex');
}
