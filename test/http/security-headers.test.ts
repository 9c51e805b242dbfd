import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { logIn, signUp } from '../../src/client/account.js';
import { createApiClient } from '../../src/client/api.js';
import { createTestApp, TEST_KDF, type TestApp, uniqueEmail } from '../harness.js';
import { sha256Hex } from '../features/sync-helpers.js';

// The headers every response carries (src/http/middleware.ts securityHeaders), on API answers,
// errors, blob downloads and the page with its assets, for a plain-http and an https origin.

let t: TestApp | undefined;
afterEach(() => t?.close());

const HSTS = 'max-age=31536000; includeSubDomains';

/** A logged-in bearer session on the app, through an SDK client that talks to the app's origin. */
async function sessionOn(app: TestApp, origin: string) {
  const api = createApiClient({ baseUrl: origin, fetch: (input, init) => app.app.request(input, init) });
  const email = uniqueEmail();
  await signUp(api, { birthYear: 1990, email, password: 'pw', kdf: TEST_KDF });
  const { response } = await logIn(api, { email, password: 'pw' });
  return { Authorization: `Bearer ${response.session.token}` };
}

/** One response of each kind the server sends, each checked to still be served whole. */
async function responsesOf(app: TestApp, origin: string) {
  const auth = await sessionOn(app, origin);
  const bytes = randomBytes(4096);
  const upload = await app.app.request(`${origin}/v1/blobs`, {
    method: 'POST',
    headers: { ...auth, 'Content-Type': 'application/octet-stream', 'Content-Length': '4096', 'X-Homing-SHA256': sha256Hex(bytes) },
    body: bytes as Uint8Array<ArrayBuffer>,
  });
  expect(upload.status).toBe(201);
  const { blobId } = await upload.json();
  const download = await app.request('GET', `/v1/blobs/${blobId}`, { headers: auth });
  expect(Buffer.from(await download.clone().arrayBuffer()).equals(bytes)).toBe(true);

  const page = await app.request('GET', '/');
  const html = await page.clone().text();
  const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
  expect(assets.length).toBeGreaterThanOrEqual(2); // the script and the stylesheet
  const assetResponses = await Promise.all([...assets, '/assets/world.json'].map((path) => app.request('GET', path)));
  for (const res of assetResponses) expect(res.status).toBe(200);

  return {
    'API answer': await app.request('GET', '/v1/account', { headers: auth }),
    'API error': await app.request('GET', '/v1/nowhere'),
    'OpenAPI document': await app.request('GET', '/openapi.json'),
    'blob download': download,
    page,
    ...Object.fromEntries(assetResponses.map((res, i) => [`asset ${i}`, res])),
  };
}

describe('security headers', () => {
  for (const origin of ['http://localhost:8787', 'https://homing.example']) {
    it(`on ${origin}: HSTS only when https; no powerful features, no cross-origin openers or embedding, everywhere`, async () => {
      t = createTestApp({ PUBLIC_URL: origin });
      const responses = await responsesOf(t, origin);
      for (const [kind, res] of Object.entries(responses)) {
        const headers = (name: string) => res.headers.get(name);
        expect(headers('Strict-Transport-Security'), kind).toBe(origin.startsWith('https:') ? HSTS : null);
        expect(headers('Cross-Origin-Opener-Policy'), kind).toBe('same-origin');
        expect(headers('Cross-Origin-Resource-Policy'), kind).toBe('same-origin');
        const permissions = headers('Permissions-Policy') ?? '';
        for (const feature of ['camera', 'microphone', 'geolocation', 'payment', 'usb']) {
          expect(permissions.split(', '), `${kind} ${feature}`).toContain(`${feature}=()`);
        }
      }
    });
  }
});
