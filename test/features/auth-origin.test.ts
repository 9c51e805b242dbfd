import { afterEach, describe, expect, it } from 'vitest';
import { logIn, signUp } from '../../src/client/account.js';
import { derivePasswordSecrets } from '../../src/client/crypto/account-keys.js';
import { type ApiClient, createApiClient, HomingApiError } from '../../src/client/api.js';
import type { Env } from '../../src/config.js';
import { fromBase64Url, toBase64Url } from '../../src/protocol/encoding.js';
import { loginChallengeMessage } from '../../src/protocol/login-challenge.js';
import { signDetached } from '../../src/protocol/signing.js';
import { browserFetch } from '../client/browser-fetch.js';
import { createTestApp, TEST_KDF, type TestApp, uniqueEmail } from '../harness.js';

// Which origin a login challenge is bound to (src/http/own-origins.ts). By default the server
// prints 127.0.0.1 as its listen address while PUBLIC_URL is http://localhost:PORT: both spellings
// must log in, and no origin of another machine may.

const PASSWORD = 'correct horse battery staple';
const LOCALHOST = 'http://localhost:8787';
const LOOPBACK_IP = 'http://127.0.0.1:8787';
const LOOPBACK_V6 = 'http://[::1]:8787';
const EVIL = 'https://evil.example';

let t: TestApp | undefined;
afterEach(() => t?.close());

/** A test app on the default PUBLIC_URL (unset: http://localhost:PORT), or on the one given. */
function app(env: Env = { PUBLIC_URL: undefined }) {
  t = createTestApp(env);
  return t;
}

/** An SDK client that dials `origin`; its requests reach the test app as sent to that origin. */
const clientAt = (test: TestApp, origin: string) => createApiClient({ baseUrl: origin, fetch: (input, init) => test.app.request(input, init) });

async function account(test: TestApp) {
  const email = uniqueEmail('origin');
  await signUp(clientAt(test, LOCALHOST), { birthYear: 1990, email, password: PASSWORD, kdf: TEST_KDF });
  return email;
}

/** The login seed of the password, derived from the challenge's own parameters, as a client would. */
async function loginSeed(challenge: Awaited<ReturnType<ApiClient['challenge']>>) {
  const { salt, ...cost } = challenge.kdf!;
  return (await derivePasswordSecrets(PASSWORD, { ...cost, salt: fromBase64Url(salt) })).loginSeed;
}

const signFor = (origin: string, challenge: { challengeId: string; challenge: string }, seed: Uint8Array) => ({
  challengeId: challenge.challengeId,
  signature: toBase64Url(signDetached(seed, loginChallengeMessage({ origin, challengeId: challenge.challengeId, challenge: fromBase64Url(challenge.challenge) }))),
});

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.unreachable('the call succeeded'),
    (error: unknown) => error,
  );

