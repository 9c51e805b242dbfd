import type { Deps } from '../../deps.js';
import { atomic } from '../../db/client.js';
import { AppError } from '../../http/app-error.js';
import type { Receipt } from '../../protocol/receipts.js';
import { auditEntry } from '../audit/service.js';
import { requireConsent } from '../consents/service.js';
import { signReceipt } from '../receipts/service.js';
import * as repo from './repo.js';

// Crash reports and the User Experience Program. What the server keeps is what the app sends,
// with who sent it (account, device) and when: never the client's address, which this feature is
// never even given. Reports are kept for DIAGNOSTICS_RETENTION_DAYS; the user reads and deletes
// their own; the operator sees only aggregates over at least K_ANONYMITY accounts.

export type DiagnosticsKind = 'crash' | 'usage';

/** Which consent each kind needs; both are off until the user turns them on. */
const PURPOSE: Record<DiagnosticsKind, 'diagnostics' | 'experience'> = { crash: 'diagnostics', usage: 'experience' };

export interface DiagnosticsInput {
  kind: DiagnosticsKind;
  appVersion?: string;
  report: Record<string, unknown>;
}

export type DiagnosticsRow = repo.DiagnosticsRow;

const view = (row: DiagnosticsRow) => ({
  id: row.id,
  kind: row.kind,
  deviceId: row.deviceId,
  appVersion: row.appVersion,
  size: row.size,
  receivedAt: row.receivedAt,
  report: JSON.parse(row.body) as Record<string, unknown>,
});

const utf8Length = (text: string) => new TextEncoder().encode(text).length;

/**
 * Stores a report only with the consent its kind needs (checked before anything is written), so
 * a user who never opted in, or withdrew, leaves no trace. The sender is a device of the account
 * (device token) or a session of it (the web page); `from` comes from the credential, never the
 * body, so nobody files a report under another account.
 */
export async function fileReport(deps: Deps, from: { accountId: string; deviceId?: string }, input: DiagnosticsInput) {
  await requireConsent(deps, { accountId: from.accountId, purpose: PURPOSE[input.kind] });
  const body = JSON.stringify(input.report);
  const row: DiagnosticsRow = {
    accountId: from.accountId,
    id: deps.random.id(),
    deviceId: from.deviceId ?? null,
    kind: input.kind,
    body,
    size: utf8Length(body),
    appVersion: input.appVersion ?? null,
    receivedAt: deps.clock.now(),
  };
  try {
    await repo.insertReport(deps.db, row);
  } catch (err) {
    // The device (or account) was removed between authenticating and this write.
    if (/FOREIGN KEY constraint failed/i.test(String((err as { cause?: unknown }).cause ?? err))) {
      throw new AppError('unauthorized', 'the device token is unknown or the device was removed');
    }
    throw err;
  }
  deps.log.info('diagnostics received', { accountId: row.accountId, deviceId: row.deviceId, kind: row.kind, size: row.size });
  return { id: row.id, receivedAt: row.receivedAt, size: row.size };
}

const encodeCursor = (row: { receivedAt: number; id: string }) => `${row.receivedAt}.${row.id}`;
function decodeCursor(cursor: string | undefined) {
  if (!cursor) return undefined;
  const dot = cursor.indexOf('.');
  return { receivedAt: Number(cursor.slice(0, dot)), id: cursor.slice(dot + 1) };
}

/** The account's own reports, newest first, a page at a time. */
export async function diagnosticsPage(deps: Deps, accountId: string, query: { cursor?: string; limit: number }) {
  const rows = await repo.pageOf(deps.db, accountId, decodeCursor(query.cursor), query.limit + 1);
  const page = rows.slice(0, query.limit);
  return { reports: page.map(view), cursor: rows.length > query.limit ? encodeCursor(page.at(-1)!) : null };
}

const EXPORT_PAGE = 100;

