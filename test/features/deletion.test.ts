import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { blobKey } from '../../src/adapters/blob-store.js';
import { atomic, isGuardFailure } from '../../src/db/client.js';
import { planCollectionsPurge } from '../../src/features/sync/service.js';
import { verifyReceipt } from '../../src/protocol/receipts.js';
import { createTestApp, type TestApp } from '../harness.js';
import { populate, sqlite } from './deletion-helpers.js';
import { fakeSealed, newId, sha256Hex } from './sync-helpers.js';

// Deleting parts of an account now: one item, a collection, a data kind, a device with its data.
// Each answers a receipt that verifies offline, and leaves an audit entry with the scope.

let t: TestApp;
beforeEach(() => {
  t = createTestApp();
});
afterEach(() => t.close());

const stored = async (accountId: string, blobId: string) => (await t.deps.blobs.head(blobKey(accountId, blobId))) !== null;
const blobRow = (accountId: string, blobId: string) =>
  sqlite(t).prepare('SELECT state, refs FROM blobs WHERE account_id = ? AND id = ?').get(accountId, blobId) as { state: string; refs: number } | undefined;
const auditOf = (accountId: string) =>
  sqlite(t).prepare("SELECT session_id AS sessionId, device_id AS deviceId, detail FROM audit_log WHERE account_id = ? AND action = 'data.deleted'").all(accountId) as {
    sessionId: string | null;
    deviceId: string | null;
    detail: string;
  }[];

describe('deleting one item', () => {
  it('purges it now (not trash): key, metadata and blob go, the object leaves the store, a tombstone tells other devices', async () => {
    const { member, itemId, blobId, collectionId } = await populate(t);
    const key = (await member.api.receiptKey()).publicKey;
    const cursor = (await member.api.changes('0', 1000)).cursor;
    const { receipt } = await member.api.purge({ type: 'item', itemId });

    expect(verifyReceipt(receipt, key)).toMatchObject({
      scope: { type: 'item', collectionId, itemId },
      counts: { items: 1, blobs: 1, bytes: 5000 },
    });
    const item = await member.api.item(itemId);
    expect(item).toMatchObject({ state: 'deleted', wrappedKey: null, encryptedMetadata: null, blob: null });
    expect(blobRow(member.accountId, blobId)).toBeUndefined();
    expect(await stored(member.accountId, blobId)).toBe(false);
    const page = await member.api.changes(cursor, 1000);
    expect(page.items.map((i) => [i.id, i.state])).toEqual([[itemId, 'deleted']]);
    expect(auditOf(member.accountId)).toEqual([{ sessionId: member.sessionId, deviceId: expect.any(String), detail: `item receipt=${receipt.id}` }]);
    expect((await member.api.receipts()).receipts.map((r) => r.id)).toContain(receipt.id);
  });

  it('an item already deleted, or one that never existed, answers 404 and issues no receipt', async () => {
    const { member, itemId } = await populate(t);
    await member.api.purge({ type: 'item', itemId });
    const before = (await member.api.receipts()).receipts.length;
    await expect(member.api.purge({ type: 'item', itemId })).rejects.toMatchObject({ status: 404, code: 'not_found' });
    await expect(member.api.purge({ type: 'item', itemId: newId() })).rejects.toMatchObject({ status: 404 });
    expect((await member.api.receipts()).receipts.length).toBe(before);
  });
});

