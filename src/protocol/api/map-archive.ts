import { z } from 'zod';

// The street-map archive on the wire: where the page finds it and the headers a reader may send.

export const MAP_ARCHIVE_PATH = '/v1/map/archive';

/**
 * The page learns of the archive from `<meta name="homing-map" content="/v1/map/archive"
 * data-fetch-whole-below="<bytes>">`: archives smaller than that are fetched whole (then nothing
 * tells the server which area is looked at), larger ones by Range.
 */
export const MAP_META_NAME = 'homing-map';

export const mapArchiveHeaders = z.object({
  range: z.string().optional().meta({
    description:
      'One byte range (bytes=a-b, bytes=a- or bytes=-n) answers 206. Several ranges, or a header that cannot be read, are ignored (RFC 9110 allows it) and the whole archive is sent.',
    example: 'bytes=0-16383',
  }),
  'if-range': z.string().optional().meta({
    description: 'Serve the range only if the archive still has this (strong) ETag; otherwise the whole archive, 200',
  }),
  'if-none-match': z.string().optional().meta({
    description: 'ETags the reader already holds: 304 when the archive still has one of them',
    example: '"5d41402abc4b2a76b9719d911017c592"',
  }),
});
