import { and, asc, desc, eq, gt, gte, lt, or, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { diagnostics } from '../../db/schema.js';

export type DiagnosticsRow = typeof diagnostics.$inferSelect;

const DAY_MS = 86_400_000;
// Deletions go in batches of this many rows, so that neither a long purge holds the write lock
// for long nor a RETURNING list grows with the table.
const DELETE_BATCH = 500;

export const insertReport = (db: Db, row: DiagnosticsRow) => db.insert(diagnostics).values(row);

/**
 * One page of an account's reports after the (receivedAt, id) of the last one seen: newest first
 * for the owner's list, oldest first for what an export walks through.
 */
export function pageOf(
  db: Db,
  accountId: string,
  after: { receivedAt: number; id: string } | undefined,
  limit: number,
  order: 'newest' | 'oldest' = 'newest',
) {
  const [beyond, direction] = order === 'newest' ? [lt, desc] : [gt, asc];
  const next = after
    ? or(beyond(diagnostics.receivedAt, after.receivedAt), and(eq(diagnostics.receivedAt, after.receivedAt), beyond(diagnostics.id, after.id)))
    : undefined;
  return db
    .select()
    .from(diagnostics)
    .where(and(eq(diagnostics.accountId, accountId), next))
    .orderBy(direction(diagnostics.receivedAt), direction(diagnostics.id))
    .limit(limit);
}

/** Deletes every row matching `where`, batch by batch; returns how many went. */
async function deleteInBatches(db: Db, where: SQL): Promise<number> {
  let total = 0;
  for (;;) {
    const gone = await db
      .delete(diagnostics)
      .where(sql`rowid IN (SELECT rowid FROM ${diagnostics} WHERE ${where} LIMIT ${DELETE_BATCH})`)
      .returning({ id: diagnostics.id });
    total += gone.length;
    if (gone.length < DELETE_BATCH) return total;
  }
}

export const deleteOf = (db: Db, accountId: string, only: { deviceId?: string; kind?: DiagnosticsRow['kind'] } = {}) =>
  deleteInBatches(
    db,
    and(
      eq(diagnostics.accountId, accountId),
      only.deviceId === undefined ? undefined : eq(diagnostics.deviceId, only.deviceId),
      only.kind === undefined ? undefined : eq(diagnostics.kind, only.kind),
    )!,
  );

export const deleteReceivedBefore = (db: Db, cutoff: number) => deleteInBatches(db, lt(diagnostics.receivedAt, cutoff));

/**
 * Reports and distinct accounts per kind, app version and UTC day since a time, keeping only the
 * cells with at least `minAccounts` distinct accounts. Selects no id and no body.
 */
export function aggregateSince(db: Db, since: number, minAccounts: number) {
  const day = sql<number>`(${diagnostics.receivedAt} / ${DAY_MS})`;
  const accounts = sql<number>`count(DISTINCT ${diagnostics.accountId})`;
  return db
    .select({ kind: diagnostics.kind, appVersion: diagnostics.appVersion, day, reports: sql<number>`count(*)`, accounts })
    .from(diagnostics)
    .where(gte(diagnostics.receivedAt, since))
    .groupBy(diagnostics.kind, diagnostics.appVersion, day)
    .having(sql`${accounts} >= ${minAccounts}`)
    .orderBy(day, diagnostics.kind, diagnostics.appVersion);
}
