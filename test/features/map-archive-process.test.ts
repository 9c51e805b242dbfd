import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logIn, signUp } from '../../src/client/account.js';
import { createApiClient } from '../../src/client/api.js';
import { MAP_ARCHIVE_PATH } from '../../src/protocol/api/map-archive.js';
import { writeMapFixture } from '../fixtures/map-fixture.js';
import { TEST_KDF } from '../harness.js';
import { startTestServer } from '../process/spawn.js';

// The built server (dist/node.js) over real HTTP: what it says at start-up about an archive that is
// not there yet, and Range, HEAD and a reader that hangs up, through @hono/node-server's sockets.

let server: Awaited<ReturnType<typeof startTestServer>>;
let folder: string;
let file: string;
let auth: Record<string, string>;

beforeAll(async () => {
  folder = join(process.env.TMPDIR ?? '/tmp', `homing-map-process-${randomBytes(6).toString('hex')}`);
  file = join(folder, 'region.pmtiles');
  server = await startTestServer('map-archive', { MAP_ARCHIVE_FILE: file, LOG_LEVEL: 'info' });
  mkdirSync(folder, { recursive: true });
  const api = createApiClient({ baseUrl: server.url, fetch });
  const email = `map-${randomBytes(4).toString('hex')}@example.org`;
  await signUp(api, { birthYear: 1990, email, password: 'pw', kdf: TEST_KDF });
  const { response } = await logIn(api, { email, password: 'pw' });
  auth = { Authorization: `Bearer ${response.session.token}` };
}, 60_000);
afterAll(async () => {
  await server?.stop();
  rmSync(folder, { recursive: true, force: true });
});

const get = (headers: Record<string, string> = {}, init: RequestInit = {}) => fetch(`${server.url}${MAP_ARCHIVE_PATH}`, { ...init, headers: { ...auth, ...headers } });

describe('the built server with MAP_ARCHIVE_FILE', () => {
  it('warns once at start-up that the archive is missing, naming the setting and not the path, and answers 503 meanwhile', async () => {
    const deadline = Date.now() + 5_000;
    while (!server.server.output().includes('map archive unavailable') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const lines = server.server.output().split('\n').filter((line) => line.includes('map archive'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'warn', message: 'map archive unavailable', setting: 'MAP_ARCHIVE_FILE' });
    expect(server.server.output()).not.toContain(file);
    const res = await get();
    expect(res.status).toBe(503);
    expect((await res.json()).error.code).toBe('service_unavailable');
  });

  it('once the file is there, serves a range with 206 and HEAD with the size and no body, over real sockets', async () => {
    const { size } = await writeMapFixture(file);
    const range = await get({ Range: 'bytes=0-16383' });
    expect(range.status).toBe(206);
    expect(range.headers.get('Content-Range')).toBe(`bytes 0-${size - 1}/${size}`);
    expect(range.headers.get('Content-Length')).toBe(String(size));
    expect((await range.arrayBuffer()).byteLength).toBe(size);
    const head = await get({}, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('Content-Length')).toBe(String(size));
    expect((await head.arrayBuffer()).byteLength).toBe(0);
  });

  it('a reader that hangs up mid-download, 20 times, leaves the server serving the next one', async () => {
    const big = randomBytes(32 * 1024 * 1024);
    writeFileSync(file, big);
    for (let i = 0; i < 20; i++) {
      const abort = new AbortController();
      const res = await get({}, { signal: abort.signal });
      const reader = res.body!.getReader();
      await reader.read();
      abort.abort();
      await reader.closed.catch(() => undefined);
    }
    const res = await get({ Range: 'bytes=-3' });
    expect(res.status).toBe(206);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(new Uint8Array(big.subarray(-3)));
    expect(server.server.output()).not.toMatch(/"level":"error"/);
  }, 30_000);
});
