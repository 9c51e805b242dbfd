// Homing blob v1 (docs/CRYPTO.md, "Blobs (chunked)"). The header, nonce and AD helpers below are
// written from the spec, independently of src/, so libsodium checks the format, not our code.
import { sha256 } from '@noble/hashes/sha2.js';
import sodium from 'libsodium-wrappers-sumo';
import { beforeAll, describe, expect, it } from 'vitest';
import { DecryptionError } from '../../src/client/crypto/aead.js';
import { hchacha20, nativeChunkCipher } from '../../src/client/crypto/blob-cipher-node.js';
import {
  BLOB_HEADER_BYTES,
  type ChunkCipher,
  DEFAULT_CHUNK_SIZE,
  MAX_CHUNK_SIZE,
  blobChunkAd,
  blobChunkNonce,
  createDecryptStream,
  createEncryptStream,
  decryptBlob,
  encryptBlob,
  encryptedSize,
  nobleChunkCipher,
} from '../../src/client/crypto/blob-format.js';
import { concatBytes, constantTimeEqual } from '../../src/protocol/encoding.js';

const CHUNK = 4096;
const SEALED = CHUNK + 16;
const hex = (bytes: Uint8Array) => sodium.to_hex(bytes);
const fromHex = (text: string) => sodium.from_hex(text);
const sequence = (start: number, length: number) => Uint8Array.from({ length }, (_, i) => (start + i) & 0xff);
const pattern = (length: number) => Uint8Array.from({ length }, (_, i) => i % 251);

/** Deterministic pseudo-random bytes (xorshift32), so failures are reproducible. */
function prng(seed: number) {
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
  return { next, bytes: (n: number) => Uint8Array.from({ length: n }, () => next() & 0xff) };
}
const rand = prng(0x5eed);
const KEY = rand.bytes(32);
const PREFIX = rand.bytes(16);

// ---- the format, from the spec -------------------------------------------------------------

function specHeader(chunkSize: number, prefix: Uint8Array): Uint8Array {
  const header = new Uint8Array(32);
  header.set([0x48, 0x4d, 0x42, 0x31]); // "HMB1"
  new DataView(header.buffer).setUint32(4, chunkSize, true);
  header.set(prefix, 8);
  return header;
}

function specNonce(prefix: Uint8Array, index: number, final: boolean): Uint8Array {
  const nonce = new Uint8Array(24);
  nonce.set(prefix);
  new DataView(nonce.buffer).setBigUint64(16, BigInt(index) | (final ? 1n << 63n : 0n), true);
  return nonce;
}

function specAd(header: Uint8Array, index: number, final: boolean): Uint8Array {
  const ad = new Uint8Array(41);
  ad.set(header);
  new DataView(ad.buffer).setBigUint64(32, BigInt(index), true);
  ad[40] = final ? 1 : 0;
  return ad;
}

/** The plaintext chunks: full ones, then a shorter final one (empty when length % chunkSize == 0). */
function specChunks(plaintext: Uint8Array, chunkSize: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (; plaintext.length - offset >= chunkSize; offset += chunkSize) {
    chunks.push(plaintext.subarray(offset, offset + chunkSize));
  }
  chunks.push(plaintext.subarray(offset));
  return chunks;
}

/** A whole blob from plain libsodium calls. */
function sodiumEncryptBlob(key: Uint8Array, prefix: Uint8Array, chunkSize: number, plaintext: Uint8Array): Uint8Array {
  const header = specHeader(chunkSize, prefix);
  const chunks = specChunks(plaintext, chunkSize);
  return concatBytes(
    header,
    ...chunks.map((chunk, i) => {
      const final = i === chunks.length - 1;
      return sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
        chunk, specAd(header, i, final), null, specNonce(prefix, i, final), key,
      );
    }),
  );
}

