import type { Database } from 'better-sqlite3';
import { runJobs } from '../../src/features/maintenance/service.js';
import { JOBS } from '../../src/jobs.js';
import type { TestApp } from '../harness.js';
import { owner, type Owner } from './find-helpers.js';

// Spam reports through the front door, and the publishing job run as the scheduler runs it.

export const DAY = 86_400_000;

/** `n` accounts, each with one device (spam reports need no messaging). */
export const reporters = async (t: TestApp, n: number) => Promise.all(Array.from({ length: n }, () => owner(t, { findEnabled: false })));

export const report = (o: Owner, number: string, text?: string, auth = o.device.auth) =>
  o.asDevice(auth, 'POST', '/v1/device/spam-reports', text === undefined ? { number } : { number, text });

export const blocklist = async (o: Owner, since = 0) => {
  const res = await o.asDevice(o.device.auth, 'GET', `/v1/device/spam/blocklist?since=${since}`);
  if (res.status !== 200) throw new Error(`blocklist: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { version: number; reset: boolean; changes: { kind: 'number' | 'text'; value: string; listed: boolean }[] };
};

/** Runs the 'spam-blocklist' job from src/jobs.ts and returns its counts. */
export async function publish(t: TestApp) {
  const [outcome] = await runJobs(t.deps, JOBS.filter((job) => job.name === 'spam-blocklist'));
  if (outcome?.status !== 'ok') throw new Error(`spam-blocklist job: ${JSON.stringify(outcome)}`);
  return outcome.counts as Record<string, number>;
}

export const listedValues = async (o: Owner) => (await blocklist(o)).changes.map((c) => `${c.kind}:${c.value}`).sort();

export const sqlite = (t: TestApp) => (t.deps.db as unknown as { $client: Database }).$client;
