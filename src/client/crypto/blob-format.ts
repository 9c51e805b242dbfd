// Homing blob v1: chunked XChaCha20-Poly1305-IETF (docs/CRYPTO.md, "Blobs (chunked)").
// Runs in browsers, Workers and Node: no node: imports here. Node can pass the faster
// nativeChunkCipher from ./blob-cipher-node.js; both give the same bytes.
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { AEAD_KEY_BYTES, AEAD_NONCE_BYTES, AEAD_TAG_BYTES, DecryptionError } from './aead.js';
import { constantTimeEqual, randomBytes } from '../../protocol/encoding.js';

/** "HMB1" */
const BLOB_MAGIC = Uint8Array.of(0x48, 0x4d, 0x42, 0x31);
export const BLOB_HEADER_BYTES = 32;
export const BLOB_NONCE_PREFIX_BYTES = 16;
export const BLOB_TAG_BYTES = AEAD_TAG_BYTES;
export const MIN_CHUNK_SIZE = 4096;
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024;
export const DEFAULT_CHUNK_SIZE = 1024 * 1024;

const AD_BYTES = BLOB_HEADER_BYTES + 8 + 1;
const TWO_POW_32 = 2 ** 32;

/**
 * One XChaCha20-Poly1305-IETF call: seal returns ciphertext ‖ 16-byte tag
 * (crypto_aead_xchacha20poly1305_ietf_encrypt); open verifies the tag before returning any
 * plaintext and throws DecryptionError otherwise. Both must be synchronous.
 */
export interface ChunkCipher {
  seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Uint8Array;
  open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, ad: Uint8Array): Uint8Array;
}

/** Pure JavaScript (@noble/ciphers): browsers, Workers and Node. */
export const nobleChunkCipher: ChunkCipher = {
  seal(key, nonce, plaintext, ad) {
    return xchacha20poly1305(key, nonce, ad).encrypt(plaintext);
  },
  open(key, nonce, sealed, ad) {
    try {
      return xchacha20poly1305(key, nonce, ad).decrypt(sealed);
    } catch {
      throw new DecryptionError();
    }
  },
};

export interface EncryptBlobOptions {
  /** Plaintext bytes per chunk: a power of two from MIN_CHUNK_SIZE to MAX_CHUNK_SIZE. */
  chunkSize?: number;
  cipher?: ChunkCipher;
  /** Tests and test vectors only: a fixed nonce prefix instead of 16 random bytes. */
  noncePrefix?: Uint8Array;
}

export interface DecryptBlobOptions {
  cipher?: ChunkCipher;
  /** Refuse headers announcing bigger chunks (bounds memory). Default MAX_CHUNK_SIZE. */
  maxChunkSize?: number;
}

export function isValidChunkSize(chunkSize: number): boolean {
  return (
    Number.isInteger(chunkSize) &&
    chunkSize >= MIN_CHUNK_SIZE &&
    chunkSize <= MAX_CHUNK_SIZE &&
    (chunkSize & (chunkSize - 1)) === 0
  );
}

function assertChunkSize(chunkSize: number): void {
  if (!isValidChunkSize(chunkSize)) {
    throw new RangeError(`blob: chunk size must be a power of two from ${MIN_CHUNK_SIZE} to ${MAX_CHUNK_SIZE}`);
  }
}

/** Size of the encrypted blob: header, plaintext, and one tag per chunk (the final chunk included). */
export function encryptedSize(plainSize: number, chunkSize = DEFAULT_CHUNK_SIZE): number {
  if (!Number.isSafeInteger(plainSize) || plainSize < 0) throw new RangeError(`blob: bad plaintext size ${plainSize}`);
  assertChunkSize(chunkSize);
  return BLOB_HEADER_BYTES + plainSize + BLOB_TAG_BYTES * (Math.floor(plainSize / chunkSize) + 1);
}

/** nonce = noncePrefix (16) ‖ u64-LE(index | (final ? 2^63 : 0)). */
export function blobChunkNonce(noncePrefix: Uint8Array, index: number, final: boolean): Uint8Array {
  if (noncePrefix.length !== BLOB_NONCE_PREFIX_BYTES) throw new Error('blob: nonce prefix must be 16 bytes');
  const nonce = new Uint8Array(AEAD_NONCE_BYTES);
  nonce.set(noncePrefix);
  writeU64(new DataView(nonce.buffer), BLOB_NONCE_PREFIX_BYTES, index, final);
  return nonce;
}

