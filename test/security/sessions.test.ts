import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { changePassword, logIn } from '../../src/client/account.js';
import { toBase64Url } from '../../src/protocol/encoding.js';
import { hashToken } from '../../src/adapters/random.js';
import { devices, sessions } from '../../src/db/schema.js';
import { createTestApp, TEST_KDF, TEST_ORIGIN, type TestApp } from '../harness.js';
import { attemptLogin, checkpoint, expectError, freshAddress, json, randomId, signUpAndLogIn, type Member } from './helpers.js';

let t: TestApp;
beforeEach(() => {
  t = createTestApp({ SESSION_TTL_HOURS: '2', SESSION_IDLE_HOURS: '1' });
});
afterEach(() => t.close());

const MINUTE = 60_000;
const COOKIE = '__Host-homing-session';
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const cookie = (value: string) => ({ Cookie: `${COOKIE}=${value}` });
const deviceBody = (n: number) => ({ name: `Web ${n}`, model: 'Browser', platform: 'other' as const, identifierHash: toBase64Url(new Uint8Array(32).fill(n)) });
const deviceCount = async (accountId: string) =>
  (await t.deps.db.select().from(devices).where(eq(devices.accountId, accountId))).length;

/** Logs in with a cookie session; returns the cookie's value, its Set-Cookie line and the CSRF token. */
async function cookieLogin(m: Member) {
  const res = await attemptLogin(t, { email: m.email, password: m.password, address: freshAddress(), session: 'cookie' });
  expect(res.status).toBe(200);
  const body = await json(res);
  // The session's cookie, and the trusted-client cookie (test/security/login-limits.test.ts).
  const setCookie = res.headers.getSetCookie();
  expect(setCookie).toHaveLength(2);
  const line = setCookie.find((l) => l.startsWith(`${COOKIE}=`))!;
  const [nameValue] = line.split(';');
  const [name, value] = nameValue!.split('=') as [string, string];
  expect(name).toBe(COOKIE);
  return { value, line, body, csrfToken: body.session.csrfToken as string };
}

const status = async (method: string, path: string, headers: Record<string, string>, body?: unknown) =>
  (await t.request(method, path, { headers, body })).status;

describe('errors', () => {
  it('a revoked session is refused as unauthorized', async () => {
    const m = await signUpAndLogIn(t);
    const other = await logIn(t.api(), { email: m.email, password: m.password });
    expect(await status('GET', '/v1/account', bearer(other.response.session.token!))).toBe(200);
    await m.api.revokeSession(other.response.session.id);
    await expectError(t.request('GET', '/v1/account', { headers: bearer(other.response.session.token!) }), 401, 'unauthorized');
  });

  it('a session past its absolute expiry is refused, even if used all along', async () => {
    const m = await signUpAndLogIn(t);
    for (const step of [50, 50, 19]) {
      t.clock.advance(step * MINUTE);
      expect(await status('GET', '/v1/account', bearer(m.token))).toBe(200);
    }
    t.clock.advance(1 * MINUTE); // 120 minutes after login: the 2-hour TTL
    await expectError(t.request('GET', '/v1/account', { headers: bearer(m.token) }), 401, 'unauthorized');
  });

  it('an idle session times out while an active one stays valid', async () => {
    const m = await signUpAndLogIn(t);
    const idle = await logIn(t.api(), { email: m.email, password: m.password });
    t.clock.advance(59 * MINUTE);
    expect(await status('GET', '/v1/auth/session', bearer(m.token))).toBe(200);
    t.clock.advance(1 * MINUTE);
    await expectError(t.request('GET', '/v1/account', { headers: bearer(idle.response.session.token!) }), 401, 'unauthorized');
    expect(await status('GET', '/v1/account', bearer(m.token))).toBe(200);
  });
});

