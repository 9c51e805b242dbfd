import { expect } from 'vitest';
import { logIn, signUp } from '../../src/client/account.js';
import { type ApiClient, type Challenge, createApiClient, type Proof } from '../../src/client/api.js';
import { derivePasswordSecrets } from '../../src/client/crypto/account-keys.js';
import { fromBase64Url, randomBytes, toBase64Url } from '../../src/protocol/encoding.js';
import { loginChallengeMessage } from '../../src/protocol/login-challenge.js';
import { signDetached } from '../../src/protocol/signing.js';
import { ERROR_CODES } from '../../src/protocol/errors.js';
import { TEST_KDF, TEST_ORIGIN, type TestApp, uniqueEmail } from '../harness.js';

// Shared by the security and HTTP tests. Everything goes through the real app; these only save
// typing. Addresses are sent as X-Forwarded-For (the harness trusts it) so that each test can keep
// its abuse limits apart from the others'.

let addressCounter = 0;
/** A fresh client address, distinct from every other one this file hands out. */
export const freshAddress = () => {
  const n = ++addressCounter;
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
};

/** An SDK client whose every request comes from the given address. */
export function apiAt(t: TestApp, address: string, tokens: { sessionToken?: string; deviceToken?: string } = {}): ApiClient {
  return createApiClient({
    baseUrl: TEST_ORIGIN,
    fetch: (input, init) =>
      t.app.request(input, { ...init, headers: { ...(init.headers as Record<string, string>), 'X-Forwarded-For': address } }),
    ...tokens,
  });
}

export interface Member {
  api: ApiClient;
  email: string;
  password: string;
  accountId: string;
  recoveryKey: string;
  sessionId: string;
  token: string;
  masterKey: Uint8Array;
}

/** Signs up a fresh account and logs it in with a bearer session. */
export async function signUpAndLogIn(
  t: TestApp,
  opts: { email?: string; password?: string; phoneNumber?: string; address?: string; label?: string } = {},
): Promise<Member> {
  const email = opts.email ?? uniqueEmail();
  const password = opts.password ?? `pw-${email}`;
  const api = opts.address ? apiAt(t, opts.address) : t.api();
  const { accountId, recoveryKey } = await signUp(api, { birthYear: 1990, email, password, phoneNumber: opts.phoneNumber, kdf: TEST_KDF });
  const { response, keys } = await logIn(api, { email, password, label: opts.label });
  return {
    api,
    email,
    password,
    accountId,
    recoveryKey,
    sessionId: response.session.id,
    token: response.session.token!,
    masterKey: keys.masterKey,
  };
}

export async function json<T = any>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

/** POST /v1/auth/challenge from an address; returns the raw response. */
export function requestChallenge(t: TestApp, email: string, address: string, method: 'password' | 'recovery' = 'password') {
  return t.request('POST', '/v1/auth/challenge', { body: { email, method }, headers: { 'X-Forwarded-For': address } });
}

/** The password-derived Ed25519 seed for the salt and parameters a challenge names. */
export async function loginSeedFor(challenge: Challenge, password: string) {
  if (!challenge.kdf) throw new Error('challenge has no kdf');
  const { kdf } = challenge;
  return (await derivePasswordSecrets(password, { salt: fromBase64Url(kdf.salt), opsLimit: kdf.opsLimit, memLimit: kdf.memLimit }))
    .loginSeed;
}

/** Signs a challenge for an arbitrary origin (the SDK refuses to sign for any but its own). */
export function signFor(challenge: Challenge, seed: Uint8Array, origin = TEST_ORIGIN): Proof {
  const message = loginChallengeMessage({
    origin,
    challengeId: challenge.challengeId,
    challenge: fromBase64Url(challenge.challenge),
  });
  return { challengeId: challenge.challengeId, signature: toBase64Url(signDetached(seed, message)) };
}

export const randomSeed = () => randomBytes(32);

export function postLogin(t: TestApp, proof: Proof, address: string, session: 'bearer' | 'cookie' = 'bearer') {
  return t.request('POST', '/v1/auth/login', { body: { ...proof, session }, headers: { 'X-Forwarded-For': address } });
}

/**
 * One whole login attempt as a client makes it: challenge, derive, sign, log in. Returns the
 * response that ended it (the challenge's, if that was refused).
 */
export async function attemptLogin(
  t: TestApp,
  input: { email: string; password: string; address: string; session?: 'bearer' | 'cookie' },
): Promise<Response> {
  const challengeRes = await requestChallenge(t, input.email, input.address);
  if (challengeRes.status !== 200) return challengeRes;
  const challenge = await json<Challenge>(challengeRes);
  const seed = await loginSeedFor(challenge, input.password);
  return postLogin(t, signFor(challenge, seed), input.address, input.session);
}

/**
 * Asserts an error response in the one error shape: status, code (from the closed set),
 * a message, and a requestId equal to the X-Request-Id header. Returns the error object.
 */
export async function expectError(resOrPromise: Response | Promise<Response>, status: number, code: string) {
  const res = await resOrPromise;
  const body = await json<{ error: { code: string; message: string; requestId: string } }>(res);
  expect({ status: res.status, code: body.error?.code }).toEqual({ status, code });
  expect(ERROR_CODES as readonly string[]).toContain(body.error.code);
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'requestId']);
  expect(typeof body.error.message).toBe('string');
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(body.error.requestId).toBeTruthy();
  expect(res.headers.get('X-Request-Id')).toBe(body.error.requestId);
  return { ...body.error, headers: res.headers };
}

/** A random 22-character id, the shape of every id the server hands out. */
export const randomId = () => toBase64Url(randomBytes(16));

/** Moves everything from the WAL into the main database file, so a scan of that file sees it all. */
export function checkpoint(t: TestApp) {
  (t.deps.db as unknown as { $client: { pragma(source: string): unknown } }).$client.pragma('wal_checkpoint(TRUNCATE)');
}