describe('deleting a collection and a data kind', () => {
  it('a collection: every item becomes a tombstone, every blob and object goes, the collection row goes', async () => {
    const { member, collectionId, blobId } = await populate(t);
    const key = (await member.api.receiptKey()).publicKey;
    const { receipt } = await member.api.purge({ type: 'collection', collectionId });
    expect(verifyReceipt(receipt, key)).toMatchObject({ scope: { type: 'collection', collectionId }, counts: { items: 3, collections: 1, blobs: 1 } });
    expect((await member.api.collections()).collections).toEqual([]);
    const items = (await member.api.changes('0', 1000)).items;
    expect(items.length).toBe(3);
    expect(items.every((i) => i.state === 'deleted' && i.wrappedKey === null && i.encryptedMetadata === null)).toBe(true);
    expect(await stored(member.accountId, blobId)).toBe(false);
    expect(blobRow(member.accountId, blobId)).toBeUndefined();
  });

  it('a data kind: every collection of the kind goes; other kinds stay; a kind with nothing stored still gets a receipt', async () => {
    const { member, collectionId } = await populate(t);
    const second = newId();
    await member.api.createCollection({ id: second, kind: 'photos', wrappedKey: fakeSealed(), encryptedMetadata: fakeSealed(40) });
    const notes = newId();
    await member.api.createCollection({ id: notes, kind: 'notes', wrappedKey: fakeSealed(), encryptedMetadata: fakeSealed(40) });
    const key = (await member.api.receiptKey()).publicKey;
    const { receipt } = await member.api.purge({ type: 'data-kind', kind: 'photos' });
    expect(verifyReceipt(receipt, key)).toMatchObject({ scope: { type: 'data-kind', kind: 'photos' }, counts: { collections: 2, items: 3 } });
    expect((await member.api.collections()).collections.map((c) => c.id)).toEqual([notes]);
    void collectionId;
    const empty = await member.api.purge({ type: 'data-kind', kind: 'calendar' });
    expect(verifyReceipt(empty.receipt, key).counts).toMatchObject({ collections: 0, items: 0 });
    expect(auditOf(member.accountId).map((e) => e.detail.split(' ')[0])).toEqual(['data-kind:photos', 'data-kind:calendar']);
  });

  it('a sync write landing between the purge plan and its commit aborts the commit; the retried purge spares the blob the write moved away', async () => {
    const { member } = await populate(t);
    const doomed = newId();
    const other = newId();
    await member.api.createCollection({ id: doomed, kind: 'files', wrappedKey: fakeSealed(), encryptedMetadata: fakeSealed(40) });
    await member.api.createCollection({ id: other, kind: 'notes', wrappedKey: fakeSealed(), encryptedMetadata: fakeSealed(40) });
    const bytes = randomBytes(300);
    const blob = await member.api.uploadBlob(bytes, bytes.length, sha256Hex(bytes));
    const holder = newId();
    await member.api.applyChanges([{ op: 'create', itemId: holder, collectionId: doomed, wrappedKey: fakeSealed(), encryptedMetadata: fakeSealed(50), blobId: blob.blobId }]);

    const plan = await planCollectionsPurge(t.deps, member.accountId, [doomed]);
    // The racing write: the blob leaves the doomed collection for a new item elsewhere.
    const mover = newId();
    await member.api.applyChanges([
      { op: 'update', itemId: holder, baseVersion: 1, encryptedMetadata: fakeSealed(50), blobId: null },
      { op: 'create', itemId: mover, collectionId: other, wrappedKey: fakeSealed(), encryptedMetadata: fakeSealed(50), blobId: blob.blobId },
    ]);
    const stale = await atomic(t.deps.db, plan.statements).then(() => 'committed', (err) => (isGuardFailure(err) ? 'guarded' : String(err)));
    expect(stale).toBe('guarded');

    await member.api.purge({ type: 'collection', collectionId: doomed });
    expect((await member.api.item(mover)).blob?.id).toBe(blob.blobId);
    expect(blobRow(member.accountId, blob.blobId)).toEqual({ state: 'committed', refs: 1 });
    expect(await stored(member.accountId, blob.blobId)).toBe(true);
  });

  it('deletions and sync writes racing freely leave every live item with a stored, committed blob referenced once', async () => {
    const { member } = await populate(t);
    const other = newId();
    await member.api.createCollection({ id: other, kind: 'notes', wrappedKey: fakeSealed(), encryptedMetadata: fakeSealed(40) });
    for (let round = 0; round < 6; round++) {
      const doomed = newId();
      await member.api.createCollection({ id: doomed, kind: 'files', wrappedKey: fakeSealed(), encryptedMetadata: fakeSealed(40) });
      const bytes = randomBytes(300);
      const blob = await member.api.uploadBlob(bytes, bytes.length, sha256Hex(bytes));
      const holder = newId();
      await member.api.applyChanges([{ op: 'create', itemId: holder, collectionId: doomed, wrappedKey: fakeSealed(), encryptedMetadata: fakeSealed(50), blobId: blob.blobId }]);
      const move = member.api.applyChanges([
        { op: 'update', itemId: holder, baseVersion: 1, encryptedMetadata: fakeSealed(50), blobId: null },
        { op: 'create', itemId: newId(), collectionId: other, wrappedKey: fakeSealed(), encryptedMetadata: fakeSealed(50), blobId: blob.blobId },
      ]);
      await Promise.allSettled([move, member.api.purge({ type: 'collection', collectionId: doomed })]);
    }
    const live = sqlite(t)
      .prepare("SELECT blob_id AS blobId FROM items WHERE account_id = ? AND state <> 'deleted' AND blob_id IS NOT NULL")
      .all(member.accountId) as { blobId: string }[];
    for (const { blobId } of live) {
      expect(blobRow(member.accountId, blobId)).toEqual({ state: 'committed', refs: 1 });
      expect(await stored(member.accountId, blobId)).toBe(true);
    }
    const orphans = sqlite(t).prepare("SELECT count(*) AS n FROM blobs WHERE account_id = ? AND refs <> 0 AND id NOT IN (SELECT blob_id FROM items WHERE account_id = ? AND blob_id IS NOT NULL)").get(member.accountId, member.accountId) as { n: number };
    expect(orphans.n).toBe(0);
  });
});

