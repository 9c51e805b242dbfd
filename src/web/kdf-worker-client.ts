import { type Argon2id, type Argon2idInput, nobleArgon2id } from '../client/crypto/argon2id.js';
import type { Argon2idEngine } from '../client/crypto/argon2id-wasm.js';
import { KDF_WORKER_META } from '../protocol/web-page.js';
import type { KdfAnswer, KdfRequest } from './kdf-worker-messages.js';

// The page's Argon2id engine for the SDK (client/crypto/argon2id.ts): each derivation runs in a
// fresh Web Worker (kdf-worker.ts: WebAssembly, else noble), which is ended as soon as it answers,
// so neither its 64 MiB nor the key stays behind in a live thread. Where no worker can run (no
// Worker, its script not served or refused, a worker that fails), noble runs here, as before.

/** Where a derivation ran: what the page shows tests on <html data-kdf>. */
export type KdfPath = `${Argon2idEngine}-worker` | 'noble-main';

/** The worker script the server named in the page's head, if any. */
export function readKdfWorkerUrl(doc: Document): string | undefined {
  return doc.querySelector<HTMLMetaElement>(`meta[name="${KDF_WORKER_META}"]`)?.content || undefined;
}

export function createWorkerArgon2id(options: { workerUrl: string | undefined; ran?: (path: KdfPath) => void }): Argon2id {
  return async (input) => {
    if (options.workerUrl && typeof Worker === 'function') {
      const answer = await inWorker(options.workerUrl, input).catch(() => undefined);
      if (answer?.ok) {
        options.ran?.(`${answer.engine}-worker`);
        return answer.key;
      }
    }
    const key = await nobleArgon2id(input);
    options.ran?.('noble-main');
    return key;
  };
}

/** One derivation in a new worker; rejects when the worker cannot start or dies. */
function inWorker(url: string, input: Argon2idInput): Promise<KdfAnswer> {
  return new Promise<KdfAnswer>((resolve, reject) => {
    const worker = new Worker(url, { name: 'argon2id' });
    const end = (settle: () => void) => {
      worker.terminate();
      settle();
    };
    worker.addEventListener('message', (event: MessageEvent<KdfAnswer>) => end(() => resolve(event.data)));
    worker.addEventListener('messageerror', () => end(() => reject(new Error('kdf worker: unreadable answer'))));
    // A script that failed to load, parse or run fires this; so does a worker whose CSP refused it.
    worker.addEventListener('error', (event) => end(() => reject(new Error(`kdf worker: ${event.message || 'did not start'}`))));
    const request: KdfRequest = { ...input, password: input.password.slice() };
    worker.postMessage(request, [request.password.buffer]);
  });
}
