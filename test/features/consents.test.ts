import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/client/api.js';
import { verifyReceipt } from '../../src/protocol/receipts.js';
import { createTestApp, type TestApp } from '../harness.js';
import { expectError, signUpAndLogIn } from '../security/helpers.js';
import { atomic, isGuardFailure } from '../../src/db/client.js';
import { syncConsentGuards } from '../../src/features/consents/service.js';
import * as repo from '../../src/features/sync/repo.js';
import { fakeSealed, newId } from './sync-helpers.js';

// The consent ledger (issue 12, item 2) through the front door: defaults, withdrawal with keep or
// delete, re-grant, the ledger's who/when/which-version, and what each feature refuses while off.

let t: TestApp;
beforeEach(() => {
  t = createTestApp();
});
afterEach(() => t.close());

const registration = (name: string) => ({ name, model: 'test', platform: 'android' as const, identifierHash: fakeSealed(32) });

async function owner() {
  const member = await signUpAndLogIn(t);
  const api = member.api;
  const collection = async (kind: string) => (await api.createCollection({ id: newId(), kind, wrappedKey: fakeSealed(), encryptedMetadata: fakeSealed(40) })).id;
  const create = (collectionId: string) => ({ op: 'create' as const, itemId: newId(), collectionId, wrappedKey: fakeSealed(), encryptedMetadata: fakeSealed(100) });
  return { ...member, collection, create };
}

const stateOf = async (api: ApiClient, purpose: string) => (await api.consents()).consents.find((c) => c.purpose === purpose)!;

describe('defaults', () => {
  it('sync kinds and SIM SMS are on, diagnostics and the experience program off, Find Device off per device', async () => {
    const a = await owner();
    const phone = await a.api.registerDevice(registration('phone'));
    const consents = await a.api.consents();
    const on = consents.consents.filter((c) => c.granted).map((c) => c.purpose);
    expect(on).toEqual(['sync:contacts', 'sync:messages', 'sync:photos', 'sync:screenshots', 'sync:notes', 'sync:calendar', 'sync:email', 'sync:files', 'sim_sms']);
    expect(consents.consents.filter((c) => !c.granted).map((c) => c.purpose)).toEqual(['experience', 'diagnostics']);
    expect(consents.consents.every((c) => c.isDefault && c.policyVersion === 1 && !c.needsReacceptance)).toBe(true);
    expect(consents.find).toEqual([expect.objectContaining({ deviceId: phone.device.id, deviceName: 'phone', granted: false, isDefault: true })]);
  });

  it('diagnostics and the experience program are refused until turned on (crash reports and usage events answer consent_required)', async () => {
    const a = await owner();
    const report = (kind: 'crash' | 'usage') => t.request('POST', '/v1/account/diagnostics', { body: { kind, report: { frames: ['main'] } }, headers: { Authorization: `Bearer ${a.token}` } });
    const crash = await expectError(report('crash'), 403, 'consent_required');
    expect(crash.message).toContain('diagnostics');
    await expectError(report('usage'), 403, 'consent_required');
    await a.api.setConsent('diagnostics', { granted: true });
    expect((await report('crash')).status).toBe(201);
    await expectError(report('usage'), 403, 'consent_required');
  });
});

