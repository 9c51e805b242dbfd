import { EtagMismatch, type RangeResponse, type Source } from 'pmtiles';

// Where the street map's bytes come from: the PMTiles archive on homing's own origin
// (GET /v1/map/archive, behind the cookie session). Privacy: an archive smaller than the
// operator's threshold is fetched whole, once, and every tile is cut from memory, so the server
// never learns which part of the map the page looks at. A larger archive is read by HTTP Range
// requests, which tell the server roughly which area is shown (docs/SECURITY.md says so).

export type FetchMode = 'whole' | 'range';

export interface ArchiveSourceOptions {
  url: string;
  /** Archives smaller than this many bytes are fetched whole (the meta tag's data-fetch-whole-below). */
  fetchWholeBelow: number;
  fetch?: typeof fetch;
}

export interface ArchiveSource extends Source {
  /** How the archive is read, decided on the first read. */
  mode(): Promise<FetchMode>;
}

/** Whole when the size is known and below the threshold; an unknown size is read by ranges. */
export function fetchMode(size: number | undefined, fetchWholeBelow: number): FetchMode {
  return size !== undefined && size < fetchWholeBelow ? 'whole' : 'range';
}

/** The archive's size from a HEAD answer's Content-Length, if the server gave a plain number. */
export function sizeFromHead(contentLength: string | null): number | undefined {
  return contentLength !== null && /^\d+$/.test(contentLength) ? Number(contentLength) : undefined;
}

/** `bytes=0-16383` for offset 0, length 16384 (both ends inclusive, RFC 9110). */
export function rangeHeader(offset: number, length: number): string {
  return `bytes=${offset}-${offset + length - 1}`;
}

/** The bytes a Range request would have answered: cut at the end of the archive, as a server does. */
export function sliceWhole(whole: ArrayBuffer, offset: number, length: number): ArrayBuffer {
  if (offset >= whole.byteLength) throw new RangeError(`offset ${offset} is past the end of the ${whole.byteLength}-byte archive`);
  return whole.slice(offset, Math.min(offset + length, whole.byteLength));
}

/** A strong ETag, or undefined (a weak one cannot tell two versions of the bytes apart). */
const strongEtag = (response: Response) => {
  const etag = response.headers.get('ETag');
  return etag && !etag.startsWith('W/') ? etag : undefined;
};

export function createArchiveSource(options: ArchiveSourceOptions): ArchiveSource {
  const request = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const credentials: RequestCredentials = 'same-origin';
  let plan: Promise<{ mode: 'whole'; bytes: ArrayBuffer; etag?: string } | { mode: 'range' }> | undefined;

  async function decide() {
    const head = await request(options.url, { method: 'HEAD', credentials });
    // Not decided on a failure (a session that ended): deciding "range" then would stay so after
    // the next login, and tell the server which area is looked at when it need not.
    if (head.status !== 200) throw new Error(`the map archive answered ${head.status}`);
    const size = sizeFromHead(head.headers.get('Content-Length'));
    if (fetchMode(size, options.fetchWholeBelow) === 'range') return { mode: 'range' as const };
    // No Range header: one plain GET for the whole archive, the same request whatever is shown.
    const response = await request(options.url, { credentials });
    if (response.status !== 200) throw new Error(`the map archive answered ${response.status}`);
    return { mode: 'whole' as const, bytes: await response.arrayBuffer(), etag: strongEtag(response) };
  }

  async function readRange(offset: number, length: number, signal?: AbortSignal, etag?: string): Promise<RangeResponse> {
    const response = await request(options.url, {
      credentials,
      signal,
      headers: { Range: rangeHeader(offset, length) },
      // Browsers' caching of partial answers varies (pmtiles' FetchSource turns it off on Chromium
      // under Windows for serving wrong bytes); protomaps-leaflet keeps decoded tiles in memory anyway.
      cache: 'no-store',
    });
    const newEtag = strongEtag(response);
    // The archive was replaced under us: pmtiles drops its cached directories and asks once more.
    if (response.status === 416 || (etag && newEtag && newEtag !== etag)) throw new EtagMismatch(`the map archive changed (${response.status})`);
    if (response.status >= 300) throw new Error(`the map archive answered ${response.status}`);
    const data = await response.arrayBuffer();
    // A server that ignores Range sends everything; more than was asked means it did.
    if (response.status === 200 && data.byteLength > length) throw new Error('the map archive was sent whole to a Range request: the server does not support ranges');
    return { data, etag: newEtag };
  }

  /** Decided once; a failure (offline, session ended) is forgotten so the next read tries again. */
  function planned() {
    plan ??= decide().catch((error: unknown) => {
      plan = undefined;
      throw error;
    });
    return plan;
  }

  return {
    getKey: () => options.url,
    mode: async () => (await planned()).mode,
    async getBytes(offset, length, signal, etag) {
      const decided = await planned();
      if (decided.mode === 'range') return readRange(offset, length, signal, etag);
      return { data: sliceWhole(decided.bytes, offset, length), etag: decided.etag };
    },
  };
}
