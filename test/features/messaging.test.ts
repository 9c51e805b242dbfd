import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { proveIdentity } from '../../src/client/account.js';
import { purgeDueAccounts } from '../../src/features/deletion/account-purge.js';
import { toBase64Url } from '../../src/protocol/encoding.js';
import { createTestApp, type TestApp } from '../harness.js';
import { DAY, rowsHolding } from './deletion-helpers.js';
import { anotherPhone, messagingKeys, messagingPhone, newId, turnOn, uniqueNumber } from './messaging-helpers.js';

// Turning messaging on and off, the directory, and the block list (features/messaging), through
// the front door. The attacks (enumeration, leaks of the numbers asked, other accounts) are in
// test/security/messaging-attacks.test.ts.

let t: TestApp;
beforeEach(() => {
  t = createTestApp();
});
afterEach(() => t.close());

const auditActions = async (o: { asOwner: (m: string, p: string) => Promise<{ body: any }> }) =>
  ((await o.asOwner('GET', '/v1/account/audit')).body.entries as { action: string; deviceId: string | null; detail?: string | null }[]);

describe('turning messaging on (happy)', () => {
  it('with the number this device verified: the identity, the consent row and the audit entry exist, and the number is stored only sealed', async () => {
    const phone = await messagingPhone(t);
    const status = await phone.asPhone('GET', '/v1/device/messaging');
    expect(status).toMatchObject({
      status: 200,
      body: { identity: { deviceId: phone.device.id, number: phone.number, x25519PublicKey: phone.keys.x25519PublicKey, ed25519PublicKey: phone.keys.ed25519PublicKey }, ownDevices: [] },
    });
    const ledger = (await phone.asOwner('GET', '/v1/account/consents/history')).body.events;
    expect(ledger[0]).toMatchObject({ purpose: 'messaging', deviceId: phone.device.id, granted: true, actor: 'device' });
    const consents = (await phone.asOwner('GET', '/v1/account/consents')).body;
    expect(consents.messaging).toEqual([expect.objectContaining({ deviceId: phone.device.id, granted: true })]);
    const entries = await auditActions(phone);
    expect(entries.find((e) => e.action === 'messaging.on')).toMatchObject({ deviceId: phone.device.id });
    // Neither the identity nor the audit log nor any other row holds the number in the clear.
    expect(rowsHolding(t, [phone.number, phone.number.slice(1)])).toEqual({});
  });

  it('turning on again (a new install) replaces the keys: a lookup shows the new ones', async () => {
    const phone = await messagingPhone(t);
    const asker = await messagingPhone(t);
    const fresh = messagingKeys();
    expect((await turnOn(phone, phone.device.auth, phone.number, fresh)).status).toBe(200);
    const found = await asker.asPhone('POST', '/v1/device/messaging/lookup', { numbers: [phone.number] });
    expect(found.body.results).toEqual([
      { number: phone.number, devices: [{ deviceId: phone.device.id, x25519PublicKey: fresh.x25519PublicKey, ed25519PublicKey: fresh.ed25519PublicKey }] },
    ]);
    expect((await auditActions(phone)).filter((e) => e.action === 'messaging.on')).toHaveLength(2);
  });

  it("status lists the account's other devices with messaging on, each having verified the number itself", async () => {
    const phone = await messagingPhone(t);
    const tablet = await anotherPhone(t, phone, { number: phone.number, on: true });
    const status = (await phone.asPhone('GET', '/v1/device/messaging')).body;
    expect(status.ownDevices).toEqual([expect.objectContaining({ deviceId: tablet.id, number: phone.number })]);
    const asker = await messagingPhone(t);
    const found = (await asker.asPhone('POST', '/v1/device/messaging/lookup', { numbers: [phone.number] })).body.results[0];
    expect(found.devices.map((d: { deviceId: string }) => d.deviceId).sort()).toEqual([phone.device.id, tablet.id].sort());
  });
});

