import { argon2idAsync } from '@noble/hashes/argon2.js';

/**
 * What an Argon2id engine is given: crypto_pwhash's inputs after deriveRootKey (kdf.ts) has
 * validated them and turned the password into NFKC UTF-8. memLimit is in bytes, as in libsodium.
 */
export interface Argon2idInput {
  password: Uint8Array;
  salt: Uint8Array;
  opsLimit: number;
  memLimit: number;
}

/**
 * An Argon2id v1.3 engine (parallelism 1, 32-byte output): one of the two below, or the page's
 * Web Worker (src/web/kdf-worker-client.ts). Every engine gives crypto_pwhash's output byte for
 * byte; they differ only in speed and in where the work runs.
 */
export type Argon2id = (input: Argon2idInput) => Promise<Uint8Array>;

/** Pure JavaScript, so it runs wherever the SDK does; the fallback when WebAssembly cannot. */
export const nobleArgon2id: Argon2id = ({ password, salt, opsLimit, memLimit }) =>
  argon2idAsync(password, salt, {
    t: opsLimit,
    m: memLimit / 1024,
    p: 1,
    dkLen: 32,
    version: 0x13,
    // deriveRootKey has already refused more than MAX_MEM_LIMIT; this only lifts noble's own lower cap.
    maxmem: memLimit,
  });
