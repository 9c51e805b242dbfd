import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtagMismatch, PMTiles } from 'pmtiles';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAP_ARCHIVE_PATH } from '../../src/protocol/api/map-archive.js';
import { createArchiveSource, fetchMode, rangeHeader, sizeFromHead, sliceWhole } from '../../src/web/map-source.js';
import { newAccount } from '../features/sync-helpers.js';
import { MAP_FIXTURE, mapFixtureBytes, writeMapFixture } from '../fixtures/map-fixture.js';
import { memorySource } from '../fixtures/memory-source.js';
import { createTestApp, TEST_ORIGIN, type TestApp } from '../harness.js';

// The page's reader of the street-map archive, in Node against the real app serving the real
// fixture archive (GET /v1/map/archive through app.request): whole-archive mode must send no Range
// header at all, range mode must read by 206 answers, and both must yield the tiles pmtiles reads
// from the bytes themselves.

describe('map source: the pure parts', () => {
  it('fetches whole only an archive whose size is known and below the threshold', () => {
    expect(fetchMode(999, 1000)).toBe('whole');
    expect(fetchMode(1000, 1000)).toBe('range');
    expect(fetchMode(undefined, 1000)).toBe('range');
    expect(fetchMode(0, 0)).toBe('range');
  });

  it('reads a size only from a plain Content-Length', () => {
    expect(sizeFromHead('52341')).toBe(52341);
    expect(sizeFromHead(null)).toBeUndefined();
    for (const hostile of ['', '-1', '1e6', '12, 13', ' 12']) expect(sizeFromHead(hostile)).toBeUndefined();
  });

  it('asks for inclusive byte ranges and cuts them from memory as a server would', () => {
    expect(rangeHeader(0, 16384)).toBe('bytes=0-16383');
    expect(rangeHeader(127, 1)).toBe('bytes=127-127');
    const whole = new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]).buffer;
    expect([...new Uint8Array(sliceWhole(whole, 2, 3))]).toEqual([2, 3, 4]);
    // pmtiles asks for 16 KiB first, whatever the archive's size: the end is clamped.
    expect([...new Uint8Array(sliceWhole(whole, 8, 16384))]).toEqual([8, 9]);
    expect(() => sliceWhole(whole, 10, 1)).toThrow(RangeError);
  });
});

/** Tile coordinates over a point (the slippy-map formula). */
function tileAt(z: number, lat: number, lon: number) {
  const n = 2 ** z;
  const latRad = (lat * Math.PI) / 180;
  return { x: Math.floor(((lon + 180) / 360) * n), y: Math.floor(((1 - Math.log(Math.tan(latRad) + 1 / Math.cos(latRad)) / Math.PI) / 2) * n) };
}

