import type { Hono } from 'hono';
import type { AppEnv } from './env.js';

// Files built into dist/ and served from memory (the page's and the API reference's), the same on
// Node and Workers. The ETag is the body's SHA-256, so a revalidation that matches costs no body.

/** For a file whose name carries its hash: a new build gives it a new name. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';

export interface StaticAsset {
  body: string;
  sha256: string;
}

export function serveAsset(router: Hono<AppEnv>, path: string, asset: StaticAsset, type: string, cacheControl: string) {
  const etag = `"${asset.sha256}"`;
  router.get(path, (c) => {
    c.header('Cache-Control', cacheControl);
    c.header('ETag', etag);
    if (c.req.header('If-None-Match') === etag) return c.body(null, 304);
    c.header('Content-Type', type);
    return c.body(asset.body);
  });
}
