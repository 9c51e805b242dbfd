import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { changePassword, logIn, logInWithRecoveryKey, signUp, unlockKeyBundle } from '../../src/client/account.js';
import { createApiClient, HomingApiError } from '../../src/client/api.js';
import { DecryptionError } from '../../src/client/crypto/aead.js';
import { toBase64Url } from '../../src/protocol/encoding.js';
import { CSRF_HEADER } from '../../src/protocol/headers.js';
import { createTestApp, TEST_KDF, TEST_ORIGIN, type TestApp, uniqueEmail } from '../harness.js';
import { browserFetch } from './browser-fetch.js';

// What the web page does after a reload, and its recovery-key login, on the SDK's own client:
// the browser (browserFetch) keeps its cookie jar while the page's client is made anew.

let t: TestApp;
beforeEach(() => {
  t = createTestApp();
});
afterEach(() => t.close());

const PASSWORD = 'correct horse battery staple';

async function signedUp(browser: ReturnType<typeof browserFetch>) {
  const email = uniqueEmail('reload');
  const client = createApiClient({ baseUrl: TEST_ORIGIN, fetch: browser.fetch });
  const { recoveryKey } = await signUp(client, { birthYear: 1990, email, password: PASSWORD, kdf: TEST_KDF });
  return { email, recoveryKey, client };
}

describe('resuming a cookie session after a reload', () => {
  it('a reloaded page carries on with the live cookie session, its CSRF token works, and no session is added', async () => {
    const browser = browserFetch(t);
    const { email, client } = await signedUp(browser);
    const { response } = await logIn(client, { email, password: PASSWORD, session: 'cookie' });

    const reloaded = createApiClient({ baseUrl: TEST_ORIGIN, fetch: browser.fetch });
    const current = await reloaded.resumeCookieSession();
    expect(current).toMatchObject({ accountId: response.accountId, sessionId: response.session.id, kind: 'cookie', csrfToken: response.session.csrfToken });
    const resumeRequest = browser.sent.at(-1)!;
    expect(resumeRequest).toMatchObject({ method: 'GET', path: '/v1/auth/session', credentials: 'same-origin' });
    expect(resumeRequest.headers.get('Authorization')).toBeNull();

    // A change goes through with the token the server named, so the page is fully logged in again.
    const registered = await reloaded.registerDevice({ name: 'Phone', model: 'Pixel', platform: 'android', identifierHash: toBase64Url(new Uint8Array(32).fill(3)) });
    expect(browser.sent.at(-1)!.headers.get(CSRF_HEADER)).toBe(response.session.csrfToken);
    expect((await reloaded.devices()).devices.map((d) => d.id)).toEqual([registered.device.id]);
    expect((await reloaded.sessions()).sessions).toHaveLength(1);
  });

  it('a revoked cookie session resumes nothing, and the client stays logged out', async () => {
    const browser = browserFetch(t);
    const { email, client } = await signedUp(browser);
    const { response } = await logIn(client, { email, password: PASSWORD, session: 'cookie' });
    const other = createApiClient({ baseUrl: TEST_ORIGIN, fetch: (input, init) => t.app.request(input, init) });
    await logIn(other, { email, password: PASSWORD });
    await other.revokeSession(response.session.id);

    const reloaded = createApiClient({ baseUrl: TEST_ORIGIN, fetch: browser.fetch });
    expect(await reloaded.resumeCookieSession()).toBeUndefined();
    await expect(reloaded.devices()).rejects.toThrow('not logged in');
  });

  it('with no cookie at all (a first visit) it resumes nothing', async () => {
    const reloaded = createApiClient({ baseUrl: TEST_ORIGIN, fetch: browserFetch(t).fetch });
    expect(await reloaded.resumeCookieSession()).toBeUndefined();
  });

  it('a bearer token presented as the cookie is refused: resume never turns a bearer session into a cookie one', async () => {
    const { email, client } = await signedUp(browserFetch(t));
    const { response } = await logIn(client, { email, password: PASSWORD });
    const forged = createApiClient({
      baseUrl: TEST_ORIGIN,
      fetch: (input, init) => {
        const headers = new Headers(init.headers);
        headers.set('Cookie', `__Host-homing-session=${response.session.token}`);
        return t.app.request(input, { ...init, headers });
      },
    });
    expect(await forged.resumeCookieSession()).toBeUndefined();
  });
});

describe('unlocking the key bundle of a logged-in session', () => {
  it('gives the same keys as login, from GET /v1/account/keys and the password', async () => {
    const browser = browserFetch(t);
    const { email, client } = await signedUp(browser);
    const { response, keys } = await logIn(client, { email, password: PASSWORD, session: 'cookie' });
    client.setCookieSession({ csrfToken: response.session.csrfToken! });
    const unlocked = await unlockKeyBundle({ accountId: response.accountId, bundle: await client.keyBundle(), password: PASSWORD });
    expect(unlocked.masterKey).toEqual(keys.masterKey);
    expect(unlocked.x25519SecretKey).toEqual(keys.x25519SecretKey);
    expect(unlocked.ed25519Seed).toEqual(keys.ed25519Seed);
  });

  it('a wrong password fails in the client with DecryptionError, and nothing is sent', async () => {
    const browser = browserFetch(t);
    const { email, client } = await signedUp(browser);
    const { response } = await logIn(client, { email, password: PASSWORD, session: 'cookie' });
    client.setCookieSession({ csrfToken: response.session.csrfToken! });
    const bundle = await client.keyBundle();
    const before = browser.sent.length;
    await expect(unlockKeyBundle({ accountId: response.accountId, bundle, password: 'not the password' })).rejects.toBeInstanceOf(DecryptionError);
    expect(browser.sent.length).toBe(before);
  });
});

describe('recovery-key login for the web page', () => {
  it('opens a cookie session (no bearer token in the answer), and the recovery branch sets a new password', async () => {
    const browser = browserFetch(t);
    const { email, recoveryKey, client } = await signedUp(browser);
    const { response, keys } = await logInWithRecoveryKey(client, { email, recoveryKey, session: 'cookie', label: 'web page' });
    expect(response.method).toBe('recovery');
    expect(response.session).toMatchObject({ kind: 'cookie' });
    expect(response.session.token).toBeUndefined();
    expect(response.session.csrfToken).toEqual(expect.any(String));
    client.setCookieSession({ csrfToken: response.session.csrfToken! });

    const NEW_PASSWORD = 'a brand new passphrase';
    await changePassword(client, { accountId: response.accountId, email, masterKey: keys.masterKey, newPassword: NEW_PASSWORD, recoveryKey, kdf: TEST_KDF });
    const fresh = createApiClient({ baseUrl: TEST_ORIGIN, fetch: (input, init) => t.app.request(input, init) });
    await expect(logIn(fresh, { email, password: PASSWORD })).rejects.toBeInstanceOf(HomingApiError);
    expect((await logIn(fresh, { email, password: NEW_PASSWORD })).keys.masterKey).toEqual(keys.masterKey);
  });

  it('without the option it stays a bearer login, as before', async () => {
    const { email, recoveryKey, client } = await signedUp(browserFetch(t));
    const { response } = await logInWithRecoveryKey(client, { email, recoveryKey });
    expect(response.session.kind).toBe('bearer');
    expect(response.session.token).toMatch(/^hs_/);
  });
});
