import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from './spawn.js';

// Connections as a hostile or broken client holds them, over a raw socket: the server must neither
// wait forever for bytes that never come, nor lose a response by closing under a client.

// One server for the file; its short request timeout is what the first test is about.
let server: Awaited<ReturnType<typeof startTestServer>>;
beforeAll(async () => {
  server = await startTestServer('connections', { REQUEST_TIMEOUT_SECONDS: '2' });
});
afterAll(() => server?.stop());

/** A raw connection to the server that records everything it is sent, and when it closes. */
function rawConnection(url: string) {
  const { port } = new URL(url);
  const socket: Socket = connect(Number(port), '127.0.0.1');
  let received = '';
  socket.on('data', (chunk) => (received += chunk));
  socket.on('error', () => undefined); // a reset shows up as the close below
  const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now())));
  const waitFor = async (pattern: RegExp, timeoutMs = 5_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(received) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return received;
  };
  return { socket, received: () => received, closed, waitFor };
}

const JSON_POST = (length: number) =>
  `POST /v1/auth/challenge HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;

describe('the Node server under stalled and oversized requests', () => {
  it('gives up on a body shorter than its Content-Length after REQUEST_TIMEOUT_SECONDS and closes the connection', async () => {
    const client = rawConnection(server.url);
    const sent = Date.now();
    client.socket.write(`${JSON_POST(100)}{"email":`);

    const closedAt = await Promise.race([client.closed, new Promise<number>((r) => setTimeout(() => r(0), 8_000))]);
    expect(closedAt).not.toBe(0);
    expect(closedAt - sent).toBeGreaterThanOrEqual(1_900);
    expect(client.received()).toMatch(/^HTTP\/1\.1 408 /);
    // The server is not worse off for it.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('answers a body over the limit 413 with Connection: close before reading it, then closes without resetting a client still sending', async () => {
    const client = rawConnection(server.url);
    const declared = 50 * 1024 * 1024;
    client.socket.write(JSON_POST(declared));
    // The client goes on sending its body, as an uploading phone would, until it reads the answer.
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sentBytes = 0;
    const pump = () => {
      while (sentBytes < declared && !client.received() && client.socket.writable) {
        sentBytes += chunk.length;
        if (!client.socket.write(chunk)) return void client.socket.once('drain', pump);
      }
    };
    pump();

    const head = await client.waitFor(/\r\n\r\n\{.*\}$/s);
    expect(head).toMatch(/^HTTP\/1\.1 413 /);
    expect(head).toMatch(/\r\nconnection: close\r\n/i);
    expect(JSON.parse(head.slice(head.indexOf('\r\n\r\n') + 4)).error.code).toBe('payload_too_large');
    client.socket.end();
    // The server closes its side too: the next request goes on a new connection.
    const closedAt = await Promise.race([client.closed, new Promise<number>((r) => setTimeout(() => r(0), 3_000))]);
    expect(closedAt).not.toBe(0);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  // A declared Content-Length is checked from the header alone; a chunked body has none, so its
  // bytes are counted as they come. Both must hold the same limit (MAX_BODY_BYTES, 1 MiB here).
  it('counts a chunked body: over the limit 413 payload_too_large, under it answered as usual', async () => {
    const chunkedPost = (body: string, chunkBytes: number) => {
      let framed = 'POST /v1/auth/challenge HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n';
      for (let i = 0; i < body.length; i += chunkBytes) {
        const piece = body.slice(i, i + chunkBytes);
        framed += `${Buffer.byteLength(piece).toString(16)}\r\n${piece}\r\n`;
      }
      return `${framed}0\r\n\r\n`;
    };
    const answerOf = async (request: string) => {
      const client = rawConnection(server.url);
      client.socket.write(request);
      const text = await client.waitFor(/\r\n\r\n[\s\S]*\}\s*$/);
      client.socket.destroy();
      return { status: Number(text.slice(9, 12)), body: JSON.parse(text.slice(text.indexOf('{'))) as { error?: { code: string } } };
    };

    const small = JSON.stringify({ email: 'chunked@example.org', method: 'password' });
    const padded = small.slice(0, -1) + ' '.repeat(1024 * 1024) + '}'; // valid JSON, one byte past 1 MiB and more
    const over = await answerOf(chunkedPost(padded, 64 * 1024));
    expect(over.status).toBe(413);
    expect(over.body.error?.code).toBe('payload_too_large');

    const under = await answerOf(chunkedPost(small, 7));
    expect(under.status).toBe(200);
    expect(under.body.error).toBeUndefined();
  });

  it('answers a streamed blob upload without a session 401 with Connection: close, without resetting a client still sending', async () => {
    const client = rawConnection(server.url);
    const declared = 50 * 1024 * 1024;
    // application/octet-stream: the body the server streams straight from the socket (node-web-stream.ts).
    client.socket.write(
      `POST /v1/blobs HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\nContent-Length: ${declared}\r\nX-Homing-SHA256: ${'0'.repeat(64)}\r\n\r\n`,
    );
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let sentBytes = 0;
    const pump = () => {
      while (sentBytes < declared && !client.received() && client.socket.writable) {
        sentBytes += chunk.length;
        if (!client.socket.write(chunk)) return void client.socket.once('drain', pump);
      }
    };
    pump();

    const head = await client.waitFor(/\r\n\r\n\{.*\}$/s);
    expect(head).toMatch(/^HTTP\/1\.1 401 /);
    expect(head).toMatch(/\r\nconnection: close\r\n/i);
    client.socket.end();
    const closedAt = await Promise.race([client.closed, new Promise<number>((r) => setTimeout(() => r(0), 3_000))]);
    expect(closedAt).not.toBe(0);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('keeps a connection alive after a request whose body it read', async () => {
    const client = rawConnection(server.url);
    const body = JSON.stringify({ email: 'keep@example.org' });
    client.socket.write(`${JSON_POST(body.length)}${body}`);
    await client.waitFor(/"challengeId"/);
    expect(client.received()).not.toMatch(/connection: close/i);
    client.socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
    expect(await client.waitFor(/\{"ok":true\}/)).toMatch(/\{"ok":true\}/);
    client.socket.destroy();
  });
});
