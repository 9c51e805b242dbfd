import { atomic, changedRows } from '../../db/client.js';
import type { Deps } from '../../deps.js';
import { notFound } from '../../http/app-error.js';
import { textFingerprint } from '../../protocol/spam-fingerprint.js';
import { findAccount } from '../accounts/service.js';
import { auditEntry } from '../audit/service.js';
import * as repo from './repo.js';

// Spam reports (issue #14, the policy's Report Spam). A device reports a number, and the text of
// the message only if its user chose to; the text becomes a similarity fingerprint and is dropped
// (kept sealed for SPAM_TEXT_RETENTION_HOURS only when the operator sets it). The published list
// is made by the 'spam-blocklist' job (publish.ts), never by a request, so when an entry appears
// tells nobody whose report tipped it.

const NUMBER = 'phone';
const TEXT = 'spam-text';
/** What a report weighs: a new account counts half, so the default k = 3 takes 3 established accounts or 6 new ones. */
export const ESTABLISHED_WEIGHT = 2;
export const NEW_ACCOUNT_WEIGHT = 1;
const MAX_LISTED_REPORTS = 1000;
const EXPORT_PAGE = 500;

type DeviceRef = { accountId: string; deviceId: string };

async function reportWeight(deps: Deps, accountId: string, now: number) {
  const account = await findAccount(deps, accountId);
  if (!account) throw notFound('account');
  return now - account.createdAt >= deps.config.spam.newAccountMs ? ESTABLISHED_WEIGHT : NEW_ACCOUNT_WEIGHT;
}

/** A report as its owner sees it: the number opened from the server's seal; never the kept text. */
const reportView = (deps: Deps, row: repo.SpamReportRow) => ({
  id: row.id,
  number: deps.secrets.openPersonal(NUMBER, row.numberSealed),
  fingerprint: row.fingerprint,
  createdAt: row.createdAt,
});

/**
 * Records (or replaces) the account's report of a number. Stored: the number sealed and its blind
 * index, never raw; of the text only its fingerprint, unless the operator keeps texts, and then
 * sealed with an expiry. Neither the number nor the text is logged or audited.
 */
export async function reportSpam(deps: Deps, device: DeviceRef, input: { number: string; text?: string }) {
  const now = deps.clock.now();
  const weight = await reportWeight(deps, device.accountId, now);
  const keepText = input.text !== undefined && deps.config.spam.textRetentionMs > 0;
  const numberIndex = deps.secrets.blindIndex(NUMBER, input.number);
  const upsert = repo.upsertReport(deps.db, {
    id: deps.random.id(),
    accountId: device.accountId,
    deviceId: device.deviceId,
    numberIndex,
    numberSealed: deps.secrets.sealPersonal(NUMBER, input.number),
    fingerprint: input.text === undefined ? null : textFingerprint(input.text),
    textSealed: keepText ? deps.secrets.sealPersonal(TEXT, input.text!) : null,
    textExpiresAt: keepText ? now + deps.config.spam.textRetentionMs : null,
    weight,
    createdAt: now,
  });
  await atomic(deps.db, [upsert, auditEntry(deps, device.accountId, 'spam.reported', { deviceId: device.deviceId })]);
  const row = (await repo.findReport(deps.db, device.accountId, numberIndex))!;
  deps.log.info('spam reported', { accountId: device.accountId, deviceId: device.deviceId, withFingerprint: row.fingerprint !== null });
  return reportView(deps, row);
}

export async function listSpamReports(deps: Deps, accountId: string) {
  const rows = await repo.reportsOfAccount(deps.db, accountId, MAX_LISTED_REPORTS);
  return { reports: rows.map((row) => reportView(deps, row)) };
}

/**
 * Withdraws one of the account's reports. The delete names the account, so an id of another
 * account's report changes nothing and gets the same 404 as an id that never existed. The list
 * loses the report's support at the next publishing pass.
 */
export async function withdrawSpamReport(deps: Deps, accountId: string, reportId: string) {
  if (changedRows(await repo.deleteReport(deps.db, accountId, reportId)) === 0) throw notFound('spam report');
  deps.log.info('spam report withdrawn', { accountId });
}

/** Export: every report of the account, the number opened. */
export async function exportSpamReports(deps: Deps, accountId: string) {
  const out: { id: string; number: string; fingerprint: string | null; createdAt: number; deviceId: string }[] = [];
  for (let after = ''; ; ) {
    const page = await repo.reportsPage(deps.db, accountId, after, EXPORT_PAGE);
    for (const row of page) out.push({ ...reportView(deps, row), deviceId: row.deviceId });
    if (page.length < EXPORT_PAGE) return out;
    after = page.at(-1)!.id;
  }
}

/** What removing a device takes with it (its reports go by cascade). */
export const countDeviceSpamReports = async (deps: Deps, accountId: string, deviceId: string) => ({
  spamReports: await repo.countForDevice(deps.db, accountId, deviceId),
});

/**
 * The list as a delta from the version a device has. The answer holds kinds, values and listed
 * flags only: no reporter, account, device, report id or time, so it tells nobody who reported.
 */
export async function blocklistSince(deps: Deps, since: number) {
  const version = await repo.currentVersion(deps.db);
  const entry = (row: repo.BlocklistRow) => ({ kind: row.kind, value: row.value, listed: row.listed });
  // A device ahead of the server holds a list the server no longer has (it was reset): start over.
  const reset = since > version;
  const rows = since === 0 || reset ? await repo.listedEntries(deps.db) : await repo.entriesAfter(deps.db, since);
  return { version, reset, changes: rows.map(entry) };
}
