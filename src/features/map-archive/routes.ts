import { createRoute, z } from '@hono/zod-openapi';
import type { Deps } from '../../deps.js';
import { errorResponse } from '../../http/errors.js';
import { createRouter, SESSION_SECURITY } from '../../http/router.js';
import { errorResponses } from '../../http/openapi.js';
import { MAP_ARCHIVE_PATH, mapArchiveHeaders } from '../../protocol/api/map-archive.js';
import { answerFor } from './conditional.js';
import { openMapArchive } from './service.js';

// A day: the page may keep the archive (or the ranges it read) that long, and revalidates with the
// ETag after. Private, because a shared cache must not hand a session-only response to others.
const CACHE_CONTROL = 'private, max-age=86400';

const binary = (description: string) => ({
  description,
  content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } },
});

export function mapArchiveRoutes(deps: Deps) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'get',
      path: MAP_ARCHIVE_PATH,
      tags: ['Map'],
      security: SESSION_SECURITY,
      summary: 'The street map (a PMTiles archive), streamed; Range supported',
      description:
        'The PMTiles archive the operator configured (MAP_ARCHIVE_FILE or MAP_ARCHIVE_BLOB_KEY), the same public map data for every account. HEAD answers the headers of the whole archive. Range follows RFC 9110: one range answers 206, a range starting past the end 416 with `Content-Range: bytes */<size>`, several ranges or an unreadable header the whole archive. The ETag is strong, so ranges of two versions are never joined: If-Range with another ETag answers the whole archive; If-None-Match with the current one answers 304.',
      request: { headers: mapArchiveHeaders },
      responses: {
        200: binary('The whole archive'),
        206: binary('The requested range, with Content-Range'),
        304: { description: 'Not modified: the reader’s copy (If-None-Match) is current' },
        ...errorResponses(404, 416),
      },
    }),
    async (c) => {
      const archive = await openMapArchive(deps);
      const headers = c.req.valid('header');
      const answer = answerFor(
        { method: c.req.method, range: headers.range, ifRange: headers['if-range'], ifNoneMatch: headers['if-none-match'] },
        archive,
      );
      const common: Record<string, string> = { ETag: archive.etag, 'Cache-Control': CACHE_CONTROL, 'Accept-Ranges': 'bytes' };
      if (answer.kind === 'not-modified' || answer.kind === 'unsatisfiable' || c.req.method === 'HEAD') await archive.close();
      if (answer.kind === 'not-modified') return c.body(null, 304, common) as never;
      if (answer.kind === 'unsatisfiable') {
        c.header('Content-Range', `bytes */${archive.size}`);
        return errorResponse(c, 'range_not_satisfiable', `the map archive has ${archive.size} bytes`, { details: { size: archive.size } });
      }
      const range = answer.kind === 'range' ? answer.range : undefined;
      const sent: Record<string, string> = {
        ...common,
        'Content-Type': 'application/octet-stream',
        'Content-Length': String(range ? range.end - range.start + 1 : archive.size),
      };
      if (range) sent['Content-Range'] = `bytes ${range.start}-${range.end}/${archive.size}`;
      const status = range ? 206 : 200;
      if (c.req.method === 'HEAD') return c.body(null, status, sent) as never;
      return c.body(await archive.read(range), status, sent) as never;
    },
  );

  return router;
}