describe('security', () => {
  it('stores session and device tokens only as hashes', async () => {
    const m = await signUpAndLogIn(t);
    const web = await cookieLogin(m);
    const { token: deviceToken } = await m.api.registerDevice(deviceBody(1));
    const rows = await t.deps.db.select().from(sessions).where(eq(sessions.accountId, m.accountId));
    expect(rows.map((r) => r.tokenHash).sort()).toEqual([hashToken(m.token), hashToken(web.value)].sort());
    const deviceRows = await t.deps.db.select().from(devices);
    expect(deviceRows.map((r) => r.tokenHash)).toEqual([hashToken(deviceToken)]);

    checkpoint(t);
    const file = readFileSync(join(t.dir, 'homing.db')).toString('latin1');
    const dump = JSON.stringify([rows, deviceRows]);
    for (const token of [m.token, web.value, deviceToken]) {
      for (const secret of [token, token.slice(3)]) {
        expect(dump).not.toContain(secret);
        expect(file).not.toContain(secret);
        for (const line of t.logLines) expect(line).not.toContain(secret);
      }
    }
    expect(file).toContain(hashToken(m.token)); // the scan does see what is stored
  });

  it("revoking another account's session is 404, like a random id, and that session lives on", async () => {
    const a = await signUpAndLogIn(t);
    const b = await signUpAndLogIn(t);
    const foreign = await expectError(t.request('DELETE', `/v1/sessions/${b.sessionId}`, { headers: bearer(a.token) }), 404, 'not_found');
    const random = await expectError(t.request('DELETE', `/v1/sessions/${randomId()}`, { headers: bearer(a.token) }), 404, 'not_found');
    expect(foreign.message).toBe(random.message);
    expect((await b.api.account()).accountId).toBe(b.accountId);
    expect((await b.api.sessions()).sessions.map((s) => s.id)).toContain(b.sessionId);
  });

  it('a password change signs out every other session, bearer and cookie alike', async () => {
    const m = await signUpAndLogIn(t);
    const laptop = await logIn(t.api(), { email: m.email, password: m.password });
    const web = await cookieLogin(m);
    const result = await changePassword(m.api, {
      accountId: m.accountId, email: m.email, masterKey: m.masterKey, currentPassword: m.password, newPassword: 'new one', kdf: TEST_KDF,
    });
    expect(result.revokedSessions).toBe(2);
    await expectError(t.request('GET', '/v1/account', { headers: bearer(laptop.response.session.token!) }), 401, 'unauthorized');
    await expectError(t.request('GET', '/v1/account', { headers: cookie(web.value) }), 401, 'unauthorized');
    expect((await m.api.account()).accountId).toBe(m.accountId);
    const left = await t.deps.db.select().from(sessions).where(eq(sessions.accountId, m.accountId));
    expect(left.map((s) => s.id)).toEqual([m.sessionId]);
  });

  it('a cookie login sets a __Host- HttpOnly Secure SameSite=Strict cookie and returns no token', async () => {
    const m = await signUpAndLogIn(t);
    const web = await cookieLogin(m);
    const attributes = web.line.split(';').slice(1).map((a) => a.trim());
    expect(attributes).toEqual(expect.arrayContaining(['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/']));
    expect(attributes.some((a) => /^domain=/i.test(a))).toBe(false);
    expect(web.value).toMatch(/^hs_/);
    expect(web.body.session.token).toBeUndefined();
    expect(JSON.stringify(web.body)).not.toContain(web.value);
    expect(web.body.session.kind).toBe('cookie');
    expect(web.csrfToken).toEqual(expect.any(String));
    expect(web.csrfToken.length).toBeGreaterThanOrEqual(32);

    const account = await t.request('GET', '/v1/account', { headers: cookie(web.value) });
    expect(account.status).toBe(200);
    expect((await json(account)).accountId).toBe(m.accountId);
    const session = await json(await t.request('GET', '/v1/auth/session', { headers: cookie(web.value) }));
    expect(session).toMatchObject({ kind: 'cookie', csrfToken: web.csrfToken });
    expect((await json(await t.request('GET', '/v1/auth/session', { headers: bearer(m.token) }))).csrfToken).toBeUndefined();
  });

  it('state changes with the cookie need the right CSRF token and, if sent, our own Origin', async () => {
    const m = await signUpAndLogIn(t);
    const web = await cookieLogin(m);
    const second = await cookieLogin(m);
    const post = (headers: Record<string, string>, n: number) => t.request('POST', '/v1/devices', { headers: { ...cookie(web.value), ...headers }, body: deviceBody(n) });

    await expectError(post({}, 1), 403, 'csrf_failed');
    await expectError(post({ 'X-CSRF-Token': 'A'.repeat(web.csrfToken.length) }, 2), 403, 'csrf_failed');
    await expectError(post({ 'X-CSRF-Token': second.csrfToken }, 3), 403, 'csrf_failed');
    await expectError(post({ 'X-CSRF-Token': web.csrfToken, Origin: 'https://evil.example' }, 4), 403, 'csrf_failed');
    await expectError(post({ 'X-CSRF-Token': web.csrfToken, Origin: 'null' }, 5), 403, 'csrf_failed');
    expect(await deviceCount(m.accountId)).toBe(0);

    expect((await post({ 'X-CSRF-Token': web.csrfToken, Origin: TEST_ORIGIN }, 6)).status).toBe(201);
    expect((await post({ 'X-CSRF-Token': web.csrfToken }, 7)).status).toBe(201);
    expect(await deviceCount(m.accountId)).toBe(2);
  });

  it('a cookie-session token is refused as a Bearer header, and a bearer token as the cookie', async () => {
    const m = await signUpAndLogIn(t);
    const web = await cookieLogin(m);
    await expectError(t.request('GET', '/v1/account', { headers: bearer(web.value) }), 401, 'unauthorized');
    await expectError(t.request('GET', '/v1/account', { headers: cookie(m.token) }), 401, 'unauthorized');
    // Controls: each works through its own channel.
    expect(await status('GET', '/v1/account', cookie(web.value))).toBe(200);
    expect(await status('GET', '/v1/account', bearer(m.token))).toBe(200);
  });

  it('logout needs the CSRF token, then clears the cookie and kills the session', async () => {
    const m = await signUpAndLogIn(t);
    const web = await cookieLogin(m);
    await expectError(t.request('POST', '/v1/auth/logout', { headers: cookie(web.value) }), 403, 'csrf_failed');
    expect(await status('GET', '/v1/account', cookie(web.value))).toBe(200);

    const res = await t.request('POST', '/v1/auth/logout', { headers: { ...cookie(web.value), 'X-CSRF-Token': web.csrfToken } });
    expect(res.status).toBe(204);
    const cleared = res.headers.getSetCookie().find((line) => line.startsWith(`${COOKIE}=`));
    expect(cleared).toBeDefined();
    expect(cleared!.split(';')[0]).toBe(`${COOKIE}=`);
    expect(/Max-Age=0(;|$)/i.test(cleared!) || /Expires=Thu, 01 Jan 1970/i.test(cleared!)).toBe(true);
    await expectError(t.request('GET', '/v1/account', { headers: cookie(web.value) }), 401, 'unauthorized');
    expect(await status('GET', '/v1/account', bearer(m.token))).toBe(200);
  });
});
