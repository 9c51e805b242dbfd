import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { changePassword, logIn, logInWithRecoveryKey, signUp } from '../../src/client/account.js';
import { HomingApiError } from '../../src/client/api.js';
import { toBase64Url } from '../../src/protocol/encoding.js';
import { createTestApp, TEST_KDF, type TestApp, uniqueEmail } from '../harness.js';

let t: TestApp;
beforeEach(() => {
  t = createTestApp();
});
afterEach(() => t.close());

const identifierHash = (n: number) => toBase64Url(new Uint8Array(32).fill(n));

describe('account flow through the SDK (happy path)', () => {
  it('signs up, logs in, registers a device and lists it', async () => {
    const api = t.api();
    const email = uniqueEmail('ada');
    const { accountId, recoveryKey } = await signUp(api, { birthYear: 1990, email, password: 'correct horse', phoneNumber: '+447700900123', kdf: TEST_KDF });
    expect(recoveryKey).toMatch(/^[0-9a-f]{8}(-[0-9a-f]{8}){7}$/);

    const { response, keys } = await logIn(api, { email, password: 'correct horse', label: 'test' });
    expect(response.accountId).toBe(accountId);
    expect(response.session.token).toMatch(/^hs_/);
    expect(keys.masterKey).toHaveLength(32);

    expect(await api.account()).toMatchObject({ accountId, email, phoneNumber: '+447700900123' });

    const registered = await api.registerDevice({ name: 'Pixel', model: 'Pixel 9', platform: 'android', identifierHash: identifierHash(1) });
    expect(registered.token).toMatch(/^hd_/);
    const { devices } = await api.devices();
    expect(devices.map((d) => d.id)).toEqual([registered.device.id]);
    expect(devices[0]).toMatchObject({ name: 'Pixel', model: 'Pixel 9', platform: 'android', lastSeenAt: null });

    const device = t.api({ deviceToken: registered.token });
    t.clock.advance(5_000);
    expect((await device.thisDevice()).id).toBe(registered.device.id);
    expect((await api.device(registered.device.id)).lastSeenAt).toBe(t.clock.now());
  });

  it('renames and removes a device', async () => {
    const api = t.api();
    const email = uniqueEmail();
    await signUp(api, { birthYear: 1990, email, password: 'pw', kdf: TEST_KDF });
    await logIn(api, { email, password: 'pw' });
    const { device } = await api.registerDevice({ name: 'Old', model: 'M', platform: 'ios', identifierHash: identifierHash(2) });
    expect((await api.renameDevice(device.id, 'New')).name).toBe('New');
    const laptop = t.api();
    await logIn(laptop, { email, password: 'pw' });
    await api.removeDevice(device.id);
    expect((await laptop.devices()).devices).toEqual([]);
    // The session that registered the phone ran on it, and ended with it.
    await expect(api.devices()).rejects.toMatchObject({ status: 401 });
  });

  it('re-registering the same hardware keeps the id and replaces the token', async () => {
    const api = t.api();
    const email = uniqueEmail();
    await signUp(api, { birthYear: 1990, email, password: 'pw', kdf: TEST_KDF });
    await logIn(api, { email, password: 'pw' });
    const first = await api.registerDevice({ name: 'A', model: 'M', platform: 'android', identifierHash: identifierHash(3) });
    const second = await api.registerDevice({ name: 'A again', model: 'M', platform: 'android', identifierHash: identifierHash(3) });
    expect(second.device.id).toBe(first.device.id);
    await expect(t.api({ deviceToken: first.token }).thisDevice()).rejects.toMatchObject({ status: 401 });
    expect((await t.api({ deviceToken: second.token }).thisDevice()).name).toBe('A again');
  });

  it('changes the password: new one works, old one fails, other sessions are signed out', async () => {
    const email = uniqueEmail();
    const phone = t.api();
    await signUp(phone, { birthYear: 1990, email, password: 'old password', kdf: TEST_KDF });
    const laptop = t.api();
    await logIn(laptop, { email, password: 'old password' });
    const { response, keys } = await logIn(phone, { email, password: 'old password' });

    const result = await changePassword(phone, {
      accountId: response.accountId,
      email,
      masterKey: keys.masterKey,
      currentPassword: 'old password',
      newPassword: 'new password',
      kdf: TEST_KDF,
    });
    expect(result.revokedSessions).toBe(1);
    await expect(laptop.account()).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
    expect((await phone.account()).email).toBe(email);

    await expect(logIn(t.api(), { email, password: 'old password' })).rejects.toMatchObject({ code: 'invalid_credentials' });
    const again = await logIn(t.api(), { email, password: 'new password' });
    expect(again.keys.masterKey).toEqual(keys.masterKey);
  });

  it('recovers with the recovery key and sets a new password', async () => {
    const email = uniqueEmail();
    const api = t.api();
    const { recoveryKey } = await signUp(api, { birthYear: 1990, email, password: 'forgotten', kdf: TEST_KDF });
    const first = await logIn(t.api(), { email, password: 'forgotten' });

    const recovered = await logInWithRecoveryKey(api, { email, recoveryKey: recoveryKey.toUpperCase() });
    expect(recovered.response.method).toBe('recovery');
    expect(recovered.response.keys.wrappedMasterKey).toBeUndefined();
    expect(recovered.keys.masterKey).toEqual(first.keys.masterKey);

    await changePassword(api, {
      accountId: recovered.response.accountId,
      email,
      masterKey: recovered.keys.masterKey,
      recoveryKey,
      newPassword: 'remembered',
      kdf: TEST_KDF,
    });
    expect((await logIn(t.api(), { email, password: 'remembered' })).keys.masterKey).toEqual(first.keys.masterKey);
  });

  it('lists sessions, revokes one, and revokes all others', async () => {
    const email = uniqueEmail();
    const a = t.api();
    await signUp(a, { birthYear: 1990, email, password: 'pw', kdf: TEST_KDF });
    await logIn(a, { email, password: 'pw', label: 'a' });
    const b = t.api();
    const bLogin = await logIn(b, { email, password: 'pw', label: 'b' });
    const c = t.api();
    await logIn(c, { email, password: 'pw', label: 'c' });

    const listed = (await a.sessions()).sessions;
    expect(listed.map((s) => s.label).sort()).toEqual(['a', 'b', 'c']);
    expect(listed.filter((s) => s.current).map((s) => s.label)).toEqual(['a']);

    await a.revokeSession(bLogin.response.session.id);
    await expect(b.account()).rejects.toBeInstanceOf(HomingApiError);
    expect((await a.revokeOtherSessions()).revoked).toBe(1);
    await expect(c.account()).rejects.toMatchObject({ status: 401 });
    expect((await a.sessions()).sessions).toHaveLength(1);
  });

  it('logs out', async () => {
    const email = uniqueEmail();
    const api = t.api();
    await signUp(api, { birthYear: 1990, email, password: 'pw', kdf: TEST_KDF });
    await logIn(api, { email, password: 'pw' });
    await api.logout();
    await expect(api.account()).rejects.toMatchObject({ status: 401 });
  });
});
