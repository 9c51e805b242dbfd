import { createHash } from 'node:crypto';

// Stream helpers shared by tests and benchmarks; no test runner imported, so both can use them.

/** SHA-256 and length of a stream, read without keeping it. */
export async function digest(stream: ReadableStream<Uint8Array>) {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { bytes, sha256: hash.digest('hex') };
}