describe('deleting a device with its data', () => {
  it('takes its locations, commands, SIM events, push subscriptions, sessions and diagnostics; anonymises its audit rows; says so in the receipt', async () => {
    const { member, deviceId, deviceToken } = await populate(t);
    const before = sqlite(t).prepare('SELECT count(*) AS n FROM audit_log WHERE device_id = ?').get(deviceId) as { n: number };
    expect(before.n).toBeGreaterThan(0);
    const key = (await member.api.receiptKey()).publicKey;
    // A second session, not on the phone, does the deleting (the member's own is bound to it).
    const { logIn } = await import('../../src/client/account.js');
    const laptop = t.api();
    const { response } = await logIn(laptop, { email: member.email, password: member.password });
    const { receipt } = await laptop.purge({ type: 'device', deviceId });
    const payload = verifyReceipt(receipt, key);
    expect(payload).toMatchObject({ scope: { type: 'device', deviceId } });
    expect(payload.counts).toMatchObject({ devices: 1, locations: 1, commands: 1, simEvents: 1, auditAnonymised: before.n });
    expect(payload.counts.sessions).toBeGreaterThanOrEqual(1);

    for (const table of ['devices', 'location_reports', 'commands', 'sim_events', 'sim_verifications', 'push_subscriptions', 'sessions', 'diagnostics', 'audit_log']) {
      const column = table === 'devices' ? 'id' : 'device_id';
      expect([table, (sqlite(t).prepare(`SELECT count(*) AS n FROM ${table} WHERE ${column} = ?`).get(deviceId) as { n: number }).n]).toEqual([table, 0]);
    }
    await expect(t.api({ deviceToken }).thisDevice()).rejects.toMatchObject({ status: 401 });
    expect(auditOf(member.accountId)).toEqual([{ sessionId: response.session.id, deviceId: null, detail: `device receipt=${receipt.id}` }]);
  });

  it('plain removal (DELETE /v1/devices/{deviceId}) still answers 204 with no receipt', async () => {
    const { member, deviceId } = await populate(t);
    const res = await t.request('DELETE', `/v1/devices/${deviceId}`, { headers: { Authorization: `Bearer ${member.token}` } });
    expect(res.status).toBe(204);
    expect(sqlite(t).prepare('SELECT count(*) AS n FROM deletion_receipts WHERE account_id = ?').get(member.accountId)).toEqual({ n: 0 });
  });
});

describe('the CLI: delete, receipts, receipt verify', () => {
  it('pins the receipt key on first sight, verifies receipts offline from a file, and refuses an altered file or another server key', async () => {
    const { mkdtempSync, readFileSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { runDelete, listReceipts, runReceipt } = await import('../../src/client/cli/deletion-commands.js');
    const { member, itemId } = await populate(t);
    const dir = mkdtempSync(join(tmpdir(), 'homing-cli-receipts-'));
    const file = join(dir, 'receipt.json');
    const state: import('../../src/client/cli/state.js').CliState = { email: member.email };
    const log = console.log;
    const lines: string[] = [];
    console.log = (...args: unknown[]) => void lines.push(args.join(' '));
    try {
      Object.assign(state, await runDelete(member.api, state, 'item', itemId, { out: file }));
      expect(state.receiptKey).toBe((await member.api.receiptKey()).publicKey);
      Object.assign(state, await listReceipts(member.api, state));
      expect(lines.join('\n')).toMatch(/verified/);
      // Offline: no API needed.
      await runReceipt(undefined as never, state, 'verify', file, {});
      expect(lines.at(-2)).toMatch(/^valid receipt/);

      const receipt = JSON.parse(readFileSync(file, 'utf8'));
      writeFileSync(file, JSON.stringify({ ...receipt, payload: receipt.payload.replace('"items":1', '"items":0') }));
      await expect(runReceipt(undefined as never, state, 'verify', file, {})).rejects.toThrow(/signature/);

      // A server that signs with another key is not trusted by this state file.
      const other = createTestApp();
      try {
        const otherMember = await (await import('../security/helpers.js')).signUpAndLogIn(other);
        await expect(listReceipts(otherMember.api, state)).rejects.toThrow(/receipt key changed/);
      } finally {
        other.close();
      }
    } finally {
      console.log = log;
    }
  });
});
