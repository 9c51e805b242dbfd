import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { logIn, signUp } from '../../src/client/account.js';
import { createApiClient } from '../../src/client/api.js';
import { reportMapArchive } from '../../src/features/map-archive/service.js';
import { MAP_ARCHIVE_PATH } from '../../src/protocol/api/map-archive.js';
import { SESSION_COOKIE } from '../../src/protocol/headers.js';
import { browserFetch } from '../client/browser-fetch.js';
import { mapFixtureBytes, writeMapFixture } from '../fixtures/map-fixture.js';
import { createTestApp, TEST_KDF, TEST_ORIGIN, type TestApp, uniqueEmail } from '../harness.js';
import { bytesOf, expectRangesServed, expectUnsatisfiable, expectWholeHeaders, mapReader, type Reader } from './map-archive-helpers.js';

// GET /v1/map/archive with the archive in a local file (MAP_ARCHIVE_FILE), through app.request on
// the real app. The blob-store sources (fs store, S3) are in map-archive-blob.test.ts, a real
// server process in map-archive-process.test.ts, R2 in test/workers/map-archive.spec.ts.

const archive = mapFixtureBytes();
let t: TestApp;
let file: string;
let read: Reader;

/** An app whose MAP_ARCHIVE_FILE is `file` in a folder of its own (written by the test, or not). */
function appWithFile(write = true) {
  const dir = join(createScratch(), 'map');
  file = join(dir, 'region.pmtiles');
  if (write) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, archive);
  }
  return createTestApp({ MAP_ARCHIVE_FILE: file });
}

const scratch: string[] = [];
function createScratch() {
  const dir = join(process.env.TMPDIR ?? '/tmp', `homing-map-${randomBytes(6).toString('hex')}`);
  scratch.push(dir);
  return dir;
}
afterEach(() => {
  t?.close();
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the street map from MAP_ARCHIVE_FILE (happy)', () => {
  beforeEach(async () => {
    t = appWithFile();
    read = await mapReader(t);
  });

  it('serves the whole archive, streamed, with a strong ETag and a day of private caching', async () => {
    const res = await read();
    expectWholeHeaders(res, archive.length);
    expect(await bytesOf(res)).toEqual(archive);
  });

  it('serves every form of a single Range with 206 and Content-Range', async () => {
    await expectRangesServed(read, archive);
  });

  it('HEAD answers the whole archive’s headers and no body, even with a Range', async () => {
    for (const headers of [{}, { Range: 'bytes=0-9' }] as Record<string, string>[]) {
      const res = await read(headers, 'HEAD');
      expectWholeHeaders(res, archive.length);
      expect((await bytesOf(res)).length).toBe(0);
    }
  });

  it('If-None-Match with the current ETag (weak or in a list, or *) answers 304; another ETag the archive', async () => {
    const etag = (await read()).headers.get('ETag')!;
    for (const header of [etag, `W/${etag}`, `"nope", ${etag}`, '*']) {
      const res = await read({ 'If-None-Match': header });
      expect({ header, status: res.status, etag: res.headers.get('ETag') }).toEqual({ header, status: 304, etag });
      expect(res.headers.get('Cache-Control')).toBe('private, max-age=86400');
      expect((await bytesOf(res)).length).toBe(0);
    }
    const other = await read({ 'If-None-Match': '"0123456789abcdef0123456789abcdef"' });
    expectWholeHeaders(other, archive.length);
    expect(await bytesOf(other)).toEqual(archive);
  });

  it('If-Range with the current ETag serves the range; with another ETag, a weak one or a date, the whole archive', async () => {
    const etag = (await read()).headers.get('ETag')!;
    const matching = await read({ Range: 'bytes=10-19', 'If-Range': etag });
    expect(matching.status).toBe(206);
    expect(await bytesOf(matching)).toEqual(archive.subarray(10, 20));
    for (const stale of ['"0123456789abcdef0123456789abcdef"', `W/${etag}`, 'Wed, 21 Oct 2015 07:28:00 GMT']) {
      const res = await read({ Range: 'bytes=10-19', 'If-Range': stale });
      expectWholeHeaders(res, archive.length);
      expect(await bytesOf(res)).toEqual(archive);
    }
  });

  it('several ranges, or a Range header it cannot read, are ignored (RFC 9110) and the whole archive is sent', async () => {
    for (const header of ['bytes=0-1,5-6', 'bytes=0-1, 5-6', 'bytes=abc', 'items=0-1', 'bytes=9-3', 'bytes=-', 'bytes=0x10-20']) {
      const res = await read({ Range: header });
      expect({ header, status: res.status }).toEqual({ header, status: 200 });
      expect(await bytesOf(res)).toEqual(archive);
    }
  });

  it('an archive replaced on disk gets a new ETag: a reader holding ranges of the old one is sent the new one whole', async () => {
    const before = (await read()).headers.get('ETag')!;
    const replacement = randomBytes(archive.length); // the same size: the ETag must not rest on size alone
    writeFileSync(`${file}.new`, replacement);
    renameSync(`${file}.new`, file);
    const res = await read({ Range: 'bytes=0-9', 'If-Range': before });
    expect(res.headers.get('ETag')).not.toBe(before);
    expectWholeHeaders(res, archive.length);
    expect(await bytesOf(res)).toEqual(new Uint8Array(replacement));
  });
});