describe('withdrawing a data kind', () => {
  it('a withdrawal committed after a write checked consent still stops that write (the guard in the write itself)', async () => {
    const a = await owner();
    await a.collection('notes'); // the account's sequence row, which a collection's write reads
    const { db } = t.deps;
    const marker = (kind: string) => repo.insertCollection(db, { accountId: a.accountId, id: newId(), kind, wrappedKey: fakeSealed(), encryptedMetadata: fakeSealed(40), createdAt: 1, updatedAt: 1 });
    const count = async () => (await repo.listCollections(db, a.accountId)).length;
    // Built as a push builds them after its consent check passed, then run after the withdrawal.
    const notesGuards = syncConsentGuards(db, a.accountId, ['notes']);
    const photosGuards = syncConsentGuards(db, a.accountId, ['photos']);
    await a.api.setConsent('sync:notes', { granted: false, stored: 'keep' });

    const before = await count();
    await expect(atomic(db, [...notesGuards, marker('notes')])).rejects.toSatisfy(isGuardFailure);
    expect(await count()).toBe(before);
    // Another kind, still consented to, is not held back by it.
    await atomic(db, [...photosGuards, marker('photos')]);
    expect(await count()).toBe(before + 1);
  });

  it('refuses new data of that kind (collections, item creates, updates and restores) with consent_required naming the purpose; trash and delete still work', async () => {
    const a = await owner();
    const notes = await a.collection('notes');
    const photos = await a.collection('photos');
    const [kept, other] = [a.create(notes), a.create(notes)];
    await a.api.applyChanges([kept, other]);

    const off = await a.api.setConsent('sync:notes', { granted: false, stored: 'keep' });
    expect(off).toMatchObject({ consent: { purpose: 'sync:notes', granted: false, isDefault: false }, receipt: null });

    const auth = { Authorization: `Bearer ${a.token}` };
    const change = (changes: unknown[]) => t.request('POST', '/v1/sync/changes', { body: { changes }, headers: auth });
    const refused = await expectError(change([a.create(notes)]), 403, 'consent_required');
    expect(refused.message).toContain('sync:notes');
    expect(refused.message).toContain('PUT /v1/account/consents/sync:notes');
    await expectError(change([{ op: 'update', itemId: kept.itemId, baseVersion: 1, encryptedMetadata: fakeSealed(50) }]), 403, 'consent_required');
    await expectError(
      t.request('POST', '/v1/sync/collections', { body: { id: newId(), kind: 'notes', wrappedKey: fakeSealed(), encryptedMetadata: fakeSealed(40) }, headers: auth }),
      403,
      'consent_required',
    );
    await expectError(t.request('PATCH', `/v1/sync/collections/${notes}`, { body: { baseVersion: 1, encryptedMetadata: fakeSealed(40) }, headers: auth }), 403, 'consent_required');
    // A batch mixing an allowed kind with a withdrawn one writes nothing.
    const mixed = a.create(photos);
    await expectError(change([mixed, a.create(notes)]), 403, 'consent_required');
    await expectError(t.request('GET', `/v1/sync/items/${mixed.itemId}`, { headers: auth }), 404, 'not_found');

    // Taking data away stays possible, and "keep" kept what was there.
    expect((await change([{ op: 'trash', itemId: other.itemId, baseVersion: 1 }])).status).toBe(200);
    await expectError(change([{ op: 'restore', itemId: other.itemId, baseVersion: 2 }]), 403, 'consent_required');
    expect((await change([{ op: 'delete', itemId: other.itemId, baseVersion: 2 }])).status).toBe(200);
    expect((await a.api.item(kept.itemId)).state).toBe('live');
    // Other kinds are untouched.
    expect((await a.api.applyChanges([a.create(photos)])).items).toHaveLength(1);
  });

  it('turning it back on accepts data again', async () => {
    const a = await owner();
    const notes = await a.collection('notes');
    await a.api.setConsent('sync:notes', { granted: false, stored: 'keep' });
    await expectError(t.request('POST', '/v1/sync/changes', { body: { changes: [a.create(notes)] }, headers: { Authorization: `Bearer ${a.token}` } }), 403, 'consent_required');
    const on = await a.api.setConsent('sync:notes', { granted: true });
    expect(on.consent).toMatchObject({ granted: true, isDefault: false, policyVersion: 1 });
    expect((await a.api.applyChanges([a.create(notes)])).items).toHaveLength(1);
    expect((await a.api.createCollection({ id: newId(), kind: 'notes', wrappedKey: fakeSealed(), encryptedMetadata: fakeSealed(40) })).kind).toBe('notes');
  });

  it('"delete" purges every collection, item and blob of the kind and answers a receipt the ledger names; other kinds stay', async () => {
    const a = await owner();
    const notes = await a.collection('notes');
    const photos = await a.collection('photos');
    const bytes = new Uint8Array(2048).fill(7);
    const blob = await a.api.uploadBlob(bytes, bytes.length, (await import('node:crypto')).createHash('sha256').update(bytes).digest('hex'));
    const withBlob = { ...a.create(notes), blobId: blob.blobId };
    const photo = a.create(photos);
    await a.api.applyChanges([withBlob, a.create(notes), photo]);

    const result = await a.api.setConsent('sync:notes', { granted: false, stored: 'delete' });
    expect(result.consent).toMatchObject({ purpose: 'sync:notes', granted: false });
    expect(result.receipt).not.toBeNull();
    const key = (await (await t.request('GET', '/v1/receipts/key')).json()).publicKey;
    expect(verifyReceipt(result.receipt!, key)).toMatchObject({ scope: { type: 'data-kind', kind: 'notes' } });

    expect((await a.api.collections()).collections.map((c) => c.kind)).toEqual(['photos']);
    // Items leave a tombstone (no key, metadata or blob) so other devices learn of the deletion.
    expect(await a.api.item(withBlob.itemId)).toMatchObject({ state: 'deleted', wrappedKey: null, encryptedMetadata: null, blob: null });
    await expectError(t.request('GET', `/v1/blobs/${blob.blobId}`, { headers: { Authorization: `Bearer ${a.token}` } }), 404, 'not_found');
    expect((await a.api.item(photo.itemId)).state).toBe('live');

    // The withdrawal went in before the purge; the row after it carries the receipt.
    const { events } = await a.api.consentHistory();
    expect(events.slice(0, 2)).toMatchObject([
      { purpose: 'sync:notes', granted: false, stored: 'delete', receiptId: result.receipt!.id },
      { purpose: 'sync:notes', granted: false, stored: 'delete', receiptId: null },
    ]);
  });

  it('asks what happens to stored data: off without stored is 400 with a message that asks, and stored is refused where it means nothing', async () => {
    const a = await owner();
    const asked = await expectError(t.request('PUT', '/v1/account/consents/sync:photos', { body: { granted: false }, headers: { Authorization: `Bearer ${a.token}` } }), 400, 'validation_failed');
    expect(asked.message).toMatch(/"keep".*"delete"/);
    expect((await stateOf(a.api, 'sync:photos')).granted).toBe(true);
    const put = (purpose: string, body: unknown) => t.request('PUT', `/v1/account/consents/${purpose}`, { body, headers: { Authorization: `Bearer ${a.token}` } });
    await expectError(put('sync:photos', { granted: true, stored: 'keep' }), 400, 'validation_failed');
    await expectError(put('experience', { granted: false, stored: 'delete' }), 400, 'validation_failed');
    expect((await a.api.consentHistory()).events).toEqual([]);
  });

  it('custom kinds are purposes of their own (sync:custom:<name>), on by default and listed once chosen', async () => {
    const a = await owner();
    const recipes = await a.collection('custom:recipes');
    const plants = await a.collection('custom:plants');
    await a.api.setConsent('sync:custom:recipes', { granted: false, stored: 'keep' });
    await expectError(t.request('POST', '/v1/sync/changes', { body: { changes: [a.create(recipes)] }, headers: { Authorization: `Bearer ${a.token}` } }), 403, 'consent_required');
    expect((await a.api.applyChanges([a.create(plants)])).items).toHaveLength(1);
    expect(await stateOf(a.api, 'sync:custom:recipes')).toMatchObject({ granted: false, isDefault: false });
  });
});

