import { argon2idWithFallback } from '../client/crypto/argon2id-wasm.js';
import type { KdfAnswer, KdfRequest } from './kdf-worker-messages.js';

// The page's Argon2id, in a Web Worker so that the page stays responsive while it runs: built by
// scripts/build.mjs as a script of its own, which alone carries the WebAssembly. Its CSP (set where
// the server serves it) allows compiling WebAssembly and nothing else; where WebAssembly is refused
// anyway, noble's JavaScript gives the same key, still off the page's thread.

self.addEventListener('message', async (event: MessageEvent<KdfRequest>) => {
  const input = event.data;
  let answer: KdfAnswer;
  try {
    const { key, engine } = await argon2idWithFallback(input);
    answer = { ok: true, key, engine };
  } catch (error) {
    answer = { ok: false, error: error instanceof Error ? error.message : String(error) };
  } finally {
    input.password.fill(0);
  }
  // Copied rather than transferred: 32 bytes, and the page ends this worker as soon as it reads them.
  self.postMessage(answer);
});
