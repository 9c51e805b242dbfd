import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toBase64Url } from '../../src/protocol/encoding.js';
import { devices } from '../../src/db/schema.js';
import { createTestApp, type TestApp } from '../harness.js';
import { logIn } from '../../src/client/account.js';
import { expectError, json, randomId, signUpAndLogIn } from './helpers.js';

const expectOk = async (res: Response | Promise<Response>) => expect((await res).status).toBeLessThan(300);

let t: TestApp;
beforeEach(() => {
  t = createTestApp();
});
afterEach(() => t.close());

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const hardware = (n: number) => toBase64Url(new Uint8Array(32).fill(n));
const registration = (n: number, name = `Phone ${n}`) => ({ name, model: 'Pixel 9', platform: 'android' as const, identifierHash: hardware(n) });
const deviceRow = async (id: string) => (await t.deps.db.select().from(devices).where(eq(devices.id, id)))[0];

describe('errors', () => {
  it('a random device id is 404 not_found for GET, PATCH and DELETE', async () => {
    const m = await signUpAndLogIn(t);
    const id = randomId();
    await expectError(t.request('GET', `/v1/devices/${id}`, { headers: bearer(m.token) }), 404, 'not_found');
    await expectError(t.request('PATCH', `/v1/devices/${id}`, { headers: bearer(m.token), body: { name: 'x' } }), 404, 'not_found');
    await expectError(t.request('DELETE', `/v1/devices/${id}`, { headers: bearer(m.token) }), 404, 'not_found');
  });
});

