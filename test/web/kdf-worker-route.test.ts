import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { js, kdfWorker } from '../../dist/web/assets.js';
import { createDirStaticFiles, packagePublicFolder } from '../../src/adapters/static-files-dir.js';
import { KDF_WORKER_CSP, webRoutes } from '../../src/features/web-page/routes.js';

// The page's Argon2id worker as the server serves it: named in the page's head, under a CSP of
// its own that allows WebAssembly and nothing else, while the page's script (and its CSP) stays
// without WebAssembly. The browser side is test/web/kdf-worker.browser.test.ts.

const staticFiles = createDirStaticFiles(packagePublicFolder());
const routes = () => webRoutes({ config: { publicOrigin: 'http://localhost:8787' }, staticFiles });

describe('the Argon2id worker route', () => {
  it('names the worker in the page, and serves it hashed, for a year, under its own CSP', async () => {
    const page = await (await routes().request('/')).text();
    expect(kdfWorker.path).toMatch(/^\/assets\/kdf-worker\.[0-9a-f]{16}\.js$/);
    expect(page).toContain(`<meta name="homing-kdf-worker" content="${kdfWorker.path}">`);

    const response = await routes().request(kdfWorker.path);
    expect(response.status).toBe(200);
    expect(response.headers.get('Content-Type')).toBe('text/javascript; charset=utf-8');
    expect(response.headers.get('Cache-Control')).toBe('public, max-age=31536000, immutable');
    expect(response.headers.get('Content-Security-Policy')).toBe("default-src 'none'; script-src 'wasm-unsafe-eval'");
    expect(KDF_WORKER_CSP).toBe(response.headers.get('Content-Security-Policy'));
    const body = await response.text();
    expect(body).toBe(readFileSync(join(packagePublicFolder(), kdfWorker.path), 'utf8'));
    expect(body).toContain('WebAssembly');
  });

  it("keeps WebAssembly out of the page's own script and CSP", async () => {
    const page = await routes().request('/');
    expect(page.headers.get('Content-Security-Policy')).not.toContain('wasm');
    expect(readFileSync(join(packagePublicFolder(), js.path), 'utf8')).not.toContain('WebAssembly');
  });
});