describe('the ledger', () => {
  it('records for each change the time, the session or device that made it and the policy version, newest first, paged by cursor', async () => {
    const a = await owner();
    const phone = await a.api.registerDevice(registration('phone'));
    const device = t.api({ deviceToken: phone.token });
    await a.api.setConsent('experience', { granted: true });
    t.clock.advance(1000);
    await device.setConsentFromThisDevice('diagnostics', { granted: true });
    t.clock.advance(1000);
    await a.api.setFindEnabled(phone.device.id, true);
    t.clock.advance(1000);
    await device.setThisDeviceFind(false);

    const { events, nextCursor } = await a.api.consentHistory(undefined, 3);
    expect(events).toMatchObject([
      { purpose: 'find', deviceId: phone.device.id, granted: false, actor: 'device', actorDeviceId: phone.device.id, actorSessionId: null, policyVersion: 1 },
      { purpose: 'find', deviceId: phone.device.id, granted: true, actor: 'session', actorSessionId: a.sessionId, actorDeviceId: null, policyVersion: 1 },
      { purpose: 'diagnostics', deviceId: null, granted: true, actor: 'device', actorDeviceId: phone.device.id },
    ]);
    expect(events[0]!.at - events[2]!.at).toBe(2000);
    const rest = await a.api.consentHistory(nextCursor!, 3);
    expect(rest).toMatchObject({ events: [{ purpose: 'experience', granted: true, actor: 'session', actorSessionId: a.sessionId }], nextCursor: null });

    const audit = (await (await t.request('GET', '/v1/account/audit', { headers: { Authorization: `Bearer ${a.token}` } })).json()).entries;
    const consentAudit = audit.filter((e: { action: string }) => e.action === 'consent.changed').map((e: { detail: string }) => e.detail);
    expect(consentAudit).toEqual(expect.arrayContaining(['experience on', 'diagnostics on']));
  });

  it('turning Find Device on through the consent route flips the device switch; GET shows it per device', async () => {
    const a = await owner();
    const phone = await a.api.registerDevice(registration('phone'));
    const result = await a.api.setConsent('find', { granted: true, deviceId: phone.device.id });
    expect(result.consent).toMatchObject({ purpose: 'find', granted: true, isDefault: false });
    expect((await a.api.device(phone.device.id)).findEnabled).toBe(true);
    expect((await a.api.consents()).find).toEqual([expect.objectContaining({ deviceId: phone.device.id, granted: true })]);
    const device = t.api({ deviceToken: phone.token });
    expect(await device.reportLocations([fakeSealed(120)])).toEqual({ accepted: 1 });
  });
});

