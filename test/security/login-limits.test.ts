import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { logIn, signUp } from '../../src/client/account.js';
import type { Challenge } from '../../src/client/api.js';
import { TRUSTED_CLIENT_COOKIE } from '../../src/protocol/headers.js';
import { createTestApp, TEST_KDF, type TestApp, uniqueEmail } from '../harness.js';
import {
  apiAt, attemptLogin, expectError, freshAddress, json, loginSeedFor, postLogin, randomSeed, requestChallenge, signFor,
  signUpAndLogIn,
} from './helpers.js';

// Login limits seen from the attacker's side (src/features/auth/login-limits.ts): a stranger who
// knows the email must not be able to lock its owner out, while guessing stays bounded.

let t: TestApp;
beforeEach(() => {
  t = createTestApp();
});
afterEach(() => t.close());

/** How a client proves it logged in before: the SDK's body field, or the browser's cookie. */
type Trust = { trustedClient?: string; cookie?: string };

const challengeWith = (app: TestApp, email: string, address: string, trust: Trust = {}) =>
  app.request('POST', '/v1/auth/challenge', {
    body: { email, method: 'password', ...(trust.trustedClient ? { trustedClient: trust.trustedClient } : {}) },
    headers: { 'X-Forwarded-For': address, ...(trust.cookie ? { Cookie: trust.cookie } : {}) },
  });

/** A whole login attempt by a client holding (or not) a trusted-client token. */
async function loginWith(app: TestApp, input: { email: string; password: string; address: string } & Trust) {
  const res = await challengeWith(app, input.email, input.address, input);
  if (res.status !== 200) return res;
  const challenge = await json<Challenge>(res);
  const proof = signFor(challenge, await loginSeedFor(challenge, input.password));
  return app.request('POST', '/v1/auth/login', {
    body: { ...proof, ...(input.trustedClient ? { trustedClient: input.trustedClient } : {}) },
    headers: { 'X-Forwarded-For': input.address, ...(input.cookie ? { Cookie: input.cookie } : {}) },
  });
}

/** A stranger's guess: a challenge, then a signature by a key that is not the account's. */
async function strangerGuess(app: TestApp, email: string, address: string) {
  const res = await requestChallenge(app, email, address);
  if (res.status !== 200) return res;
  return postLogin(app, signFor(await json<Challenge>(res), randomSeed()), address);
}

const signUpOnly = async (app: TestApp) => {
  const m = { email: uniqueEmail('owner'), password: 'the right one' };
  await signUp(app.api(), { birthYear: 1990, ...m, kdf: TEST_KDF });
  return m;
};

const retryAfterOf = (res: { headers: Headers }) => Number(res.headers.get('Retry-After'));