/** Splits an encrypted blob into header and sealed chunks, using only sizes. */
function splitBlob(blob: Uint8Array, chunkSize: number): { header: Uint8Array; chunks: Uint8Array[] } {
  const chunks: Uint8Array[] = [];
  let offset = 32;
  for (; blob.length - offset >= chunkSize + 16; offset += chunkSize + 16) {
    chunks.push(blob.subarray(offset, offset + chunkSize + 16));
  }
  chunks.push(blob.subarray(offset));
  return { header: blob.subarray(0, 32), chunks };
}

// ---- stream helpers ---------------------------------------------------------------------------

function slicesOf(data: Uint8Array, sizes: (() => number) | number): Uint8Array[] {
  const next = typeof sizes === 'number' ? () => sizes : sizes;
  const slices: Uint8Array[] = [];
  for (let offset = 0; offset < data.length; ) {
    const size = Math.max(1, next());
    slices.push(data.slice(offset, offset + size));
    offset += size;
  }
  return slices;
}

/** Pipes slices through a stream; returns what came out, or the error with what came out first. */
async function pump(
  stream: TransformStream<Uint8Array, Uint8Array>,
  slices: Uint8Array[],
): Promise<{ output: Uint8Array[]; error?: unknown }> {
  let i = 0;
  const source = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < slices.length) controller.enqueue(slices[i++]!);
      else controller.close();
    },
  });
  const reader = source.pipeThrough(stream).getReader();
  const output: Uint8Array[] = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { output };
      output.push(value);
    }
  } catch (error) {
    return { output, error };
  }
}

async function streamThrough(stream: TransformStream<Uint8Array, Uint8Array>, slices: Uint8Array[]) {
  const { output, error } = await pump(stream, slices);
  if (error !== undefined) throw error;
  return concatBytes(...output);
}

const streamEncrypt = (plaintext: Uint8Array, slices: number | (() => number), options = {}) =>
  streamThrough(
    createEncryptStream(KEY, { chunkSize: CHUNK, noncePrefix: PREFIX, ...options }),
    slicesOf(plaintext, slices),
  );

const streamDecrypt = (key: Uint8Array, blob: Uint8Array, slices: number | (() => number), options = {}) =>
  streamThrough(createDecryptStream(key, options), slicesOf(blob, slices));

beforeAll(async () => {
  await sodium.ready;
});

// ---- (a) libsodium interoperability --------------------------------------------------------

describe('libsodium interoperability', () => {
  it('every chunk of a noble-encrypted blob opens with crypto_aead_xchacha20poly1305_ietf_decrypt', () => {
    for (const length of [0, 1, CHUNK, 3 * CHUNK + 5]) {
      const plaintext = rand.bytes(length);
      const blob = encryptBlob(KEY, plaintext, { chunkSize: CHUNK, noncePrefix: PREFIX });
      const { header, chunks } = splitBlob(blob, CHUNK);
      expect(hex(header)).toBe(hex(specHeader(CHUNK, PREFIX)));
      expect(chunks.length).toBe(Math.floor(length / CHUNK) + 1);
      const opened = chunks.map((sealed, i) => {
        const final = i === chunks.length - 1;
        return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
          null, sealed, specAd(header, i, final), specNonce(PREFIX, i, final), KEY,
        );
      });
      expect(hex(concatBytes(...opened))).toBe(hex(plaintext));
    }
  });

  it('a blob built chunk by chunk with libsodium decrypts with createDecryptStream and decryptBlob', async () => {
    for (const length of [0, CHUNK - 1, 2 * CHUNK, 2 * CHUNK + 77]) {
      const plaintext = rand.bytes(length);
      const blob = sodiumEncryptBlob(KEY, PREFIX, CHUNK, plaintext);
      expect(hex(await streamDecrypt(KEY, blob, 1000))).toBe(hex(plaintext));
      expect(hex(decryptBlob(KEY, blob))).toBe(hex(plaintext));
      // And the encoders agree byte for byte.
      expect(hex(encryptBlob(KEY, plaintext, { chunkSize: CHUNK, noncePrefix: PREFIX }))).toBe(hex(blob));
    }
  });

  it('blobChunkNonce and blobChunkAd follow the spec, including indexes above 2^32', () => {
    const header = specHeader(CHUNK, PREFIX);
    for (const index of [0, 1, 255, 2 ** 32 - 1, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER]) {
      for (const final of [false, true]) {
        expect(hex(blobChunkNonce(PREFIX, index, final))).toBe(hex(specNonce(PREFIX, index, final)));
        expect(hex(blobChunkAd(header, index, final))).toBe(hex(specAd(header, index, final)));
      }
    }
    expect(blobChunkNonce(PREFIX, 0, true)[23]).toBe(0x80);
  });

  it("the native subkey equals libsodium's crypto_core_hchacha20", () => {
    for (let i = 0; i < 8; i++) {
      const key = rand.bytes(32);
      const input = rand.bytes(16);
      expect(hex(hchacha20(key, input))).toBe(hex(sodium.crypto_core_hchacha20(input, key, null)));
    }
  });
});