describe('SIM-change SMS', () => {
  it('while sim_sms is off no SMS is sent: the change is recorded unverified, and the verification answers consent_required', async () => {
    const a = await owner();
    const phone = await a.api.registerDevice(registration('phone'));
    await a.api.setFindEnabled(phone.device.id, true);
    await a.api.setConsent('sim_sms', { granted: false });
    const device = t.api({ deviceToken: phone.token });
    const report = (eventId: string) =>
      t.request('POST', '/v1/device/sim-events', {
        body: { eventId, kind: 'replaced', simIdHash: fakeSealed(32), claimedNumber: '+447700900123', method: 'outbound' },
        headers: { Authorization: `Bearer ${phone.token}` },
      });
    const refused = await expectError(report(newId()), 403, 'consent_required');
    expect(refused.message).toContain('sim_sms');
    expect(t.outbox()).toEqual([]);
    expect((await a.api.simEvents(phone.device.id)).events).toMatchObject([{ kind: 'replaced', status: 'recorded', method: null }]);

    await a.api.setConsent('sim_sms', { granted: true });
    expect((await device.reportSimEvent({ eventId: newId(), kind: 'replaced', simIdHash: fakeSealed(32), claimedNumber: '+447700900123', method: 'outbound' })).status).toBe('pending');
    expect(t.outbox()).toHaveLength(1);
  });
});
