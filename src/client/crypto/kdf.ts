import { blake2b } from '@noble/hashes/blake2.js';
import { utf8 } from '../../protocol/encoding.js';
import { type Argon2id, nobleArgon2id } from './argon2id.js';

/** Parameters of libsodium crypto_pwhash (Argon2id v1.3). memLimit is in bytes, as in libsodium. */
export interface KdfParams {
  salt: Uint8Array;
  opsLimit: number;
  memLimit: number;
}

/** crypto_pwhash_OPSLIMIT_INTERACTIVE / crypto_pwhash_MEMLIMIT_INTERACTIVE. */
export const INTERACTIVE_KDF = { opsLimit: 2, memLimit: 67108864 } as const;

export const KDF_SALT_BYTES = 16;
const MIN_MEM_LIMIT = 8192;
// A hostile or buggy server could otherwise ask a phone or browser for gigabytes.
export const MAX_MEM_LIMIT = 1024 * 1024 * 1024;

export const KDF_CONTEXT = 'homing01';
export const SUBKEY = { login: 1, kek: 2 } as const;

export function validateKdfParams(params: KdfParams): void {
  if (!(params.salt instanceof Uint8Array) || params.salt.length !== KDF_SALT_BYTES) {
    throw new Error(`kdf: salt must be ${KDF_SALT_BYTES} bytes`);
  }
  if (!Number.isSafeInteger(params.opsLimit) || params.opsLimit < 1 || params.opsLimit > 0xffffffff) {
    throw new Error('kdf: opsLimit must be an integer between 1 and 2^32-1');
  }
  const { memLimit } = params;
  if (!Number.isSafeInteger(memLimit) || memLimit % 1024 !== 0 || memLimit < MIN_MEM_LIMIT) {
    throw new Error(`kdf: memLimit must be a multiple of 1024 bytes and at least ${MIN_MEM_LIMIT}`);
  }
  if (memLimit > MAX_MEM_LIMIT) throw new Error(`kdf: memLimit above ${MAX_MEM_LIMIT} bytes`);
}

/**
 * = crypto_pwhash(32, NFKC(password) as UTF-8, salt, opsLimit, memLimit, crypto_pwhash_ALG_ARGON2ID13).
 * `argon2id` chooses the engine (argon2id.ts); every engine gets the same validated input, and an
 * answer that is not 32 bytes is refused.
 */
export async function deriveRootKey(password: string, params: KdfParams, argon2id: Argon2id = nobleArgon2id): Promise<Uint8Array> {
  validateKdfParams(params);
  const bytes = utf8(password.normalize('NFKC'));
  try {
    const key = await argon2id({ password: bytes, salt: params.salt, opsLimit: params.opsLimit, memLimit: params.memLimit });
    if (!(key instanceof Uint8Array) || key.length !== 32) throw new Error('kdf: the Argon2id engine did not return 32 bytes');
    return key;
  } finally {
    bytes.fill(0);
  }
}

/** = crypto_kdf_derive_from_key(32, subkeyId, context, key) (crypto_kdf_blake2b). */
export function deriveSubkey(key: Uint8Array, subkeyId: number, context: string): Uint8Array {
  if (key.length !== 32) throw new Error('kdf: key must be 32 bytes');
  if (!Number.isSafeInteger(subkeyId) || subkeyId < 0) {
    throw new Error('kdf: subkeyId must be a non-negative safe integer');
  }
  if (!/^[\x00-\x7f]{8}$/.test(context)) throw new Error('kdf: context must be exactly 8 ASCII characters');

  const salt = new Uint8Array(16);
  new DataView(salt.buffer).setBigUint64(0, BigInt(subkeyId), true);
  const personalization = new Uint8Array(16);
  personalization.set(utf8(context));
  return blake2b(new Uint8Array(0), { key, dkLen: 32, salt, personalization });
}
