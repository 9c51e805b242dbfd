import { createECDH, createPublicKey, randomBytes, verify } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decrypt } from 'http_ece';

// A loopback Web Push service: a push service (RFC 8030) and the user agent behind it in one.
// It checks each POST the way a push service does (RFC 8292 VAPID: an ES256 JWT whose signature
// verifies with the key in `k`, aud = this origin, exp in the future and at most 24 h away, sub a
// mailto: or https: URL; aes128gcm; a TTL), then decrypts the body with the subscription's private
// key and auth secret as the user agent does. Both checks use node:crypto and the http_ece
// package, not homing's code, so passing tests prove interoperability rather than a mirror image.

export interface FakeSubscription {
  id: string;
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export interface ReceivedPush {
  payload: unknown;
  ttl: number;
  urgency?: string;
  topic?: string;
  vapidKey: string;
}

/** A scripted answer; status 0 never answers at all. */
type Scripted = { status: number; retryAfter?: string };

interface Subscriber {
  ecdh: ReturnType<typeof createECDH>;
  auth: Buffer;
  /** Like a browser subscription made with an applicationServerKey: only that key may push. */
  applicationServerKey?: string;
  received: ReceivedPush[];
  script: Scripted[];
  gone: boolean;
}

const b64url = (bytes: Buffer) => bytes.toString('base64url');

export async function startPushService(options: { now?: () => number } = {}) {
  const now = options.now ?? Date.now;
  const subscribers = new Map<string, Subscriber>();
  const refusals: { id: string; reason: string }[] = [];
  let attempts = 0;

  const server = createServer((req, res) => void handle(req, res).catch(() => answer(res, 500)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  function subscribe(opts: { applicationServerKey?: string } = {}): FakeSubscription {
    const id = b64url(randomBytes(12));
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const auth = randomBytes(16);
    subscribers.set(id, { ecdh, auth, applicationServerKey: opts.applicationServerKey, received: [], script: [], gone: false });
    return { id, endpoint: `${origin}/push/${id}`, keys: { p256dh: b64url(ecdh.getPublicKey()), auth: b64url(auth) } };
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', origin);
    const body = await readBody(req);
    const control = /^\/_control\/subscriptions(?:\/([\w-]+)\/(messages|respond))?$/.exec(url.pathname);
    if (control) return controlRoute(req, res, control[1], control[2], body);
    const id = /^\/push\/([\w-]+)$/.exec(url.pathname)?.[1];
    const subscriber = id ? subscribers.get(id) : undefined;
    if (req.method !== 'POST' || !id || !subscriber) return answer(res, 404);
    attempts++;
    if (subscriber.gone) return answer(res, 410);
    const refuse = (status: number, reason: string) => {
      refusals.push({ id, reason });
      answer(res, status);
    };
    const vapid = checkVapid(req.headers.authorization, origin, now());
    if ('problem' in vapid) return refuse(403, vapid.problem);
    if (subscriber.applicationServerKey && vapid.key !== subscriber.applicationServerKey) return refuse(403, 'signed by another key than the subscription was made for');
    if (req.headers['content-encoding'] !== 'aes128gcm') return refuse(415, 'Content-Encoding is not aes128gcm');
    const ttl = Number(req.headers.ttl);
    if (req.headers.ttl === undefined || !Number.isInteger(ttl) || ttl < 0) return refuse(400, 'no valid TTL header');
    if (body.length > 4096) return refuse(413, 'payload over 4096 bytes');
    const scripted = subscriber.script.shift();
    if (scripted?.status === 0) return; // a push service that never answers
    if (scripted) return answer(res, scripted.status, scripted.retryAfter ? { 'Retry-After': scripted.retryAfter } : {});
    let plaintext: Buffer;
    try {
      plaintext = decrypt(body, { version: 'aes128gcm', privateKey: subscriber.ecdh, authSecret: subscriber.auth });
    } catch {
      return refuse(400, 'the payload does not decrypt with the subscription keys');
    }
    subscriber.received.push({
      payload: JSON.parse(plaintext.toString('utf8')),
      ttl,
      urgency: req.headers.urgency as string | undefined,
      topic: req.headers.topic as string | undefined,
      vapidKey: vapid.key,
    });
    answer(res, 201, { Location: `${origin}/message/${b64url(randomBytes(8))}` });
  }

  /** For clients that cannot call this module (the workerd tests): the same operations over HTTP. */
  function controlRoute(req: IncomingMessage, res: ServerResponse, id: string | undefined, action: string | undefined, body: Buffer) {
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(value));
    };
    if (!id && req.method === 'POST') return json(201, subscribe(body.length ? JSON.parse(body.toString()) : {}));
    const subscriber = id ? subscribers.get(id) : undefined;
    if (!subscriber) return json(404, {});
    if (action === 'messages') return json(200, { messages: subscriber.received, refusals: refusals.filter((r) => r.id === id) });
    subscriber.script.push(...(JSON.parse(body.toString()) as Scripted[]));
    res.writeHead(204).end();
  }

  return {
    origin,
    subscribe,
    /** What a subscription received, decrypted, in order. */
    received: (id: string) => subscribers.get(id)?.received ?? [],
    /** POSTs refused by the VAPID, encoding or decryption checks, with the reason. */
    refusals: (id?: string) => refusals.filter((r) => id === undefined || r.id === id),
    /** Every POST to a known push resource, refused or not. */
    attempts: () => attempts,
    /** The next answers to give this subscription, before any real delivery (e.g. 429 then 201). */
    respondWith(id: string, ...answers: (number | Scripted)[]) {
      subscribers.get(id)!.script.push(...answers.map((a) => (typeof a === 'number' ? { status: a } : a)));
    },
    /** The user unsubscribed: every later push answers 410 Gone. */
    unsubscribe(id: string) {
      subscribers.get(id)!.gone = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export type PushService = Awaited<ReturnType<typeof startPushService>>;

function checkVapid(header: string | undefined, origin: string, nowMs: number): { key: string } | { problem: string } {
  const match = /^vapid t=([\w-]+\.[\w-]+\.[\w-]+), k=([\w-]+)$/.exec(header ?? '');
  if (!match) return { problem: 'no "vapid t=…, k=…" Authorization' };
  const [, jwt, key] = match as unknown as [string, string, string];
  const [head, claims, signature] = jwt.split('.') as [string, string, string];
  const decode = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  if (decode(head).alg !== 'ES256') return { problem: 'alg is not ES256' };
  const point = Buffer.from(key, 'base64url');
  if (point.length !== 65 || point[0] !== 4) return { problem: 'k is not an uncompressed P-256 key' };
  const publicKey = createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: b64url(point.subarray(1, 33)), y: b64url(point.subarray(33)) },
    format: 'jwk',
  });
  const signed = verify('sha256', Buffer.from(`${head}.${claims}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'));
  if (!signed) return { problem: 'the JWT signature does not verify with k' };
  const { aud, exp, sub } = decode(claims);
  if (aud !== origin) return { problem: 'aud is not this origin' };
  const seconds = nowMs / 1000;
  if (typeof exp !== 'number' || exp <= seconds || exp > seconds + 86_400) return { problem: 'exp is not in the next 24 hours' };
  if (typeof sub !== 'string' || !/^(mailto:|https:\/\/)/.test(sub)) return { problem: 'sub is not a mailto: or https: URL' };
  return { key };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function answer(res: ServerResponse, status: number, headers: Record<string, string> = {}) {
  res.writeHead(status, headers).end();
}
