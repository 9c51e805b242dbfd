import type { Hono } from 'hono';
import type { StaticFiles } from '../adapters/static-files.js';
import type { AppEnv } from './env.js';

// Files the build writes to dist/public/ (the page's and the API reference's), served the same on
// Node and Workers, through the app and so with its headers. The ETag is the file's SHA-256 from
// the build's manifest, so a revalidation that matches costs no read at all.

/** For a file whose name carries its hash: a new build gives it a new name. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';

/** A file in dist/public/, as the build's manifests name it: its path there is the path it is served at. */
export interface PublicFile {
  path: string;
  sha256: string;
}

export function serveFile(router: Hono<AppEnv>, file: PublicFile, files: StaticFiles, type: string, cacheControl: string) {
  const etag = `"${file.sha256}"`;
  router.get(file.path, async (c) => {
    c.header('Cache-Control', cacheControl);
    c.header('ETag', etag);
    if (c.req.header('If-None-Match') === etag) return c.body(null, 304);
    const body = await files.read(file.path);
    // The manifest and the folder come from one build: a gap means dist/ was half replaced.
    if (!body) throw new Error(`${file.path} is named by the build's manifest but missing from dist/public/: rebuild (npm run build)`);
    c.header('Content-Type', type);
    return c.body(body);
  });
}
