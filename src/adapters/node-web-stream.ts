import { finished, type Readable } from 'node:stream';

// Blob bytes cross between Node streams (sockets, the S3 SDK's bodies) and the web streams the app
// speaks. Node's Readable.toWeb copies every chunk into a fresh buffer, so that a consumer may
// transfer it without detaching Buffer's shared pool; at a gigabyte that is a gigabyte of copies
// and the garbage they leave. The app only reads its chunks and lets them go, so this hands on
// the Node chunks themselves.

/** Bytes a stream reads ahead of its consumer: 16 socket reads, so a brief stall on one side does not stop the other. */
export const READ_AHEAD_BYTES = 1024 * 1024;

/**
 * A web stream of source's own chunks. It errors if source does (or closes before its end, as a
 * request body cut off does), and cancelling it destroys source. Chunks must not be transferred.
 */
export function webStreamOf(source: Readable): ReadableStream<Uint8Array> {
  let settled = false;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        source.on('data', (chunk: Uint8Array) => {
          if (settled) return;
          controller.enqueue(chunk);
          if ((controller.desiredSize ?? 0) <= 0) source.pause();
        });
        finished(source, (error) => {
          if (settled) return;
          settled = true;
          if (error) controller.error(error);
          else controller.close();
        });
        source.pause();
      },
      pull() {
        source.resume();
      },
      cancel(reason) {
        settled = true;
        source.destroy(reason instanceof Error ? reason : undefined);
      },
    },
    { highWaterMark: READ_AHEAD_BYTES, size: (chunk) => chunk.byteLength },
  );
}
