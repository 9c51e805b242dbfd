import { argon2id } from 'hash-wasm';
import { type Argon2id, type Argon2idInput, nobleArgon2id } from './argon2id.js';

// Argon2id in WebAssembly (hash-wasm), a few times faster than noble's JavaScript on the same
// machine. Kept out of kdf.ts so that only what imports this file carries the WebAssembly: the
// page's Web Worker (src/web/kdf-worker.ts), not the page's own script.

/** hash-wasm's Argon2id with crypto_pwhash's parameters; throws where WebAssembly cannot run. */
export const wasmArgon2id: Argon2id = ({ password, salt, opsLimit, memLimit }) =>
  argon2id({
    password,
    salt,
    iterations: opsLimit,
    memorySize: memLimit / 1024,
    parallelism: 1,
    hashLength: 32,
    outputType: 'binary',
  });

export type Argon2idEngine = 'wasm' | 'noble';

/**
 * WebAssembly, else noble. WebAssembly may be missing, or refused by a Content-Security-Policy
 * without 'wasm-unsafe-eval'; hash-wasm also refuses an empty password, which crypto_pwhash
 * accepts. Whatever made it throw, noble gives the same bytes, so the caller only loses speed.
 */
export async function argon2idWithFallback(input: Argon2idInput): Promise<{ key: Uint8Array; engine: Argon2idEngine }> {
  try {
    return { key: await wasmArgon2id(input), engine: 'wasm' };
  } catch {
    return { key: await nobleArgon2id(input), engine: 'noble' };
  }
}
