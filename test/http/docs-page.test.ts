import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { html, init, licenses, redoc } from '../../dist/web/docs-assets.js';
import { packagePublicFolder } from '../../src/adapters/static-files-dir.js';
import { createTestApp, type TestApp } from '../harness.js';
import { expectError } from '../security/helpers.js';

// /docs through the front door of the test app: the Redoc shell under the docs CSP, and its files
// (read from dist/public/) with hashed names, immutable caching and ETags. What the page does in a
// browser is test/web/docs.browser.test.ts.

let t: TestApp;
beforeEach(() => {
  t = createTestApp();
});
afterEach(() => t.close());

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

describe('the API reference at /docs', () => {
  it('is a shell with no inline script, under a CSP that lets scripts and requests come from this origin only', async () => {
    const response = await t.request('GET', '/docs');
    expect(response.status).toBe(200);
    expect(response.headers.get('Content-Type')).toMatch(/^text\/html/);
    expect(response.headers.get('Cache-Control')).toBe('no-cache');
    expect(response.headers.get('Content-Security-Policy')).toBe(
      "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    expect(response.headers.get('X-Frame-Options')).toBe('DENY');
    const page = await response.text();
    expect([...page.matchAll(/<script\b[^>]*>/g)].map((m) => m[0])).toEqual([`<script src="${redoc.path}">`, `<script src="${init.path}">`]);
    expect(page).not.toMatch(/<script[^>]*>[^<]/);
    expect(page).not.toMatch(/<style|\sstyle=|\son[a-z]+=|https?:\/\//i);
    expect(page).toMatch(/<noscript>[^]*<a href="\/openapi.json">/);
  });

  it('serves both scripts under hashed names, immutable, and answers a matching ETag with 304 and no body', async () => {
    for (const asset of [redoc, init]) {
      const hash = sha256(readFileSync(join(packagePublicFolder(), asset.path), 'utf8'));
      expect(asset.sha256).toBe(hash);
      expect(asset.path).toMatch(new RegExp(`^/docs/(redoc|init)\\.${hash.slice(0, 16)}\\.js$`));
      const response = await t.request('GET', asset.path);
      expect(response.status).toBe(200);
      expect(response.headers.get('Content-Type')).toBe('text/javascript; charset=utf-8');
      expect(response.headers.get('Cache-Control')).toBe('public, max-age=31536000, immutable');
      expect(response.headers.get('ETag')).toBe(`"${hash}"`);
      expect(sha256(await response.text())).toBe(hash);

      const again = await t.request('GET', asset.path, { headers: { 'If-None-Match': `"${hash}"` } });
      expect(again.status).toBe(304);
      expect(await again.text()).toBe('');
      const stale = await t.request('GET', asset.path, { headers: { 'If-None-Match': `"${'0'.repeat(64)}"` } });
      expect(stale.status).toBe(200);
    }
  });

  it('an old build\'s script name gets 404 in the one error shape, not another build\'s file', async () => {
    await expectError(t.request('GET', '/docs/redoc.0000000000000000.js'), 404, 'not_found');
    await expectError(t.request('GET', '/docs/init.js'), 404, 'not_found');
  });

  it("the Redoc bundle names no third-party origin it would fetch, and its licence is served where the bundle's first line points", async () => {
    const bundle = await (await t.request('GET', redoc.path)).text();
    // Not toContain: a failure would print the whole megabyte.
    expect(['cdn.redoc.ly', 'fonts.googleapis.com'].filter((host) => bundle.includes(host))).toEqual([]);
    const pointer = bundle.slice(0, bundle.indexOf('\n')).match(/see (\S+\.txt)/)![1]!;
    const licencePath = new URL(pointer, `http://x${redoc.path}`).pathname;
    expect(licencePath).toBe(licenses.path);
    const licence = await t.request('GET', licencePath);
    expect(licence.status).toBe(200);
    expect(licence.headers.get('Content-Type')).toBe('text/plain; charset=utf-8');
    const text = await licence.text();
    expect(text).toContain('The MIT License (MIT)');
    expect(text).toContain('Rebilly, Inc.');
    expect(text).toContain('ReDoc - OpenAPI/Swagger-generated API Reference Documentation');
  });
});
