import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../harness.js';
import { fakeSealed, newId } from '../features/sync-helpers.js';
import { expectError, signUpAndLogIn } from './helpers.js';

// Attacks on the consent ledger: another account, another device of the same account, a phone's
// token reaching further than the phone, and hostile purposes, cursors and bodies.

let t: TestApp;
beforeEach(() => {
  t = createTestApp();
});
afterEach(() => t.close());

const registration = (name: string) => ({ name, model: 'test', platform: 'android' as const, identifierHash: fakeSealed(32) });
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

async function victimWithPhone() {
  const victim = await signUpAndLogIn(t);
  const phone = await victim.api.registerDevice(registration('victim phone'));
  return { victim, phone };
}

describe('another account', () => {
  it("cannot read the victim's consents: its own list never names the victim's devices or choices", async () => {
    const { victim, phone } = await victimWithPhone();
    await victim.api.setConsent('experience', { granted: true });
    const attacker = await signUpAndLogIn(t);
    const seen = JSON.stringify([await attacker.api.consents(), await attacker.api.consentHistory()]);
    expect(seen).not.toContain(phone.device.id);
    expect((await attacker.api.consents()).consents.find((c) => c.purpose === 'experience')).toMatchObject({ granted: false, isDefault: true });
    expect((await attacker.api.consentHistory()).events).toEqual([]);
  });

  it("cannot turn Find Device on (or off) for the victim's device, by session or by device token: 404, and nothing is recorded", async () => {
    const { victim, phone } = await victimWithPhone();
    const attacker = await signUpAndLogIn(t);
    const attackerPhone = await attacker.api.registerDevice(registration('attacker phone'));
    await expectError(t.request('PUT', '/v1/account/consents/find', { body: { granted: true, deviceId: phone.device.id }, headers: bearer(attacker.token) }), 404, 'not_found');
    await expectError(
      t.request('PUT', '/v1/device/consents/find', { body: { granted: true, deviceId: phone.device.id }, headers: bearer(attackerPhone.token) }),
      404,
      'not_found',
    );
    expect((await victim.api.device(phone.device.id)).findEnabled).toBe(false);
    expect((await victim.api.consentHistory()).events).toEqual([]);
    expect((await attacker.api.consentHistory()).events).toEqual([]);
  });

  it("cannot withdraw the victim's sync or accept the victim's policy: its changes land in its own ledger only", async () => {
    const { victim } = await victimWithPhone();
    const attacker = await signUpAndLogIn(t);
    await attacker.api.setConsent('sync:photos', { granted: false, stored: 'delete' });
    await attacker.api.acceptPolicy(1, ['diagnostics']);
    expect((await victim.api.consents()).consents.every((c) => c.isDefault)).toBe(true);
    expect((await victim.api.consentHistory()).events).toEqual([]);
    const photos = await victim.api.createCollection({ id: newId(), kind: 'photos', wrappedKey: fakeSealed(), encryptedMetadata: fakeSealed(40) });
    expect(photos.kind).toBe('photos');
  });
});