describe('a stranger who knows the email cannot lock its owner out', () => {
  it('a flood of challenges and bad signatures from 50 addresses leaves the owner logging in from their own address', async () => {
    const owner = await signUpOnly(t);
    for (let i = 0; i < 50; i++) {
      const address = freshAddress();
      expect((await requestChallenge(t, owner.email, address)).status).toBe(200);
      await expectError(strangerGuess(t, owner.email, address), 401, 'invalid_credentials');
    }
    expect((await attemptLogin(t, { ...owner, address: freshAddress() })).status).toBe(200);
  });

  it('once a distributed attacker exhausts the account-wide limit, clients that logged in before still get in and a new one waits', async () => {
    const owner = await signUpOnly(t);
    const phone = await loginWith(t, { ...owner, address: freshAddress() });
    const { trustedClient } = await json<{ trustedClient: string }>(phone);
    expect(trustedClient).toMatch(/^htc_/);
    const browser = await t.request('POST', '/v1/auth/login', {
      body: { ...signFor(...(await challengeAndSeed(owner))), session: 'cookie' },
      headers: { 'X-Forwarded-For': freshAddress() },
    });
    const cookie = browser.headers.getSetCookie().find((c) => c.startsWith(`${TRUSTED_CLIENT_COOKIE}=`))!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/Secure/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(await json(browser)).not.toHaveProperty('trustedClient'); // kept from the page's scripts
    const other = await signUpAndLogIn(t);
    const othersToken = (await json<{ trustedClient: string }>(await loginWith(t, { ...other, address: freshAddress() }))).trustedClient;

    // 101 failures from 101 addresses: one past the 100 free ones for the account.
    for (let i = 0; i < 101; i++) await expectError(strangerGuess(t, owner.email, freshAddress()), 401, 'invalid_credentials');

    const stranger = await expectError(challengeWith(t, owner.email, freshAddress()), 429, 'rate_limited');
    expect(retryAfterOf(stranger)).toBe(1);
    const tampered = `${trustedClient.slice(0, -1)}${trustedClient.endsWith('A') ? 'B' : 'A'}`;
    await expectError(challengeWith(t, owner.email, freshAddress(), { trustedClient: tampered }), 429, 'rate_limited');
    await expectError(challengeWith(t, owner.email, freshAddress(), { trustedClient: othersToken }), 429, 'rate_limited');

    // The owner's phone, now on another network, and their browser, with its cookie.
    expect((await loginWith(t, { ...owner, address: freshAddress(), trustedClient })).status).toBe(200);
    const cookieHeader = cookie.split(';')[0]!;
    expect((await loginWith(t, { ...owner, address: freshAddress(), cookie: cookieHeader })).status).toBe(200);
  });

  it("the SDK keeps the token from its last login and gets in with it while the account's limit is exhausted", async () => {
    const owner = await signUpOnly(t);
    const first = await logIn(apiAt(t, freshAddress()), owner);
    expect(first.response.trustedClient).toMatch(/^htc_/);
    for (let i = 0; i < 101; i++) await expectError(strangerGuess(t, owner.email, freshAddress()), 401, 'invalid_credentials');

    await expect(logIn(apiAt(t, freshAddress()), owner)).rejects.toMatchObject({ status: 429, code: 'rate_limited' });
    const again = await logIn(apiAt(t, freshAddress()), { ...owner, trustedClient: first.response.trustedClient });
    expect(again.response.accountId).toBe(first.response.accountId);
  });

  it('a stolen trusted-client token meets a strict limit of its own', async () => {
    const owner = await signUpOnly(t);
    const { trustedClient } = await json<{ trustedClient: string }>(await loginWith(t, { ...owner, address: freshAddress() }));
    for (let i = 0; i < 6; i++) {
      const res = await loginWith(t, { ...owner, password: `guess ${i}`, address: freshAddress(), trustedClient });
      await expectError(res, 401, 'invalid_credentials');
    }
    await expectError(loginWith(t, { ...owner, address: freshAddress(), trustedClient }), 429, 'rate_limited');
    // Only that token is held back: the owner's other clients, and strangers, are not.
    expect((await attemptLogin(t, { ...owner, address: freshAddress() })).status).toBe(200);
  });

  it('brute force from one address is blocked, with waits that double, even for the right password', async () => {
    const owner = await signUpOnly(t);
    const attacker = freshAddress();
    const early = await json<Challenge>(await requestChallenge(t, owner.email, attacker));
    const earlyProof = signFor(early, await loginSeedFor(early, owner.password));
    // 5 free failures; each one after starts a wait twice as long as the last.
    for (let i = 0; i < 5; i++) await expectError(strangerGuess(t, owner.email, attacker), 401, 'invalid_credentials');
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      await expectError(strangerGuess(t, owner.email, attacker), 401, 'invalid_credentials');
      const blocked = await expectError(attemptLogin(t, { ...owner, address: attacker }), 429, 'rate_limited');
      waits.push(retryAfterOf(blocked));
      if (i === 0) await expectError(postLogin(t, earlyProof, attacker), 429, 'rate_limited');
      t.clock.advance(60_000); // past the wait, and past the minute's challenge window
    }
    expect(waits).toEqual([1, 2, 4, 8, 16]);
    await expectError(strangerGuess(t, owner.email, attacker), 401, 'invalid_credentials');
    expect(retryAfterOf(await expectError(attemptLogin(t, { ...owner, address: attacker }), 429, 'rate_limited'))).toBe(32);
    // Meanwhile the owner, anywhere else, logs in.
    expect((await attemptLogin(t, { ...owner, address: freshAddress() })).status).toBe(200);
  });

  it('an unknown email meets every one of these limits exactly as a known one does', async () => {
    /** What an attacker sees of one email under all of the above: every status, code and Retry-After. */
    const observe = async (app: TestApp, email: string) => {
      const seen: string[] = [];
      const note = async (res: Response) => {
        const { error } = res.status === 200 ? { error: undefined } : await json(res.clone());
        seen.push(`${res.status} ${error?.code ?? ''} ${res.headers.get('Retry-After') ?? ''}`);
      };
      for (let i = 0; i < 40; i++) await note(await strangerGuess(app, email, freshAddress()));
      const attacker = freshAddress();
      for (let i = 0; i < 9; i++) {
        await note(await strangerGuess(app, email, attacker));
        app.clock.advance(2_000);
      }
      for (let i = 0; i < 70; i++) await note(await strangerGuess(app, email, freshAddress()));
      await note(await challengeWith(app, email, freshAddress()));
      await note(await challengeWith(app, email, freshAddress(), { trustedClient: `htc_${'A'.repeat(22)}.99999999999999.${'A'.repeat(43)}` }));
      app.clock.advance(60_000);
      for (let i = 0; i < 3; i++) await note(await strangerGuess(app, email, freshAddress()));
      return seen;
    };
    const known = await observe(t, (await signUpOnly(t)).email);
    const other = createTestApp();
    try {
      const unknown = await observe(other, uniqueEmail('ghost'));
      expect(unknown).toEqual(known);
    } finally {
      other.close();
    }
    expect(new Set(known.map((s) => s.split(' ')[0]))).toEqual(new Set(['401', '429']));
  });
});

