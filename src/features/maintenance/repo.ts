import { and, eq, isNotNull, lt, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { jobRuns } from '../../db/schema.js';

export type JobRunRow = typeof jobRuns.$inferSelect;

/**
 * Marks the job as running, unless a run of it started after `staleBefore` and has not finished.
 * One statement (an upsert whose update is conditional), so two processes claiming at once cannot
 * both win: SQLite and D1 run it atomically. Returns whether this caller got the job.
 */
export async function claim(db: Db, name: string, now: number, staleBefore: number) {
  const claimed = await db
    .insert(jobRuns)
    .values({ name, startedAt: now, finishedAt: null, runs: 0, failures: 0 })
    .onConflictDoUpdate({
      target: jobRuns.name,
      set: { startedAt: now, finishedAt: null },
      setWhere: or(isNotNull(jobRuns.finishedAt), lt(jobRuns.startedAt, staleBefore)),
    })
    .returning({ name: jobRuns.name });
  return claimed.length === 1;
}

/** Records the end of the run that started at `startedAt` (a later claim's row is left alone). */
export const finish = (
  db: Db,
  name: string,
  startedAt: number,
  outcome: { finishedAt: number; counts: string | null; error: string | null },
) =>
  db
    .update(jobRuns)
    .set({
      finishedAt: outcome.finishedAt,
      durationMs: outcome.finishedAt - startedAt,
      counts: outcome.counts,
      error: outcome.error,
      runs: sql`${jobRuns.runs} + 1`,
      failures: outcome.error === null ? jobRuns.failures : sql`${jobRuns.failures} + 1`,
    })
    .where(and(eq(jobRuns.name, name), eq(jobRuns.startedAt, startedAt)));

export const listRuns = (db: Db) => db.select().from(jobRuns).orderBy(jobRuns.name);
