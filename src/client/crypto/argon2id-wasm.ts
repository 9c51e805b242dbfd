import { type Argon2id, type Argon2idInput, nobleArgon2id } from './argon2id.js';

// Argon2id in libsodium's own WebAssembly build: crypto_pwhash itself, so the same bytes by
// construction. In the page's worker on this machine it took 185 ms at the default cost, against
// 304 ms for hash-wasm's build and 617 ms for noble's JavaScript (BENCHMARKS.md, section 11). Kept out of kdf.ts so that only what imports this file
// carries the WebAssembly: the page's Web Worker (src/web/kdf-worker.ts), not the page's script.

// The smallest module there is, its 8-byte header. Where a Content-Security-Policy refuses
// WebAssembly, instantiating it fails quietly; libsodium's loader, refused the same way, also
// throws an uncaught abort into the worker. So libsodium is loaded only once this has run.
const EMPTY_MODULE = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
let sodiumLoading: Promise<(typeof import('libsodium-wrappers-sumo'))['default']> | undefined;

function loadSodium() {
  sodiumLoading ??= (async () => {
    await WebAssembly.instantiate(EMPTY_MODULE);
    const { default: sodium } = await import('libsodium-wrappers-sumo');
    await sodium.ready;
    return sodium;
  })();
  return sodiumLoading;
}

/** libsodium's crypto_pwhash (Argon2id v1.3); throws where WebAssembly cannot run. */
export const wasmArgon2id: Argon2id = async ({ password, salt, opsLimit, memLimit }) => {
  const sodium = await loadSodium();
  return sodium.crypto_pwhash(32, password, salt, opsLimit, memLimit, sodium.crypto_pwhash_ALG_ARGON2ID13);
};

export type Argon2idEngine = 'wasm' | 'noble';

/**
 * WebAssembly, else noble. WebAssembly may be missing, or refused by a Content-Security-Policy
 * without 'wasm-unsafe-eval' (libsodium's build has no JavaScript fallback).
 * Whatever made it throw, noble gives the same bytes, so the caller only loses speed.
 */
export async function argon2idWithFallback(input: Argon2idInput): Promise<{ key: Uint8Array; engine: Argon2idEngine }> {
  try {
    return { key: await wasmArgon2id(input), engine: 'wasm' };
  } catch {
    return { key: await nobleArgon2id(input), engine: 'noble' };
  }
}