// ---- (b) native fast path -------------------------------------------------------------------

describe('native chunk cipher (node:crypto)', () => {
  it.each([0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 5])(
    'is byte-identical to noble at %i bytes, and each opens the other',
    (length) => {
      const plaintext = rand.bytes(length);
      const options = { chunkSize: CHUNK, noncePrefix: PREFIX };
      const noble = encryptBlob(KEY, plaintext, { ...options, cipher: nobleChunkCipher });
      const native = encryptBlob(KEY, plaintext, { ...options, cipher: nativeChunkCipher });
      expect(native.length).toBe(encryptedSize(length, CHUNK));
      expect(hex(native)).toBe(hex(noble));
      expect(hex(decryptBlob(KEY, noble, { cipher: nativeChunkCipher }))).toBe(hex(plaintext));
      expect(hex(decryptBlob(KEY, native, { cipher: nobleChunkCipher }))).toBe(hex(plaintext));
    },
  );

  it('is byte-identical to noble for 5 MiB at the default chunk size, streaming', async () => {
    const plaintext = rand.bytes(5 * 1024 * 1024);
    const options = { noncePrefix: PREFIX };
    const noble = encryptBlob(KEY, plaintext, { ...options, cipher: nobleChunkCipher });
    const native = await streamThrough(
      createEncryptStream(KEY, { ...options, cipher: nativeChunkCipher }),
      slicesOf(plaintext, 300_000),
    );
    expect(native.length).toBe(encryptedSize(plaintext.length));
    expect(constantTimeEqual(native, noble)).toBe(true);
    expect(constantTimeEqual(await streamDecrypt(KEY, noble, 65536, { cipher: nativeChunkCipher }), plaintext)).toBe(true);
    expect(constantTimeEqual(decryptBlob(KEY, native, { cipher: nobleChunkCipher }), plaintext)).toBe(true);
  });

  it('keys its subkey cache by value: interleaved blobs, keys mutated in place, pooled Buffers', () => {
    const plaintext = rand.bytes(2 * CHUNK + 9);
    const keyB = rand.bytes(32);
    const prefixB = rand.bytes(16);
    const expected = (key: Uint8Array, prefix: Uint8Array) =>
      hex(sodiumEncryptBlob(key, prefix, CHUNK, plaintext));
    const sealChunks = (cipher: ChunkCipher, key: Uint8Array, prefix: Uint8Array) => {
      const header = specHeader(CHUNK, prefix);
      return specChunks(plaintext, CHUNK).map((chunk, i, all) => {
        const final = i === all.length - 1;
        return cipher.seal(key, specNonce(prefix, i, final), chunk, specAd(header, i, final));
      });
    };
    // Interleave two blobs chunk by chunk: same key with another prefix, then another key.
    const a = sealChunks(nativeChunkCipher, KEY, PREFIX);
    const b = sealChunks(nativeChunkCipher, KEY, prefixB);
    const c = sealChunks(nativeChunkCipher, keyB, PREFIX);
    expect(hex(concatBytes(specHeader(CHUNK, PREFIX), ...a))).toBe(expected(KEY, PREFIX));
    expect(hex(concatBytes(specHeader(CHUNK, prefixB), ...b))).toBe(expected(KEY, prefixB));
    expect(hex(concatBytes(specHeader(CHUNK, PREFIX), ...c))).toBe(expected(keyB, PREFIX));
    // A key array rewritten in place after use must not hit the old cache entry.
    const mutable = KEY.slice();
    sealChunks(nativeChunkCipher, mutable, PREFIX);
    mutable.set(keyB);
    expect(hex(concatBytes(specHeader(CHUNK, PREFIX), ...sealChunks(nativeChunkCipher, mutable, PREFIX)))).toBe(
      expected(keyB, PREFIX),
    );
    // Small Buffers live at an offset in Node's shared pool.
    const pooledKey = Buffer.from(keyB);
    const pooledPrefix = Buffer.from(prefixB);
    expect(pooledKey.byteOffset + pooledPrefix.byteOffset).toBeGreaterThan(0);
    const pooled = encryptBlob(pooledKey, plaintext, { chunkSize: CHUNK, noncePrefix: pooledPrefix, cipher: nativeChunkCipher });
    expect(hex(pooled)).toBe(expected(keyB, prefixB));
  });

  it('returns plain arrays that own their bytes', () => {
    const header = specHeader(CHUNK, PREFIX);
    const sealed = nativeChunkCipher.seal(KEY, specNonce(PREFIX, 0, true), Uint8Array.of(1, 2, 3), specAd(header, 0, true));
    expect(sealed.constructor).toBe(Uint8Array);
    expect(sealed.byteOffset).toBe(0);
    expect(sealed.buffer.byteLength).toBe(19);
    const opened = nativeChunkCipher.open(KEY, specNonce(PREFIX, 0, true), sealed, specAd(header, 0, true));
    expect(opened.constructor).toBe(Uint8Array);
    expect(opened.buffer.byteLength).toBe(3);
    expect([...opened]).toEqual([1, 2, 3]);
  });

  it('open throws DecryptionError on a bad tag', () => {
    const header = specHeader(CHUNK, PREFIX);
    const nonce = specNonce(PREFIX, 0, true);
    const ad = specAd(header, 0, true);
    const sealed = nativeChunkCipher.seal(KEY, nonce, rand.bytes(100), ad);
    const bad = sealed.slice();
    bad[bad.length - 1]! ^= 1;
    expect(() => nativeChunkCipher.open(KEY, nonce, bad, ad)).toThrow(DecryptionError);
    expect(() => nativeChunkCipher.open(KEY, nonce, sealed, specAd(header, 0, false))).toThrow(DecryptionError);
    expect(() => nativeChunkCipher.open(KEY, nonce, sealed.subarray(0, 15), ad)).toThrow(DecryptionError);
  });
});

