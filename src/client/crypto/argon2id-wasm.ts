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

/** The part of libsodium's Emscripten module that prepareWasmArgon2id uses. */
interface SodiumHeap {
  _malloc(bytes: number): number;
  _free(at: number): void;
  HEAPU8: Uint8Array;
}

/**
 * Gets a derivation of up to `memLimit` bytes ready ahead of it: loads and compiles libsodium, and
 * has its WebAssembly memory grow to hold the Argon2id blocks and the OS supply every page of it
 * (64 MiB touched took about 33 ms here), then hands the block back to libsodium's allocator, where
 * crypto_pwhash finds it again. What stays in memory is zeros.
 */
export async function prepareWasmArgon2id(memLimit: number): Promise<void> {
  const sodium = await loadSodium();
  const heap = (sodium as unknown as { libsodium: SodiumHeap }).libsodium;
  // Room for the blocks and the allocator's alignment around them.
  const bytes = memLimit + 64 * 1024;
  const at = heap._malloc(bytes);
  if (!at) return;
  // Read after the allocation: a grown memory gets a new view.
  heap.HEAPU8.fill(0, at, at + bytes);
  heap._free(at);
}

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
