// Section 3: blob encryption and decryption throughput, pure-JS cipher against Node's native one,
// through the real streaming format (createEncryptStream / createDecryptStream).
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { nativeChunkCipher } from '../../src/client/crypto/blob-cipher-node.js';
import {
  type ChunkCipher,
  createDecryptStream,
  createEncryptStream,
  DEFAULT_CHUNK_SIZE,
  encryptedSize,
  nobleChunkCipher,
} from '../../src/client/crypto/blob-format.js';
import { patternChunks } from './pattern.js';
import { mbPerSecond, median, MiB, progress } from './util.js';

export const CIPHER_BYTES = 64 * MiB;
export const SLICE_BYTES = 64 * 1024;
export const CIPHER_ROUNDS = 7;

const CIPHERS: Record<'noble' | 'native', ChunkCipher> = { noble: nobleChunkCipher, native: nativeChunkCipher };
type CipherName = keyof typeof CIPHERS;

export interface CipherResult {
  bytes: number;
  sliceBytes: number;
  chunkSize: number;
  rounds: number;
  /** Median MB/s (plaintext bytes) per cipher and direction. */
  encrypt: Record<CipherName, number>;
  decrypt: Record<CipherName, number>;
  /** Slowest and fastest round, MB/s, to show the spread on a noisy machine. */
  encryptRange: Record<CipherName, [number, number]>;
  decryptRange: Record<CipherName, [number, number]>;
  identicalCiphertext: boolean;
}

/** `data` as a stream of `slice`-byte views, handed out one per read. */
function sliced(data: Uint8Array, slice: number): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (offset >= data.length) {
          controller.close();
          return;
        }
        controller.enqueue(data.subarray(offset, offset + slice));
        offset += slice;
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * Drains a stream into `out`, which it must fill exactly. The arrays are allocated once, up
 * front, so the timings hold no page faults of fresh 64 MiB buffers.
 */
async function collect(stream: ReadableStream<Uint8Array>, out: Uint8Array): Promise<Uint8Array> {
  const size = out.length;
  let written = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (written + value.length > size) throw new Error(`stream gave more than the expected ${size} bytes`);
    out.set(value, written);
    written += value.length;
  }
  if (written !== size) throw new Error(`stream gave ${written} bytes, expected ${size}`);
  return out;
}

const sameBytes = (a: Uint8Array, b: Uint8Array) =>
  a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));

export async function benchBlobCipher(): Promise<CipherResult> {
  const plaintext = new Uint8Array(CIPHER_BYTES);
  let offset = 0;
  for (const chunk of patternChunks(0xc1f, CIPHER_BYTES)) {
    plaintext.set(chunk, offset);
    offset += chunk.length;
  }
  // One key and one nonce prefix for every run, so every ciphertext must come out the same.
  const key = new Uint8Array(randomBytes(32));
  const noncePrefix = new Uint8Array(randomBytes(16));
  const sealedSize = encryptedSize(CIPHER_BYTES, DEFAULT_CHUNK_SIZE);

  const encrypt = async (cipher: CipherName, data: Uint8Array, out: Uint8Array) =>
    collect(sliced(data, SLICE_BYTES).pipeThrough(createEncryptStream(key, { cipher: CIPHERS[cipher], noncePrefix })), out);
  const decrypt = async (cipher: CipherName, data: Uint8Array, out: Uint8Array) =>
    collect(sliced(data, SLICE_BYTES).pipeThrough(createDecryptStream(key, { cipher: CIPHERS[cipher] })), out);

  // The first ciphertext (noble's) is kept as the reference; later ones go to a scratch array.
  const reference = new Uint8Array(sealedSize).fill(1);
  const scratch = new Uint8Array(sealedSize).fill(1);
  const opened = new Uint8Array(CIPHER_BYTES).fill(1);

  // Warm-up on 4 MiB so both paths are compiled before anything is timed.
  const small = plaintext.subarray(0, 4 * MiB);
  for (const cipher of ['noble', 'native'] as const) {
    const sealed = await encrypt(cipher, small, scratch.subarray(0, encryptedSize(small.length)));
    await decrypt(cipher, sealed, opened.subarray(0, small.length));
  }

  const times = { encrypt: { noble: [] as number[], native: [] as number[] }, decrypt: { noble: [] as number[], native: [] as number[] } };
  let haveReference = false;
  for (let round = 0; round < CIPHER_ROUNDS; round++) {
    // Alternate which cipher goes first, so neither always runs on a warmer (or busier) machine.
    const order: CipherName[] = round % 2 === 0 ? ['noble', 'native'] : ['native', 'noble'];
    for (const cipher of order) {
      let t0 = performance.now();
      const sealed = await encrypt(cipher, plaintext, haveReference ? scratch : reference);
      times.encrypt[cipher].push(performance.now() - t0);
      if (!haveReference) haveReference = true;
      else if (!sameBytes(reference, sealed)) {
        throw new Error(
          `BENCH FAILED: ${cipher} produced a different ciphertext from the first (noble) run for the same key and nonce prefix`,
        );
      }

      t0 = performance.now();
      await decrypt(cipher, sealed, opened);
      times.decrypt[cipher].push(performance.now() - t0);
      if (!sameBytes(opened, plaintext)) throw new Error(`${cipher} decryption did not give back the plaintext`);
      progress(
        `  cipher: round ${round + 1}/${CIPHER_ROUNDS} ${cipher}: encrypt ${mbPerSecond(CIPHER_BYTES, times.encrypt[cipher].at(-1)!).toFixed(0)} MB/s, decrypt ${mbPerSecond(CIPHER_BYTES, times.decrypt[cipher].at(-1)!).toFixed(0)} MB/s`,
      );
    }
  }
  const rate = (list: number[]) => mbPerSecond(CIPHER_BYTES, median(list));
  const range = (list: number[]): [number, number] => [
    mbPerSecond(CIPHER_BYTES, Math.max(...list)),
    mbPerSecond(CIPHER_BYTES, Math.min(...list)),
  ];
  return {
    bytes: CIPHER_BYTES,
    sliceBytes: SLICE_BYTES,
    chunkSize: DEFAULT_CHUNK_SIZE,
    rounds: CIPHER_ROUNDS,
    encrypt: { noble: rate(times.encrypt.noble), native: rate(times.encrypt.native) },
    decrypt: { noble: rate(times.decrypt.noble), native: rate(times.decrypt.native) },
    encryptRange: { noble: range(times.encrypt.noble), native: range(times.encrypt.native) },
    decryptRange: { noble: range(times.decrypt.noble), native: range(times.decrypt.native) },
    // Reaching here means every ciphertext matched the first one byte for byte.
    identicalCiphertext: true,
  };
}
