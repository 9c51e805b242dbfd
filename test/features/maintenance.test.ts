import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toBase64Url } from '../../src/protocol/encoding.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jobRuns, JOB_STALE_MS, runJobs, type Job } from '../../src/features/maintenance/service.js';
import { JOBS, runMaintenance } from '../../src/jobs.js';
import { createTestApp, type TestApp } from '../harness.js';
import { commandFor } from '../process/spawn.js';
import { freshAddress, requestChallenge } from '../security/helpers.js';
import { owner } from './find-helpers.js';

let t: TestApp;
beforeEach(() => {
  t = createTestApp();
});
afterEach(() => t.close());

const MINUTE = 60_000;

const runOf = async (name: string) => (await jobRuns(t.deps)).find((r) => r.name === name);

/** A job that waits until released: stands for one still running in another process. */
function heldJob(name: string) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let runs = 0;
  const job: Job = {
    name,
    run: async () => {
      runs++;
      await gate;
      return { done: 1 };
    },
  };
  return { job, release, runs: () => runs };
}

describe('happy: every job runs and records its counts', () => {
  it('one pass runs every listed job and records start, finish, duration, counts and runs', async () => {
    const outcomes = await runMaintenance(t.deps);
    expect(outcomes.map((o) => o.name)).toEqual(JOBS.map((j) => j.name));
    expect(outcomes.every((o) => o.status === 'ok')).toBe(true);
    const runs = await jobRuns(t.deps);
    expect(runs.map((r) => r.name).sort()).toEqual(JOBS.map((j) => j.name).sort());
    for (const run of runs) {
      expect(run).toMatchObject({ startedAt: t.clock.now(), finishedAt: t.clock.now(), durationMs: 0, error: null, runs: 1, failures: 0 });
      expect(run.counts).toBeTypeOf('object');
    }
  });

  it('the counts say what was removed: expired challenges and location history past its window', async () => {
    const o = await owner(t);
    await o.asDevice(o.device.auth, 'POST', '/v1/device/locations', { reports: [{ sealed: o.sealed(51.5, -0.1) }, { sealed: o.sealed(51.6, -0.1) }] });
    await requestChallenge(t, 'someone@example.org', freshAddress());
    t.clock.advance(t.deps.config.locationHistoryMs + MINUTE);
    await runMaintenance(t.deps);
    expect((await runOf('locations'))!.counts).toEqual({ reports: 2 });
    // The stranger's challenge, never used (the owner's was consumed by the login).
    expect((await runOf('challenges'))!.counts).toEqual({ challenges: 1 });
    expect((await runOf('audit'))!.counts).toEqual({ entries: 0 });
  });

  it('running twice is harmless: the second pass finds nothing left and counts its run', async () => {
    const o = await owner(t);
    await o.asDevice(o.device.auth, 'POST', '/v1/device/locations', { reports: [{ sealed: o.sealed(1, 2) }] });
    t.clock.advance(t.deps.config.locationHistoryMs + MINUTE);
    await runMaintenance(t.deps);
    const second = await runMaintenance(t.deps);
    expect(second.find((s) => s.name === 'locations')).toMatchObject({ status: 'ok', counts: { reports: 0 } });
    expect(second.every((s) => s.status === 'ok')).toBe(true);
    expect(await runOf('locations')).toMatchObject({ runs: 2, failures: 0, counts: { reports: 0 } });
  });

  it('the duration is measured with the injected clock', async () => {
    await runJobs(t.deps, [{ name: 'slow', run: async (deps) => (t.clock.advance(1234), { rows: deps ? 3 : 0 }) }]);
    expect(await runOf('slow')).toMatchObject({ durationMs: 1234, counts: { rows: 3 } });
  });

  it('writes one log line per pass with each job’s counts', async () => {
    await runJobs(t.deps, [
      { name: 'a', run: async () => ({ rows: 2, objects: 1 }) },
      { name: 'b', run: async () => undefined },
    ]);
    const lines = t.logLines.map((l) => JSON.parse(l)).filter((l) => l.message === 'maintenance pass');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ a: 'rows=2 objects=1', b: 'ok' });
  });
});

