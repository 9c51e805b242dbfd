export * from './encoding.js';
export * from './kdf.js';
export { AEAD_KEY_BYTES, AEAD_NONCE_BYTES, AEAD_TAG_BYTES, DecryptionError, keyWrapAd, openWithKey, sealWithKey } from './aead.js';
export type { KeyPurpose } from './aead.js';
export * from './signing.js';
export * from './account-keys.js';
export * from './sync-keys.js';
export * from './blob-format.js';
export * from './sha256.js';
