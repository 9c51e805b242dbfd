import { SQL } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as repo from '../../src/features/blobs/repo.js';
import { createTestApp, type TestApp } from '../harness.js';

// Releasing, attaching and listing a few blobs must cost the same in an account of ten blobs and
// one of a million: each statement must reach blobs by their primary key. Without table
// statistics (a server that never ran ANALYZE) SQLite once chose the blobs_age (state) index for
// these and read every blob in that state; the delta-sync bench showed a page 50× slower at 1M.

let t: TestApp;
beforeEach(() => {
  t = createTestApp();
});
afterEach(() => t.close());

type Query = { sql: string; params: unknown[] };
function plan(statement: unknown): string[] {
  const db = t.deps.db as unknown as { dialect: { sqlToQuery(s: SQL): Query }; $client: { prepare(sql: string): { all(...p: unknown[]): { detail: string }[] } } };
  const query = statement instanceof SQL ? db.dialect.sqlToQuery(statement) : (statement as { toSQL(): Query }).toSQL();
  return db.$client.prepare(`EXPLAIN QUERY PLAN ${query.sql}`).all(...query.params).map((row) => row.detail);
}

const ids = Array.from({ length: 50 }, (_, i) => `blob-${i}`);

describe('blob statements reach blobs by their primary key, however many the account holds', () => {
  it('release, attach, commit, discard and the item-view lookup', () => {
    const db = t.deps.db;
    const statements = [
      ...repo.markDeletingStatements(db, 'account', ids),
      ...repo.attachStatements(db, 'account', 'blob-1'),
      ...repo.attachManyStatements(db, 'account', ids),
      ...repo.commitBlobStatements(db, { accountId: 'account', id: 'blob-1', size: 10 }, 100, 1),
      repo.markPendingDeleting(db, 'account', 'blob-1'),
      repo.committedBlobsQuery(db, 'account', ids),
    ];
    for (const statement of statements) {
      const lines = plan(statement).filter((line) => /\bblobs\b/.test(line));
      for (const line of lines) expect(line).not.toMatch(/blobs_age|SCAN/);
    }
  });
});
