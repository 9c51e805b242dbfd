// Node-only fast path for blob chunks: XChaCha20-Poly1305-IETF built from HChaCha20 (noble)
// and node:crypto's native chacha20-poly1305. Same bytes as nobleChunkCipher and libsodium.
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { hchacha } from '@noble/ciphers/chacha.js';
import { AEAD_KEY_BYTES, AEAD_NONCE_BYTES, AEAD_TAG_BYTES, DecryptionError } from './aead.js';
import type { ChunkCipher } from './blob-format.js';
import { constantTimeEqual, utf8 } from '../../protocol/encoding.js';

const HCHACHA_INPUT_BYTES = 16;

/** Copies into a fresh, aligned buffer viewed as native-endian words (what noble's hchacha takes). */
function words(bytes: Uint8Array): Uint32Array {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return new Uint32Array(copy.buffer);
}

const SIGMA = words(utf8('expand 32-byte k'));

/** HChaCha20(key, input16): the XChaCha20 subkey, as libsodium's crypto_core_hchacha20. */
export function hchacha20(key: Uint8Array, input: Uint8Array): Uint8Array {
  if (key.length !== AEAD_KEY_BYTES || input.length !== HCHACHA_INPUT_BYTES) {
    throw new Error('hchacha20: key must be 32 bytes and input 16 bytes');
  }
  const keyWords = words(key);
  const out = new Uint32Array(8);
  hchacha(SIGMA, keyWords, words(input), out);
  keyWords.fill(0);
  return new Uint8Array(out.buffer);
}

// A blob's chunks share its key and 16-byte nonce prefix, so one HChaCha20 serves the whole blob.
// The cache holds its own copies (the caller may reuse or wipe its arrays) and compares by value.
let cached: { key: Uint8Array; prefix: Uint8Array; subkey: Uint8Array } | undefined;

function subkeyFor(key: Uint8Array, nonce: Uint8Array): Uint8Array {
  const prefix = nonce.subarray(0, HCHACHA_INPUT_BYTES);
  if (cached && constantTimeEqual(cached.key, key) && constantTimeEqual(cached.prefix, prefix)) return cached.subkey;
  const subkey = hchacha20(key, prefix);
  if (cached) {
    cached.key.fill(0);
    cached.subkey.fill(0);
  }
  cached = { key: Uint8Array.from(key), prefix: Uint8Array.from(prefix), subkey };
  return subkey;
}

/** The IETF ChaCha20 nonce for the subkey: 4 zero bytes ‖ nonce[16..24]. */
function ietfNonce(nonce: Uint8Array): Uint8Array {
  const ietf = new Uint8Array(12);
  ietf.set(nonce.subarray(HCHACHA_INPUT_BYTES), 4);
  return ietf;
}

function checkSizes(key: Uint8Array, nonce: Uint8Array): void {
  if (key.length !== AEAD_KEY_BYTES) throw new Error('aead: key must be 32 bytes');
  if (nonce.length !== AEAD_NONCE_BYTES) throw new Error('aead: nonce must be 24 bytes');
}

export const nativeChunkCipher: ChunkCipher = {
  seal(key, nonce, plaintext, ad) {
    checkSizes(key, nonce);
    const cipher = createCipheriv('chacha20-poly1305', subkeyFor(key, nonce), ietfNonce(nonce), {
      authTagLength: AEAD_TAG_BYTES,
    });
    cipher.setAAD(ad, { plaintextLength: plaintext.length });
    // Node returns Buffers that may share a pooled ArrayBuffer: copy them into a plain array.
    const sealed = new Uint8Array(plaintext.length + AEAD_TAG_BYTES);
    const body = cipher.update(plaintext);
    const rest = cipher.final();
    if (body.length + rest.length !== plaintext.length) throw new Error('aead: unexpected cipher output');
    sealed.set(body);
    sealed.set(rest, body.length);
    sealed.set(cipher.getAuthTag(), plaintext.length);
    return sealed;
  },

  open(key, nonce, sealed, ad) {
    if (key.length !== AEAD_KEY_BYTES || nonce.length !== AEAD_NONCE_BYTES || sealed.length < AEAD_TAG_BYTES) {
      throw new DecryptionError();
    }
    const length = sealed.length - AEAD_TAG_BYTES;
    let body: Buffer | undefined;
    try {
      const decipher = createDecipheriv('chacha20-poly1305', subkeyFor(key, nonce), ietfNonce(nonce), {
        authTagLength: AEAD_TAG_BYTES,
      });
      decipher.setAAD(ad, { plaintextLength: length });
      decipher.setAuthTag(sealed.subarray(length));
      // update() decrypts before the tag is checked: keep it private until final() verifies.
      body = decipher.update(sealed.subarray(0, length));
      decipher.final();
    } catch {
      body?.fill(0);
      throw new DecryptionError();
    }
    if (body.length !== length) throw new DecryptionError();
    // Hand out the Buffer's memory only when it owns its whole ArrayBuffer (never for pooled ones).
    if (body.byteOffset === 0 && body.buffer.byteLength === length && length > 0) {
      return new Uint8Array(body.buffer, 0, length);
    }
    const plaintext = Uint8Array.from(body);
    body.fill(0);
    return plaintext;
  },
};
