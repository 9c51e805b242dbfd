import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { logIn, signUp } from '../../src/client/account.js';
import { createSyncEngine, emptyReplica } from '../../src/client/sync/engine.js';
import { purgeOldTombstones } from '../../src/features/sync/service.js';
import { createTestApp, TEST_KDF, type TestApp, uniqueEmail } from '../harness.js';
import { expectError } from '../security/helpers.js';
import { DAY, sqlite } from './deletion-helpers.js';
import { newAccount } from './sync-helpers.js';

// Tombstones are forgotten after TOMBSTONE_RETENTION_DAYS (30 here). A client whose cursor is
// older than the newest one forgotten is told cursor_expired and resyncs from the start.

let t: TestApp;
beforeEach(() => {
  t = createTestApp({ TOMBSTONE_RETENTION_DAYS: '30', SESSION_IDLE_HOURS: '8000', SESSION_TTL_HOURS: '8000' });
});
afterEach(() => t.close());

const tombstones = (accountId: string) =>
  (sqlite(t).prepare("SELECT count(*) AS n FROM items WHERE account_id = ? AND state = 'deleted'").get(accountId) as { n: number }).n;

describe('the tombstone window on the server', () => {
  it('forgets only tombstones past the window, and a cursor older than the newest one forgotten gets 410 cursor_expired; 0 and newer cursors do not', async () => {
    const a = await newAccount(t);
    const c = await a.createCollection();
    const old = a.create(c);
    const young = a.create(c);
    await a.json('POST', '/v1/sync/changes', { changes: [old, young] });
    const beforeDelete = (await a.json('GET', '/v1/sync/changes?since=0')).body.cursor;
    await a.json('POST', '/v1/sync/changes', { changes: [{ op: 'delete', itemId: old.itemId, baseVersion: 1 }] });
    const afterOld = (await a.json('GET', '/v1/sync/changes?since=0')).body.cursor;
    t.clock.advance(20 * DAY);
    await a.json('POST', '/v1/sync/changes', { changes: [{ op: 'delete', itemId: young.itemId, baseVersion: 1 }] });
    t.clock.advance(11 * DAY);

    expect(await purgeOldTombstones(t.deps)).toEqual({ accounts: 1, tombstones: 1 });
    expect(tombstones(a.accountId)).toBe(1);
    expect(await purgeOldTombstones(t.deps)).toEqual({ accounts: 0, tombstones: 0 });

    const expired = await expectError(a.call('GET', `/v1/sync/changes?since=${beforeDelete}`), 410, 'cursor_expired');
    expect(expired.message).toMatch(/resync from the start/);
    expect((await a.json('GET', `/v1/sync/changes?since=${afterOld}`)).status).toBe(200);
    const full = await a.json('GET', '/v1/sync/changes?since=0');
    expect(full.body.items.map((i: { id: string; state: string }) => [i.id, i.state])).toEqual([[young.itemId, 'deleted']]);
  });

  it("another account's purge moves nothing of this one's window", async () => {
    const a = await newAccount(t);
    const b = await newAccount(t);
    const c = await a.createCollection();
    const item = a.create(c);
    await a.json('POST', '/v1/sync/changes', { changes: [item] });
    await a.json('POST', '/v1/sync/changes', { changes: [{ op: 'delete', itemId: item.itemId, baseVersion: 1 }] });
    const bc = await b.createCollection();
    await b.json('POST', '/v1/sync/changes', { changes: [b.create(bc)] });
    t.clock.advance(31 * DAY);
    await purgeOldTombstones(t.deps);
    expect((await b.json('GET', '/v1/sync/changes?since=1')).status).toBe(200);
  });
});

/** A new account, and a way to log one more of its devices in, each with an empty replica. */
async function accountToLogInto() {
  const email = uniqueEmail();
  await signUp(t.api(), { birthYear: 1990, email, password: 'pw', kdf: TEST_KDF });
  return async () => {
    const api = t.api();
    const { response, keys } = await logIn(api, { email, password: 'pw' });
    return { api, engine: createSyncEngine({ api, accountId: response.accountId, masterKey: keys.masterKey, replica: emptyReplica() }) };
  };
}

describe('a phone offline longer than the window', () => {
  it('gets cursor_expired, resyncs from 0 and ends with exactly the server state (items deleted meanwhile gone, new ones there)', async () => {
    const logInDevice = await accountToLogInto();
    const device = async () => (await logInDevice()).engine;
    const laptop = await device();
    const phone = await device();
    const kept = await laptop.saveItem({ kind: 'notes', meta: { name: 'kept.md' } });
    const doomed = await laptop.saveItem({ kind: 'notes', meta: { name: 'doomed.md' } });
    const trashedLater = await laptop.saveItem({ kind: 'notes', meta: { name: 'later.md' } });
    await phone.pull();
    expect(phone.liveItems().map((i) => i.meta.name).sort()).toEqual(['doomed.md', 'kept.md', 'later.md']);

    // The phone goes offline; the laptop deletes and adds; the tombstones age out and are purged.
    await laptop.deleteItem(doomed.itemId);
    await laptop.deleteItem(trashedLater.itemId);
    const added = await laptop.saveItem({ kind: 'notes', meta: { name: 'added.md' } });
    t.clock.advance(31 * DAY);
    expect((await purgeOldTombstones(t.deps)).tombstones).toBe(2);

    await phone.pull();
    const fresh = await device();
    await fresh.pull();
    expect(phone.replica.items).toEqual(fresh.replica.items);
    expect(phone.replica.collections).toEqual(fresh.replica.collections);
    expect(phone.liveItems().map((i) => i.id).sort()).toEqual([kept.itemId, added.itemId].sort());
    expect(phone.replica.items[doomed.itemId]).toBeUndefined();
    // And it carries on from its new cursor.
    await laptop.saveItem({ kind: 'notes', meta: { name: 'after.md' } });
    expect(await phone.pull()).toBe(1);
  });

  it('a collection deleted while the phone was away: the phone drops it on resync and a new save makes a fresh one', async () => {
    const device = await accountToLogInto();
    const laptop = await device();
    const phone = await device();
    await laptop.engine.saveItem({ kind: 'notes', meta: { name: 'a.md' } });
    await phone.engine.pull();
    const [oldCollection] = Object.keys(phone.engine.replica.collections);
    await laptop.api.purge({ type: 'data-kind', kind: 'notes' });
    // Without a resync the phone still believes in the collection: saving recovers from the 404.
    const saved = await phone.engine.saveItem({ kind: 'notes', meta: { name: 'b.md' } });
    expect(saved.outcome).toBe('created');
    expect(Object.keys(phone.engine.replica.collections)).not.toContain(oldCollection);
    t.clock.advance(31 * DAY);
    await purgeOldTombstones(t.deps);
    await phone.engine.pull();
    expect(phone.engine.liveItems().map((i) => i.meta.name)).toEqual(['b.md']);
  });
});
