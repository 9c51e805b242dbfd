import { expect } from 'vitest';
import { MAP_ARCHIVE_PATH } from '../../src/protocol/api/map-archive.js';
import { TEST_ORIGIN, type TestApp } from '../harness.js';
import { newAccount } from './sync-helpers.js';

// Shared by the map-archive tests: a reader of GET /v1/map/archive with a session of its own,
// and the checks every archive source (file, fs store, S3, R2) must pass alike.

export type Reader = (headers?: Record<string, string>, method?: string) => Response | Promise<Response>;

/** A fresh account's reader of the archive, through the front door. */
export async function mapReader(t: TestApp): Promise<Reader> {
  const { auth } = await newAccount(t);
  return (headers = {}, method = 'GET') => t.app.request(`${TEST_ORIGIN}${MAP_ARCHIVE_PATH}`, { method, headers: { ...auth, ...headers } });
}

export const bytesOf = async (res: Response) => new Uint8Array(await res.arrayBuffer());

/** The ranges a PMTiles reader and others send, each against the archive's own bytes. */
export async function expectRangesServed(read: Reader, archive: Uint8Array) {
  const size = archive.length;
  const cases: [string, number, number][] = [
    ['bytes=0-126', 0, 126], // the PMTiles header
    ['bytes=0-16383', 0, Math.min(16383, size - 1)], // a PMTiles reader's first fetch
    [`bytes=100-`, 100, size - 1],
    ['bytes=-10', size - 10, size - 1],
    [`bytes=-${size + 5000}`, 0, size - 1], // a suffix longer than the archive is all of it
    [`bytes=${size - 1}-${size + 99}`, size - 1, size - 1], // an end past the end is clamped
    ['bytes=5-5', 5, 5],
  ];
  for (const [header, start, end] of cases) {
    const res = await read({ Range: header });
    expect({ header, status: res.status, contentRange: res.headers.get('Content-Range'), length: res.headers.get('Content-Length') }).toEqual({
      header,
      status: 206,
      contentRange: `bytes ${start}-${end}/${size}`,
      length: String(end - start + 1),
    });
    expect(await bytesOf(res)).toEqual(archive.subarray(start, end + 1));
  }
}

/** 416 in the one error shape, with the size in Content-Range so that a reader can ask again. */
export async function expectUnsatisfiable(res: Response, size: number) {
  expect(res.status).toBe(416);
  expect(res.headers.get('Content-Range')).toBe(`bytes */${size}`);
  const body = (await res.json()) as { error: { code: string; message: string; requestId: string; details: unknown } };
  expect(body.error).toMatchObject({ code: 'range_not_satisfiable', details: { size } });
  expect(body.error.message).toContain(`${size} bytes`);
  expect(body.error.requestId).toBe(res.headers.get('X-Request-Id'));
}

/** The headers of a whole-archive answer, and a strong ETag. */
export function expectWholeHeaders(res: Response, size: number) {
  expect(res.status).toBe(200);
  expect(res.headers.get('Content-Length')).toBe(String(size));
  expect(res.headers.get('Accept-Ranges')).toBe('bytes');
  expect(res.headers.get('Content-Type')).toBe('application/octet-stream');
  expect(res.headers.get('Cache-Control')).toBe('private, max-age=86400');
  expect(res.headers.get('ETag')).toMatch(/^"[0-9a-f]{32}"$/);
  expect(res.headers.get('Content-Range')).toBeNull();
}
