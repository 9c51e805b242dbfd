// The client side of section 10, the same for both routes: node:http (which the AWS SDK sends with
// on Node) with a streamed Node body, and downloads hashed chunk by chunk as they arrive. The
// homing SDK's own fetch is not used here: undici's fetch with a streamed body is a bottleneck of
// its own on Node, which would hide what the server costs.
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { Readable } from 'node:stream';

/** A web stream of bytes as the Node stream node:http and the AWS SDK send. */
export const nodeBody = (body: ReadableStream<Uint8Array>) => Readable.fromWeb(body as Parameters<typeof Readable.fromWeb>[0]);

/** SHA-256 and length of a Node stream, read without keeping it. */
export async function digestNode(stream: AsyncIterable<Uint8Array>) {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    bytes += chunk.byteLength;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** Sends one request; resolves with the status and the body as text, or hashed when `hashBody`. */
export function send(
  url: string,
  options: { method: string; headers: Record<string, string>; body?: Readable; hashBody?: boolean },
): Promise<{ status: number; text: string; digest?: { bytes: number; sha256: string } }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method, headers: options.headers }, (res) => {
      if (options.hashBody && res.statusCode === 200) {
        digestNode(res).then((digest) => resolve({ status: 200, text: '', digest }), reject);
        return;
      }
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.once('error', reject);
    });
    req.once('error', reject);
    if (options.body) {
      options.body.once('error', (error) => req.destroy(error));
      options.body.pipe(req);
    } else {
      req.end();
    }
  });
}
