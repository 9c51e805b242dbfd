import { toBase64Url } from '../../protocol/encoding.js';
import { hashToken } from '../../adapters/random.js';
import { constantTimeEqual } from '../../protocol/encoding.js';
import type { Deps } from '../../deps.js';
import { AppError, notFound } from '../../http/app-error.js';
import { changedRows } from '../../db/client.js';
import { auditEntry } from '../audit/service.js';
import * as repo from './repo.js';

export const SESSION_TOKEN_PREFIX = 'hs';
// Writing last-used on every request would turn reads into writes; a minute's precision will do.
const TOUCH_INTERVAL_MS = 60_000;

export type SessionKind = 'bearer' | 'cookie';

/** Builds the insert for a new session; the caller runs it, alone or in a batch. */
export function prepareSession(deps: Deps, accountId: string, kind: SessionKind, label: string | undefined, deviceId?: string) {
  const now = deps.clock.now();
  const token = deps.random.token(SESSION_TOKEN_PREFIX);
  const id = deps.random.id();
  const expiresAt = now + deps.config.sessionTtlMs;
  const statement = repo.insertSession(deps.db, {
    id,
    accountId,
    tokenHash: hashToken(token),
    kind,
    label: label ?? null,
    createdAt: now,
    lastUsedAt: now,
    expiresAt,
    reauthenticatedAt: now,
    deviceId: deviceId ?? null,
  });
  return { statement, session: { id, token, kind, expiresAt } };
}

/**
 * Resolves a presented token to its session. A token is good only while its row exists (so
 * revoking is immediate), before its absolute expiry and within the idle timeout. A token
 * presented through the wrong channel (a cookie token as a bearer, or the reverse) is refused,
 * so a leaked bearer token cannot ride the browser's cookie protections or escape CSRF checks.
 */
export async function authenticateSession(deps: Deps, token: string, channel: SessionKind) {
  const row = await repo.findSessionByTokenHash(deps.db, hashToken(token));
  const now = deps.clock.now();
  if (!row || row.kind !== channel || row.expiresAt <= now || row.lastUsedAt + deps.config.sessionIdleMs <= now) {
    throw new AppError('unauthorized', 'the session is missing, expired or revoked; log in again');
  }
  if (now - row.lastUsedAt >= TOUCH_INTERVAL_MS) await repo.touchSession(deps.db, row.id, now);
  return { sessionId: row.id, accountId: row.accountId, kind: row.kind, reauthenticatedAt: row.reauthenticatedAt };
}

/** The CSRF token of a cookie session: derived from its id, so nothing extra is stored. */
export const csrfTokenOf = (deps: Deps, sessionId: string) =>
  toBase64Url(deps.secrets.derive('csrf', sessionId, 32));

export const csrfTokenMatches = (deps: Deps, sessionId: string, presented: string | undefined) =>
  presented !== undefined && constantTimeEqual(csrfTokenOf(deps, sessionId), presented);

export async function listSessions(deps: Deps, accountId: string, currentSessionId: string) {
  const rows = await repo.listSessions(deps.db, accountId);
  return rows.map((row) => ({
    id: row.id,
    kind: row.kind,
    label: row.label,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    expiresAt: row.expiresAt,
    deviceId: row.deviceId,
    current: row.id === currentSessionId,
  }));
}

/** Ends one session; `bySessionId` (the session asking) is recorded, while a logout (none) is not. */
export async function revokeSession(deps: Deps, accountId: string, sessionId: string, bySessionId?: string) {
  if (!(await repo.deleteSession(deps.db, accountId, sessionId))) throw notFound('session');
  if (bySessionId) await auditEntry(deps, accountId, 'session.revoked', { sessionId: bySessionId, detail: `session ${sessionId}` });
}

export async function revokeOtherSessions(deps: Deps, accountId: string, keepSessionId: string) {
  const revoked = (await repo.deleteOtherSessions(deps.db, accountId, keepSessionId)).length;
  await auditEntry(deps, accountId, 'session.revoked', { sessionId: keepSessionId, detail: `others: ${revoked}` });
  return revoked;
}

/**
 * A session opened on a phone belongs to that phone: removing the device deletes the device row,
 * and the database's cascade deletes the sessions bound to it in the same statement, so a removed
 * phone keeps no way in. The first device a session registers is the phone it runs on.
 */
export const bindSessionToDevice = (deps: Deps, sessionId: string, deviceId: string) => repo.bindDevice(deps.db, sessionId, deviceId);

export async function markReauthenticated(deps: Deps, sessionId: string) {
  const now = deps.clock.now();
  await repo.markReauthenticated(deps.db, sessionId, now);
  return now;
}

export const countOtherSessions = async (deps: Deps, accountId: string, keepSessionId: string) =>
  (await repo.listSessions(deps.db, accountId)).filter((row) => row.id !== keepSessionId).length;

/** The statement that signs out every other session; the caller commits it with what must change with it. */
export const revokeOtherSessionsStatement = (deps: Deps, accountId: string, keepSessionId: string) =>
  repo.deleteOtherSessions(deps.db, accountId, keepSessionId);

export async function purgeDeadSessions(deps: Deps) {
  return { sessions: changedRows(await repo.deleteDeadSessions(deps.db, deps.clock.now(), deps.config.sessionIdleMs)) };
}

/** Every session of the account as the export lists it: never the token's hash. */
export async function exportSessions(deps: Deps, accountId: string) {
  return (await repo.listSessions(deps.db, accountId)).map((row) => ({
    id: row.id,
    kind: row.kind,
    label: row.label,
    deviceId: row.deviceId,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    expiresAt: row.expiresAt,
    reauthenticatedAt: row.reauthenticatedAt,
  }));
}

/** Deletion: sessions opened on the device (they end with its row, by cascade). */
export const countDeviceSessions = (deps: Deps, accountId: string, deviceId: string) => repo.countForDevice(deps.db, accountId, deviceId);

/** Account deletion: ends every session of the account. */
export const endAllSessionsStatement = (deps: Deps, accountId: string) => repo.deleteAllOf(deps.db, accountId);

/** The phone a session was opened on, if any: who acted, for an audit entry. */
export const deviceOfSession = (deps: Deps, sessionId: string) => repo.deviceOf(deps.db, sessionId);
