import { createServer as createHttpsServer } from 'node:https';
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type Http2Bindings, type HttpBindings, serve } from '@hono/node-server';
import { createBackgroundTasks } from './background.js';
import type { Logger } from './log.js';
import { webStreamOf } from './node-web-stream.js';

// The Node HTTP(S) server in front of the app: its timeouts, how it closes a connection it will
// not read further, and how it stops. Each request is tracked until both its handler has returned
// and its response is done with, so shutdown knows what it would cut.

export interface NodeHttpServerOptions {
  fetch: (request: Request, env: HttpBindings | Http2Bindings) => Response | Promise<Response>;
  port: number;
  host: string;
  /** How long a client may take to send one whole request, body included. */
  requestTimeoutMs: number;
  /** A PEM certificate chain and its key to serve https with; unset, plain http. */
  tls?: { cert: Buffer; key: Buffer };
  log: Logger;
}

export interface NodeHttpServer {
  /**
   * Stops taking connections, gives requests in flight up to graceMs, then cuts the connections
   * of any still open and waits (briefly) for their handlers to clean up. Resolves with how many
   * were cut; afterwards no handler touches the database.
   */
  drain(graceMs: number): Promise<number>;
}

// Headers arrive in one go from any real client; far longer means a slow-loris.
const HEADERS_TIMEOUT_MS = 30_000;
// Longer than the 60 s idle timeout of common proxies and load balancers, so one never sends a
// request into a connection we are closing at that very moment.
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
// Node checks the timeouts above on this tick, not at the exact moment one runs out.
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;
// A cut handler notices at once (its body stream errors); this only bounds a hung one.
const CUT_HANDLERS_MS = 5_000;
// How long a closing connection goes on reading what the client still sends; see lingerOnClose.
const LINGER_MS = 5_000;

export function startNodeHttpServer(options: NodeHttpServerOptions, onListening: (url: string) => void): NodeHttpServer {
  const inFlight = createBackgroundTasks(options.log);
  let stopping = false;

  const fetch = (request: Request, env: HttpBindings | Http2Bindings) => {
    const answered = Promise.resolve(options.fetch(withStreamedBody(request, env), env)).then((response) => {
      // Answered while the client is still sending the body (an early 413, 401, 411…): the body
      // is not worth reading, so say up front that the connection ends with this response. And a
      // stopping server keeps no connection for another request.
      const bodyUnread = !env.incoming.complete;
      if (bodyUnread) lingerOnClose(env as HttpBindings);
      if (bodyUnread || stopping) response.headers.set('Connection', 'close');
      return response;
    });
    const released = new Promise<void>((resolve) => env.outgoing.once('close', resolve));
    void inFlight.run(() => Promise.all([answered.catch(() => undefined), released]).then(() => undefined));
    return answered;
  };

  const timeouts = {
    requestTimeout: options.requestTimeoutMs,
    headersTimeout: Math.min(HEADERS_TIMEOUT_MS, options.requestTimeoutMs),
    connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
  };
  const scheme = options.tls ? 'https' : 'http';
  const listening = (info: AddressInfo) => onListening(`${scheme}://${info.address}:${info.port}`);
  const server = (
    options.tls
      ? serve({ fetch, port: options.port, hostname: options.host, createServer: createHttpsServer, serverOptions: { ...options.tls, ...timeouts } }, listening)
      : serve({ fetch, port: options.port, hostname: options.host, serverOptions: timeouts }, listening)
  ) as Server;
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;

  return {
    async drain(graceMs) {
      stopping = true;
      server.close();
      server.closeIdleConnections();
      await inFlight.settle(graceMs);
      const cut = inFlight.pending();
      // Cutting the connections aborts the requests' bodies, which is what runs their handlers'
      // cleanup (a half-received upload is deleted, never committed).
      server.closeAllConnections();
      if (cut > 0) await inFlight.settle(CUT_HANDLERS_MS);
      return cut;
    },
  };
}

/**
 * A binary body (blobs and upload parts, the only ones sent as application/octet-stream) is
 * streamed on to the store: it reaches the app as a web stream of the socket's own chunks, not
 * @hono/node-server's, which copies each one (see webStreamOf). JSON and form bodies, read
 * whole, keep the adapter's own direct path.
 */
function withStreamedBody(request: Request, env: HttpBindings | Http2Bindings): Request {
  if (request.method === 'GET' || request.method === 'HEAD') return request;
  if (request.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase() !== 'application/octet-stream') return request;
  const init: RequestInit & { duplex: 'half' } = {
    method: request.method,
    headers: request.headers,
    body: webStreamOf(env.incoming),
    duplex: 'half',
    signal: request.signal,
  };
  return new Request(request.url, init);
}

/**
 * Node ends a `Connection: close` response with socket.destroySoon(): the socket is destroyed as
 * soon as the response is written. A client still sending its body then has its connection reset
 * (the kernel's answer to unread bytes), and, failing to write, may never read the response it
 * was sent. So, like nginx's lingering close, this connection half-closes instead and goes on
 * reading (and dropping) what the client sends until it closes its side, for at most LINGER_MS.
 */
function lingerOnClose({ incoming, outgoing }: HttpBindings) {
  const socket = incoming.socket;
  if (!socket) return;
  socket.destroySoon = lingeringClose;
  outgoing.once('finish', () => {
    // The request's body stream still listens, paused for want of a reader; this drops its
    // listener, so the bytes flow and are discarded.
    incoming.removeAllListeners('data');
    incoming.resume();
  });
}

function lingeringClose(this: Socket) {
  if (this.writable) this.end();
  const timer = setTimeout(() => this.destroy(), LINGER_MS);
  timer.unref();
  this.once('close', () => clearTimeout(timer));
}
