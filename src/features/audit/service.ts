import type { Deps } from '../../deps.js';
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
  | 'diagnostics.deleted';

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

export async function recentAudit(deps: Deps, accountId: string, limit = 100) {
  const rows = await repo.recentEntries(deps.db, accountId, limit);
  return rows.map(({ id, at, action, deviceId, sessionId }) => ({ id, at, action, deviceId, sessionId }));
}