describe('another device of the same account', () => {
  it('changing a consent is recorded as that device, not as the owner or the other phone', async () => {
    const { victim, phone } = await victimWithPhone();
    const watch = await victim.api.registerDevice(registration('watch'));
    await t.api({ deviceToken: watch.token }).setConsentFromThisDevice('diagnostics', { granted: true });
    const [event] = (await victim.api.consentHistory()).events;
    expect(event).toMatchObject({ purpose: 'diagnostics', granted: true, actor: 'device', actorDeviceId: watch.device.id, actorSessionId: null });
    expect(event!.actorDeviceId).not.toBe(phone.device.id);
    const audit = (await (await t.request('GET', '/v1/account/audit', { headers: bearer(victim.token) })).json()).entries;
    expect(audit.find((e: { action: string }) => e.action === 'consent.changed')).toMatchObject({ deviceId: watch.device.id, sessionId: null });
  });

  it("cannot switch Find Device for the account's other phone (a stolen phone cannot blind the rest): 404", async () => {
    const { victim, phone } = await victimWithPhone();
    await victim.api.setFindEnabled(phone.device.id, true);
    const watch = await victim.api.registerDevice(registration('watch'));
    await expectError(
      t.request('PUT', '/v1/device/consents/find', { body: { granted: false, deviceId: phone.device.id }, headers: bearer(watch.token) }),
      404,
      'not_found',
    );
    expect((await victim.api.device(phone.device.id)).findEnabled).toBe(true);
    // Its own switch it may flip, and the ledger says it did.
    const own = await t.api({ deviceToken: watch.token }).setConsentFromThisDevice('find', { granted: true, deviceId: watch.device.id });
    expect(own.consent).toMatchObject({ purpose: 'find', granted: true });
    expect((await victim.api.consentHistory()).events[0]).toMatchObject({ purpose: 'find', deviceId: watch.device.id, actorDeviceId: watch.device.id });
  });

  it('a device token cannot delete stored data by withdrawing a kind: 403, and the data stays', async () => {
    const { victim, phone } = await victimWithPhone();
    const notes = await victim.api.createCollection({ id: newId(), kind: 'notes', wrappedKey: fakeSealed(), encryptedMetadata: fakeSealed(40) });
    await expectError(
      t.request('PUT', '/v1/device/consents/sync:notes', { body: { granted: false, stored: 'delete' }, headers: bearer(phone.token) }),
      403,
      'forbidden',
    );
    expect((await victim.api.collections()).collections.map((c) => c.id)).toEqual([notes.id]);
    expect((await victim.api.consents()).consents.find((c) => c.purpose === 'sync:notes')).toMatchObject({ granted: true, isDefault: true });
  });
});

describe('hostile input', () => {
  const BAD_PURPOSES = ['sync:bogus', 'SYNC:notes', 'sync:', 'sync:custom:', 'sync:custom:Recipes', 'find:x', 'experience%20', 'diagnostics%00', '..%2Fsessions', `sync:custom:${'a'.repeat(33)}`, 'login'];

  it('unknown or malformed purposes answer 400 in the one error shape, and nothing is recorded', async () => {
    const a = await signUpAndLogIn(t);
    const phone = await a.api.registerDevice(registration('phone'));
    for (const purpose of BAD_PURPOSES) {
      await expectError(t.request('PUT', `/v1/account/consents/${purpose}`, { body: { granted: true }, headers: bearer(a.token) }), 400, 'validation_failed');
      await expectError(t.request('PUT', `/v1/device/consents/${purpose}`, { body: { granted: true }, headers: bearer(phone.token) }), 400, 'validation_failed');
    }
    await expectError(t.request('POST', '/v1/account/policy/accept', { body: { version: 1, regrant: ['sync:bogus'] }, headers: bearer(a.token) }), 400, 'validation_failed');
    expect((await a.api.consentHistory()).events).toEqual([]);
  });

  it('find without a device, a device for anything else, unknown fields and a forged cursor answer 400', async () => {
    const a = await signUpAndLogIn(t);
    const phone = await a.api.registerDevice(registration('phone'));
    const put = (purpose: string, body: unknown) => t.request('PUT', `/v1/account/consents/${purpose}`, { body, headers: bearer(a.token) });
    await expectError(put('find', { granted: true }), 400, 'validation_failed');
    await expectError(put('experience', { granted: true, deviceId: phone.device.id }), 400, 'validation_failed');
    await expectError(put('experience', { granted: 'yes' }), 400, 'validation_failed');
    await expectError(put('experience', { granted: true, actorDeviceId: phone.device.id }), 400, 'validation_failed');
    await expectError(put('experience', { granted: true, policyVersion: 99 }), 400, 'validation_failed');
    for (const cursor of ['abc', '0', '-1', '1e9', "1' OR 1=1"]) {
      await expectError(t.request('GET', `/v1/account/consents/history?cursor=${encodeURIComponent(cursor)}`, { headers: bearer(a.token) }), 400, 'validation_failed');
    }
    expect((await a.api.consentHistory()).events).toEqual([]);
  });

  it('a cursor from another account pages nothing of the victim: it is only a position in the caller’s own ledger', async () => {
    const victim = await signUpAndLogIn(t);
    for (const purpose of ['experience', 'diagnostics', 'sim_sms']) await victim.api.setConsent(purpose, { granted: purpose !== 'sim_sms' });
    const { nextCursor } = await victim.api.consentHistory(undefined, 1);
    const attacker = await signUpAndLogIn(t);
    expect((await attacker.api.consentHistory(nextCursor!, 50)).events).toEqual([]);
  });
});