/** ad = header (32) ‖ u64-LE(index) ‖ (final ? 1 : 0). */
export function blobChunkAd(header: Uint8Array, index: number, final: boolean): Uint8Array {
  if (header.length !== BLOB_HEADER_BYTES) throw new Error('blob: header must be 32 bytes');
  const ad = new Uint8Array(AD_BYTES);
  ad.set(header);
  writeU64(new DataView(ad.buffer), BLOB_HEADER_BYTES, index, false);
  ad[AD_BYTES - 1] = final ? 1 : 0;
  return ad;
}

function writeU64(view: DataView, offset: number, index: number, topBit: boolean): void {
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError('blob: chunk index out of range');
  const high = Math.floor(index / TWO_POW_32);
  view.setUint32(offset, index % TWO_POW_32, true);
  view.setUint32(offset + 4, topBit ? (high | 0x80000000) >>> 0 : high, true);
}

function encodeHeader(chunkSize: number, noncePrefix: Uint8Array): Uint8Array {
  const header = new Uint8Array(BLOB_HEADER_BYTES);
  header.set(BLOB_MAGIC);
  new DataView(header.buffer).setUint32(4, chunkSize, true);
  header.set(noncePrefix, 8);
  return header;
}

/** Seals the chunks of one blob in order; the chunk index is the only state. */
class ChunkSealer {
  readonly header: Uint8Array;
  private readonly key: Uint8Array;
  private readonly noncePrefix: Uint8Array;
  private index = 0;
  private finished = false;

  constructor(
    key: Uint8Array,
    readonly chunkSize: number,
    private readonly cipher: ChunkCipher,
    noncePrefix: Uint8Array = randomBytes(BLOB_NONCE_PREFIX_BYTES),
  ) {
    if (key.length !== AEAD_KEY_BYTES) throw new Error('blob: key must be 32 bytes');
    if (noncePrefix.length !== BLOB_NONCE_PREFIX_BYTES) throw new Error('blob: nonce prefix must be 16 bytes');
    assertChunkSize(chunkSize);
    // Own copies: the caller may reuse or wipe its arrays while the stream runs.
    this.key = Uint8Array.from(key);
    this.noncePrefix = Uint8Array.from(noncePrefix);
    this.header = encodeHeader(chunkSize, this.noncePrefix);
  }

  seal(plaintext: Uint8Array, final: boolean): Uint8Array {
    if (this.finished) throw new Error('blob: already finished');
    if (final ? plaintext.length >= this.chunkSize : plaintext.length !== this.chunkSize) {
      throw new Error('blob: bad chunk length');
    }
    const index = this.index++;
    this.finished = final;
    const sealed = this.cipher.seal(
      this.key,
      blobChunkNonce(this.noncePrefix, index, final),
      plaintext,
      blobChunkAd(this.header, index, final),
    );
    if (final) this.key.fill(0);
    return sealed;
  }
}

/** Opens the chunks of one blob in order, after checking its header. */
class ChunkOpener {
  readonly header: Uint8Array;
  readonly chunkSize: number;
  private readonly key: Uint8Array;
  private readonly noncePrefix: Uint8Array;
  private index = 0;
  private finished = false;

  constructor(
    key: Uint8Array,
    header: Uint8Array,
    maxChunkSize: number,
    private readonly cipher: ChunkCipher,
  ) {
    if (header.length !== BLOB_HEADER_BYTES || !constantTimeEqual(header.subarray(0, 4), BLOB_MAGIC)) {
      throw new DecryptionError('blob: not a homing blob v1');
    }
    const chunkSize = new DataView(header.buffer, header.byteOffset, header.byteLength).getUint32(4, true);
    if (!isValidChunkSize(chunkSize)) throw new DecryptionError('blob: bad chunk size');
    if (chunkSize > maxChunkSize) throw new DecryptionError('blob: chunk size above the allowed maximum');
    if (header.subarray(24).some((byte) => byte !== 0)) throw new DecryptionError('blob: reserved header bytes set');
    this.key = Uint8Array.from(key);
    this.header = Uint8Array.from(header);
    this.noncePrefix = this.header.slice(8, 8 + BLOB_NONCE_PREFIX_BYTES);
    this.chunkSize = chunkSize;
  }

