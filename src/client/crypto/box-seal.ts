import { hsalsa, xsalsa20poly1305 } from '@noble/ciphers/salsa.js';
import { u32 } from '@noble/ciphers/utils.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { blake2b } from '@noble/hashes/blake2.js';
import { DecryptionError } from './aead.js';
import { concatBytes, randomBytes, utf8 } from '../../protocol/encoding.js';

// libsodium's crypto_box_seal / crypto_box_seal_open, built from noble parts so that it runs in
// browsers, Workers and Node alike:
//
//   sealed = epk (32) ‖ crypto_box_easy(m, nonce, pk, esk) = epk ‖ tag (16) ‖ ciphertext (len(m))
//   nonce  = BLAKE2b-192(epk ‖ pk)                        (crypto_generichash, 24 bytes, no key)
//   k      = HSalsa20(X25519(esk, pk), 16 zero bytes)     (crypto_box_beforenm)
//
// noble's xsalsa20poly1305 already returns tag ‖ ciphertext, libsodium's crypto_box_easy layout.

export const BOX_PUBLIC_KEY_BYTES = 32;
export const BOX_SECRET_KEY_BYTES = 32;
/** crypto_box_SEALBYTES: ephemeral public key + Poly1305 tag. */
export const BOX_SEAL_OVERHEAD = 48;
const BOX_NONCE_BYTES = 24;

// Word views of byte arrays as hsalsa expects them (it fixes the word order on big-endian hosts).
// Copy first: a Buffer from Node's pool may be misaligned, and its .buffer is not only our bytes.
const words = (bytes: Uint8Array) => u32(Uint8Array.from(bytes));
const SIGMA = utf8('expand 32-byte k');

/** = crypto_box_beforenm(pk, sk). Throws on a low-order public key, as crypto_scalarmult does. */
function boxBeforenm(publicKey: Uint8Array, secretKey: Uint8Array): Uint8Array {
  const shared = x25519.getSharedSecret(secretKey, publicKey);
  const out = new Uint32Array(8);
  hsalsa(words(SIGMA), words(shared), new Uint32Array(4), out);
  shared.fill(0);
  const key = Uint8Array.from(new Uint8Array(out.buffer));
  out.fill(0);
  return key;
}

function sealNonce(ephemeralPublicKey: Uint8Array, recipientPublicKey: Uint8Array): Uint8Array {
  return blake2b(concatBytes(ephemeralPublicKey, recipientPublicKey), { dkLen: BOX_NONCE_BYTES });
}

function assertKey(key: Uint8Array, name: string): void {
  if (!(key instanceof Uint8Array) || key.length !== 32) throw new Error(`box seal: ${name} must be 32 bytes`);
}

/** = crypto_box_seal(message, recipientPublicKey), with a fresh random ephemeral key pair. */
export function boxSeal(message: Uint8Array, recipientPublicKey: Uint8Array): Uint8Array {
  const ephemeralSecretKey = randomBytes(BOX_SECRET_KEY_BYTES);
  try {
    return boxSealWithEphemeralKey(message, recipientPublicKey, ephemeralSecretKey);
  } finally {
    ephemeralSecretKey.fill(0);
  }
}

/**
 * Deterministic form of boxSeal for test vectors only: the ephemeral secret key must be fresh
 * random bytes for every real message (it is what makes the nonce and key unique).
 */
export function boxSealWithEphemeralKey(
  message: Uint8Array,
  recipientPublicKey: Uint8Array,
  ephemeralSecretKey: Uint8Array,
): Uint8Array {
  if (!(message instanceof Uint8Array)) throw new Error('box seal: message must be a Uint8Array');
  assertKey(recipientPublicKey, 'recipient public key');
  assertKey(ephemeralSecretKey, 'ephemeral secret key');
  const ephemeralPublicKey = x25519.getPublicKey(ephemeralSecretKey);
  let key: Uint8Array;
  try {
    key = boxBeforenm(recipientPublicKey, ephemeralSecretKey);
  } catch {
    throw new Error('box seal: invalid recipient public key');
  }
  try {
    const nonce = sealNonce(ephemeralPublicKey, recipientPublicKey);
    return concatBytes(ephemeralPublicKey, xsalsa20poly1305(key, nonce).encrypt(message));
  } finally {
    key.fill(0);
  }
}

/**
 * = crypto_box_seal_open(sealed, recipientPublicKey, recipientSecretKey). Any failure (too short,
 * low-order ephemeral key, wrong key pair, modified byte) throws DecryptionError.
 */
export function boxSealOpen(
  sealed: Uint8Array,
  recipientPublicKey: Uint8Array,
  recipientSecretKey: Uint8Array,
): Uint8Array {
  if (
    !(sealed instanceof Uint8Array) ||
    sealed.length < BOX_SEAL_OVERHEAD ||
    !(recipientPublicKey instanceof Uint8Array) ||
    recipientPublicKey.length !== BOX_PUBLIC_KEY_BYTES ||
    !(recipientSecretKey instanceof Uint8Array) ||
    recipientSecretKey.length !== BOX_SECRET_KEY_BYTES
  ) {
    throw new DecryptionError('box seal: cannot open');
  }
  const ephemeralPublicKey = sealed.subarray(0, BOX_PUBLIC_KEY_BYTES);
  let key: Uint8Array | undefined;
  try {
    key = boxBeforenm(ephemeralPublicKey, recipientSecretKey);
    const nonce = sealNonce(ephemeralPublicKey, recipientPublicKey);
    return xsalsa20poly1305(key, nonce).decrypt(sealed.subarray(BOX_PUBLIC_KEY_BYTES));
  } catch {
    throw new DecryptionError('box seal: cannot open');
  } finally {
    key?.fill(0);
  }
}