// ---- (c) streaming ---------------------------------------------------------------------------

describe('streaming', () => {
  const plaintext = rand.bytes(3 * CHUNK + 5);
  const oneShot = encryptBlob(KEY, plaintext, { chunkSize: CHUNK, noncePrefix: PREFIX });
  const sizes: [string, number | (() => number)][] = [
    ['1 byte', 1],
    ['7 bytes', 7],
    ['5000 bytes', 5000],
    ['random sizes', () => 1 + (rand.next() % 9000)],
    ['one slice', 1 << 30],
  ];

  it.each(sizes)('encrypting in slices of %s gives the one-shot bytes', async (_, size) => {
    expect(hex(await streamEncrypt(plaintext, size))).toBe(hex(oneShot));
    expect(hex(await streamEncrypt(plaintext, size, { cipher: nativeChunkCipher }))).toBe(hex(oneShot));
  });

  it.each(sizes)('decrypting in slices of %s gives the plaintext', async (_, size) => {
    expect(hex(await streamDecrypt(KEY, oneShot, size))).toBe(hex(plaintext));
  });

  it('encrypts empty input to a header and one empty final chunk, and back', async () => {
    const blob = await streamEncrypt(new Uint8Array(0), 1);
    expect(hex(blob)).toBe(hex(encryptBlob(KEY, new Uint8Array(0), { chunkSize: CHUNK, noncePrefix: PREFIX })));
    expect(blob.length).toBe(48);
    expect((await streamDecrypt(KEY, blob, 5)).length).toBe(0);
  });

  it('emits each chunk as soon as it is complete, holding at most one chunk', async () => {
    const stream = createEncryptStream(KEY, { chunkSize: CHUNK, noncePrefix: PREFIX });
    const writer = stream.writable.getWriter();
    const reader = stream.readable.getReader();
    expect((await reader.read()).value?.length).toBe(BLOB_HEADER_BYTES);
    void writer.write(plaintext.subarray(0, CHUNK - 1));
    void writer.write(plaintext.subarray(CHUNK - 1, CHUNK + 1));
    expect((await reader.read()).value?.length).toBe(SEALED);
    void writer.write(plaintext.subarray(CHUNK + 1, 3 * CHUNK));
    expect((await reader.read()).value?.length).toBe(SEALED);
    expect((await reader.read()).value?.length).toBe(SEALED);
    void writer.close();
    expect((await reader.read()).value?.length).toBe(16); // 3 * CHUNK so far: an empty final chunk
    expect((await reader.read()).done).toBe(true);
  });

  it('does not keep references to input slices', async () => {
    const input = plaintext.slice();
    const stream = createEncryptStream(KEY, { chunkSize: CHUNK, noncePrefix: PREFIX });
    const writer = stream.writable.getWriter();
    const collected = (async () => {
      const parts: Uint8Array[] = [];
      for await (const part of stream.readable as unknown as AsyncIterable<Uint8Array>) parts.push(part);
      return concatBytes(...parts);
    })();
    for (let offset = 0; offset < input.length; offset += 1000) {
      const slice = input.subarray(offset, offset + 1000);
      await writer.write(slice);
      slice.fill(0xee); // the caller reuses its buffer
    }
    await writer.close();
    expect(hex(await collected)).toBe(hex(oneShot));
  });
});