  /** Full-size pieces (chunkSize + 16 bytes) are never final: a final chunk is always shorter. */
  open(sealed: Uint8Array, final: boolean): Uint8Array {
    if (this.finished) throw new DecryptionError('blob: data after the final chunk');
    if (sealed.length < BLOB_TAG_BYTES) throw new DecryptionError('blob: truncated');
    const index = this.index++;
    let plaintext: Uint8Array;
    try {
      plaintext = this.cipher.open(
        this.key,
        blobChunkNonce(this.noncePrefix, index, final),
        sealed,
        blobChunkAd(this.header, index, final),
      );
    } catch {
      this.key.fill(0);
      this.finished = true;
      throw new DecryptionError(`blob: chunk ${index} failed to authenticate`);
    }
    if (final) {
      this.key.fill(0);
      this.finished = true;
    }
    return plaintext;
  }
}

function resolveMaxChunkSize(options: DecryptBlobOptions): number {
  const maxChunkSize = options.maxChunkSize ?? MAX_CHUNK_SIZE;
  if (!Number.isInteger(maxChunkSize) || maxChunkSize < MIN_CHUNK_SIZE) {
    throw new RangeError(`blob: maxChunkSize must be at least ${MIN_CHUNK_SIZE}`);
  }
  return maxChunkSize;
}

function assertBytes(data: unknown): asserts data is Uint8Array {
  if (!(data instanceof Uint8Array)) throw new TypeError('blob: stream input must be Uint8Array chunks');
}

/**
 * Feeds `data` into a reusable buffer of `size` bytes, calling `full` for each complete piece.
 * Whole pieces are passed straight from `data` without copying. Returns the new fill level.
 */
function feed(
  buffer: Uint8Array,
  filled: number,
  data: Uint8Array,
  full: (piece: Uint8Array) => void,
): number {
  const size = buffer.length;
  let offset = 0;
  if (filled > 0) {
    offset = Math.min(size - filled, data.length);
    buffer.set(data.subarray(0, offset), filled);
    filled += offset;
    if (filled < size) return filled;
    full(buffer);
    filled = 0;
  }
  for (; data.length - offset >= size; offset += size) full(data.subarray(offset, offset + size));
  buffer.set(data.subarray(offset), 0);
  return data.length - offset;
}

/**
 * Encrypts a byte stream into a homing blob: the header, then each chunk as soon as it is
 * complete. Input may come in slices of any size; at most one chunk is buffered.
 */
export function createEncryptStream(
  key: Uint8Array,
  options: EncryptBlobOptions = {},
): TransformStream<Uint8Array, Uint8Array> {
  const sealer = new ChunkSealer(
    key,
    options.chunkSize ?? DEFAULT_CHUNK_SIZE,
    options.cipher ?? nobleChunkCipher,
    options.noncePrefix,
  );
  let buffer: Uint8Array | undefined;
  let filled = 0;
  return new TransformStream<Uint8Array, Uint8Array>({
    start(controller) {
      controller.enqueue(sealer.header.slice());
    },
    transform(data, controller) {
      assertBytes(data);
      buffer ??= new Uint8Array(sealer.chunkSize);
      // A full chunk is never the final one (the final chunk is always shorter), so it can go now.
      filled = feed(buffer, filled, data, (piece) => controller.enqueue(sealer.seal(piece, false)));
    },
    flush(controller) {
      controller.enqueue(sealer.seal(buffer?.subarray(0, filled) ?? new Uint8Array(0), true));
      buffer?.fill(0);
    },
  });
}

/**
 * Decrypts a homing blob stream. Each chunk is released only after its tag verifies, but a
 * stream that later fails (truncation, tampering) has already released a verified prefix:
 * treat the output as incomplete until the stream closes without error.
 */
