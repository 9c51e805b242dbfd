import { type Argon2id, type Argon2idInput, nobleArgon2id } from '../client/crypto/argon2id.js';
import type { Argon2idEngine } from '../client/crypto/argon2id-wasm.js';
import { INTERACTIVE_KDF } from '../client/crypto/kdf.js';
import { KDF_WORKER_META } from '../protocol/web-page.js';
import type { KdfAnswer, KdfRequest } from './kdf-worker-messages.js';

// The page's Argon2id engine for the SDK (client/crypto/argon2id.ts): each derivation runs in a
// Web Worker (kdf-worker.ts: WebAssembly, else noble), which is ended as soon as it answers, so
// neither its memory nor the key stays behind in a live thread. Where no worker can run (no
// Worker, its script not served or refused, a worker that fails), noble runs here, as before.
//
// Starting a worker and compiling its WebAssembly took about 46 ms of a 235 ms login, and the
// first touch of its 64 MiB another 33 ms. prepare() does both ahead, in a spare worker, while the
// user is still typing the password; the next derivation takes that worker. A spare nobody uses is
// ended after SPARE_IDLE_MS, so a page left open does not keep 64 MiB.

/** Where a derivation ran: what the page shows tests on <html data-kdf>. */
export type KdfPath = `${Argon2idEngine}-worker` | 'noble-main';

export interface PageArgon2id extends Argon2id {
  /**
   * Readies a spare worker for the next derivation; resolves once it is ready (or could not be
   * made: the derivation then starts its own). Called again, it keeps the same spare for longer.
   */
  prepare(): Promise<void>;
}

const SPARE_IDLE_MS = 60_000;

/** The worker script the server named in the page's head, if any. */
export function readKdfWorkerUrl(doc: Document): string | undefined {
  return doc.querySelector<HTMLMetaElement>(`meta[name="${KDF_WORKER_META}"]`)?.content || undefined;
}

export function createWorkerArgon2id(options: {
  workerUrl: string | undefined;
  ran?: (path: KdfPath) => void;
}): PageArgon2id {
  const workerUrl = typeof Worker === 'function' ? options.workerUrl : undefined;
  let spare: { worker: KdfWorker; idle: ReturnType<typeof setTimeout> } | undefined;

  const dropSpare = () => {
    if (!spare) return undefined;
    const { worker, idle } = spare;
    clearTimeout(idle);
    spare = undefined;
    return worker;
  };

  const derive = async (input: Argon2idInput) => {
    if (workerUrl) {
      const worker = dropSpare() ?? startWorker(workerUrl);
      const answer = await worker?.derive(input).catch(() => undefined);
      if (answer?.ok) {
        options.ran?.(`${answer.engine}-worker`);
        return answer.key;
      }
    }
    const key = await nobleArgon2id(input);
    options.ran?.('noble-main');
    return key;
  };

  const prepare = async () => {
    if (!workerUrl) return;
    if (spare) clearTimeout(spare.idle);
    const worker = spare?.worker ?? startWorker(workerUrl);
    if (!worker) return;
    if (!spare) {
      worker.prepare(INTERACTIVE_KDF.memLimit);
      // A spare that dies is forgotten; the derivation starts a worker of its own.
      worker.failed.catch(() => spare?.worker === worker && dropSpare());
    }
    const idle = setTimeout(() => spare?.worker === worker && dropSpare()?.end(), SPARE_IDLE_MS);
    spare = { worker, idle };
    await worker.ready;
  };

  return Object.assign(derive, { prepare });
}

type Derived = Extract<KdfAnswer, { kind: 'derived' }>;

interface KdfWorker {
  /** Asks the worker to load its engine and take `memLimit` bytes ahead of a derivation. */
  prepare(memLimit: number): void;
  /** Resolves once the worker is prepared, or has failed. */
  ready: Promise<void>;
  /** Rejects when the worker cannot start or dies. */
  failed: Promise<never>;
  /** The one derivation of this worker, which is ended once it answers. */
  derive(input: Argon2idInput): Promise<Derived>;
  end(): void;
}

/** A new worker, or undefined where the page may not start one (a CSP's worker-src). */
function startWorker(url: string): KdfWorker | undefined {
  let worker: Worker;
  try {
    worker = new Worker(url, { name: 'argon2id' });
  } catch {
    return undefined;
  }
  let markPrepared!: () => void;
  let markDerived!: (answer: Derived) => void;
  const prepared = new Promise<void>((resolve) => (markPrepared = resolve));
  const derived = new Promise<Derived>((resolve) => (markDerived = resolve));
  const failed = new Promise<never>((_, reject) => {
    worker.addEventListener('messageerror', () => reject(new Error('kdf worker: unreadable answer')));
    // A script that failed to load, parse or run fires this; so does a worker whose CSP refused it.
    worker.addEventListener('error', (event) => reject(new Error(`kdf worker: ${event.message || 'did not start'}`)));
  });
  failed.catch(() => worker.terminate());
  worker.addEventListener('message', (event: MessageEvent<KdfAnswer>) => {
    if (event.data.kind === 'prepared') markPrepared();
    else markDerived(event.data);
  });
  const send = (request: KdfRequest, transfer: Transferable[] = []) => worker.postMessage(request, transfer);
  return {
    prepare: (memLimit) => send({ kind: 'prepare', memLimit }),
    ready: Promise.race([prepared, failed]).catch(() => undefined),
    failed,
    derive(input) {
      const request: KdfRequest = { kind: 'derive', ...input, password: input.password.slice() };
      send(request, [request.password.buffer]);
      return Promise.race([derived, failed]).finally(() => worker.terminate());
    },
    end: () => worker.terminate(),
  };
}