// ---- (d) sizes -------------------------------------------------------------------------------

describe('encryptedSize', () => {
  it('matches the formula and the real output', () => {
    for (const length of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 5]) {
      const expected = 32 + length + 16 * (Math.floor(length / CHUNK) + 1);
      expect(encryptedSize(length, CHUNK)).toBe(expected);
      expect(encryptBlob(KEY, rand.bytes(length), { chunkSize: CHUNK }).length).toBe(expected);
    }
    expect(encryptedSize(0)).toBe(48);
    expect(encryptedSize(DEFAULT_CHUNK_SIZE)).toBe(32 + DEFAULT_CHUNK_SIZE + 32);
    expect(encryptedSize(5 * 2 ** 30)).toBe(32 + 5 * 2 ** 30 + 16 * 5121);
  });

  it('rejects chunk sizes outside powers of two from 4096 to 16 MiB', () => {
    for (const bad of [0, 2048, 4095, 4097, 6144, 2 * MAX_CHUNK_SIZE, 1.5, Number.NaN]) {
      expect(() => encryptedSize(10, bad)).toThrow(RangeError);
      expect(() => encryptBlob(KEY, new Uint8Array(1), { chunkSize: bad })).toThrow(RangeError);
      expect(() => createEncryptStream(KEY, { chunkSize: bad })).toThrow(RangeError);
    }
    expect(encryptedSize(10, 4096)).toBe(58);
    expect(encryptedSize(10, MAX_CHUNK_SIZE)).toBe(58);
    expect(() => encryptedSize(-1, CHUNK)).toThrow(RangeError);
  });

  it('uses a fresh random nonce prefix per blob by default', () => {
    const a = encryptBlob(KEY, new Uint8Array(10), { chunkSize: CHUNK });
    const b = encryptBlob(KEY, new Uint8Array(10), { chunkSize: CHUNK });
    expect(hex(a.subarray(8, 24))).not.toBe(hex(b.subarray(8, 24)));
    expect(hex(a.subarray(24, 32))).toBe('0000000000000000');
  });
});

