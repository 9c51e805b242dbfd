import type { HashFactory } from '../../protocol/hash.js';
import { AppError } from '../../http/app-error.js';

/**
 * Passes a blob through while counting and hashing it. If the body turns out longer or shorter
 * than declared, or its SHA-256 differs, the stream errors before its end reaches the store, so
 * the store never makes the object visible. `failure()` tells the caller why a store rejected.
 */
export function createMeter(hashFactory: HashFactory, expected: { size: number; sha256: string }) {
  const hash = hashFactory();
  let received = 0;
  let failure: AppError | undefined;
  const fail = (controller: TransformStreamDefaultController<Uint8Array>, error: AppError) => {
    failure = error;
    controller.error(error);
  };
  const stream = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      received += chunk.byteLength;
      if (received > expected.size) {
        return fail(controller, new AppError('integrity_mismatch', `the body is longer than Content-Length (${expected.size} bytes)`));
      }
      hash.update(chunk);
      controller.enqueue(chunk);
    },
    flush(controller) {
      if (received !== expected.size) {
        return fail(
          controller,
          new AppError('integrity_mismatch', `the body ended after ${received} of ${expected.size} bytes; nothing was stored`),
        );
      }
      const actual = hash.hex();
      if (actual !== expected.sha256) {
        fail(controller, new AppError('integrity_mismatch', `SHA-256 of the body is ${actual}, not the declared ${expected.sha256}`));
      }
    },
  });
  return { stream, failure: () => failure };
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

/**
 * The request body, with a failure to read it remembered: a body cut off mid-way (the client went
 * away, or the server is shutting down) is then told apart from a store that failed.
 */
export function fromClient(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  let cut = false;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let next;
      try {
        next = await reader.read();
      } catch (error) {
        cut = true;
        return controller.error(error);
      }
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return { stream, wasCut: () => cut };
}