describe('who may read the street map (security)', () => {
  beforeEach(() => {
    t = appWithFile();
  });
  const request = (headers: Record<string, string> = {}) => t.app.request(`${TEST_ORIGIN}${MAP_ARCHIVE_PATH}`, { headers });

  it('without a session, or with a bogus or device token, is 401 and sends none of the archive', async () => {
    for (const headers of [{}, { Authorization: 'Bearer hs_bogus' }, { Authorization: 'Bearer hd_bogus' }, { Cookie: `${SESSION_COOKIE}=hs_bogus` }] as Record<string, string>[]) {
      const res = await request({ ...headers, Range: 'bytes=0-99' });
      expect(res.status).toBe(401);
      expect((await res.json()).error.code).toBe('unauthorized');
    }
  });

  it('another account reads the very same bytes: the map is public map data shared by every account', async () => {
    const [first, second] = [await mapReader(t), await mapReader(t)];
    const [a, b] = [await first({ Range: 'bytes=0-16383' }), await second({ Range: 'bytes=0-16383' })];
    expect(a.headers.get('ETag')).toBe(b.headers.get('ETag'));
    expect(await bytesOf(a)).toEqual(await bytesOf(b));
  });

  it('the page’s cookie session reads it with a GET and no CSRF token (a read changes nothing)', async () => {
    const browser = browserFetch(t);
    const api = createApiClient({ baseUrl: TEST_ORIGIN, fetch: browser.fetch });
    const email = uniqueEmail('map');
    await signUp(api, { birthYear: 1990, email, password: 'pw', kdf: TEST_KDF });
    await logIn(api, { email, password: 'pw', session: 'cookie' });
    const res = await browser.fetch(`${TEST_ORIGIN}${MAP_ARCHIVE_PATH}`, { headers: { Range: 'bytes=0-126' } });
    expect(res.status).toBe(206);
    expect(await bytesOf(res)).toEqual(archive.subarray(0, 127));
    expect(browser.sent.at(-1)!.headers.get('Cookie')).toMatch(new RegExp(`^${SESSION_COOKIE}=`));
  });

  it('clients dropping the download mid-stream 30 times (and as many HEAD, 304 and 416 answers) leave no file open; the next reader is served', async () => {
    const big = randomBytes(4 * 1024 * 1024);
    writeFileSync(file, big);
    read = await mapReader(t);
    const openFiles = () => readdirSync('/proc/self/fd').length;
    const warmUp = await read(); // also opens whatever is opened once per process
    await warmUp.arrayBuffer();
    const etag = warmUp.headers.get('ETag')!;
    const before = openFiles();
    for (let i = 0; i < 30; i++) {
      const res = await read();
      const reader = res.body!.getReader();
      await reader.read();
      await reader.cancel();
      await (await read({}, 'HEAD')).arrayBuffer();
      expect((await read({ 'If-None-Match': etag })).status).toBe(304);
      expect((await read({ Range: `bytes=${big.length}-` })).status).toBe(416);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(openFiles()).toBeLessThanOrEqual(before + 1);
    const res = await read({ Range: 'bytes=-5' });
    expect(await bytesOf(res)).toEqual(new Uint8Array(big.subarray(-5)));
  });

  it('logs nothing of the Range a reader sent (it says which area the page looks at)', async () => {
    read = await mapReader(t);
    const ranges = ['bytes=1234-5678', 'bytes=-4321', 'bytes=987654-'];
    for (const range of ranges) await (await read({ Range: range })).arrayBuffer();
    const log = t.logLines.join('\n');
    for (const range of ranges) expect(log).not.toContain(range.slice('bytes='.length));
    expect(log).not.toMatch(/bytes=|"range"/i);
  });
});

describe('the street map when it is not there (errors)', () => {
  it('416 with Content-Range bytes */size for a range that starts past the end, or an empty suffix', async () => {
    t = appWithFile();
    read = await mapReader(t);
    for (const header of [`bytes=${archive.length}-`, `bytes=${archive.length + 10}-${archive.length + 20}`, 'bytes=-0']) {
      await expectUnsatisfiable(await read({ Range: header }), archive.length);
    }
  });

  it('not configured: 404 not_found naming MAP_ARCHIVE_FILE and MAP_ARCHIVE_BLOB_KEY', async () => {
    t = createTestApp();
    read = await mapReader(t);
    const res = await read();
    expect(res.status).toBe(404);
    const { error } = await res.json();
    expect(error.code).toBe('not_found');
    expect(error.message).toContain('MAP_ARCHIVE_FILE');
    expect(error.message).toContain('MAP_ARCHIVE_BLOB_KEY');
  });

  it('a configured file that is missing, empty or a folder: 503 with a clear message and Retry-After, never a 500; served once it is put there', async () => {
    t = appWithFile(false);
    read = await mapReader(t);
    const expect503 = async (reason: string) => {
      const res = await read({ Range: 'bytes=0-99' });
      expect(res.status).toBe(503);
      expect(res.headers.get('Retry-After')).toBe('300');
      const { error } = await res.json();
      expect(error.code).toBe('service_unavailable');
      expect(error.message).toContain(reason);
      expect(error.message).not.toContain(file); // the operator's path is not for users
    };
    await expect503('there is no file at MAP_ARCHIVE_FILE');
    mkdirSync(file, { recursive: true });
    await expect503('not a file');
    rmSync(file, { recursive: true });
    writeFileSync(file, '');
    await expect503('is empty');
    writeFileSync(file, archive);
    const res = await read();
    expectWholeHeaders(res, archive.length);
  });

  it('at start-up, a missing archive is a warning naming the setting, and a present one is logged with its size, never its path', async () => {
    t = appWithFile(false);
    await reportMapArchive(t.deps);
    await writeMapFixture(file);
    await reportMapArchive(t.deps);
    const lines = t.logLines.map((line) => JSON.parse(line)).filter((line) => String(line.message).startsWith('map archive'));
    expect(lines).toEqual([
      expect.objectContaining({ level: 'warn', message: 'map archive unavailable', setting: 'MAP_ARCHIVE_FILE', reason: 'there is no file at MAP_ARCHIVE_FILE' }),
      expect.objectContaining({ level: 'info', message: 'map archive', setting: 'MAP_ARCHIVE_FILE', size: archive.length }),
    ]);
    expect(t.logLines.join('\n')).not.toContain(file);
  });
});

describe('the page learns of the street map', () => {
  const metaOf = async () => {
    const html = await (await t.app.request(`${TEST_ORIGIN}/`)).text();
    return /<meta name="homing-map"[^>]*>/.exec(html)?.[0];
  };

  it('a configured archive is named in a meta tag with the whole-fetch threshold, and the CSP still allows our own origin only', async () => {
    t = createTestApp({ MAP_ARCHIVE_FILE: '/nonexistent/region.pmtiles', MAP_FETCH_WHOLE_BELOW_MB: '8' });
    expect(await metaOf()).toBe(`<meta name="homing-map" content="/v1/map/archive" data-fetch-whole-below="${8 * 1024 * 1024}">`);
    const csp = (await t.app.request(`${TEST_ORIGIN}/`)).headers.get('Content-Security-Policy')!;
    expect(csp).toContain("connect-src 'self';");
    expect(csp).not.toMatch(/https?:/);
  });

  it('without an archive there is no meta tag, so the page draws the offline world map', async () => {
    t = createTestApp();
    expect(await metaOf()).toBeUndefined();
  });
});