// ---- (e) failures ----------------------------------------------------------------------------

describe('tampering and truncation throw DecryptionError', () => {
  const plaintext = rand.bytes(3 * CHUNK + 5); // chunks 0, 1, 2 full; chunk 3 final with 5 bytes
  const blob = encryptBlob(KEY, plaintext, { chunkSize: CHUNK, noncePrefix: PREFIX });
  const aligned = rand.bytes(2 * CHUNK); // chunks 0, 1 full; chunk 2 final and empty
  const alignedBlob = encryptBlob(KEY, aligned, { chunkSize: CHUNK, noncePrefix: PREFIX });
  const chunkAt = (i: number) => 32 + i * SEALED;

  async function expectRejected(encrypted: Uint8Array, key = KEY, options = {}) {
    expect(() => decryptBlob(key, encrypted, options)).toThrow(DecryptionError);
    for (const slice of [1 << 30, 1000, 4113]) {
      await expect(streamDecrypt(key, encrypted, slice, options)).rejects.toThrow(DecryptionError);
    }
  }

  function flipBit(bytes: Uint8Array, index: number, bit = 0): Uint8Array {
    const copy = bytes.slice();
    copy[index]! ^= 1 << bit;
    return copy;
  }

  function swapChunks(bytes: Uint8Array, i: number, j: number): Uint8Array {
    const copy = bytes.slice();
    copy.set(bytes.subarray(chunkAt(i), chunkAt(i) + SEALED), chunkAt(j));
    copy.set(bytes.subarray(chunkAt(j), chunkAt(j) + SEALED), chunkAt(i));
    return copy;
  }

  it('the untampered blobs decrypt (control)', async () => {
    expect(hex(decryptBlob(KEY, blob))).toBe(hex(plaintext));
    expect(hex(await streamDecrypt(KEY, alignedBlob, 4113))).toBe(hex(aligned));
  });

  it('truncation at a chunk boundary', async () => {
    await expectRejected(blob.subarray(0, chunkAt(3))); // final chunk dropped
    await expectRejected(blob.subarray(0, chunkAt(1)));
    await expectRejected(alignedBlob.subarray(0, chunkAt(2))); // the empty final chunk dropped
    await expectRejected(blob.subarray(0, 32)); // header only
  });

  it('truncation mid-chunk, inside a tag, or inside the header', async () => {
    await expectRejected(blob.subarray(0, chunkAt(1) + 100));
    await expectRejected(blob.subarray(0, chunkAt(2) - 1));
    await expectRejected(blob.subarray(0, blob.length - 1));
    await expectRejected(blob.subarray(0, chunkAt(3) + 15));
    await expectRejected(blob.subarray(0, 31));
    await expectRejected(new Uint8Array(0));
  });

  it('data after the final chunk', async () => {
    await expectRejected(concatBytes(blob, new Uint8Array(1)));
    await expectRejected(concatBytes(blob, rand.bytes(16)));
    await expectRejected(concatBytes(blob, blob.subarray(chunkAt(0), chunkAt(1)))); // a whole valid chunk
    await expectRejected(concatBytes(alignedBlob, alignedBlob.subarray(chunkAt(2)))); // final chunk twice
  });

  it('reordered chunks', async () => {
    await expectRejected(swapChunks(blob, 0, 1));
    await expectRejected(swapChunks(blob, 1, 2));
  });

  it('a chunk spliced from another blob with the same key, or from another index', async () => {
    const other = encryptBlob(KEY, rand.bytes(plaintext.length), { chunkSize: CHUNK });
    const spliced = blob.slice();
    spliced.set(other.subarray(chunkAt(1), chunkAt(2)), chunkAt(1));
    await expectRejected(spliced);
    // Same prefix but another header (different chunk size) is another blob too.
    const otherHeader = encryptBlob(KEY, plaintext, { chunkSize: 2 * CHUNK, noncePrefix: PREFIX });
    await expectRejected(concatBytes(otherHeader.subarray(0, 32), blob.subarray(32)));
    // Chunk 0 repeated at index 1.
    const repeated = blob.slice();
    repeated.set(blob.subarray(chunkAt(0), chunkAt(1)), chunkAt(1));
    await expectRejected(repeated);
  });

  it('a flipped bit in the header (magic, chunk size, nonce prefix, reserved)', async () => {
    for (const index of [0, 3, 4, 5, 6, 7, 8, 23, 24, 31]) {
      for (const bit of [0, 7]) await expectRejected(flipBit(blob, index, bit));
    }
  });

  it('a flipped bit in a chunk body or tag', async () => {
    for (const index of [chunkAt(0), chunkAt(1) + 2000, chunkAt(3) + 4, chunkAt(2) - 1, blob.length - 16, blob.length - 1]) {
      await expectRejected(flipBit(blob, index, 3));
    }
    await expectRejected(flipBit(alignedBlob, alignedBlob.length - 1));
  });

  it('a wrong key, or a key of the wrong length', async () => {
    const wrong = KEY.slice();
    wrong[0]! ^= 1;
    await expectRejected(blob, wrong);
    await expectRejected(blob, wrong, { cipher: nativeChunkCipher });
    expect(() => decryptBlob(KEY.subarray(0, 31), blob)).toThrow(DecryptionError);
    expect(() => createDecryptStream(KEY.subarray(0, 31))).toThrow(DecryptionError);
  });

  it('headers announcing invalid chunk sizes, or more than maxChunkSize', async () => {
    const withChunkSize = (chunkSize: number) => {
      const copy = blob.slice();
      new DataView(copy.buffer).setUint32(4, chunkSize, true);
      return copy;
    };
    for (const bad of [0, 2048, 4097, 2 * MAX_CHUNK_SIZE, 0xffffffff]) await expectRejected(withChunkSize(bad));
    const big = encryptBlob(KEY, plaintext, { chunkSize: 8 * CHUNK, noncePrefix: PREFIX });
    expect(hex(decryptBlob(KEY, big, { maxChunkSize: 8 * CHUNK }))).toBe(hex(plaintext));
    await expectRejected(big, KEY, { maxChunkSize: 4 * CHUNK });
  });

  it('well-authenticated blobs that break the format rules', async () => {
    // Built with libsodium, so every tag is valid: only the format checks can reject them.
    const seal = (header: Uint8Array, chunks: Uint8Array[], finalAt = chunks.length - 1) =>
      concatBytes(
        header,
        ...chunks.map((chunk, i) =>
          sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
            chunk, specAd(header, i, i === finalAt), null, specNonce(PREFIX, i, i === finalAt), KEY,
          ),
        ),
      );
    const full = [aligned.subarray(0, CHUNK), aligned.subarray(CHUNK)];
    // Control: the canonical encoding of `aligned` ends with an empty final chunk.
    expect(hex(seal(specHeader(CHUNK, PREFIX), [...full, new Uint8Array(0)]))).toBe(hex(alignedBlob));
    // Reserved header bytes set.
    const reserved = specHeader(CHUNK, PREFIX);
    reserved[31] = 1;
    await expectRejected(seal(reserved, [...full, new Uint8Array(0)]));
    // A full-size chunk flagged final (the empty final chunk left out): read as truncated.
    await expectRejected(seal(specHeader(CHUNK, PREFIX), full));
    // No chunk flagged final at all, or the final flag on an earlier chunk.
    await expectRejected(seal(specHeader(CHUNK, PREFIX), [...full, new Uint8Array(0)], -1));
    await expectRejected(seal(specHeader(CHUNK, PREFIX), [...full, new Uint8Array(0)], 0));
  });

  it('the same failures are caught by the native cipher', async () => {
    await expectRejected(blob.subarray(0, chunkAt(3)), KEY, { cipher: nativeChunkCipher });
    await expectRejected(swapChunks(blob, 0, 2), KEY, { cipher: nativeChunkCipher });
    await expectRejected(flipBit(blob, chunkAt(2) + 7), KEY, { cipher: nativeChunkCipher });
    await expectRejected(concatBytes(blob, new Uint8Array(3)), KEY, { cipher: nativeChunkCipher });
  });

  it('releases only chunks whose tag verified', async () => {
    for (const cipher of [nobleChunkCipher, nativeChunkCipher]) {
      const tampered = flipBit(blob, chunkAt(2) + 10);
      const { output, error } = await pump(createDecryptStream(KEY, { cipher }), slicesOf(tampered, 1000));
      expect(error).toBeInstanceOf(DecryptionError);
      expect(hex(concatBytes(...output))).toBe(hex(plaintext.subarray(0, 2 * CHUNK)));
    }
  });
});

