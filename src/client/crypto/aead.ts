import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { concatBytes, randomBytes, utf8 } from '../../protocol/encoding.js';

export class DecryptionError extends Error {
  override name = 'DecryptionError';
  constructor(message = 'decryption failed') {
    super(message);
  }
}

export const AEAD_KEY_BYTES = 32;
export const AEAD_NONCE_BYTES = 24;
export const AEAD_TAG_BYTES = 16;

export type KeyPurpose = 'master-key/password' | 'master-key/recovery' | 'x25519-secret' | 'ed25519-secret';

export function keyWrapAd(purpose: KeyPurpose, accountId: string): Uint8Array {
  return utf8(`homing/v1/${purpose}/${accountId}`);
}

/** nonce ‖ crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, nonce, key). */
export function sealWithKey(key: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Uint8Array {
  return sealWithKeyAndNonce(key, randomBytes(AEAD_NONCE_BYTES), plaintext, ad);
}

/** Deterministic form of sealWithKey for test vectors; never reuse a nonce with the same key. */
export function sealWithKeyAndNonce(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  ad: Uint8Array,
): Uint8Array {
  if (key.length !== AEAD_KEY_BYTES) throw new Error('aead: key must be 32 bytes');
  if (nonce.length !== AEAD_NONCE_BYTES) throw new Error('aead: nonce must be 24 bytes');
  return concatBytes(nonce, xchacha20poly1305(key, nonce, ad).encrypt(plaintext));
}

export function openWithKey(key: Uint8Array, sealed: Uint8Array, ad: Uint8Array): Uint8Array {
  if (key.length !== AEAD_KEY_BYTES || sealed.length < AEAD_NONCE_BYTES + AEAD_TAG_BYTES) {
    throw new DecryptionError();
  }
  const nonce = sealed.subarray(0, AEAD_NONCE_BYTES);
  try {
    return xchacha20poly1305(key, nonce, ad).decrypt(sealed.subarray(AEAD_NONCE_BYTES));
  } catch {
    throw new DecryptionError();
  }
}