describe('limits that stay as they were', () => {
  it('an unknown email locks out after exactly as many attempts from one address, with the same Retry-After', async () => {
    const m = await signUpAndLogIn(t);
    const attemptsUntilLocked = async (email: string, address: string) => {
      for (let attempt = 1; attempt <= 15; attempt++) {
        const res = await attemptLogin(t, { email, password: 'not it', address });
        if (res.status === 429) return { attempt, ...(await expectError(res, 429, 'rate_limited')) };
        await expectError(res, 401, 'invalid_credentials');
      }
      throw new Error('never locked');
    };
    const known = await attemptsUntilLocked(m.email, freshAddress());
    const unknown = await attemptsUntilLocked(uniqueEmail('ghost'), freshAddress());
    expect(unknown.attempt).toBe(known.attempt);
    expect(known.attempt).toBe(7);
    expect(unknown.message).toBe(known.message);
    expect(unknown.headers.get('Retry-After')).toBe(known.headers.get('Retry-After'));
  });

  it('counts failures against the same account and address whatever the case of the email', async () => {
    const m = await signUpOnly(t);
    const address = freshAddress();
    const variants = [m.email.toUpperCase(), m.email.replace(/^./, (c) => c.toUpperCase()), m.email.replace('example', 'EXAMPLE')];
    for (let i = 0; i < 6; i++) {
      await expectError(attemptLogin(t, { email: variants[i % 3]!, password: 'wrong', address }), 401, 'invalid_credentials');
    }
    await expectError(attemptLogin(t, { ...m, address }), 429, 'rate_limited');
  });

  it('backs off per address across many different emails', async () => {
    const m = await signUpAndLogIn(t);
    const address = freshAddress();
    for (let i = 0; i < 21; i++) {
      await expectError(attemptLogin(t, { email: uniqueEmail('spray'), password: 'guess', address }), 401, 'invalid_credentials');
    }
    await expectError(attemptLogin(t, { ...m, address }), 429, 'rate_limited');
    expect((await attemptLogin(t, { ...m, address: freshAddress() })).status).toBe(200);
  });

  it('limits challenges to 10 a minute per email and address, then resets; other addresses go on', async () => {
    const email = uniqueEmail();
    const address = freshAddress();
    for (let i = 0; i < 10; i++) expect((await requestChallenge(t, email, address)).status).toBe(200);
    const limited = await expectError(requestChallenge(t, email, address), 429, 'rate_limited');
    const retryAfter = retryAfterOf(limited);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect((await requestChallenge(t, uniqueEmail(), address)).status).toBe(200);
    expect((await requestChallenge(t, email, freshAddress())).status).toBe(200);
    t.clock.advance(retryAfter * 1000);
    expect((await requestChallenge(t, email, address)).status).toBe(200);
  });

  it('limits challenges for one email to 120 a minute across addresses, except for clients that logged in before', async () => {
    const owner = await signUpOnly(t);
    const { trustedClient } = await json<{ trustedClient: string }>(await loginWith(t, { ...owner, address: freshAddress() }));
    for (let i = 1; i < 120; i++) expect((await requestChallenge(t, owner.email, freshAddress())).status).toBe(200);
    await expectError(requestChallenge(t, owner.email, freshAddress()), 429, 'rate_limited');
    expect((await challengeWith(t, owner.email, freshAddress(), { trustedClient })).status).toBe(200);
  });

  it('limits challenges to 30 a minute per address, across emails', async () => {
    const address = freshAddress();
    for (let i = 0; i < 30; i++) expect((await requestChallenge(t, uniqueEmail(), address)).status).toBe(200);
    await expectError(requestChallenge(t, uniqueEmail(), address), 429, 'rate_limited');
    expect((await requestChallenge(t, uniqueEmail(), freshAddress())).status).toBe(200);
  });
});

/** A fresh challenge for the owner and the seed that signs it. */
async function challengeAndSeed(owner: { email: string; password: string }): Promise<[Challenge, Uint8Array]> {
  const challenge = await json<Challenge>(await requestChallenge(t, owner.email, freshAddress()));
  return [challenge, await loginSeedFor(challenge, owner.password)];
}