describe('security', () => {
  it('a device name or model with NUL, other controls, or a right-to-left override is refused, on register and rename', async () => {
    const m = await signUpAndLogIn(t);
    const { device } = await m.api.registerDevice(registration(9, 'Plain'));
    for (const bad of ['evil\u0000phone', 'line\nbreak', 'evil\u202Egnp.exe', 'iso\u2067late', '\u200Fmark']) {
      const register = await expectError(t.request('POST', '/v1/devices', { headers: bearer(m.token), body: registration(10, bad) }), 400, 'validation_failed');
      expect(register.message).toContain('body.name');
      await expectError(t.request('POST', '/v1/devices', { headers: bearer(m.token), body: { ...registration(11), model: bad } }), 400, 'validation_failed');
      await expectError(t.request('PATCH', `/v1/devices/${device.id}`, { headers: bearer(m.token), body: { name: bad } }), 400, 'validation_failed');
    }
    expect((await deviceRow(device.id))!.name).toBe('Plain');
    // Ordinary names from anywhere stay fine.
    expect((await m.api.renameDevice(device.id, "Zoë's Pixel — 日本 📱")).name).toBe("Zoë's Pixel — 日本 📱");
  });

  it("a removed device's token stops working at once", async () => {
    const m = await signUpAndLogIn(t);
    const { device, token } = await m.api.registerDevice(registration(1));
    expect((await t.request('GET', '/v1/device', { headers: bearer(token) })).status).toBe(200);
    await m.api.removeDevice(device.id);
    await expectError(t.request('GET', '/v1/device', { headers: bearer(token) }), 401, 'unauthorized');
    expect(await deviceRow(device.id)).toBeUndefined();
  });

  it('a removed phone loses every credential at once: the session that registered it, a later login on it, and its device token', async () => {
    const phone = await signUpAndLogIn(t, { label: 'on the phone' });
    const { device, token } = await phone.api.registerDevice(registration(1));
    // Logging in again on the phone names it with its token; that session is the phone's too.
    const again = await logIn(t.api(), { email: phone.email, password: phone.password, deviceToken: token });
    const laptop = await logIn(t.api(), { email: phone.email, password: phone.password, label: 'laptop' });

    const sessions = (await phone.api.sessions()).sessions;
    const byId = new Map(sessions.map((s) => [s.id, s.deviceId]));
    expect(byId.get(phone.sessionId)).toBe(device.id);
    expect(byId.get(again.response.session.id)).toBe(device.id);
    expect(byId.get(laptop.response.session.id)).toBeNull();

    // The owner removes the phone from the laptop.
    await expectOk(t.request('DELETE', `/v1/devices/${device.id}`, { headers: bearer(laptop.response.session.token!) }));
    await expectError(t.request('GET', '/v1/account', { headers: bearer(phone.token) }), 401, 'unauthorized');
    await expectError(t.request('GET', '/v1/account', { headers: bearer(again.response.session.token!) }), 401, 'unauthorized');
    await expectError(t.request('GET', '/v1/device', { headers: bearer(token) }), 401, 'unauthorized');
    expect((await t.request('GET', '/v1/account', { headers: bearer(laptop.response.session.token!) })).status).toBe(200);
  });

  it('a phone that removes itself ends its own session with it, and the owner keeps theirs', async () => {
    const phone = await signUpAndLogIn(t);
    const { device } = await phone.api.registerDevice(registration(2));
    const laptop = await logIn(t.api(), { email: phone.email, password: phone.password, label: 'laptop' });
    await phone.api.removeDevice(device.id);
    await expectError(t.request('GET', '/v1/account', { headers: bearer(phone.token) }), 401, 'unauthorized');
    expect((await t.request('GET', '/v1/account', { headers: bearer(laptop.response.session.token!) })).status).toBe(200);
  });

  it("a login naming another account's device token, or a removed device's, is refused and opens no session", async () => {
    const a = await signUpAndLogIn(t);
    const b = await signUpAndLogIn(t);
    const { device, token } = await a.api.registerDevice(registration(3));
    const before = (await b.api.sessions()).sessions.length;
    const foreign = await logIn(t.api(), { email: b.email, password: b.password, deviceToken: token }).catch((e: unknown) => e);
    expect(foreign).toMatchObject({ status: 401, code: 'unauthorized' });
    expect((await b.api.sessions()).sessions).toHaveLength(before);

    await a.api.removeDevice(device.id);
    const removed = await logIn(t.api(), { email: a.email, password: a.password, deviceToken: token }).catch((e: unknown) => e);
    expect(removed).toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it("account B cannot read, rename or remove A's device, and cannot tell it exists", async () => {
    const a = await signUpAndLogIn(t);
    const b = await signUpAndLogIn(t);
    const { device, token } = await a.api.registerDevice(registration(1, 'Ada phone'));
    const before = await deviceRow(device.id);
    const missing = randomId();

    const attempts: [string, unknown?][] = [['GET'], ['PATCH', { name: 'pwned' }], ['DELETE']];
    for (const [method, body] of attempts) {
      const foreign = await expectError(t.request(method, `/v1/devices/${device.id}`, { headers: bearer(b.token), body }), 404, 'not_found');
      const random = await expectError(t.request(method, `/v1/devices/${missing}`, { headers: bearer(b.token), body }), 404, 'not_found');
      expect(foreign.message).toBe(random.message);
    }

    expect(await deviceRow(device.id)).toEqual(before);
    expect((await a.api.device(device.id)).name).toBe('Ada phone');
    expect((await t.request('GET', '/v1/device', { headers: bearer(token) })).status).toBe(200);
    expect((await b.api.devices()).devices).toEqual([]);
  });

  it('a device token is not a session token, and a session token is not a device token', async () => {
    const m = await signUpAndLogIn(t);
    const { token } = await m.api.registerDevice(registration(1));
    await expectError(t.request('GET', '/v1/devices', { headers: bearer(token) }), 401, 'unauthorized');
    await expectError(t.request('POST', '/v1/devices', { headers: bearer(token), body: registration(2) }), 401, 'unauthorized');
    await expectError(t.request('GET', '/v1/account', { headers: bearer(token) }), 401, 'unauthorized');
    await expectError(t.request('GET', '/v1/device', { headers: bearer(m.token) }), 401, 'unauthorized');
    // Relabelling the secret part under the other prefix does not help either.
    await expectError(t.request('GET', '/v1/devices', { headers: bearer(`hs_${token.slice(3)}`) }), 401, 'unauthorized');
    await expectError(t.request('GET', '/v1/device', { headers: bearer(`hd_${m.token.slice(3)}`) }), 401, 'unauthorized');
    expect((await t.deps.db.select().from(devices)).length).toBe(1);
    // Controls: each token works where it belongs.
    expect((await t.request('GET', '/v1/devices', { headers: bearer(m.token) })).status).toBe(200);
    expect((await t.request('GET', '/v1/device', { headers: bearer(token) })).status).toBe(200);
  });

  it('a device token acts only for its own device, even when another account registers the same hardware', async () => {
    const a = await signUpAndLogIn(t);
    const b = await signUpAndLogIn(t);
    const first = await a.api.registerDevice(registration(1, 'A first'));
    const second = await a.api.registerDevice(registration(2, 'A second'));
    const theirs = await b.api.registerDevice(registration(1, 'B same hardware'));
    expect(theirs.device.id).not.toBe(first.device.id);

    for (const [token, id, name] of [
      [first.token, first.device.id, 'A first'],
      [second.token, second.device.id, 'A second'],
      [theirs.token, theirs.device.id, 'B same hardware'],
    ] as const) {
      const res = await t.request('GET', '/v1/device', { headers: bearer(token) });
      expect(res.status).toBe(200);
      expect(await json(res)).toMatchObject({ id, name });
    }
    expect((await a.api.devices()).devices.map((d) => d.name).sort()).toEqual(['A first', 'A second']);
    expect((await b.api.devices()).devices.map((d) => d.id)).toEqual([theirs.device.id]);
    expect((await deviceRow(first.device.id))!.accountId).toBe(a.accountId);
  });

  it('stores the hardware identifier hash keyed again, never as submitted', async () => {
    const m = await signUpAndLogIn(t);
    const submitted = hardware(7);
    const { device } = await m.api.registerDevice(registration(7));
    const row = (await deviceRow(device.id))!;
    expect(row.identifierHash).toEqual(expect.any(String));
    expect(row.identifierHash).not.toBe(submitted);
    expect(JSON.stringify(row)).not.toContain(submitted);
  });
});