describe('turning messaging on (errors)', () => {
  it('a number this device never verified is refused, pointing to SIM-change verification', async () => {
    const phone = await messagingPhone(t, { on: false });
    const res = await turnOn(phone, phone.device.auth, uniqueNumber());
    expect(res).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    expect(res.body.error.message).toContain('POST /v1/device/sim-events');
  });

  it('a number claimed but never verified (the code not entered) is refused', async () => {
    const phone = await messagingPhone(t, { on: false });
    const claimed = uniqueNumber();
    await phone.asPhone('POST', '/v1/device/sim-events', { eventId: newId(), kind: 'replaced', simIdHash: toBase64Url(randomBytes(32)), claimedNumber: claimed, method: 'outbound' });
    expect((await turnOn(phone, phone.device.auth, claimed)).status).toBe(403);
  });

  it('the SIM was replaced after the verification (a newer, unverified event): the old number is refused', async () => {
    const phone = await messagingPhone(t, { on: false });
    t.clock.advance(1000);
    await phone.asPhone('POST', '/v1/device/sim-events', { eventId: newId(), kind: 'replaced', simIdHash: toBase64Url(randomBytes(32)), claimedNumber: uniqueNumber(), method: 'outbound' });
    expect((await turnOn(phone, phone.device.auth, phone.number)).status).toBe(403);
  });

  it("another device of the same account cannot turn on with a number only the first device verified", async () => {
    const phone = await messagingPhone(t);
    const tablet = await anotherPhone(t, phone);
    expect((await turnOn(phone, tablet.auth, phone.number)).status).toBe(403);
  });

  it("granting 'messaging' through the consent API is refused with the pointer to PUT /v1/device/messaging", async () => {
    const phone = await messagingPhone(t, { on: false });
    const res = await phone.asPhone('PUT', '/v1/device/consents/messaging', { granted: true, deviceId: phone.device.id });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('PUT /v1/device/messaging');
    expect((await phone.asPhone('GET', '/v1/device/messaging')).body.identity).toBeNull();
  });
});

describe('one number, one account: the newer verification wins', () => {
  it('a later SIM verification on another account takes the number; the older identity and its consent are gone', async () => {
    const number = uniqueNumber();
    const old = await messagingPhone(t, { number });
    t.clock.advance(60_000);
    const recycled = await messagingPhone(t, { number }); // verified after old turned on: takes it
    expect((await old.asPhone('GET', '/v1/device/messaging')).body.identity).toBeNull();
    const asker = await messagingPhone(t);
    const found = (await asker.asPhone('POST', '/v1/device/messaging/lookup', { numbers: [number] })).body.results[0];
    expect(found.devices.map((d: { deviceId: string }) => d.deviceId)).toEqual([recycled.device.id]);
    const ledger = (await old.asOwner('GET', '/v1/account/consents/history')).body.events;
    expect(ledger[0]).toMatchObject({ purpose: 'messaging', deviceId: old.device.id, granted: false });
    expect((await auditActions(old)).map((e) => e.action)).toContain('messaging.off');
  });

  it('a verification older than the holding identity is refused with 409, and changes nothing', async () => {
    const number = uniqueNumber();
    const late = await messagingPhone(t, { number, on: false }); // verified first, turns on last
    t.clock.advance(1000);
    const holder = await messagingPhone(t, { number });
    t.clock.advance(1000);
    const res = await turnOn(late, late.device.auth, number);
    expect(res).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
    expect((await holder.asPhone('GET', '/v1/device/messaging')).body.identity).toMatchObject({ number });
  });
});

