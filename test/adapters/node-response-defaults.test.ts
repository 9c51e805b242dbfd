import { createServer, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { addDefaultHeaders, defaultHeaders } from '../../src/adapters/node-response-defaults.js';

// Default headers given to a real node:http ServerResponse before the answer, read back from a
// real socket as raw header lines, so a header sent twice shows as two lines.

let server: Server | undefined;
async function closeServer() {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
}
afterEach(closeServer);

const DEFAULTS = defaultHeaders(
  { 'X-Frame-Options': 'DENY', 'Cache-Control': 'no-store', 'X-Request-Id': 'req-1', 'Permissions-Policy': 'camera=()' },
  new Set(['Permissions-Policy']),
);

/** Serves one answer written by `answer`, after the defaults were given; resolves with the raw header pairs. */
async function served(answer: (res: ServerResponse) => void): Promise<[string, string][]> {
  await closeServer(); // a test may ask for several answers
  server = createServer((_req, res) => {
    addDefaultHeaders(res, DEFAULTS.slice(0, 2));
    addDefaultHeaders(res, DEFAULTS.slice(2));
    answer(res);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    request({ port, host: '127.0.0.1', path: '/' }, (res) => {
      res.resume();
      const raw = res.rawHeaders;
      resolve(Array.from({ length: raw.length / 2 }, (_, i) => [raw[2 * i]!.toLowerCase(), raw[2 * i + 1]!]));
    })
      .on('error', reject)
      .end();
  });
}

const valuesOf = (headers: [string, string][], name: string) => headers.filter(([n]) => n === name).map(([, v]) => v);

describe('default headers on a Node response', () => {
  it('are sent with an answer written as a plain header object, every one once', async () => {
    const headers = await served((res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}'));
    expect(valuesOf(headers, 'x-frame-options')).toEqual(['DENY']);
    expect(valuesOf(headers, 'cache-control')).toEqual(['no-store']);
    expect(valuesOf(headers, 'x-request-id')).toEqual(['req-1']);
    expect(valuesOf(headers, 'content-type')).toEqual(['application/json']);
  });

  it('give way to the answer’s own header of the same name, in any letter case, which is sent once', async () => {
    const headers = await served((res) => res.writeHead(200, { 'cache-control': 'public, max-age=60', 'X-FRAME-OPTIONS': 'SAMEORIGIN' }).end());
    expect(valuesOf(headers, 'cache-control')).toEqual(['public, max-age=60']);
    expect(valuesOf(headers, 'x-frame-options')).toEqual(['SAMEORIGIN']);
    expect(valuesOf(headers, 'x-request-id')).toEqual(['req-1']);
  });

  it('give way to a header set on the response with setHeader', async () => {
    const headers = await served((res) => {
      res.setHeader('Cache-Control', 'private');
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('x');
    });
    expect(valuesOf(headers, 'cache-control')).toEqual(['private']);
    expect(valuesOf(headers, 'x-frame-options')).toEqual(['DENY']);
  });

  it('are sent with a status message, with headers as a raw list, and with no writeHead at all', async () => {
    const withMessage = await served((res) => res.writeHead(201, 'Made', { 'Cache-Control': 'max-age=1' }).end());
    expect(valuesOf(withMessage, 'cache-control')).toEqual(['max-age=1']);
    expect(valuesOf(withMessage, 'x-request-id')).toEqual(['req-1']);

    const rawList = await served((res) => res.writeHead(200, ['Cache-Control', 'max-age=2', 'X-Extra', 'yes']).end());
    expect(valuesOf(rawList, 'cache-control')).toEqual(['max-age=2']);
    expect(valuesOf(rawList, 'x-extra')).toEqual(['yes']);
    expect(valuesOf(rawList, 'x-frame-options')).toEqual(['DENY']);

    const implicit = await served((res) => res.end('no writeHead'));
    expect(valuesOf(implicit, 'x-frame-options')).toEqual(['DENY']);
    expect(valuesOf(implicit, 'x-request-id')).toEqual(['req-1']);
  });

  it('a header for pages only goes with every answer but a JSON one, however the answer names its type', async () => {
    const pageOnly = (headers: [string, string][]) => valuesOf(headers, 'permissions-policy');
    expect(pageOnly(await served((res) => res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end('<p>')))).toEqual(['camera=()']);
    expect(pageOnly(await served((res) => res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end('x')))).toEqual(['camera=()']);
    expect(pageOnly(await served((res) => res.writeHead(204).end()))).toEqual(['camera=()']);
    expect(pageOnly(await served((res) => res.end('no type')))).toEqual(['camera=()']);

    for (const json of [
      (res: ServerResponse) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'),
      (res: ServerResponse) => res.writeHead(200, { 'Content-Type': 'Application/JSON; charset=UTF-8' }).end('{}'),
      (res: ServerResponse) => res.writeHead(400, { 'Content-Type': 'application/problem+json' }).end('{}'),
      (res: ServerResponse) => res.writeHead(200, ['Content-Type', 'application/json']).end('{}'),
      (res: ServerResponse) => {
        res.setHeader('Content-Type', 'application/json');
        res.end('{}');
      },
      (res: ServerResponse) => {
        res.setHeader('X-Other', '1');
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      },
    ]) {
      const headers = await served(json);
      expect(pageOnly(headers), json.toString()).toEqual([]);
      expect(valuesOf(headers, 'x-frame-options'), json.toString()).toEqual(['DENY']);
    }
  });
});
