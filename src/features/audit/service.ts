import { changedRows } from '../../db/client.js';
import type { Deps } from '../../deps.js';
import { AppError } from '../../http/app-error.js';
import { AUDIT_CURSOR } from '../../protocol/api/audit.js';
import * as repo from './repo.js';

export type AuditAction =
  | 'location.read'
  | 'location.history.read'
  | 'find.enabled'
  | 'find.disabled'
  | 'command.created'
  | 'find.lost.reported'
  | 'sim.changed'
  | 'sim.alert'
  | 'sim.verified'
  | 'login.succeeded'
  | 'login.failed'
  | 'session.revoked'
  | 'device.added'
  | 'device.removed'
  | 'password.changed'
  | 'email.changed'
  | 'phone.changed'
  | 'consent.changed'
  | 'policy.accepted'
  | 'export.downloaded'
  | 'data.deleted'
  | 'account.deletion.requested'
  | 'account.deletion.cancelled'
  | 'diagnostics.deleted'
  | 'messaging.on'
  | 'messaging.off'
  | 'messaging.block'
  | 'messaging.unblock'
  | 'spam.reported';

/** Builds an audit entry; callers run it alone or inside the write it records. */
export function auditEntry(
  deps: Deps,
  accountId: string,
  action: AuditAction,
  refs: { deviceId?: string; sessionId?: string; detail?: string } = {},
) {
  return repo.insertEntry(deps.db, {
    accountId,
    id: deps.random.id(),
    at: deps.clock.now(),
    action,
    deviceId: refs.deviceId ?? null,
    sessionId: refs.sessionId ?? null,
    detail: refs.detail ?? null,
  });
}

/**
 * A failed login proof, recorded on the account it was for. Called on every failure, the unknown
 * e-mail's decoy too (accountId null): both paths run the same single statement, which writes a
 * row only for a real account, so neither the answer nor the work tells them apart.
 */
export async function auditFailedLogin(deps: Deps, accountId: string | null, refs: { sessionId?: string; detail: string }) {
  await repo.insertIfAccount(deps.db, {
    accountId,
    id: deps.random.id(),
    at: deps.clock.now(),
    action: 'login.failed',
    deviceId: null,
    sessionId: refs.sessionId ?? null,
    detail: refs.detail,
  });
}

/**
 * A viewing of a device's locations is recorded once, not once per poll: the page reads every 15 s
 * while it is open. A read by a session that already has an entry of this action for this device
 * within the window adds nothing; another session, or the same one after the window (counted
 * from its last such entry), adds a new one.
 */
export const VIEWING_WINDOW_MS = 30 * 60_000;

export async function auditViewing(
  deps: Deps,
  accountId: string,
  action: 'location.read' | 'location.history.read',
  refs: { deviceId: string; sessionId: string },
) {
  const at = deps.clock.now();
  const row = { accountId, id: deps.random.id(), at, action, ...refs, detail: null };
  await repo.insertUnlessSince(deps.db, row, at - VIEWING_WINDOW_MS);
}

const cursorOf = (row: { at: number; id: string }) => `${row.at}.${row.id}`;

function parseCursor(cursor: string) {
  const match = AUDIT_CURSOR.exec(cursor);
  if (!match) throw new AppError('validation_failed', 'query.cursor: must be a nextCursor from an earlier page');
  return { at: Number(match[1]), id: match[2]! };
}

/** One page of the account's audit log, newest first; nextCursor when older entries remain. */
export async function auditPage(deps: Deps, accountId: string, page: { cursor?: string; limit: number }) {
  const before = page.cursor === undefined ? undefined : parseCursor(page.cursor);
  const rows = await repo.entriesBefore(deps.db, accountId, before, page.limit + 1);
  const entries = rows.slice(0, page.limit).map(({ id, at, action, deviceId, sessionId, detail }) => ({ id, at, action, deviceId, sessionId, detail }));
  return rows.length > page.limit ? { entries, nextCursor: cursorOf(entries.at(-1)!) } : { entries };
}

const PURGE_BATCH = 5_000;
const PURGE_MAX_BATCHES = 200;

/** Entries past config.auditRetentionMs (AUDIT_RETENTION_DAYS), in batches; the rest waits for the next run. */
export async function purgeOldAudit(deps: Deps) {
  const cutoff = deps.clock.now() - deps.config.auditRetentionMs;
  let entries = 0;
  for (let i = 0; i < PURGE_MAX_BATCHES; i++) {
    const removed = changedRows(await repo.deleteBefore(deps.db, cutoff, PURGE_BATCH));
    entries += removed;
    if (removed < PURGE_BATCH) break;
  }
  return { entries };
}

/** Export: one page of the account's whole audit log, oldest first, after the cursor (at, id). */
export async function exportAuditPage(deps: Deps, accountId: string, after: { at: number; id: string }, limit: number) {
  const rows = await repo.entriesPage(deps.db, accountId, after, limit);
  return rows.map(({ id, at, action, deviceId, sessionId, detail }) => ({ id, at, action, deviceId, sessionId, detail }));
}

/** Deletion of a device with its data: its entries stay in the log with the device id removed. */
export const countDeviceEntries = (deps: Deps, accountId: string, deviceId: string) => repo.countForDevice(deps.db, accountId, deviceId);
export const anonymiseDeviceStatement = (deps: Deps, accountId: string, deviceId: string) =>
  repo.anonymiseDevice(deps.db, accountId, deviceId);