describe('turning messaging off', () => {
  it('DELETE removes the identity at once; a lookup then answers exactly as for an unknown number; repeating it is harmless', async () => {
    const phone = await messagingPhone(t);
    const asker = await messagingPhone(t);
    expect((await phone.asPhone('DELETE', '/v1/device/messaging')).status).toBe(204);
    expect((await phone.asPhone('DELETE', '/v1/device/messaging')).status).toBe(204);
    const unknown = uniqueNumber();
    const { results } = (await asker.asPhone('POST', '/v1/device/messaging/lookup', { numbers: [phone.number, unknown] })).body;
    expect(results[0]).toEqual({ number: phone.number, devices: [] });
    expect({ ...results[0], number: 'x' }).toEqual({ ...results[1], number: 'x' });
    expect((await phone.asOwner('GET', '/v1/account/consents/history')).body.events[0]).toMatchObject({ purpose: 'messaging', granted: false });
    expect((await auditActions(phone)).filter((e) => e.action === 'messaging.off')).toHaveLength(1);
  });

  it("withdrawing consent 'messaging' through PUT /v1/device/consents/messaging turns messaging off", async () => {
    const phone = await messagingPhone(t);
    const res = await phone.asPhone('PUT', '/v1/device/consents/messaging', { granted: false, deviceId: phone.device.id });
    expect(res).toMatchObject({ status: 200, body: { consent: { purpose: 'messaging', granted: false } } });
    expect((await phone.asPhone('GET', '/v1/device/messaging')).body.identity).toBeNull();
  });

  it("the owner's session withdraws it for one phone through PUT /v1/account/consents/messaging", async () => {
    const phone = await messagingPhone(t);
    const res = await phone.asOwner('PUT', '/v1/account/consents/messaging', { granted: false, deviceId: phone.device.id });
    expect(res.status).toBe(200);
    expect((await phone.asPhone('GET', '/v1/device/messaging')).body.identity).toBeNull();
  });

  it('removing the device (DELETE /v1/devices/{id}) removes its identity, and the blocks stay with the account', async () => {
    const phone = await messagingPhone(t);
    const tablet = await anotherPhone(t, phone, { number: phone.number, on: true });
    await tablet.asPhone('POST', '/v1/device/messaging/blocks', { number: uniqueNumber() });
    expect((await phone.asOwner('DELETE', `/v1/devices/${tablet.id}`)).status).toBeLessThan(300);
    expect((await phone.asPhone('GET', '/v1/device/messaging')).body.ownDevices).toEqual([]);
    expect((await phone.asPhone('GET', '/v1/device/messaging/blocks')).body.blocks).toHaveLength(1);
  });

  it('account deletion removes every identity and block of the account', async () => {
    const phone = await messagingPhone(t);
    const blocked = uniqueNumber();
    await phone.asPhone('POST', '/v1/device/messaging/blocks', { number: blocked });
    const api = t.api({ sessionToken: phone.session.Authorization.slice('Bearer '.length) });
    await api.requestAccountDeletion(await proveIdentity(api, { email: phone.email, password: 'pw' }));
    t.clock.advance(7 * DAY);
    expect(await purgeDueAccounts(t.deps)).toMatchObject({ accounts: 1, failed: 0 });
    const db = (t.deps.db as unknown as { $client: { prepare(s: string): { all(...a: unknown[]): unknown[] } } }).$client;
    expect(db.prepare('SELECT * FROM messaging_identities WHERE account_id = ?').all(phone.accountId)).toEqual([]);
    expect(db.prepare('SELECT * FROM message_blocks WHERE account_id = ?').all(phone.accountId)).toEqual([]);
  });
});

describe('the block list', () => {
  it('blocking is per account, shared by its devices, stored sealed, newest first; blocking again answers the same block', async () => {
    const phone = await messagingPhone(t);
    const tablet = await anotherPhone(t, phone);
    const [first, second] = [uniqueNumber(), uniqueNumber()];
    const blocked = await phone.asPhone('POST', '/v1/device/messaging/blocks', { number: first });
    expect(blocked).toMatchObject({ status: 201, body: { number: first, since: t.clock.now() } });
    t.clock.advance(1000);
    expect(await phone.asPhone('POST', '/v1/device/messaging/blocks', { number: first })).toMatchObject({ status: 201, body: blocked.body });
    await tablet.asPhone('POST', '/v1/device/messaging/blocks', { number: second });
    expect((await phone.asPhone('GET', '/v1/device/messaging/blocks')).body.blocks.map((b: { number: string }) => b.number)).toEqual([second, first]);
    expect(rowsHolding(t, [first, first.slice(1), second])).toEqual({});
    const actions = (await auditActions(phone)).map((e) => e.action);
    expect(actions.filter((a) => a === 'messaging.block')).toHaveLength(2);

    expect((await tablet.asPhone('DELETE', `/v1/device/messaging/blocks/${encodeURIComponent(first)}`)).status).toBe(204);
    expect((await tablet.asPhone('DELETE', `/v1/device/messaging/blocks/${encodeURIComponent(first)}`)).status).toBe(204);
    expect((await phone.asPhone('GET', '/v1/device/messaging/blocks')).body.blocks).toEqual([expect.objectContaining({ number: second })]);
    expect((await auditActions(phone)).filter((e) => e.action === 'messaging.unblock')).toHaveLength(1);
  });
});

describe('the directory (happy)', () => {
  it('answers each distinct number once, and counts lookupsLeft down by the distinct numbers', async () => {
    const phone = await messagingPhone(t);
    const asker = await messagingPhone(t);
    const other = uniqueNumber();
    const res = await asker.asPhone('POST', '/v1/device/messaging/lookup', { numbers: [phone.number, other, phone.number] });
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: { number: string }) => r.number)).toEqual([phone.number, other]);
    expect(res.body.lookupsLeft).toBe(t.deps.config.messaging.lookupsPerDay - 2);
  });

  it('a device with messaging off may not look up (403)', async () => {
    const phone = await messagingPhone(t, { on: false });
    const res = await phone.asPhone('POST', '/v1/device/messaging/lookup', { numbers: [uniqueNumber()] });
    expect(res).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
  });
});
