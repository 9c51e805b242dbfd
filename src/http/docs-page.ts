import { Hono } from 'hono';
import { html, init, licenses, redoc } from '../../dist/web/docs-assets.js';
import type { StaticFiles } from '../adapters/static-files.js';
import type { AppEnv } from './env.js';
import { IMMUTABLE, serveFile } from './static-asset.js';

// The API reference at /docs: Redoc (MIT) draws /openapi.json in the browser, with a side menu,
// anchors, and each operation's request and response shapes. scripts/build-docs.mjs writes its
// files to dist/public/docs/ and the shell into dist/web/docs-assets.js; both runtimes serve them
// through this router. The shell's <noscript> links the document itself. Not API, so not in /openapi.json.

/**
 * Guarantee: every script the page runs is one of the two files below (script-src 'self', no
 * inline script, no eval), and the page talks to no origin but this one: not for data, images,
 * fonts or workers. Styles are the one inline allowance: Redoc's styled-components and its bundled
 * CSS inject <style> elements, the latter while the bundle loads, before the nonce Redoc 2.5
 * accepts as an option could reach it. Search is off because it would need a blob: worker.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The reference's own paths, which the OpenAPI document leaves out because they are not API. */
export const isDocsPath = (path: string) => path === html.path || path.startsWith(`${html.path}/`);

export function docsRoutes(files: StaticFiles) {
  const router = new Hono<AppEnv>();
  router.get(html.path, (c) => {
    c.header('Content-Security-Policy', DOCS_CSP);
    c.header('Cache-Control', 'no-cache');
    return c.html(html.body);
  });
  serveFile(router, redoc, files, 'text/javascript; charset=utf-8', IMMUTABLE);
  serveFile(router, init, files, 'text/javascript; charset=utf-8', IMMUTABLE);
  // Named as the bundle's first line names it, so not hashed: revalidated daily with its ETag.
  serveFile(router, licenses, files, 'text/plain; charset=utf-8', 'public, max-age=86400');
  return router;
}
