import { atomic, changedRows, type Statement } from '../../db/client.js';
import type { Deps } from '../../deps.js';
import { fingerprintsMatch } from '../../protocol/spam-fingerprint.js';
import * as repo from './repo.js';
import { ESTABLISHED_WEIGHT } from './service.js';

// The 'spam-blocklist' job (src/jobs.ts): turns the reports inside SPAM_WINDOW_DAYS into the
// published list. It runs on the maintenance schedule, never on a request, so the moment an entry
// appears (or goes) does not point at whoever reported last.
//
// Guarantee: an entry is listed only while the DISTINCT accounts supporting it weigh at least
// ESTABLISHED_WEIGHT × SPAM_MIN_ACCOUNTS (3 established accounts by default, or 6 new ones).
// Config keeps SPAM_MIN_ACCOUNTS ≥ 2, so no single account, with however many devices and
// reports, can publish anything. Support that falls below (withdrawn, out of the window, or gone
// with its device or account) takes the entry off at the next pass.

/**
 * Bounded work: at most this many of the newest reports with a fingerprint are compared, each
 * fingerprint against each report, so a pass makes at most 1000² = 1 million comparisons (about a
 * second of CPU on a busy small machine, in the worst case of no two alike). Under a flood of more
 * fingerprinted reports than this inside the window, older ones stop counting for texts early;
 * numbers are counted by the database over the whole window.
 */
export const MAX_COMPARED_FINGERPRINTS = 1000;
/** Changes are written in batches of this many statements (D1 batches stay small). */
const WRITE_BATCH = 100;
const NUMBER = 'phone';

export async function publishBlocklist(deps: Deps) {
  const now = deps.clock.now();
  const since = now - deps.config.spam.windowMs;
  const threshold = ESTABLISHED_WEIGHT * deps.config.spam.minAccounts;
  // Reports past the window support nothing any more; kept texts past their expiry go too.
  const reportsExpired = changedRows(await repo.deleteReportsBefore(deps.db, since));
  const textsDropped = changedRows(await repo.dropExpiredTexts(deps.db, now));

  const numbers = await numberChanges(deps, since, threshold);
  const texts = await textChanges(deps, since, threshold);
  const statements: Statement[] = [
    ...numbers.list.map((value) => repo.listEntry('number', value)),
    ...numbers.unlist.map((value) => repo.unlistEntry('number', value)),
    ...texts.list.map((value) => repo.listEntry('text', value)),
    ...texts.unlist.map((value) => repo.unlistEntry('text', value)),
  ];
  for (let i = 0; i < statements.length; i += WRITE_BATCH) await atomic(deps.db, statements.slice(i, i + WRITE_BATCH));
  return {
    numbersListed: numbers.list.length,
    numbersUnlisted: numbers.unlist.length,
    textsListed: texts.list.length,
    textsUnlisted: texts.unlist.length,
    reportsExpired,
    textsDropped,
  };
}

/** Numbers: the database sums the weights per number (one report per account per number). */
async function numberChanges(deps: Deps, since: number, threshold: number) {
  const supported = new Map<string, string>();
  for (const row of await repo.numbersWithSupport(deps.db, since, threshold)) supported.set(row.numberIndex, row.numberSealed);
  const listed = new Set<string>();
  const unlist: string[] = [];
  // The list holds numbers opened (they are what it publishes); their blind index finds their reports.
  for (const entry of await repo.listedEntries(deps.db, 'number')) {
    const index = deps.secrets.blindIndex(NUMBER, entry.value);
    if (supported.has(index)) listed.add(index);
    else unlist.push(entry.value);
  }
  const list = [...supported].filter(([index]) => !listed.has(index)).map(([, sealed]) => deps.secrets.openPersonal(NUMBER, sealed));
  return { list, unlist };
}

interface FingerprintReport {
  accountId: string;
  fingerprint: string;
  weight: number;
}

/** The weight of the distinct accounts with a report whose fingerprint matches this one. */
function support(fingerprint: string, reports: FingerprintReport[]) {
  const accounts = new Map<string, number>();
  for (const r of reports) {
    if (fingerprintsMatch(fingerprint, r.fingerprint)) accounts.set(r.accountId, Math.max(accounts.get(r.accountId) ?? 0, r.weight));
  }
  let total = 0;
  for (const weight of accounts.values()) total += weight;
  return total;
}

/**
 * Texts: each listed fingerprint stays while its matches weigh enough. Then every reported
 * fingerprint, earliest first, is a candidate for a cluster not yet listed: the first with enough
 * support is published for its cluster, and any later one that matches a listed fingerprint is
 * left out, so one spam text and its rewordings are one entry.
 */
async function textChanges(deps: Deps, since: number, threshold: number) {
  const reports = (await repo.recentFingerprints(deps.db, since, MAX_COMPARED_FINGERPRINTS)).reverse();
  const kept: string[] = [];
  const unlist: string[] = [];
  for (const entry of await repo.listedEntries(deps.db, 'text')) {
    if (support(entry.value, reports) >= threshold) kept.push(entry.value);
    else unlist.push(entry.value);
  }
  const list: string[] = [];
  const tried = new Set<string>(unlist);
  for (const { fingerprint } of reports) {
    if (tried.has(fingerprint)) continue;
    tried.add(fingerprint);
    if (kept.some((listed) => fingerprintsMatch(listed, fingerprint))) continue;
    if (support(fingerprint, reports) < threshold) continue;
    kept.push(fingerprint);
    list.push(fingerprint);
  }
  return { list, unlist };
}