/**
 * Every report of the account, oldest first, for the export. Reads a page at a time, so memory
 * stays flat however many there are.
 */
export async function* listDiagnostics(deps: Deps, accountId: string): AsyncGenerator<ReturnType<typeof view>> {
  let after: { receivedAt: number; id: string } | undefined;
  for (;;) {
    const rows = await repo.pageOf(deps.db, accountId, after, EXPORT_PAGE, 'oldest');
    for (const row of rows) yield view(row);
    if (rows.length < EXPORT_PAGE) return;
    after = rows.at(-1)!;
  }
}

/** Removes the account's reports (or one device's); returns how many. For the deletion feature. */
export async function deleteDiagnosticsOf(deps: Deps, accountId: string, deviceId?: string): Promise<number> {
  return repo.deleteOf(deps.db, accountId, { deviceId });
}

/**
 * Removes the reports a consent covered, for its withdrawal with "delete": purpose diagnostics
 * takes the crash reports, experience the usage events. Returns how many.
 */
export async function deleteDiagnosticsOfPurpose(deps: Deps, accountId: string, purpose: 'diagnostics' | 'experience'): Promise<number> {
  const kind = (Object.keys(PURPOSE) as DiagnosticsKind[]).find((k) => PURPOSE[k] === purpose)!;
  return repo.deleteOf(deps.db, accountId, { kind });
}

/** The owner deletes every report of the account: a signed receipt and an audit entry record it. */
export async function deleteOwnDiagnostics(
  deps: Deps,
  actor: { accountId: string; sessionId: string },
): Promise<{ deleted: number; receipt: Receipt }> {
  const requestedAt = deps.clock.now();
  const deleted = await repo.deleteOf(deps.db, actor.accountId);
  const { receipt, statement } = signReceipt(deps, {
    accountId: actor.accountId,
    scope: { type: 'diagnostics' },
    requestedAt,
    counts: { diagnostics: deleted },
  });
  await atomic(deps.db, [
    statement,
    auditEntry(deps, actor.accountId, 'diagnostics.deleted', { sessionId: actor.sessionId, detail: `${deleted} reports` }),
  ]);
  deps.log.info('diagnostics deleted by owner', { accountId: actor.accountId, deleted, receiptId: receipt.id });
  return { deleted, receipt };
}

/** Retention: reports older than DIAGNOSTICS_RETENTION_DAYS go. Idempotent; returns counts. */
export async function purgeOldDiagnostics(deps: Deps) {
  const diagnostics = await repo.deleteReceivedBefore(deps.db, deps.clock.now() - deps.config.diagnosticsRetentionMs);
  if (diagnostics) deps.log.info('diagnostics past retention purged', { diagnostics });
  return { diagnostics };
}

/**
 * k-anonymity for the operator's view: a cell (kind × app version × day) is shown only when at
 * least this many distinct accounts sent reports in it, so no count can single out one person's
 * or a few people's use. Cells below it are left out entirely, with no total of what was left
 * out (a total would give the small cells back by subtraction).
 */
export const K_ANONYMITY = 5;

export interface DiagnosticsAggregate {
  /** The UTC day, YYYY-MM-DD. */
  day: string;
  kind: DiagnosticsKind;
  appVersion: string | null;
  reports: number;
  accounts: number;
}

/**
 * What the operator sees of diagnostics: counts per kind × app version × day since a time, never
 * an id or a report body, and only cells of at least K_ANONYMITY accounts.
 */
export async function diagnosticsAggregates(deps: Deps, options: { since: number }): Promise<DiagnosticsAggregate[]> {
  const rows = await repo.aggregateSince(deps.db, options.since, K_ANONYMITY);
  return rows.map((row) => ({
    day: new Date(Number(row.day) * 86_400_000).toISOString().slice(0, 10),
    kind: row.kind,
    appVersion: row.appVersion,
    reports: Number(row.reports),
    accounts: Number(row.accounts),
  }));
}
