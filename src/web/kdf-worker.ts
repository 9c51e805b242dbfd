import { argon2idWithFallback, prepareWasmArgon2id } from '../client/crypto/argon2id-wasm.js';
import type { KdfAnswer, KdfRequest } from './kdf-worker-messages.js';

// The page's Argon2id, in a Web Worker so that the page stays responsive while it runs: built by
// scripts/build.mjs as a script of its own, which alone carries the WebAssembly. Its CSP (set where
// the server serves it) allows compiling WebAssembly and nothing else; where WebAssembly is refused
// anyway, noble's JavaScript gives the same key, still off the page's thread.

const answer = (message: KdfAnswer) => self.postMessage(message);

self.addEventListener('message', async (event: MessageEvent<KdfRequest>) => {
  const request = event.data;
  if (request.kind === 'prepare') {
    // Failing here only means the derivation does the work itself (or falls back to noble).
    await prepareWasmArgon2id(request.memLimit).catch(() => undefined);
    answer({ kind: 'prepared' });
    return;
  }
  try {
    const { key, engine } = await argon2idWithFallback(request);
    // Copied rather than transferred: 32 bytes, and the page ends this worker as soon as it reads them.
    answer({ kind: 'derived', ok: true, key, engine });
  } catch (error) {
    answer({ kind: 'derived', ok: false, error: error instanceof Error ? error.message : String(error) });
  } finally {
    request.password.fill(0);
  }
});
