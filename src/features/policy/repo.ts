import { and, desc, eq, inArray, isNotNull, lte, max, sql } from 'drizzle-orm';
import { fixedLimit, reusableRead, type Db } from '../../db/client.js';
import { policyNotices, policyVersions } from '../../db/schema.js';

export type PolicyVersionRow = typeof policyVersions.$inferSelect;

/** Records a version the first time a server publishes it; later starts leave it as it was. */
export const insertVersion = (db: Db, row: PolicyVersionRow) => db.insert(policyVersions).values(row).onConflictDoNothing();

export async function findVersion(db: Db, version: number) {
  const [row] = await db.select().from(policyVersions).where(eq(policyVersions.version, version)).limit(fixedLimit(1));
  return row;
}

/** The newest version up to `upTo` that reduced rights: consents older than it count as off. */
// These two are asked before every write of consented data, so they are built once (see reusableRead).
const newestRightsReducingUpTo = reusableRead((db) =>
  db
    .select({ version: max(policyVersions.version) })
    .from(policyVersions)
    .where(and(eq(policyVersions.reducesRights, true), lte(policyVersions.version, sql.placeholder('upTo')))),
);
const lastAcceptedOf = reusableRead((db) =>
  db
    .select({ version: policyNotices.version, at: policyNotices.acknowledgedAt })
    .from(policyNotices)
    .where(and(eq(policyNotices.accountId, sql.placeholder('accountId')), isNotNull(policyNotices.acknowledgedAt)))
    .orderBy(desc(policyNotices.version))
    .limit(fixedLimit(1)),
);

export async function newestRightsReducing(db: Db, upTo: number) {
  const [row] = await newestRightsReducingUpTo(db).all({ upTo });
  return row?.version ?? 0;
}

/** The newest version the account accepted (at sign-up or later), or 0. */
export async function lastAccepted(db: Db, accountId: string) {
  const [row] = await lastAcceptedOf(db).all({ accountId });
  return row;
}

export async function findNotice(db: Db, accountId: string, version: number) {
  const [row] = await db
    .select()
    .from(policyNotices)
    .where(and(eq(policyNotices.accountId, accountId), eq(policyNotices.version, version)))
    .limit(fixedLimit(1));
  return row;
}

/** Acceptance of a version: creates the notice row or marks the existing one acknowledged (the first time only). */
export const acknowledge = (db: Db, accountId: string, version: number, at: number) =>
  db
    .insert(policyNotices)
    .values({ accountId, version, emailedAt: null, acknowledgedAt: at, createdAt: at })
    .onConflictDoUpdate({
      target: [policyNotices.accountId, policyNotices.version],
      set: { acknowledgedAt: sql`coalesce(${policyNotices.acknowledgedAt}, ${at})` },
    });

/** The e-mail about a version went out; the row is what keeps the next run from sending it again. */
export const markEmailed = (db: Db, accountId: string, version: number, at: number) =>
  db
    .insert(policyNotices)
    .values({ accountId, version, emailedAt: at, acknowledgedAt: null, createdAt: at })
    .onConflictDoUpdate({ target: [policyNotices.accountId, policyNotices.version], set: { emailedAt: at } });

/** Of these accounts, the ones that already have a notice row (told, or accepted) for the version. */
export async function noticedAmong(db: Db, accountIds: string[], version: number) {
  if (accountIds.length === 0) return [];
  const rows = await db
    .select({ accountId: policyNotices.accountId })
    .from(policyNotices)
    .where(and(eq(policyNotices.version, version), inArray(policyNotices.accountId, accountIds)));
  return rows.map((r) => r.accountId);
}

export const noticesOf = (db: Db, accountId: string) =>
  db.select().from(policyNotices).where(eq(policyNotices.accountId, accountId)).orderBy(policyNotices.version);
