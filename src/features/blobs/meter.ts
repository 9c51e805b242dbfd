import type { HashFactory } from '../../protocol/hash.js';
import { AppError } from '../../http/app-error.js';

/** What an upload declared of its body, checked as the body streams past. */
export interface BodyCheck {
  size: number;
  sha256: string;
  hash: HashFactory;
}

/**
 * The request body on its way to the store, read in one pass with no stream in between. A failure
 * to read it is remembered: a body cut off mid-way (the client went away, or the server is
 * shutting down) is then told apart from a store that failed. Given a check, the body is counted
 * and hashed too: if it turns out longer or shorter than declared, or its SHA-256 differs, the
 * stream errors instead of ending, so the store never makes the object visible (BlobStore.put
 * does so only once the body has ended). `failure()` tells the caller why a store rejected.
 */
export function fromClient(body: ReadableStream<Uint8Array>, check?: BodyCheck) {
  const reader = body.getReader();
  const hash = check?.hash();
  let received = 0;
  let cut = false;
  // Cancelled by the store (its request failed): the body's end is then no verdict on the client.
  let cancelled = false;
  let failure: AppError | undefined;
  const read = async () => {
    for (;;) {
      let next;
      try {
        next = await reader.read();
      } catch (error) {
        cut = !cancelled;
        throw error;
      }
      if (next.done || next.value.byteLength > 0) return next;
    }
  };
  const longer = (size: number) => new AppError('integrity_mismatch', `the body is longer than Content-Length (${size} bytes)`);
  /** Why the body, now ended, is not the one declared; undefined when it is. */
  const mismatch = ({ size, sha256 }: BodyCheck) => {
    if (received !== size) {
      return new AppError('integrity_mismatch', `the body ended after ${received} of ${size} bytes; nothing was stored`);
    }
    const actual = hash!.hex();
    return actual === sha256 ? undefined : new AppError('integrity_mismatch', `SHA-256 of the body is ${actual}, not the declared ${sha256}`);
  };
  const fail = (controller: ReadableStreamDefaultController<Uint8Array>, error: AppError) => {
    failure = error;
    void reader.cancel(error).catch(() => {});
    controller.error(error);
  };
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await read();
        if (cancelled) return;
        if (next.done) {
          const wrong = check && mismatch(check);
          return wrong ? fail(controller, wrong) : controller.close();
        }
        if (!check) return controller.enqueue(next.value);
        received += next.value.byteLength;
        if (received > check.size) return fail(controller, longer(check.size));
        hash!.update(next.value);
        controller.enqueue(next.value);
      },
      cancel: (reason) => {
        cancelled = true;
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, wasCut: () => cut, failure: () => failure };
}

/** Hashes a stored object by reading it back, for uploads the server did not see pass through. */
export async function hashStream(hashFactory: HashFactory, body: ReadableStream<Uint8Array>) {
  const hash = hashFactory();
  let size = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    hash.update(value);
  }
  return { size, sha256: hash.hex() };
}