export function createDecryptStream(
  key: Uint8Array,
  options: DecryptBlobOptions = {},
): TransformStream<Uint8Array, Uint8Array> {
  if (key.length !== AEAD_KEY_BYTES) throw new DecryptionError('blob: key must be 32 bytes');
  const ownKey = Uint8Array.from(key);
  const cipher = options.cipher ?? nobleChunkCipher;
  const maxChunkSize = resolveMaxChunkSize(options);
  const header = new Uint8Array(BLOB_HEADER_BYTES);
  let headerFilled = 0;
  let opener: ChunkOpener | undefined;
  let buffer = new Uint8Array(0);
  let filled = 0;
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(data, controller) {
      assertBytes(data);
      if (!opener) {
        const take = Math.min(BLOB_HEADER_BYTES - headerFilled, data.length);
        header.set(data.subarray(0, take), headerFilled);
        headerFilled += take;
        if (headerFilled < BLOB_HEADER_BYTES) return;
        opener = new ChunkOpener(ownKey, header, maxChunkSize, cipher);
        ownKey.fill(0);
        buffer = new Uint8Array(opener.chunkSize + BLOB_TAG_BYTES);
        data = data.subarray(take);
      }
      const active = opener;
      filled = feed(buffer, filled, data, (piece) => controller.enqueue(active.open(piece, false)));
    },
    flush(controller) {
      if (!opener) throw new DecryptionError('blob: truncated header');
      // Whatever is left is the final chunk; fewer than 16 bytes means it is missing.
      controller.enqueue(opener.open(buffer.subarray(0, filled), true));
    },
  });
}

/** Whole-buffer form of createEncryptStream; same bytes for the same key and nonce prefix. */
export function encryptBlob(key: Uint8Array, plaintext: Uint8Array, options: EncryptBlobOptions = {}): Uint8Array {
  const sealer = new ChunkSealer(
    key,
    options.chunkSize ?? DEFAULT_CHUNK_SIZE,
    options.cipher ?? nobleChunkCipher,
    options.noncePrefix,
  );
  const { chunkSize } = sealer;
  const output = new Uint8Array(encryptedSize(plaintext.length, chunkSize));
  output.set(sealer.header);
  let written = BLOB_HEADER_BYTES;
  let offset = 0;
  for (; plaintext.length - offset >= chunkSize; offset += chunkSize) {
    const sealed = sealer.seal(plaintext.subarray(offset, offset + chunkSize), false);
    output.set(sealed, written);
    written += sealed.length;
  }
  output.set(sealer.seal(plaintext.subarray(offset), true), written);
  return output;
}

/** Whole-buffer form of createDecryptStream: returns nothing unless every chunk verifies. */
export function decryptBlob(key: Uint8Array, encrypted: Uint8Array, options: DecryptBlobOptions = {}): Uint8Array {
  if (key.length !== AEAD_KEY_BYTES) throw new DecryptionError('blob: key must be 32 bytes');
  if (encrypted.length < BLOB_HEADER_BYTES) throw new DecryptionError('blob: truncated header');
  const opener = new ChunkOpener(
    key,
    encrypted.subarray(0, BLOB_HEADER_BYTES),
    resolveMaxChunkSize(options),
    options.cipher ?? nobleChunkCipher,
  );
  const sealedChunkSize = opener.chunkSize + BLOB_TAG_BYTES;
  const body = encrypted.length - BLOB_HEADER_BYTES;
  // What follows the full-size chunks is the final chunk: at least a tag, or it is missing.
  if (body % sealedChunkSize < BLOB_TAG_BYTES) throw new DecryptionError('blob: truncated');
  const chunkCount = Math.floor(body / sealedChunkSize) + 1;
  const output = new Uint8Array(body - BLOB_TAG_BYTES * chunkCount);
  try {
    let offset = BLOB_HEADER_BYTES;
    let written = 0;
    for (; encrypted.length - offset >= sealedChunkSize; offset += sealedChunkSize) {
      const chunk = opener.open(encrypted.subarray(offset, offset + sealedChunkSize), false);
      output.set(chunk, written);
      written += chunk.length;
    }
    output.set(opener.open(encrypted.subarray(offset), true), written);
  } catch (error) {
    output.fill(0);
    throw error;
  }
  return output;
}
