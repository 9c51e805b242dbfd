import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAccountKeys } from '../../src/client/crypto/account-keys.js';
import { randomBytes, toBase64Url } from '../../src/protocol/encoding.js';
import { accounts } from '../../src/db/schema.js';
import { ERROR_CODES } from '../../src/protocol/errors.js';
import { statusOf } from '../../src/http/errors.js';
import { createTestApp, TEST_KDF, TEST_ORIGIN, type TestApp, uniqueEmail } from '../harness.js';
import { expectError, json, signUpAndLogIn } from '../security/helpers.js';

let t: TestApp;
beforeEach(() => {
  t = createTestApp({ MAX_BODY_BYTES: '2048' });
});
afterEach(() => t.close());

async function signupBody() {
  const accountId = toBase64Url(randomBytes(16));
  const { bundle } = await createAccountKeys({ accountId, password: 'pw', kdf: TEST_KDF });
  return { accountId, email: uniqueEmail(), birthYear: 1990, ...bundle };
}

const accountCount = async () => (await t.deps.db.select().from(accounts)).length;

/** A request with a body sent exactly as given, under the given content type (or none). */
const rawPost = (path: string, body: string, contentType?: string) =>
  t.app.request(`${TEST_ORIGIN}${path}`, { method: 'POST', headers: contentType ? { 'Content-Type': contentType } : {}, body });

