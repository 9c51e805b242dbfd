import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { READ_AHEAD_BYTES, webStreamOf } from '../../src/adapters/node-web-stream.js';

// The bridge blob bytes take from Node streams (request bodies, the S3 SDK's download bodies) to
// the app's web streams, on real Node streams.

const KiB = 1024;
const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('webStreamOf', () => {
  it("hands on the source's own chunks, not copies of them", async () => {
    const source = new PassThrough();
    const sent = Buffer.alloc(64 * KiB, 7);
    source.end(sent);
    const reader = webStreamOf(source).getReader();
    const { value } = await reader.read();
    expect(value!.buffer).toBe(sent.buffer);
    expect(value!.byteOffset).toBe(sent.byteOffset);
    expect((await reader.read()).done).toBe(true);
  });

  it('a source that fails mid-way fails the stream with its error', async () => {
    const source = new PassThrough();
    source.write(Buffer.alloc(KiB));
    const reader = webStreamOf(source).getReader();
    await reader.read();
    source.destroy(new Error('connection reset by the peer'));
    await expect(reader.read()).rejects.toThrow('connection reset by the peer');
  });

  it('a source closed before its end (a request body cut off) fails the stream instead of ending it', async () => {
    const source = new PassThrough();
    source.write(Buffer.alloc(KiB));
    const reader = webStreamOf(source).getReader();
    await reader.read();
    source.destroy();
    await expect(reader.read()).rejects.toThrow(/premature close/i);
  });

  it('stops reading a source nobody reads once it holds READ_AHEAD_BYTES, so memory stays flat', async () => {
    let produced = 0;
    const chunk = 64 * KiB;
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < 1024; i++) {
          produced++;
          yield Buffer.alloc(chunk);
        }
      })(),
    );
    const reader = webStreamOf(source).getReader();
    await tick();
    // What the web stream holds, plus Readable.from's own buffer of 16 objects and one in flight.
    expect(produced).toBeLessThanOrEqual(READ_AHEAD_BYTES / chunk + 16 + 2);
    expect(source.isPaused()).toBe(true);
    let received = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value.byteLength;
    }
    expect(received).toBe(1024 * chunk);
  });

  it('cancelling it (a download the client walked away from) destroys the source', async () => {
    const source = new PassThrough();
    source.write(Buffer.alloc(KiB));
    const reader = webStreamOf(source).getReader();
    await reader.read();
    await reader.cancel();
    expect(source.destroyed).toBe(true);
  });
});
