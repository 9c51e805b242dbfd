// Runs in the Find Device page during section 11 (test/bench/browser-kdf.ts): bundled by esbuild
// at bench time and imported by the page from its own origin, so it runs under the page's CSP
// and starts the worker the server named, exactly as a login does. The engines are the page's own
// (src/web/kdf-worker-client.ts, src/client/crypto/argon2id.ts); only the timing is added here.
import { type Argon2id, nobleArgon2id } from '../../src/client/crypto/argon2id.js';
import { INTERACTIVE_KDF } from '../../src/client/crypto/kdf.js';
import { createWorkerArgon2id, type KdfPath, readKdfWorkerUrl } from '../../src/web/kdf-worker-client.js';

export interface Timed {
  ms: number;
  /** Where it ran, as the page reports it; 'noble-main' for noble called directly. */
  ran: KdfPath;
  keyHex: string;
}

const toHex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** Derives once with the worker path ('worker') or with noble on this thread ('noble'), at `memLimit`. */
export async function timeDerivation(path: 'worker' | 'noble', memLimit: number = INTERACTIVE_KDF.memLimit): Promise<Timed> {
  let ran: KdfPath = 'noble-main';
  const argon2id: Argon2id =
    path === 'worker' ? createWorkerArgon2id({ workerUrl: readKdfWorkerUrl(document), ran: (where) => (ran = where) }) : nobleArgon2id;
  const input = {
    password: new TextEncoder().encode('correct horse battery staple'),
    salt: Uint8Array.from({ length: 16 }, (_, i) => i),
    opsLimit: INTERACTIVE_KDF.opsLimit,
    memLimit,
  };
  const started = performance.now();
  const key = await argon2id(input);
  return { ms: performance.now() - started, ran, keyHex: toHex(key) };
}

/**
 * The floor under any engine that takes its memory afresh, as every one here does: allocating
 * `bytes` and touching each 4 KiB page once, which makes the OS supply it.
 */
export function timeFreshMemory(bytes: number = INTERACTIVE_KDF.memLimit): number {
  const started = performance.now();
  const memory = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i += 4096) memory[i] = 1;
  return performance.now() - started;
}
