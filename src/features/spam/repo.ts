import { and, asc, desc, eq, gt, gte, isNotNull, lt, lte, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { spamBlocklist, spamReports } from '../../db/schema.js';

export type SpamReportRow = typeof spamReports.$inferSelect;
export type BlocklistRow = typeof spamBlocklist.$inferSelect;
export type BlocklistKind = BlocklistRow['kind'];

// ---- reports ----

/**
 * One report per account per number: a second report of the same number, from any device of the
 * account, replaces the first in place (its id stays; fingerprint, text, weight, device and time
 * are the new report's), so the unique (account, number) index is what makes an account count once.
 */
export const upsertReport = (db: Db, row: typeof spamReports.$inferInsert) =>
  db
    .insert(spamReports)
    .values(row)
    .onConflictDoUpdate({
      target: [spamReports.accountId, spamReports.numberIndex],
      set: {
        deviceId: row.deviceId,
        numberSealed: row.numberSealed,
        fingerprint: row.fingerprint ?? null,
        textSealed: row.textSealed ?? null,
        textExpiresAt: row.textExpiresAt ?? null,
        weight: row.weight,
        createdAt: row.createdAt,
      },
    });

export async function findReport(db: Db, accountId: string, numberIndex: string) {
  const [row] = await db.select().from(spamReports).where(and(eq(spamReports.accountId, accountId), eq(spamReports.numberIndex, numberIndex)));
  return row;
}

export const reportsOfAccount = (db: Db, accountId: string, limit: number) =>
  db.select().from(spamReports).where(eq(spamReports.accountId, accountId)).orderBy(desc(spamReports.createdAt), spamReports.id).limit(limit);

/** Deletes the report only if it is the account's: the changed-row count tells the caller which. */
export const deleteReport = (db: Db, accountId: string, reportId: string) =>
  db.delete(spamReports).where(and(eq(spamReports.accountId, accountId), eq(spamReports.id, reportId)));

/** Export: the account's reports, a keyset page at a time. */
export const reportsPage = (db: Db, accountId: string, afterId: string, limit: number) =>
  db
    .select()
    .from(spamReports)
    .where(and(eq(spamReports.accountId, accountId), gt(spamReports.id, afterId)))
    .orderBy(spamReports.id)
    .limit(limit);

export async function countForDevice(db: Db, accountId: string, deviceId: string) {
  const [row] = await db
    .select({ n: sql<number>`count(*)` })
    .from(spamReports)
    .where(and(eq(spamReports.accountId, accountId), eq(spamReports.deviceId, deviceId)));
  return Number(row?.n ?? 0);
}

// ---- what publishing reads ----

/**
 * Numbers whose reports inside the window weigh at least `minWeight`. Each account holds at most
 * one report per number (the unique index), so the sum is over distinct accounts.
 */
export const numbersWithSupport = (db: Db, since: number, minWeight: number) =>
  db
    .select({ numberIndex: spamReports.numberIndex, numberSealed: sql<string>`min(${spamReports.numberSealed})` })
    .from(spamReports)
    .where(gte(spamReports.createdAt, since))
    .groupBy(spamReports.numberIndex)
    .having(gte(sql`sum(${spamReports.weight})`, minWeight));

/** The most recent reports with a fingerprint inside the window, newest first. */
export const recentFingerprints = (db: Db, since: number, limit: number) =>
  db
    .select({ accountId: spamReports.accountId, fingerprint: sql<string>`${spamReports.fingerprint}`, weight: spamReports.weight, createdAt: spamReports.createdAt })
    .from(spamReports)
    .where(and(gte(spamReports.createdAt, since), isNotNull(spamReports.fingerprint)))
    .orderBy(desc(spamReports.createdAt), desc(spamReports.id))
    .limit(limit);

/** Reports past the window count for nothing any more, and go. */
export const deleteReportsBefore = (db: Db, cutoff: number) => db.delete(spamReports).where(lt(spamReports.createdAt, cutoff));

/** Kept reported texts (SPAM_TEXT_RETENTION_HOURS > 0) past their expiry are dropped; the fingerprint stays. */
export const dropExpiredTexts = (db: Db, now: number) =>
  db
    .update(spamReports)
    .set({ textSealed: null, textExpiresAt: null })
    .where(and(isNotNull(spamReports.textExpiresAt), lte(spamReports.textExpiresAt, now)));

// ---- the blocklist ----

// Every change takes max(version)+1, computed inside the statement that makes it, so two
// changes (even of two passes at once) never share a version; the unique index on version
// stops the write if they ever did.
const NEXT_VERSION = sql`(SELECT coalesce(max(${spamBlocklist.version}), 0) + 1 FROM ${spamBlocklist})`;

/** Lists an entry (new, or unlisted before) with the next version; an entry already listed is left alone. */
export const listEntry = (kind: BlocklistKind, value: string) =>
  sql`INSERT INTO ${spamBlocklist} (kind, value, version, listed) VALUES (${kind}, ${value}, ${NEXT_VERSION}, 1)
      ON CONFLICT (kind, value) DO UPDATE SET listed = 1, version = excluded.version WHERE ${spamBlocklist.listed} = 0`;

/** Takes a listed entry off the list with the next version. */
export const unlistEntry = (kind: BlocklistKind, value: string) =>
  sql`UPDATE ${spamBlocklist} SET listed = 0, version = ${NEXT_VERSION}
      WHERE ${spamBlocklist.kind} = ${kind} AND ${spamBlocklist.value} = ${value} AND ${spamBlocklist.listed} = 1`;

export const listedEntries = (db: Db, kind?: BlocklistKind) =>
  db
    .select()
    .from(spamBlocklist)
    .where(kind ? and(eq(spamBlocklist.listed, true), eq(spamBlocklist.kind, kind)) : eq(spamBlocklist.listed, true))
    .orderBy(asc(spamBlocklist.version));

export const entriesAfter = (db: Db, version: number) =>
  db.select().from(spamBlocklist).where(gt(spamBlocklist.version, version)).orderBy(asc(spamBlocklist.version));

export async function currentVersion(db: Db) {
  const [row] = await db.select({ v: sql<number | null>`max(${spamBlocklist.version})` }).from(spamBlocklist);
  return Number(row?.v ?? 0);
}
