import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../harness.js';
import { owner, type Owner } from '../features/find-helpers.js';
import { fakeSealed, newAccount } from '../features/sync-helpers.js';

// Group commit (src/adapters/sqlite-group-commit.ts) through the front door: concurrent writes
// share one commit, no request is answered before the commit that holds its writes, and a commit
// that fails is an error for every request in it, with nothing of theirs left behind.

type Sqlite = Database.Database;
let t: TestApp;
let sqlite: Sqlite;
let dbFile: string;

beforeEach(() => {
  t = createTestApp();
  sqlite = (t.deps.db as unknown as { $client: Sqlite }).$client;
  dbFile = join(t.dir, 'homing.db');
  // Commit frames are counted in the WAL file, so it must not be checkpointed away meanwhile.
  sqlite.pragma('wal_autocheckpoint = 0');
});
afterEach(() => t.close());

/** The number of commits in the WAL file: frames whose header names the database size after it. */
function walCommits(): number {
  const wal = readFileSync(`${dbFile}-wal`);
  if (wal.length < 32) return 0;
  const pageSize = wal.readUInt32BE(8);
  const salts = [wal.readUInt32BE(16), wal.readUInt32BE(20)];
  let commits = 0;
  for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) {
    // Frames left from before the last WAL reset carry the old salts and are not part of it.
    if (wal.readUInt32BE(at + 8) !== salts[0] || wal.readUInt32BE(at + 12) !== salts[1]) break;
    if (wal.readUInt32BE(at + 4) !== 0) commits++;
  }
  return commits;
}

const report = (o: Owner, device: { auth: Record<string, string> }, lat: number) =>
  o.asDevice(device.auth, 'POST', '/v1/device/locations', { reports: [{ sealed: o.sealed(lat, 0) }] });

/** Several devices of one owner with Find Device on, so no per-device limit is met. */
async function devicesWithFind(o: Owner, count: number) {
  const devices = [o.device];
  for (let i = 1; i < count; i++) {
    const device = await o.register(`phone ${i}`);
    await o.asOwner('PUT', `/v1/devices/${device.id}/find`, { enabled: true });
    devices.push(device);
  }
  return devices;
}

describe('group commit', () => {
  it('keeps the savepoint journals of its writes in memory, not in a temporary file per write', () => {
    // Every request's writes are a savepoint inside the open group; past 64 KiB SQLite would spill
    // what the savepoint may undo to a temporary file (a push of 100 items did, every time).
    expect(sqlite.pragma('temp_store', { simple: true })).toBe(2);
  });

  it('forty location reports sent at once are committed by a few transactions, not two or more each', async () => {
    const o = await owner(t);
    const devices = await devicesWithFind(o, 8);
    const before = walCommits();
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => report(o, devices[i % devices.length]!, i)));
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 202));
    const commits = walCommits() - before;
    // Each report writes a rate counter, the report and the last-known location: committed one by
    // one that is 80 or more commits. Grouped, the handful of event-loop turns the requests span.
    expect(commits).toBeGreaterThan(0);
    expect(commits).toBeLessThan(10);
    expect(await t.deps.db.query.locationReports.findMany()).toHaveLength(40);
  });

  it('a report is answered only once it is committed: another connection already sees it when the 202 arrives', async () => {
    const o = await owner(t);
    const reader = new Database(dbFile, { readonly: true });
    try {
      const count = reader.prepare('SELECT count(*) FROM location_reports').pluck();
      for (let i = 0; i < 5; i++) {
        const answered = await report(o, o.device, i);
        expect(answered.status).toBe(202);
        // Read at once, in the same turn the answer arrived in: before the next commit could run.
        expect(count.get()).toBe(i + 1);
      }
    } finally {
      reader.close();
    }
  });

  it('a commit that fails answers every request in it 503 with nothing of theirs stored, and the next commit works', async () => {
    const o = await owner(t);
    const devices = await devicesWithFind(o, 3);
    const stored = () => sqlite.prepare('SELECT count(*) FROM location_reports').pluck().get() as number;

    // A write whose foreign-key check is deferred to COMMIT, slipped into the group the reports
    // open, makes that COMMIT fail: a commit that fails however it fails (a disk error at fsync).
    let injected = false;
    const poison = new Promise<void>((resolve) => {
      let turns = 0;
      const poll = () => {
        if (!sqlite.inTransaction && ++turns > 10_000) return resolve();
        if (!sqlite.inTransaction) return void setImmediate(poll);
        // As a statement, not pragma(): a direct pragma() commits the open group first.
        sqlite.prepare('PRAGMA defer_foreign_keys = ON').run();
        sqlite
          .prepare('INSERT INTO location_reports (account_id, device_id, id, sealed, received_at) VALUES (?, ?, ?, ?, ?)')
          .run(o.accountId, 'no-such-device', 'poison', 'x', 0);
        injected = true;
        resolve();
      };
      setImmediate(poll);
    });
    const answers = await Promise.all(devices.map((device, i) => report(o, device, i)));
    await poison;
    expect(injected).toBe(true);
    const statuses = answers.map((a) => a.status);
    expect(statuses).toContain(503);
    for (const answer of answers.filter((a) => a.status === 503)) {
      expect(answer.body.error).toMatchObject({ code: 'service_unavailable' });
      expect(answer.body.error.message).toContain('nothing was saved');
    }
    // Every report answered 202 is stored, none answered 503 is, and the poison is gone.
    expect(stored()).toBe(statuses.filter((s) => s === 202).length);
    expect(sqlite.prepare("SELECT count(*) FROM location_reports WHERE id = 'poison'").pluck().get()).toBe(0);

    // The retry the error invites is taken, in a group of its own.
    const retried = await Promise.all(devices.map((device, i) => report(o, device, 10 + i)));
    expect(retried.map((a) => a.status)).toEqual([202, 202, 202]);
    expect(stored()).toBe(statuses.filter((s) => s === 202).length + 3);
  });

  it('a write that fails inside a group (a racing create of the same item) fails alone: the group and the other requests in it commit', async () => {
    const o = await owner(t);
    const devices = await devicesWithFind(o, 3);
    const syncer = await newAccount(t);
    const collectionId = await syncer.createCollection();
    const change = syncer.create(collectionId);
    // Both pushes pass their checks before either writes; the second one's write is refused by the
    // database inside the group the reports share (a savepoint rolled back, not the group).
    const [first, second, ...reports] = await Promise.all([
      syncer.json('POST', '/v1/sync/changes', { changes: [change] }),
      syncer.json('POST', '/v1/sync/changes', { changes: [{ ...change, encryptedMetadata: fakeSealed(100) }] }),
      ...devices.map((device, i) => report(o, device, i)),
    ]);
    expect([first.status, second.status].sort()).toEqual([200, 409]);
    expect(reports.map((a) => a.status)).toEqual([202, 202, 202]);
    expect(await t.deps.db.query.locationReports.findMany()).toHaveLength(3);
    expect((await syncer.json('GET', '/v1/sync/changes?since=0')).body.items.filter((i: { id: string }) => i.id === change.itemId)).toHaveLength(1);
  });
});
