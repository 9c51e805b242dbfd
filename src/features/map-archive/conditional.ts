import type { BlobRange } from '../../adapters/blob-store.js';
import { AppError } from '../../http/app-error.js';
import { parseRange } from '../blobs/range.js';

// What a GET or HEAD of the map archive answers, from the request's conditional and Range headers
// and the archive's size and ETag (RFC 9110 sections 13 and 14), in the RFC's order: If-None-Match
// first, then If-Range, then Range. If-Match and If-Unmodified-Since are not evaluated: a reader of
// a read-only archive has nothing to protect with them. Pure, so every case is a plain test.

export interface ArchiveRequest {
  method: string;
  range?: string;
  ifRange?: string;
  ifNoneMatch?: string;
}

export type ArchiveAnswer =
  | { kind: 'not-modified' }
  | { kind: 'whole' }
  | { kind: 'range'; range: BlobRange }
  | { kind: 'unsatisfiable' };

const opaque = (tag: string) => tag.trim().replace(/^W\//, '');

/** If-None-Match uses the weak comparison: "*" or any listed tag whose opaque part is ours. */
function noneMatchHolds(header: string, etag: string) {
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim() !== '' && opaque(tag) === opaque(etag));
}

/** If-Range uses the strong comparison: only our own strong tag, exactly. A date never matches (we send no Last-Modified). */
const ifRangeHolds = (header: string, etag: string) => !etag.startsWith('W/') && header.trim() === etag;

export function answerFor(request: ArchiveRequest, archive: { size: number; etag: string }): ArchiveAnswer {
  if (request.ifNoneMatch !== undefined && noneMatchHolds(request.ifNoneMatch, archive.etag)) return { kind: 'not-modified' };
  // Range is defined for GET only; HEAD answers what a GET without it would.
  if (request.method !== 'GET' || request.range === undefined) return { kind: 'whole' };
  if (request.ifRange !== undefined && !ifRangeHolds(request.ifRange, archive.etag)) return { kind: 'whole' };
  let range: BlobRange | undefined;
  try {
    range = parseRange(request.range, archive.size);
  } catch (error) {
    if (error instanceof AppError && error.code === 'range_not_satisfiable') return { kind: 'unsatisfiable' };
    throw error;
  }
  if (!range) return { kind: 'whole' };
  return { kind: 'range', range: { start: range.start, end: Math.min(range.end, archive.size - 1) } };
}
