import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMigrationDb } from './migrations.js';

// 0004 moves the quota counter from sync_state to blob_usage and gives each blob a reference
// count, so the blobs feature no longer reads sync's tables. A server already holding data must
// come out of it with the same usage and with counts that match its items.

const TAG = '0004_blob_ownership';

let m: ReturnType<typeof createMigrationDb>;
let sqlite: Database.Database;
beforeEach(() => {
  m = createMigrationDb();
  sqlite = m.sqlite;
});
afterEach(() => m.close());

const insertAccount = (id: string) => m.insertRow('accounts', { id });

const blob = (accountId: string, id: string, size: number, state: string) =>
  sqlite
    .prepare(`INSERT INTO blobs (account_id, id, size, sha256, state, created_at, committed_at) VALUES (?, ?, ?, 'ab', ?, 1, 1)`)
    .run(accountId, id, size, state);
const item = (accountId: string, id: string, state: string, blobId: string | null) =>
  sqlite
    .prepare(
      `INSERT INTO items (account_id, id, collection_id, version, state, wrapped_key, encrypted_metadata, blob_id, trashed_at,
         change_seq, created_at, updated_at) VALUES (?, ?, 'c', 1, ?, 'k', 'm', ?, NULL, 1, 1, 1)`,
    )
    .run(accountId, id, state, blobId);

describe('migration 0004: blob ownership', () => {
  it('keeps each account usage and counts the items holding each blob, even where two accounts reuse a blob id', () => {
    m.migrateBefore(TAG);
    for (const id of ['a', 'b', 'c']) insertAccount(id);
    const state = sqlite.prepare('INSERT INTO sync_state (account_id, seq, bytes_used) VALUES (?, ?, ?)');
    state.run('a', 17, 3500);
    state.run('b', 4, 700);
    state.run('c', 2, 0);
    blob('a', 'live', 1000, 'committed');
    blob('a', 'trashed', 2000, 'committed');
    blob('a', 'loose', 500, 'committed');
    blob('a', 'uploading', 9000, 'pending');
    blob('a', 'shared-id', 100, 'committed');
    blob('b', 'shared-id', 700, 'committed');
    item('a', 'i1', 'live', 'live');
    item('a', 'i2', 'trashed', 'trashed');
    item('a', 'i3', 'deleted', null);
    item('b', 'i1', 'live', 'shared-id');

    m.migrateAll();

    expect(sqlite.prepare('SELECT account_id, bytes_used FROM blob_usage ORDER BY account_id').all()).toEqual([
      { account_id: 'a', bytes_used: 3500 },
      { account_id: 'b', bytes_used: 700 },
      { account_id: 'c', bytes_used: 0 },
    ]);
    expect(sqlite.prepare('SELECT account_id, id, refs, state FROM blobs ORDER BY account_id, id').all()).toEqual([
      { account_id: 'a', id: 'live', refs: 1, state: 'committed' },
      { account_id: 'a', id: 'loose', refs: 0, state: 'committed' },
      { account_id: 'a', id: 'shared-id', refs: 0, state: 'committed' },
      { account_id: 'a', id: 'trashed', refs: 1, state: 'committed' },
      { account_id: 'a', id: 'uploading', refs: 0, state: 'pending' },
      { account_id: 'b', id: 'shared-id', refs: 1, state: 'committed' },
    ]);
    // Only what 0004 changed: later migrations add columns of their own to sync_state.
    expect(sqlite.prepare('SELECT account_id, seq FROM sync_state ORDER BY account_id').all()).toEqual([
      { account_id: 'a', seq: 17 },
      { account_id: 'b', seq: 4 },
      { account_id: 'c', seq: 2 },
    ]);
    expect(sqlite.pragma('foreign_key_check')).toEqual([]);
    expect(sqlite.pragma('integrity_check', { simple: true })).toBe('ok');

    // The new table belongs to its account like the old column did.
    sqlite.prepare("DELETE FROM accounts WHERE id = 'b'").run();
    expect(sqlite.prepare("SELECT count(*) AS n FROM blob_usage WHERE account_id = 'b'").get()).toEqual({ n: 0 });
  });

  it('applies to an empty database', () => {
    m.migrateAll();
    const columns = (table: string) => (sqlite.pragma(`table_info(${table})`) as { name: string }[]).map((c) => c.name);
    expect(columns('sync_state')).toContain('seq');
    expect(columns('sync_state')).not.toContain('bytes_used');
    expect(columns('blob_usage')).toEqual(['account_id', 'bytes_used']);
    expect(columns('blobs')).toContain('refs');
  });
});
