import type { Deps } from '../../deps.js';
import type { LogFields } from '../../adapters/log.js';
import * as repo from './repo.js';

/** What a job did, e.g. { reports: 12 } or { uploadsEnded: 1, blobs: 3 }. */
export type JobCounts = Record<string, number>;

/**
 * A housekeeping job. Every job must be idempotent: a second run straight after the first finds
 * nothing left to do, and a run cut short (crash, timeout) is finished by the next one.
 */
export interface Job {
  name: string;
  run(deps: Deps): Promise<unknown>;
}

export type JobOutcome =
  | { name: string; status: 'ok'; counts: JobCounts; durationMs: number }
  | { name: string; status: 'failed'; error: string; durationMs: number }
  | { name: string; status: 'skipped' };

/**
 * A run that started this long ago and never finished is taken to have died with its process
 * (SIGKILL, an isolate evicted mid-cron); another pass may claim the job again after that.
 */
export const JOB_STALE_MS = 60 * 60_000;

/** The counts a job returned, whatever it returned: numbers are kept, anything else is dropped. */
export function countsOf(result: unknown): JobCounts {
  if (typeof result === 'number') return { count: result };
  if (!result || typeof result !== 'object') return {};
  const counts: JobCounts = {};
  for (const [key, value] of Object.entries(result)) {
    if (typeof value === 'number' && Number.isFinite(value)) counts[key] = value;
    else if (typeof value === 'boolean') counts[key] = value ? 1 : 0;
  }
  return counts;
}

// The operator reads this; the first line of the message is enough, and it stays short.
const describe = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err)).split('\n')[0]!.slice(0, 300);

/**
 * Runs the jobs one after another. Each is claimed in job_runs first, so a job another process
 * (or an overlapping timer or cron) is still running is skipped, not run twice at once. A job that
 * throws is logged and recorded, and the rest still run. Ends with one log line for the pass.
 */
export async function runJobs(deps: Deps, jobs: readonly Job[]): Promise<JobOutcome[]> {
  const passStarted = deps.clock.now();
  const outcomes: JobOutcome[] = [];
  for (const job of jobs) outcomes.push(await runOne(deps, job));
  const fields: LogFields = { ms: deps.clock.now() - passStarted };
  for (const o of outcomes) {
    fields[o.name] =
      o.status === 'ok' ? Object.entries(o.counts).map(([k, v]) => `${k}=${v}`).join(' ') || 'ok' : o.status;
  }
  deps.log.info('maintenance pass', fields);
  return outcomes;
}

async function runOne(deps: Deps, job: Job): Promise<JobOutcome> {
  const startedAt = deps.clock.now();
  const mark = deps.durability?.mark();
  if (!(await repo.claim(deps.db, job.name, startedAt, startedAt - JOB_STALE_MS))) {
    deps.log.info('maintenance job skipped: still running', { job: job.name });
    return { name: job.name, status: 'skipped' };
  }
  let outcome: JobOutcome;
  try {
    const counts = countsOf(await job.run(deps));
    outcome = { name: job.name, status: 'ok', counts, durationMs: deps.clock.now() - startedAt };
  } catch (err) {
    outcome = { name: job.name, status: 'failed', error: describe(err), durationMs: deps.clock.now() - startedAt };
    deps.log.error('maintenance job failed', { job: job.name, error: outcome.error });
  }
  await repo.finish(deps.db, job.name, startedAt, {
    finishedAt: startedAt + outcome.durationMs,
    counts: outcome.status === 'ok' ? JSON.stringify(outcome.counts) : null,
    error: outcome.status === 'failed' ? outcome.error : null,
  });
  // Where writes commit in groups, a job is done once what it wrote is on disk, as a request is.
  if (mark !== undefined) {
    try {
      await deps.durability!.settled(mark);
    } catch (err) {
      outcome = { name: job.name, status: 'failed', error: describe(err), durationMs: deps.clock.now() - startedAt };
      deps.log.error('maintenance job failed', { job: job.name, error: outcome.error });
    }
  }
  return outcome;
}

export interface JobRunView {
  name: string;
  /** The latest run's start; with finishedAt null it is running now. */
  startedAt: number;
  finishedAt: number | null;
  durationMs: number | null;
  counts: JobCounts | null;
  error: string | null;
  runs: number;
  failures: number;
}

/** Each job's latest run, for the operator (src/admin.ts). */
export async function jobRuns(deps: Deps): Promise<JobRunView[]> {
  return (await repo.listRuns(deps.db)).map((row) => ({
    name: row.name,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    durationMs: row.durationMs,
    counts: row.counts === null ? null : (JSON.parse(row.counts) as JobCounts),
    error: row.error,
    runs: row.runs,
    failures: row.failures,
  }));
}
