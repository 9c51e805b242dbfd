import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isWebPagePath } from '../../src/web/routes.js';
import { createTestApp, type TestApp } from '../harness.js';

let t: TestApp;
beforeEach(() => {
  t = createTestApp();
});
afterEach(() => t.close());

// The routes that serve the document itself, and the web page's own files, are the only ones
// it need not describe.
const SELF_DESCRIBING = new Set(['/openapi.json', '/docs']);

const registeredRoutes = (t: TestApp) =>
  t.app.routes
    .filter((r) => r.method !== 'ALL' && !SELF_DESCRIBING.has(r.path) && !isWebPagePath(r.path))
    .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, '{$1}')}`);

describe('OpenAPI', () => {
  it('describes every route the app serves, in OpenAPI 3.1', async () => {
    const response = await t.request('GET', '/openapi.json');
    expect(response.status).toBe(200);
    const doc = await response.json();
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method} ${path}`),
    );
    const routes = registeredRoutes(t);
    expect(routes.length).toBeGreaterThan(15);
    expect(documented.sort()).toEqual([...new Set(routes)].sort());
  });

  it('declares the error shape and the auth schemes', async () => {
    const doc = await (await t.request('GET', '/openapi.json')).json();
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['deviceToken', 'session', 'sessionCookie']);
    expect(doc.components.schemas.Error.properties.error.required).toEqual(['code', 'message', 'requestId']);
    expect(doc.paths['/v1/devices/{deviceId}'].delete.responses['404']).toBeDefined();
  });

  it('renders a readable reference at /docs with no script under a strict CSP', async () => {
    const response = await t.request('GET', '/docs');
    expect(response.status).toBe(200);
    const csp = response.headers.get('Content-Security-Policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await response.text();
    expect(html).not.toContain('<script');
    for (const route of registeredRoutes(t)) expect(html).toContain(`<code>${route.split(' ')[1]}</code>`);
    expect(html).toContain('Log in with a signed challenge');
  });
});
