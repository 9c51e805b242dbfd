import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { css, js, world } from '../../dist/web/assets.js';
import { createDirStaticFiles, packagePublicFolder } from '../../src/adapters/static-files-dir.js';
import { pageCsp, tileOrigin, webRoutes } from '../../src/features/web-page/routes.js';

const config = { publicOrigin: 'http://localhost:8787' };
// The files as the build wrote them to dist/public/, which the server reads.
const staticFiles = createDirStaticFiles(packagePublicFolder());
const built = (file: { path: string }) => readFileSync(join(packagePublicFolder(), file.path), 'utf8');

describe('web page routes', () => {
  it('serves the page under a strict CSP that allows only its own files', async () => {
    const response = await webRoutes({ config, staticFiles }).request('/');
    expect(response.status).toBe(200);
    expect(response.headers.get('Content-Type')).toMatch(/^text\/html/);
    expect(response.headers.get('Content-Security-Policy')).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
    const page = await response.text();
    expect(js.path).toMatch(new RegExp(`^/assets/app\\.${js.sha256.slice(0, 16)}\\.js$`));
    expect(css.path).toMatch(new RegExp(`^/assets/app\\.${css.sha256.slice(0, 16)}\\.css$`));
    expect(page).toContain(`<script type="module" src="${js.path}"></script>`);
    expect(page).toContain(`<link rel="stylesheet" href="${css.path}">`);
    // No inline script, style or event handler anywhere in the page.
    expect(page).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(page).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    expect(page).not.toContain('homing-tile-url');
  });

  it('serves hashed assets for a year, and the map data with a revalidated ETag', async () => {
    const router = webRoutes({ config, staticFiles });
    const script = await router.request(js.path);
    expect(script.status).toBe(200);
    expect(script.headers.get('Content-Type')).toBe('text/javascript; charset=utf-8');
    expect(script.headers.get('Cache-Control')).toBe('public, max-age=31536000, immutable');
    expect(await script.text()).toBe(built(js));
    const style = await router.request(css.path);
    expect(style.headers.get('Content-Type')).toBe('text/css; charset=utf-8');
    expect(await style.text()).toBe(built(css));

    const map = await router.request('/assets/world.json');
    expect(map.headers.get('Cache-Control')).toBe('public, max-age=86400');
    const topology = (await map.json()) as { type: string; objects: Record<string, unknown> };
    expect(topology.type).toBe('Topology');
    expect(Object.keys(topology.objects)).toEqual(['land']);
    const again = await router.request('/assets/world.json', { headers: { 'If-None-Match': `"${world.sha256}"` } });
    expect(again.status).toBe(304);
  });

  it('bundles no schema library into the page: zod stays on the server (it would double the script)', () => {
    // A page module importing protocol/api/ pulls zod in whole; shared rules live in zod-free protocol modules.
    expect(built(js)).not.toMatch(/ZodError|\$ZodType/);
    expect(built(js).length).toBeLessThan(600 * 1024);
  });

  it('answers 404 for an asset name with a stale hash', async () => {
    const response = await webRoutes({ config, staticFiles }).request('/assets/app.0000000000000000.js');
    expect(response.status).toBe(404);
  });

  it('allows images from a configured tile server, and tells the page its template', async () => {
    const tileUrlTemplate = 'https://tiles.example.org/osm/{z}/{x}/{y}.png?key="a&b"';
    const response = await webRoutes({ config: { ...config, tileUrlTemplate }, staticFiles }).request('/');
    expect(response.headers.get('Content-Security-Policy')).toContain("img-src 'self' data: https://tiles.example.org;");
    expect(await response.text()).toContain(
      '<meta name="homing-tile-url" content="https://tiles.example.org/osm/{z}/{x}/{y}.png?key=&#34;a&#38;b&#34;">',
    );
  });

  it('refuses a tile template that is not an http(s) URL with {z}, {x} and {y}', () => {
    expect(tileOrigin('http://127.0.0.1:8080/{z}/{x}/{y}.png')).toBe('http://127.0.0.1:8080');
    expect(() => pageCsp('https://tiles.example.org/{z}/{x}.png')).toThrow(/\{z\}, \{x\} and \{y\}/);
    expect(() => pageCsp('javascript:{z}{x}{y}')).toThrow(/http\(s\)/);
  });
});