describe('map source against the served archive', () => {
  let t: TestApp;
  const folder = mkdtempSync(join(tmpdir(), 'homing-map-source-'));
  const file = join(folder, 'region.pmtiles');
  let auth: Record<string, string>;
  const url = `${TEST_ORIGIN}${MAP_ARCHIVE_PATH}`;
  const { center } = MAP_FIXTURE;
  const home = tileAt(15, center.lat, center.lon);

  beforeAll(async () => {
    await writeMapFixture(file);
    t = createTestApp({ MAP_ARCHIVE_FILE: file });
    auth = (await newAccount(t)).auth;
  });
  afterAll(() => {
    t?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  /** The page's fetch, through the app, with this account's session; every request is recorded. */
  function recordingFetch() {
    const seen: { method: string; range: string | null; status: number }[] = [];
    const fetcher = async (input: RequestInfo | URL, init: RequestInit = {}) => {
      const headers = new Headers(init.headers);
      for (const [name, value] of Object.entries(auth)) headers.set(name, value);
      const response = await t.app.request(String(input), { ...init, headers });
      seen.push({ method: init.method ?? 'GET', range: headers.get('Range'), status: response.status });
      return response;
    };
    return { seen, fetch: fetcher as typeof fetch };
  }

  const expected = async () => (await new PMTiles(memorySource(mapFixtureBytes())).getZxy(15, home.x, home.y))!.data;

  it('fetches an archive below the threshold once, whole and without Range, and cuts every read from it', async () => {
    const { seen, fetch } = recordingFetch();
    const source = createArchiveSource({ url, fetchWholeBelow: 32 * 1024 * 1024, fetch });
    const archive = new PMTiles(source);
    const header = await archive.getHeader();
    expect(header.maxZoom).toBe(MAP_FIXTURE.maxZoom);
    const tile = await archive.getZxy(15, home.x, home.y);
    expect(new Uint8Array(tile!.data)).toEqual(new Uint8Array(await expected()));
    // Tiles elsewhere in the area and at other zooms come from memory too.
    for (const z of [10, 12, 14]) {
      const at = tileAt(z, center.lat, center.lon);
      expect(await archive.getZxy(z, at.x, at.y)).toBeDefined();
    }
    expect(await source.mode()).toBe('whole');
    expect(seen).toEqual([
      { method: 'HEAD', range: null, status: 200 },
      { method: 'GET', range: null, status: 200 },
    ]);
  });

  it('reads an archive at or above the threshold by Range requests, each answered 206', async () => {
    const { seen, fetch } = recordingFetch();
    const source = createArchiveSource({ url, fetchWholeBelow: 0, fetch });
    const tile = await new PMTiles(source).getZxy(15, home.x, home.y);
    expect(new Uint8Array(tile!.data)).toEqual(new Uint8Array(await expected()));
    expect(await source.mode()).toBe('range');
    expect(seen[0]).toEqual({ method: 'HEAD', range: null, status: 200 });
    const reads = seen.slice(1);
    expect(reads.length).toBeGreaterThanOrEqual(2);
    for (const read of reads) expect(read).toMatchObject({ method: 'GET', range: expect.stringMatching(/^bytes=\d+-\d+$/), status: 206 });
  });

  it('an archive replaced between two reads (new ETag) is noticed, and pmtiles starts over on the new one', async () => {
    const { seen, fetch } = recordingFetch();
    const source = createArchiveSource({ url, fetchWholeBelow: 0, fetch });
    const mismatches: unknown[] = [];
    const watched = {
      getKey: source.getKey,
      getBytes: (...args: Parameters<typeof source.getBytes>) =>
        source.getBytes(...args).catch((error: unknown) => {
          mismatches.push(error);
          throw error;
        }),
    };
    const archive = new PMTiles(watched);
    await archive.getHeader();
    // The operator swaps the file: same bytes, new modification time, so a new strong ETag.
    const later = new Date(Date.now() + 60_000);
    utimesSync(file, later, later);
    const tile = await archive.getZxy(15, home.x, home.y);
    expect(new Uint8Array(tile!.data)).toEqual(new Uint8Array(await expected()));
    expect(mismatches.length).toBe(1);
    expect(mismatches[0]).toBeInstanceOf(EtagMismatch);
    expect(seen.every((read) => read.status === 200 || read.status === 206)).toBe(true);
  });

  it('a session that has ended fails the read and decides nothing: the next read, logged in again, fetches whole', async () => {
    let loggedIn = false;
    const { seen, fetch: withSession } = recordingFetch();
    const fetch = ((input: RequestInfo | URL, init?: RequestInit) =>
      loggedIn ? withSession(input, init) : t.app.request(String(input), init)) as typeof globalThis.fetch;
    const source = createArchiveSource({ url, fetchWholeBelow: 32 * 1024 * 1024, fetch });
    await expect(source.getBytes(0, 16384)).rejects.toThrow('the map archive answered 401');
    loggedIn = true;
    const first = await source.getBytes(0, 127);
    expect(first.data.byteLength).toBe(127);
    expect(await source.mode()).toBe('whole');
    expect(seen.map((read) => read.range)).toEqual([null, null]);
  });
});