describe('login challenge origin on a loopback PUBLIC_URL', () => {
  it('the default config logs in at every loopback spelling of its address: localhost, 127.0.0.1 (the logged listen address) and [::1]', async () => {
    const test = app();
    expect(test.deps.config.publicOrigin).toBe(LOCALHOST);
    const email = await account(test);
    for (const origin of [LOCALHOST, LOOPBACK_IP, LOOPBACK_V6]) {
      const client = clientAt(test, origin);
      expect((await client.challenge(email, 'password')).origin).toBe(origin);
      await expect(logIn(client, { email, password: PASSWORD })).resolves.toMatchObject({ response: { session: { token: expect.any(String) } } });
    }
  });

  it("a browser's Origin header picks the spelling, and the cookie session it opens at 127.0.0.1 passes the same-origin check", async () => {
    const test = app();
    const email = await account(test);
    const jar = browserFetch(test);
    // A browser on http://127.0.0.1:8787 sends its own origin on every POST.
    const page = createApiClient({
      baseUrl: LOOPBACK_IP,
      fetch: (input, init) => jar.fetch(input, init.method === 'GET' ? init : { ...init, headers: { ...init.headers, Origin: LOOPBACK_IP } }),
    });
    const { response } = await logIn(page, { email, password: PASSWORD, session: 'cookie' });
    page.setCookieSession({ csrfToken: response.session.csrfToken! });
    await expect(page.logout()).resolves.toBeUndefined();
  });

  it('a request claiming Origin https://evil.example gets a challenge bound to PUBLIC_URL: a signature for evil does not verify', async () => {
    const test = app();
    const email = await account(test);
    const claimEvil = { Origin: EVIL };
    const asked = () => test.request('POST', '/v1/auth/challenge', { body: { email, method: 'password' }, headers: claimEvil });

    const challenge = await (await asked()).json();
    expect(challenge.origin).toBe(LOCALHOST);
    const seed = await loginSeed(challenge);
    const forEvil = await test.request('POST', '/v1/auth/login', { body: { ...signFor(EVIL, challenge, seed), session: 'bearer' }, headers: claimEvil });
    expect(forEvil.status).toBe(401);
    expect((await forEvil.json()).error.code).toBe('invalid_credentials');

    // The same steps signed for the origin the challenge names do log in: it was only the origin.
    const fresh = await (await asked()).json();
    const forOurs = await test.request('POST', '/v1/auth/login', { body: { ...signFor(LOCALHOST, fresh, seed), session: 'bearer' } });
    expect(forOurs.status).toBe(200);
  });

  it('a hostile server relaying its visitors to us: its client refuses the challenge before signing anything', async () => {
    const test = app();
    const email = await account(test);
    const sent: string[] = [];
    // The client dials evil.example; evil forwards each request here, Origin and all.
    const victim = createApiClient({
      baseUrl: EVIL,
      fetch: (input, init) => {
        const url = new URL(input);
        sent.push(url.pathname);
        return test.app.request(`${LOCALHOST}${url.pathname}${url.search}`, { ...init, headers: { ...init.headers, Origin: EVIL } });
      },
    });
    await expect(logIn(victim, { email, password: PASSWORD })).rejects.toThrow(`the server asked for a signature for ${LOCALHOST}, but this client talks to ${EVIL}`);
    expect(sent).toEqual(['/v1/auth/challenge']);
  });

  it('another port on loopback is another server: its origin is not accepted', async () => {
    const test = app();
    const email = await account(test);
    const claimed = await (await test.request('POST', '/v1/auth/challenge', { body: { email, method: 'password' }, headers: { Origin: 'http://127.0.0.1:9999' } })).json();
    expect(claimed.origin).toBe(LOCALHOST);
    await expect(logIn(clientAt(test, 'http://127.0.0.1:9999'), { email, password: PASSWORD })).rejects.toThrow(/asked for a signature for http:\/\/localhost:8787/);
  });
});

describe('login challenge origin on a public PUBLIC_URL', () => {
  const PUBLIC = 'https://homing.example';

  it('PUBLIC_URL=https://homing.example accepts exactly that origin: the loopback spellings are refused', async () => {
    const test = app({ PUBLIC_URL: PUBLIC });
    const email = await account(test);
    await expect(logIn(clientAt(test, PUBLIC), { email, password: PASSWORD })).resolves.toMatchObject({ response: { accountId: expect.any(String) } });
    for (const origin of [LOCALHOST, LOOPBACK_IP, 'https://localhost', 'https://127.0.0.1']) {
      expect((await clientAt(test, origin).challenge(email, 'password')).origin).toBe(PUBLIC);
      await expect(logIn(clientAt(test, origin), { email, password: PASSWORD })).rejects.toThrow(`the server asked for a signature for ${PUBLIC}`);
    }
  });

  it('a cookie request with Origin http://127.0.0.1 is refused as cross-origin there, and accepted from PUBLIC_URL', async () => {
    const test = app({ PUBLIC_URL: PUBLIC });
    const email = await account(test);
    const jar = browserFetch(test);
    let origin = PUBLIC;
    const page = createApiClient({
      baseUrl: PUBLIC,
      fetch: (input, init) => jar.fetch(input, init.method === 'GET' ? init : { ...init, headers: { ...init.headers, Origin: origin } }),
    });
    const { response } = await logIn(page, { email, password: PASSWORD, session: 'cookie' });
    page.setCookieSession({ csrfToken: response.session.csrfToken! });

    origin = LOOPBACK_IP;
    const refused = await failure(page.logout());
    expect(refused).toBeInstanceOf(HomingApiError);
    expect((refused as HomingApiError).code).toBe('csrf_failed');
    origin = PUBLIC;
    await expect(page.logout()).resolves.toBeUndefined();
  });
});