describe('errors', () => {
  it('refuses an oversized body with 413 payload_too_large and writes nothing', async () => {
    const body = JSON.stringify(await signupBody());
    const padded = body + ' '.repeat(4096 - body.length); // still valid JSON for the same account
    expect(padded.length).toBe(4096);
    await expectError(t.request('POST', '/v1/accounts', { raw: padded }), 413, 'payload_too_large');
    expect(await accountCount()).toBe(0);
    // Control: the same account, unpadded, is accepted.
    expect((await t.request('POST', '/v1/accounts', { raw: body })).status).toBe(201);
    expect(await accountCount()).toBe(1);
  });

  it('answers malformed JSON with 400 malformed_json', async () => {
    for (const raw of ['{"email": ', '{"email":"a@b.org",}', "{'email':'a@b.org'}", 'nul']) {
      await expectError(t.request('POST', '/v1/auth/challenge', { raw }), 400, 'malformed_json');
    }
  });

  it('refuses unknown fields, naming them', async () => {
    const res = await expectError(
      t.request('POST', '/v1/auth/challenge', { body: { email: uniqueEmail(), method: 'password', isAdmin: true } }),
      400,
      'validation_failed',
    );
    expect(res.message).toContain('isAdmin');
    const signup = await expectError(t.request('POST', '/v1/accounts', { body: { ...(await signupBody()), role: 'owner' } }), 400, 'validation_failed');
    expect(signup.message).toContain('role');
    expect(await accountCount()).toBe(0);
  });

  it('names the path of an invalid field', async () => {
    const email = await expectError(t.request('POST', '/v1/auth/challenge', { body: { email: 'not an email' } }), 400, 'validation_failed');
    expect(email.message).toContain('body.email');
    const good = await signupBody();
    const nested = await expectError(
      t.request('POST', '/v1/accounts', { body: { ...good, kdf: { ...good.kdf, opsLimit: 0 } } }),
      400,
      'validation_failed',
    );
    expect(nested.message).toContain('body.kdf.opsLimit');
    const login = await expectError(
      t.request('POST', '/v1/auth/login', { body: { challengeId: 'A'.repeat(22), signature: 'short' } }),
      400,
      'validation_failed',
    );
    expect(login.message).toContain('body.signature');
    const m = await signUpAndLogIn(t);
    const param = await expectError(
      t.request('GET', '/v1/devices/not-an-id', { headers: { Authorization: `Bearer ${m.token}` } }),
      400,
      'validation_failed',
    );
    expect(param.message).toContain('deviceId');
  });

  it('refuses a body that is not application/json with 415, even if it parses as JSON', async () => {
    const body = JSON.stringify({ email: uniqueEmail(), method: 'password' });
    await expectError(rawPost('/v1/auth/challenge', body, 'text/plain'), 415, 'unsupported_media_type');
    await expectError(rawPost('/v1/auth/challenge', body, 'application/x-www-form-urlencoded'), 415, 'unsupported_media_type');
    await expectError(rawPost('/v1/auth/challenge', body), 415, 'unsupported_media_type');
    expect((await rawPost('/v1/auth/challenge', body, 'application/json')).status).toBe(200); // control
  });

  it('answers an unknown route with 404 not_found in the error shape', async () => {
    await expectError(t.request('GET', '/v1/nothing-here'), 404, 'not_found');
    await expectError(t.request('POST', '/v2/auth/login', { body: {} }), 404, 'not_found');
  });

  it('gives every response a distinct X-Request-Id, equal to the requestId of its error body', async () => {
    const m = await signUpAndLogIn(t);
    const responses = [
      await t.request('GET', '/healthz'),
      await t.request('GET', '/v1/account', { headers: { Authorization: `Bearer ${m.token}` } }),
      await t.request('POST', '/v1/auth/challenge', { body: { email: m.email } }),
      await t.request('GET', '/v1/account'),
      await t.request('GET', '/nope'),
      await t.request('POST', '/v1/auth/challenge', { raw: '{' }),
    ];
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 401, 404, 400]);
    const ids = responses.map((r) => r.headers.get('X-Request-Id'));
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect(new Set(ids).size).toBe(ids.length);
    for (const res of responses.filter((r) => r.status >= 400)) {
      expect((await json(res)).error.requestId).toBe(res.headers.get('X-Request-Id'));
    }
  });

  it('answers an unexpected error with a plain 500 that leaks nothing, and logs it under the request id', async () => {
    t.app.get('/test-boom', () => {
      throw new Error('SELECT * FROM accounts /secret/path');
    });
    const res = await t.request('GET', '/test-boom');
    const text = await res.clone().text();
    const error = await expectError(res, 500, 'internal_error');
    expect(error.message).toBe('internal error');
    for (const leak of ['SELECT', 'secret', 'accounts', 'at ', '.ts:', 'Error:']) expect(text).not.toContain(leak);

    const logged = t.logLines.map((line) => JSON.parse(line)).filter((line) => line.message === 'unhandled error');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 'error', requestId: error.requestId });
  });

  it('answers every error with a code from the closed set and that code\'s own status', async () => {
    t.app.get('/test-boom-codes', () => {
      throw new TypeError('x');
    });
    const responses = await Promise.all([
      t.request('POST', '/v1/auth/challenge', { raw: '{' }),
      t.request('POST', '/v1/auth/challenge', { body: { email: 'x' } }),
      rawPost('/v1/auth/challenge', '{}', 'text/plain'),
      t.request('POST', '/v1/auth/challenge', { raw: 'x'.repeat(3000) }),
      t.request('GET', '/v1/account'),
      t.request('POST', '/v1/auth/login', { body: { challengeId: 'A'.repeat(22), signature: 'A'.repeat(86) } }),
      t.request('GET', '/nope'),
      t.request('GET', '/test-boom-codes'),
    ]);
    const seen = new Set<string>();
    for (const res of responses) {
      const { code } = (await json(res)).error;
      expect(ERROR_CODES).toContain(code);
      expect(res.status).toBe(statusOf(code));
      seen.add(code);
    }
    expect(seen.size).toBe(responses.length);
  });
});

describe('security', () => {
  it('sets nosniff, a deny-all CSP, DENY framing and no-store on API responses, errors included', async () => {
    t.app.get('/test-boom-2', () => {
      throw new Error('boom');
    });
    const m = await signUpAndLogIn(t);
    const responses = await Promise.all([
      t.request('GET', '/v1/account', { headers: { Authorization: `Bearer ${m.token}` } }),
      t.request('POST', '/v1/auth/challenge', { body: { email: m.email } }),
      t.request('GET', '/v1/account'),
      t.request('GET', '/nope'),
      t.request('POST', '/v1/auth/challenge', { raw: 'x'.repeat(3000) }),
      t.request('GET', '/test-boom-2'),
    ]);
    expect(responses.map((r) => r.status)).toEqual([200, 200, 401, 404, 413, 500]);
    for (const res of responses) {
      expect(res.headers.get('X-Content-Type-Options')).toBe('nosniff');
      expect(res.headers.get('Content-Security-Policy')).toMatch(/(^|;\s*)default-src 'none'(;|$)/);
      expect(res.headers.get('X-Frame-Options')).toBe('DENY');
      expect(res.headers.get('Cache-Control')).toBe('no-store');
    }
  });
});
