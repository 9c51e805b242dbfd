import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { logIn, signUp } from '../../src/client/account.js';
import { createApiClient } from '../../src/client/api.js';
import { ConfigError } from '../../src/config.js';
import { MAP_ARCHIVE_PATH } from '../../src/protocol/api/map-archive.js';
import { randomBytes, toBase64Url } from '../../src/protocol/encoding.js';
import { createWorkerDeps, type WorkerEnv } from '../../src/worker.js';
import { mapFixtureBytes } from '../fixtures/map-fixture.js';

// The street map on Workers: the archive in R2 under MAP_ARCHIVE_BLOB_KEY, served by the Worker's
// own app inside workerd, by Range as a PMTiles reader asks for it.

const KEY = 'map/region.pmtiles';
const ORIGIN = 'http://homing.test';
const archive = mapFixtureBytes();

async function readerOnWorker(bindings: WorkerEnv) {
  const app = createApp(createWorkerDeps(bindings));
  const api = createApiClient({ baseUrl: ORIGIN, fetch: (input, init) => app.request(input, { ...init, redirect: 'manual' }) });
  const email = `map-${toBase64Url(randomBytes(6))}@example.org`;
  await signUp(api, { birthYear: 1990, email, password: 'pw', kdf: { opsLimit: 1, memLimit: 8192 } });
  const { response } = await logIn(api, { email, password: 'pw' });
  return (headers: Record<string, string> = {}, method = 'GET') =>
    app.request(`${ORIGIN}${MAP_ARCHIVE_PATH}`, { method, headers: { Authorization: `Bearer ${response.session.token}`, ...headers } });
}

describe('the street map from R2 (workerd)', () => {
  it('serves the PMTiles first fetch and a suffix range with 206, HEAD with the size, 416 past the end, 304 on the ETag', async () => {
    await env.BLOBS.put(KEY, archive);
    const read = await readerOnWorker({ ...(env as unknown as WorkerEnv), MAP_ARCHIVE_BLOB_KEY: KEY });

    const first = await read({ Range: 'bytes=0-16383' });
    expect(first.status).toBe(206);
    const end = Math.min(16383, archive.length - 1);
    expect(first.headers.get('Content-Range')).toBe(`bytes 0-${end}/${archive.length}`);
    expect(new Uint8Array(await first.arrayBuffer())).toEqual(archive.subarray(0, end + 1));
    const etag = first.headers.get('ETag')!;
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);

    const suffix = await read({ Range: 'bytes=-100' });
    expect(suffix.status).toBe(206);
    expect(new Uint8Array(await suffix.arrayBuffer())).toEqual(archive.subarray(archive.length - 100));

    const head = await read({}, 'HEAD');
    expect({ status: head.status, length: head.headers.get('Content-Length') }).toEqual({ status: 200, length: String(archive.length) });

    const past = await read({ Range: `bytes=${archive.length}-` });
    expect(past.status).toBe(416);
    expect(past.headers.get('Content-Range')).toBe(`bytes */${archive.length}`);
    expect(((await past.json()) as { error: { code: string } }).error.code).toBe('range_not_satisfiable');

    expect((await read({ 'If-None-Match': etag })).status).toBe(304);
  });

  it('a key not yet uploaded to R2 is 503 with the setting named, not a 500', async () => {
    const read = await readerOnWorker({ ...(env as unknown as WorkerEnv), MAP_ARCHIVE_BLOB_KEY: 'map/not-uploaded.pmtiles' });
    const res = await read();
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('MAP_ARCHIVE_BLOB_KEY');
  });

  it('MAP_ARCHIVE_FILE is refused on Workers, which have no file system, with a line saying what to set instead', () => {
    expect(() => createWorkerDeps({ ...(env as unknown as WorkerEnv), MAP_ARCHIVE_FILE: '/srv/region.pmtiles' })).toThrow(ConfigError);
    expect(() => createWorkerDeps({ ...(env as unknown as WorkerEnv), MAP_ARCHIVE_FILE: '/srv/region.pmtiles' })).toThrow(/MAP_ARCHIVE_BLOB_KEY/);
  });
});
