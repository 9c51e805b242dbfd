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
  /** For 'prepared': how long readying the worker took, before the timed derivation. */
  prepareMs?: number;
}

const toHex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/**
 * Derives once at `memLimit`: 'prepared' as a login does (the page readies its worker when the
 * password field takes the focus, and the user types for longer than that takes, so the
 * derivation starts once it is ready; only the derivation is timed), 'cold' in a worker started
 * for it (a submit with no focus first, e.g. a password manager's), 'noble' on this thread.
 */
export async function timeDerivation(path: 'prepared' | 'cold' | 'noble', memLimit: number = INTERACTIVE_KDF.memLimit): Promise<Timed> {
  let ran: KdfPath = 'noble-main';
  const worker = createWorkerArgon2id({ workerUrl: readKdfWorkerUrl(document), ran: (where) => (ran = where) });
  const argon2id: Argon2id = path === 'noble' ? nobleArgon2id : worker;
  const preparing = performance.now();
  if (path === 'prepared') await worker.prepare();
  const prepareMs = path === 'prepared' ? performance.now() - preparing : undefined;
  const input = {
    password: new TextEncoder().encode('correct horse battery staple'),
    salt: Uint8Array.from({ length: 16 }, (_, i) => i),
    opsLimit: INTERACTIVE_KDF.opsLimit,
    memLimit,
  };
  const started = performance.now();
  const key = await argon2id(input);
  return { ms: performance.now() - started, ran, keyHex: toHex(key), prepareMs };
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
