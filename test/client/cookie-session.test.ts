import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { logIn, signUp } from '../../src/client/account.js';
import { createApiClient, HomingApiError } from '../../src/client/api.js';
import { toBase64Url } from '../../src/protocol/encoding.js';
import { CSRF_HEADER } from '../../src/protocol/headers.js';
import { createTestApp, TEST_KDF, TEST_ORIGIN, type TestApp, uniqueEmail } from '../harness.js';
import { browserFetch } from './browser-fetch.js';

// The web page talks to the API through the SDK's own client, on a cookie session; browserFetch
// plays the browser's part (its cookie jar).

let t: TestApp;
beforeEach(() => {
  t = createTestApp();
});
afterEach(() => t.close());

describe('SDK client on a cookie session (what the web page uses)', () => {
  it('sends the cookie and no bearer token, and the CSRF token on every change but not on reads', async () => {
    const email = uniqueEmail('page');
    const password = 'correct horse battery staple';
    const browser = browserFetch(t);
    const client = createApiClient({ baseUrl: TEST_ORIGIN, fetch: browser.fetch });
    await signUp(client, { birthYear: 1990, email, password, kdf: TEST_KDF });
    const { response } = await logIn(client, { email, password, session: 'cookie' });
    expect(response.session.token).toBeUndefined();
    client.setCookieSession({ csrfToken: response.session.csrfToken! });

    const registered = await client.registerDevice({ name: 'Phone', model: 'Pixel', platform: 'android', identifierHash: toBase64Url(new Uint8Array(32).fill(7)) });
    expect((await client.devices()).devices.map((d) => d.id)).toEqual([registered.device.id]);

    const [post, get] = browser.sent.slice(-2);
    expect(post).toMatchObject({ method: 'POST', path: '/v1/devices', credentials: 'same-origin' });
    expect(post!.headers.get(CSRF_HEADER)).toBe(response.session.csrfToken);
    expect(post!.headers.get('Authorization')).toBeNull();
    expect(get).toMatchObject({ method: 'GET', path: '/v1/devices', credentials: 'same-origin' });
    expect(get!.headers.get(CSRF_HEADER)).toBeNull();
  });

  it('a forged CSRF token is refused even though the cookie rides along, and logging out ends the cookie session', async () => {
    const email = uniqueEmail('page');
    const password = 'correct horse battery staple';
    const client = createApiClient({ baseUrl: TEST_ORIGIN, fetch: browserFetch(t).fetch });
    await signUp(client, { birthYear: 1990, email, password, kdf: TEST_KDF });
    const { response } = await logIn(client, { email, password, session: 'cookie' });

    client.setCookieSession({ csrfToken: 'A'.repeat(response.session.csrfToken!.length) });
    const forged = await client.logout().then(
      () => expect.unreachable('logout went through with a forged CSRF token'),
      (e: unknown) => e,
    );
    expect(forged).toBeInstanceOf(HomingApiError);
    expect((forged as HomingApiError).code).toBe('csrf_failed');

    client.setCookieSession({ csrfToken: response.session.csrfToken! });
    await client.logout();
    const after = await client.devices().then(
      () => expect.unreachable('the cookie still worked after logout'),
      (e: unknown) => e,
    );
    expect((after as HomingApiError).code).toBe('unauthorized');
  });
});
