import { and, desc, eq, lt, sql } from 'drizzle-orm';
import { fixedLimit, guard, reusableRead, reusableWrite, type Db } from '../../db/client.js';
import { consentEvents } from '../../db/schema.js';

// The ledger is append-only: nothing here updates or deletes a row (the account's deletion
// removes its rows by cascade). Rows are ordered by rowid, which only grows because no row is
// ever deleted on its own; several choices in one millisecond keep their order.

export type ConsentEventRow = typeof consentEvents.$inferSelect & { seq: number };
export type NewConsentEvent = typeof consentEvents.$inferInsert;

const columns = {
  accountId: consentEvents.accountId,
  id: consentEvents.id,
  purpose: consentEvents.purpose,
  deviceId: consentEvents.deviceId,
  granted: consentEvents.granted,
  policyVersion: consentEvents.policyVersion,
  actorSessionId: consentEvents.actorSessionId,
  actorDeviceId: consentEvents.actorDeviceId,
  choice: consentEvents.choice,
  receiptId: consentEvents.receiptId,
  at: consentEvents.at,
  seq: sql<number>`${consentEvents}.rowid`.as('seq'),
};

export const insertEvent = (db: Db, row: NewConsentEvent) => db.insert(consentEvents).values(row);

/** The newest row of one purpose (and device, for find), or undefined when never chosen. */
// Every write of consented data asks this first, so it is built once (see reusableRead).
const latestOfPurpose = reusableRead((db) =>
  db
    .select(columns)
    .from(consentEvents)
    .where(
      and(
        eq(consentEvents.accountId, sql.placeholder('accountId')),
        eq(consentEvents.purpose, sql.placeholder('purpose')),
        eq(consentEvents.deviceId, sql.placeholder('deviceId')),
      ),
    )
    .orderBy(desc(sql`${consentEvents}.rowid`))
    .limit(fixedLimit(1)),
);

export async function latest(db: Db, accountId: string, purpose: string, deviceId = '') {
  const [row] = await latestOfPurpose(db).all({ accountId, purpose, deviceId });
  return row as ConsentEventRow | undefined;
}

/** The newest row of every purpose (and device) the account has chosen for: one per (purpose, device). */
export async function latestOfEach(db: Db, accountId: string) {
  const rows = await db
    .select(columns)
    .from(consentEvents)
    .where(
      and(
        eq(consentEvents.accountId, accountId),
        sql`${consentEvents}.rowid = (SELECT max(e.rowid) FROM consent_events e WHERE e.account_id = ${consentEvents.accountId} AND e.purpose = ${consentEvents.purpose} AND e.device_id = ${consentEvents.deviceId})`,
      ),
    );
  return rows as ConsentEventRow[];
}

/** A page of the ledger, newest first, strictly older than the cursor (a rowid) when given. */
export async function page(db: Db, accountId: string, before: number | undefined, limit: number) {
  const rows = await db
    .select(columns)
    .from(consentEvents)
    .where(and(eq(consentEvents.accountId, accountId), before === undefined ? undefined : lt(sql`${consentEvents}.rowid`, before)))
    .orderBy(desc(sql`${consentEvents}.rowid`))
    .limit(limit);
  return rows as ConsentEventRow[];
}

/**
 * Aborts the atomic write it is part of when the purpose's newest row withdraws it: a withdrawal
 * committed between a feature's consent check and its write still wins.
 */
const notWithdrawn = reusableWrite<{ accountId: string; purpose: string }>(() =>
  guard(
    sql`(SELECT granted FROM consent_events WHERE account_id = ${sql.placeholder('accountId')} AND purpose = ${sql.placeholder('purpose')} AND device_id = '' ORDER BY rowid DESC LIMIT 1) = 0`,
  ),
);
export const guardNotWithdrawn = (db: Db, accountId: string, purpose: string) => notWithdrawn(db, { accountId, purpose });
