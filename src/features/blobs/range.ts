import type { BlobRange } from '../../adapters/blob-store.js';
import { AppError } from '../../http/app-error.js';

/**
 * Parses a single-range "Range: bytes=…" header against a known size. Multiple ranges are not
 * served; a header we cannot read is ignored, as RFC 9110 allows, and the whole body is sent.
 */
export function parseRange(header: string | undefined, size: number): BlobRange | undefined {
  const match = header?.trim().match(/^bytes=(\d*)-(\d*)$/);
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  const [, from, to] = match;
  if (from === '') {
    const suffix = Number(to);
    if (suffix === 0) throw new AppError('range_not_satisfiable', 'an empty suffix range selects nothing', { details: { size } });
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(from);
  if (start >= size) throw new AppError('range_not_satisfiable', `the blob has ${size} bytes`, { details: { size } });
  const end = to === '' ? size - 1 : Number(to);
  if (end < start) return undefined;
  return { start, end };
}