describe('errors: one job failing does not stop the others', () => {
  it('a failing job is logged and recorded with its error, and the jobs after it still run', async () => {
    let ranAfter = false;
    const outcomes = await runJobs(t.deps, [
      { name: 'before', run: async () => ({ n: 1 }) },
      {
        name: 'broken',
        run: async () => {
          throw new Error('the store is unreachable\nsecond line never shown');
        },
      },
      { name: 'after', run: async () => ((ranAfter = true), { n: 2 }) },
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['ok', 'failed', 'ok']);
    expect(ranAfter).toBe(true);
    expect(await runOf('broken')).toMatchObject({ error: 'Error: the store is unreachable', counts: null, runs: 1, failures: 1 });
    expect(t.logLines.some((l) => l.includes('"maintenance job failed"') && l.includes('"job":"broken"'))).toBe(true);

    // Fixed on the next run: the error is cleared, the failure count stays for the operator.
    await runJobs(t.deps, [{ name: 'broken', run: async () => ({ n: 0 }) }]);
    expect(await runOf('broken')).toMatchObject({ error: null, counts: { n: 0 }, runs: 2, failures: 1 });
  });

  it('a job whose function is missing is recorded as failed instead of breaking the pass', async () => {
    const missing = undefined as unknown as Job['run'];
    const outcomes = await runJobs(t.deps, [{ name: 'missing', run: missing }, { name: 'next', run: async () => ({}) }]);
    expect(outcomes.map((o) => o.status)).toEqual(['failed', 'ok']);
  });
});

describe('security: a job already running is not run twice at once', () => {
  it('a pass overlapping one still running skips that job and runs the rest', async () => {
    const held = heldJob('long');
    const first = runJobs(t.deps, [held.job]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(held.runs()).toBe(1);
    const second = await runJobs(t.deps, [held.job, { name: 'other', run: async () => ({ n: 1 }) }]);
    expect(second.map((o) => o.status)).toEqual(['skipped', 'ok']);
    expect(held.runs()).toBe(1);
    expect(await runOf('long')).toMatchObject({ finishedAt: null, runs: 0 });
    held.release();
    await first;
    expect(await runOf('long')).toMatchObject({ runs: 1, counts: { done: 1 } });
    // Finished: the next pass runs it again.
    const again = heldJob('long');
    again.release();
    expect((await runJobs(t.deps, [again.job]))[0]!.status).toBe('ok');
  });

  it('a run that never finished (its process died) is taken over after the stale time, and its late finish changes nothing', async () => {
    const held = heldJob('crashed');
    const abandoned = runJobs(t.deps, [held.job]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    t.clock.advance(JOB_STALE_MS - 1);
    const early = heldJob('crashed');
    early.release();
    expect((await runJobs(t.deps, [early.job]))[0]!.status).toBe('skipped');
    t.clock.advance(2);
    const takeover = heldJob('crashed');
    takeover.release();
    expect((await runJobs(t.deps, [takeover.job]))[0]!.status).toBe('ok');
    const afterTakeover = await runOf('crashed');
    // The abandoned run finishing late does not overwrite the newer run's record.
    held.release();
    await abandoned;
    expect(await runOf('crashed')).toEqual(afterTakeover);
  });
});

describe('the operator’s view: npm run admin', () => {
  it('`run-jobs` runs one pass and `jobs` shows each job’s last run, as a table and as JSON', async () => {
    // A server's data folder, as the admin tool finds it through the server's environment.
    const dir = mkdtempSync(join(tmpdir(), 'homing-admin-'));
    const env = { HOMING_DATA_DIR: dir, PUBLIC_URL: 'http://localhost:8787', LOG_LEVEL: 'error', HOMING_SERVER_KEY: toBase64Url(randomBytes(32)) };
    const [command, args] = commandFor('src/admin.ts');
    const admin = (...extra: string[]) =>
      spawnSync(command, [...args, ...extra], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 60_000 });
    try {
      const before = admin('jobs');
      expect(before.status).toBe(0);
      expect(before.stdout).toMatch(/^job +state +last started/);
      expect(before.stdout).toMatch(/challenges +never run/);

      const run = admin('run-jobs');
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/challenges +ok +\d+ ms +challenges=\d+/);

      const shown = admin('jobs', '--json');
      expect(shown.status).toBe(0);
      const rows = JSON.parse(shown.stdout) as { name: string; runs: number; counts: Record<string, number> }[];
      expect(rows.map((r) => r.name)).toEqual(JOBS.map((j) => j.name));
      expect(rows.every((r) => r.runs === 1)).toBe(true);
      expect(rows.find((r) => r.name === 'challenges')!.counts).toEqual({ challenges: expect.any(Number) });

      const unknown = admin('frobnicate');
      expect(unknown.status).toBe(2);
      expect(unknown.stderr).toContain('usage: npm run admin');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
