import { createECDH, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decrypt } from 'http_ece';
import { type PushMessage, pushMessage } from '../../protocol/api/push.js';
import { type ApiClient, HomingApiError } from '../api.js';

// `poll --push`: the CLI is its own UnifiedPush-style endpoint, as a phone's distributor would
// be. It makes a P-256 key pair and an auth secret, listens on 127.0.0.1 at an unguessable path,
// registers that endpoint as this device's Web Push subscription, and wakes the poll loop when a
// push arrives. Only a body that decrypts with this process's keys (RFC 8291) counts as a push,
// so nobody but the server, which alone holds the keys, can wake it; the push itself only says
// what to fetch, and the commands are still fetched and verified over the API.

const MAX_BODY = 8192;

export interface PushWake {
  /** Resolves on the next push (or one that arrived since the last call), or after timeoutMs. */
  next(timeoutMs: number): Promise<PushMessage | undefined>;
  /** Removes the subscription from the server and stops listening. */
  close(): Promise<void>;
}

/** Registers the endpoint; undefined (and a note) when the server will not take it, so the caller long-polls. */
export async function startPushWake(api: ApiClient, log: (line: string) => void = console.log): Promise<PushWake | undefined> {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const auth = randomBytes(16);
  const path = `/push/${randomBytes(16).toString('base64url')}`;
  const arrived: PushMessage[] = [];
  let wake: (() => void) | undefined;

  const server = createServer((req, res) => {
    void receive(req)
      .catch(() => 400)
      .then((status) => res.writeHead(status).end());
  });
  async function receive(req: IncomingMessage): Promise<number> {
    if (req.method !== 'POST' || req.url !== path) return 404;
    if (req.headers['content-encoding'] !== 'aes128gcm') return 415;
    const body = await readAtMost(req, MAX_BODY);
    if (!body) return 413;
    let message: PushMessage;
    try {
      const parsed = pushMessage.safeParse(JSON.parse(decrypt(body, { version: 'aes128gcm', privateKey: ecdh, authSecret: auth }).toString('utf8')));
      if (!parsed.success) return 400;
      message = parsed.data;
    } catch {
      return 400; // not encrypted to our keys: not from the server
    }
    arrived.push(message);
    wake?.();
    return 201;
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
  const closeServer = () => new Promise<void>((resolve) => server.close(() => resolve()));
  try {
    await api.setThisDevicePush({ endpoint, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') } });
  } catch (err) {
    await closeServer();
    if (!(err instanceof HomingApiError) || err.status >= 500) throw err;
    log(`push not available (${err.message}); long-polling instead`);
    return undefined;
  }
  log(`push endpoint registered on 127.0.0.1:${(server.address() as AddressInfo).port}`);
  // The endpoint dies with this process, so a Ctrl-C takes the subscription with it.
  const interrupted = () => void close().finally(() => process.exit(130));
  process.once('SIGINT', interrupted).once('SIGTERM', interrupted);

  return {
    async next(timeoutMs) {
      if (arrived.length === 0) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, timeoutMs);
        });
        clearTimeout(timer);
        wake = undefined;
      }
      const message = arrived.shift();
      arrived.length = 0; // several pushes before we look are one wake-up
      log(message ? `woken by a push: fetch ${message.fetch}` : `no push for ${Math.round(timeoutMs / 1000)} s; polling anyway`);
      return message;
    },
    close,
  };

  async function close() {
    process.off('SIGINT', interrupted).off('SIGTERM', interrupted);
    await api.removeThisDevicePush().catch(() => undefined);
    await closeServer();
  }
}

function readAtMost(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve(size <= limit ? Buffer.concat(chunks) : undefined));
    req.on('error', reject);
  });
}