// ---- (f) fixed test vector (docs/CRYPTO.md) ----------------------------------------------------

describe('test vector (docs/CRYPTO.md, "Blobs (chunked)")', () => {
  const VECTOR = {
    key: 'a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf',
    noncePrefix: 'c0c1c2c3c4c5c6c7c8c9cacbcccdcecf',
    chunkSize: 4096,
    plaintextLength: 10000, // byte i = i mod 251
    header: '484d423100100000c0c1c2c3c4c5c6c7c8c9cacbcccdcecf0000000000000000',
    tags: [
      'f4efdc08d5aff6f6c5ed31c6f980ba52', // chunk 0: 4096 bytes
      '7f5f9552ebbb0c6b217f8d49c41b850c', // chunk 1: 4096 bytes
      '8b3d57be5f5b456b9a4152926c4a29f4', // chunk 2, final: 1808 bytes
    ],
    encryptedLength: 10080,
    sha256: '918d6cc213a023c044f37c23bf93e4e23aed511454d55a1624899c30fe5c5aaa',
  };

  it('key and nonce prefix are the documented sequences', () => {
    expect(VECTOR.key).toBe(hex(sequence(0xa0, 32)));
    expect(VECTOR.noncePrefix).toBe(hex(sequence(0xc0, 16)));
  });

  it.each([
    ['libsodium', () => sodiumEncryptBlob(fromHex(VECTOR.key), fromHex(VECTOR.noncePrefix), VECTOR.chunkSize, pattern(VECTOR.plaintextLength))],
    ['noble', () => encryptBlob(fromHex(VECTOR.key), pattern(VECTOR.plaintextLength), { chunkSize: VECTOR.chunkSize, noncePrefix: fromHex(VECTOR.noncePrefix) })],
    ['native', () => encryptBlob(fromHex(VECTOR.key), pattern(VECTOR.plaintextLength), { chunkSize: VECTOR.chunkSize, noncePrefix: fromHex(VECTOR.noncePrefix), cipher: nativeChunkCipher })],
  ])('%s reproduces it', (_, encrypt) => {
    const encrypted = encrypt();
    expect(encrypted.length).toBe(VECTOR.encryptedLength);
    expect(hex(encrypted.subarray(0, 32))).toBe(VECTOR.header);
    const { chunks } = splitBlob(encrypted, VECTOR.chunkSize);
    expect(chunks.map((chunk) => hex(chunk.subarray(chunk.length - 16)))).toEqual(VECTOR.tags);
    expect(hex(sha256(encrypted))).toBe(VECTOR.sha256);
    expect(hex(decryptBlob(fromHex(VECTOR.key), encrypted))).toBe(hex(pattern(VECTOR.plaintextLength)));
  });
});
