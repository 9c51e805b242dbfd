import { Hono } from 'hono';
import { css, html, js, kdfWorker, world } from '../../../dist/web/assets.js';
import type { StaticFiles } from '../../adapters/static-files.js';
import type { AppEnv } from '../../http/env.js';
import { IMMUTABLE, serveFile } from '../../http/static-asset.js';
import { MAP_META_NAME } from '../../protocol/api/map-archive.js';
import { KDF_WORKER_META } from '../../protocol/web-page.js';

// Serves the Find Device page, the same on Node and Workers: src/web/ as built by `npm run
// build:web`. The page's HTML is in dist/web/assets.js, which the server bundle and the Worker
// bundle both include, with the names and hashes of its script, stylesheet and map data, which
// are read from dist/public/ (StaticFiles). The page, its script and its stylesheet are our own files only, so the CSP below
// forbids every inline script and style and every other origin; the only exception is a tile
// server the operator chose to configure. These routes are not part of the API, so they stay out
// of the OpenAPI document.

export interface WebConfig {
  publicOrigin: string;
  /** e.g. https://tile.example/{z}/{x}/{y}.png; unset means the map makes no third-party request. */
  tileUrlTemplate?: string;
  /** The street-map archive on our own origin (src/features/map-archive), when the operator configured one. */
  mapArchive?: { path: string; fetchWholeBelowBytes: number };
}


/** The origin a tile URL template points at; throws if the template is not an http(s) URL with {z}, {x} and {y}. */
export function tileOrigin(template: string): string {
  if (!['{z}', '{x}', '{y}'].every((part) => template.includes(part))) {
    throw new Error('the tile URL template must contain {z}, {x} and {y}');
  }
  const url = new URL(template.replace(/\{[xyz]\}/g, '0'));
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('the tile URL template must be an http(s) URL');
  return url.origin;
}

export function pageCsp(tileTemplate?: string): string {
  const images = ["'self'", 'data:', ...(tileTemplate ? [tileOrigin(tileTemplate)] : [])].join(' ');
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src ${images}`,
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * The policy of the page's Argon2id worker (src/web/kdf-worker.ts), a dedicated worker, which runs
 * under its own script's CSP rather than the page's. Guarantee: the worker may compile the
 * WebAssembly built into its own script and do nothing else: 'wasm-unsafe-eval' allows
 * WebAssembly.compile() and no JavaScript eval, and default-src 'none' leaves it no fetch, import
 * or further worker. The page itself runs no WebAssembly, so its own CSP does not allow it.
 */
export const KDF_WORKER_CSP = "default-src 'none'; script-src 'wasm-unsafe-eval'";

const escapeAttribute = (text: string) => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** The page's own paths, which the OpenAPI document leaves out because they are not API. */
export const isWebPagePath = (path: string) => path === '/' || path.startsWith('/assets/');

export function webRoutes(deps: { config: WebConfig; staticFiles: StaticFiles }) {
  const router = new Hono<AppEnv>();
  const tileTemplate = deps.config.tileUrlTemplate || undefined;
  const csp = pageCsp(tileTemplate);
  const map = deps.config.mapArchive;
  const page = html.body.replace(
    '<!--homing-config-->',
    [
      tileTemplate ? `<meta name="homing-tile-url" content="${escapeAttribute(tileTemplate)}">` : '',
      map ? `<meta name="${MAP_META_NAME}" content="${escapeAttribute(map.path)}" data-fetch-whole-below="${map.fetchWholeBelowBytes}">` : '',
      `<meta name="${KDF_WORKER_META}" content="${escapeAttribute(kdfWorker.path)}">`,
    ].join(''),
  );

  router.get('/', (c) => {
    c.header('Content-Security-Policy', csp);
    c.header('Cache-Control', 'no-cache');
    return c.html(page);
  });

  serveFile(router, js, deps.staticFiles, 'text/javascript; charset=utf-8', IMMUTABLE);
  serveFile(router, css, deps.staticFiles, 'text/css; charset=utf-8', IMMUTABLE);
  // Not hashed in its name, so it is revalidated daily with its ETag.
  serveFile(router, world, deps.staticFiles, 'application/json', 'public, max-age=86400');
  router.use(kdfWorker.path, async (c, next) => {
    await next();
    c.res.headers.set('Content-Security-Policy', KDF_WORKER_CSP);
  });
  serveFile(router, kdfWorker, deps.staticFiles, 'text/javascript; charset=utf-8', IMMUTABLE);
  return router;
}
