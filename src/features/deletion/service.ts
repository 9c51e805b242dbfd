import { atomic, isGuardFailure, type Statement } from '../../db/client.js';
import type { Deps } from '../../deps.js';
import { AppError, notFound } from '../../http/app-error.js';
import type { Receipt, ReceiptScope } from '../../protocol/receipts.js';
import type { AccountDeletion, PurgeScope } from '../../protocol/api/deletion.js';
import { getAccount } from '../accounts/service.js';
import { anonymiseDeviceStatement, auditEntry, countDeviceEntries } from '../audit/service.js';
import { verifyProof } from '../auth/service.js';
import { deleteDeviceStatement, deviceRecord } from '../devices/service.js';
import { deleteDiagnosticsOf } from '../diagnostics/service.js';
import { countDeviceFindData } from '../find/service.js';
import { countDeviceMessages } from '../messages/service.js';
import { countDeviceMessaging } from '../messaging/service.js';
import { countDevicePush } from '../push/service.js';
import { signReceipt } from '../receipts/service.js';
import { countDeviceSessions, deviceOfSession } from '../sessions/service.js';
import { countDeviceSimData } from '../sim/service.js';
import { countDeviceSpamReports } from '../spam/service.js';
import { collectionExists, collectionsOfKind, finishPurge, planCollectionsPurge, planItemPurge, type PurgePlan } from '../sync/service.js';
import type { Throttles } from '../throttles/service.js';
import { dateOf, DAY, notify } from './notices.js';
import * as repo from './repo.js';

// Deleting data, each deletion ending in a receipt signed by the server's receipt key and an
// audit entry. Parts of the account go at once (an item, a collection, a data kind, a device with
// its data); the whole account waits out its grace period (account-purge.ts does the rest).

export interface Actor {
  sessionId?: string;
  deviceId?: string;
}

const MAX_ATTEMPTS = 5;

const detailOf = (scope: ReceiptScope, receiptId: string) =>
  `${scope.type}${scope.type === 'data-kind' ? `:${scope.kind}` : ''} receipt=${receiptId}`;

/**
 * Commits a sync purge with its receipt and audit entry in one atomic write, then deletes the
 * blobs it freed. A sync write landing between the plan and the write trips the plan's guards:
 * the purge reads again, so it never detaches a blob the item no longer holds, nor misses an
 * item created meanwhile.
 */
async function commitSyncPurge(
  deps: Deps,
  input: { accountId: string; requestedAt: number; actor: Actor },
  plan: () => Promise<PurgePlan & { scope: ReceiptScope }>,
): Promise<Receipt> {
  for (let attempt = 1; ; attempt++) {
    const p = await plan();
    const { receipt, statement } = signReceipt(deps, { accountId: input.accountId, scope: p.scope, requestedAt: input.requestedAt, counts: p.counts });
    try {
      await atomic(deps.db, [
        ...p.statements,
        statement,
        auditEntry(deps, input.accountId, 'data.deleted', { ...input.actor, detail: detailOf(p.scope, receipt.id) }),
      ]);
    } catch (err) {
      if (!isGuardFailure(err)) throw err;
      if (attempt < MAX_ATTEMPTS) continue;
      throw new AppError('conflict', 'the data kept changing while it was being deleted; nothing was deleted, try again');
    }
    await finishPurge(deps, input.accountId, p.blobIds);
    deps.log.info('data deleted', { accountId: input.accountId, scope: p.scope.type, receiptId: receipt.id, ...p.counts });
    return receipt;
  }
}

/** One item, now: its wrapped key, metadata and blob go, and a tombstone tells other devices. */
export function purgeItem(deps: Deps, input: { accountId: string; itemId: string; requestedAt: number; actor: Actor }) {
  return commitSyncPurge(deps, input, async () => {
    const plan = await planItemPurge(deps, input.accountId, input.itemId);
    return { ...plan, scope: { type: 'item', collectionId: plan.collectionId, itemId: input.itemId } };
  });
}

export async function purgeCollection(deps: Deps, input: { accountId: string; collectionId: string; requestedAt: number; actor: Actor }) {
  if (!(await collectionExists(deps, input.accountId, input.collectionId))) throw notFound('collection');
  return commitSyncPurge(deps, input, async () => ({
    ...(await planCollectionsPurge(deps, input.accountId, [input.collectionId])),
    scope: { type: 'collection', collectionId: input.collectionId },
  }));
}

const NOTHING: PurgePlan = { statements: [], blobIds: [], counts: { items: 0, collections: 0, blobs: 0, bytes: 0 } };

/** Deletes every collection, item, blob row and stored object of one data kind; returns its receipt. */
export async function purgeKind(
  deps: Deps,
  input: { accountId: string; kind: string; requestedAt: number; actor: { sessionId?: string; deviceId?: string } },
): Promise<Receipt> {
  return commitSyncPurge(deps, input, async () => {
    const ids = await collectionsOfKind(deps, input.accountId, input.kind);
    const plan = ids.length ? await planCollectionsPurge(deps, input.accountId, ids) : NOTHING;
    return { ...plan, scope: { type: 'data-kind', kind: input.kind } };
  });
}

/**
 * A device and everything bound to it: locations, commands, SIM events and verifications, push
 * subscriptions, the sessions opened on it, its diagnostics, its messaging identity, the message
 * copies waiting for it and the spam reports it made (all by cascade from its row), in one write
 * with the receipt; its audit entries stay, with the device id removed. A number its reports held
 * on the spam blocklist is unlisted by the next publishing run, as for a withdrawn report.
 */
export async function purgeDevice(deps: Deps, input: { accountId: string; deviceId: string; requestedAt: number; actor: Actor }) {
  const { accountId, deviceId } = input;
  await deviceRecord(deps, accountId, deviceId);
  const [find, sim, pushSubscriptions, sessions, auditAnonymised, messaging, messages, spam] = await Promise.all([
    countDeviceFindData(deps, accountId, deviceId),
    countDeviceSimData(deps, accountId, deviceId),
    countDevicePush(deps, accountId, deviceId),
    countDeviceSessions(deps, accountId, deviceId),
    countDeviceEntries(deps, accountId, deviceId),
    countDeviceMessaging(deps, accountId, deviceId),
    countDeviceMessages(deps, accountId, deviceId),
    countDeviceSpamReports(deps, accountId, deviceId),
  ]);
  const diagnostics = await deleteDiagnosticsOf(deps, accountId, deviceId);
  const counts = {
    devices: 1,
    ...find,
    ...sim,
    pushSubscriptions,
    sessions,
    diagnostics,
    messagingIdentities: messaging.identity,
    ...messages,
    ...spam,
    auditAnonymised,
  };
  const scope: ReceiptScope = { type: 'device', deviceId };
  const { receipt, statement } = signReceipt(deps, { accountId, scope, requestedAt: input.requestedAt, counts });
  // The entry recording the deletion names the acting device, unless that is the device deleted.
  const actor = input.actor.deviceId === deviceId ? { sessionId: input.actor.sessionId } : input.actor;
  await atomic(deps.db, [
    anonymiseDeviceStatement(deps, accountId, deviceId),
    deleteDeviceStatement(deps, accountId, deviceId),
    statement,
    auditEntry(deps, accountId, 'data.deleted', { ...actor, detail: detailOf(scope, receipt.id) }),
  ]);
  deps.log.info('device deleted with its data', { accountId, deviceId, receiptId: receipt.id });
  return receipt;
}

/** The session as an actor: its id, and the phone it was opened on. */
export async function actorOf(deps: Deps, sessionId: string): Promise<Actor> {
  return { sessionId, deviceId: await deviceOfSession(deps, sessionId) };
}

export async function purge(deps: Deps, accountId: string, scope: PurgeScope, actor: Actor): Promise<Receipt> {
  const requestedAt = deps.clock.now();
  switch (scope.type) {
    case 'item':
      return purgeItem(deps, { accountId, itemId: scope.itemId, requestedAt, actor });
    case 'collection':
      return purgeCollection(deps, { accountId, collectionId: scope.collectionId, requestedAt, actor });
    case 'data-kind':
      return purgeKind(deps, { accountId, kind: scope.kind, requestedAt, actor });
    case 'device':
      return purgeDevice(deps, { accountId, deviceId: scope.deviceId, requestedAt, actor });
  }
}

// ---- the whole account ----

const view = (row: repo.AccountDeletionRow): AccountDeletion => ({
  requestedBy: row.requestedBy,
  requestedAt: row.requestedAt,
  dueAt: row.dueAt,
  purgeStarted: row.purgeStartedAt !== null,
});

/**
 * Schedules the whole account for deletion after the grace period and e-mails the owner. Asking
 * again while one is scheduled changes nothing: the first request's due time stands.
 */
export async function scheduleAccountDeletion(
  deps: Deps,
  input: { accountId: string; requestedBy: 'owner' | 'guardian'; actor?: Actor },
): Promise<{ dueAt: number }> {
  const { accountId } = input;
  const { email } = await getAccount(deps, accountId);
  const now = deps.clock.now();
  const existing = await repo.findDeletion(deps.db, accountId);
  if (existing) return { dueAt: existing.dueAt };
  const dueAt = now + deps.config.deletionGraceMs;
  await atomic(deps.db, [
    repo.scheduleDeletion(deps.db, { accountId, requestedBy: input.requestedBy, requestedAt: now, dueAt }),
    auditEntry(deps, accountId, 'account.deletion.requested', { ...input.actor, detail: `by ${input.requestedBy}, due ${dueAt}` }),
  ]);
  const days = Math.round(deps.config.deletionGraceMs / DAY);
  await notify(deps, email, {
    subject: 'Your homing account will be deleted',
    text: [
      input.requestedBy === 'guardian'
        ? 'Your guardian asked for your homing account to be deleted.'
        : 'You asked for your homing account to be deleted.',
      '',
      `On ${dateOf(dueAt)} (in ${days} days) the server will delete everything it holds for the account: synced data, files, devices, locations, commands, SIM events, sessions, consents, diagnostics and the audit log, and every stored object. A signed receipt will be e-mailed to this address when it is done.`,
      '',
      input.requestedBy === 'guardian'
        ? 'Until then the account keeps working.'
        : `To cancel, log in before then and choose "cancel deletion" (homing delete account --cancel), or send DELETE ${deps.config.publicOrigin}/v1/account/deletion from a logged-in session.`,
    ].join('\n'),
  });
  deps.log.info('account deletion scheduled', { accountId, requestedBy: input.requestedBy, dueAt });
  return { dueAt };
}

/**
 * The owner asks for the account's deletion. A session is not enough: a fresh challenge signed
 * with the password or the recovery key is, and the challenge is consumed, so a replayed proof fails.
 */
export async function requestAccountDeletion(
  deps: Deps,
  throttles: Throttles,
  session: { sessionId: string; accountId: string },
  proof: { challengeId: string; signature: string },
  ctx: { clientAddress: string },
) {
  await verifyProof(deps, throttles, proof, { ...ctx, session });
  await scheduleAccountDeletion(deps, { accountId: session.accountId, requestedBy: 'owner', actor: await actorOf(deps, session.sessionId) });
  return (await getAccountDeletion(deps, session.accountId))!;
}

export async function getAccountDeletion(deps: Deps, accountId: string) {
  const row = await repo.findDeletion(deps.db, accountId);
  return row ? view(row) : null;
}

/**
 * Cancels a scheduled deletion: the logged-in owner saying so. One conditional DELETE, so a
 * purge that claimed the account first wins and the cancel is refused; a deletion a child's
 * guardian asked for is not the child's to cancel.
 */
export async function cancelAccountDeletion(deps: Deps, session: { sessionId: string; accountId: string }) {
  const { accountId } = session;
  const row = await repo.findDeletion(deps.db, accountId);
  if (!row) throw notFound('scheduled deletion');
  if (row.requestedBy === 'guardian') throw new AppError('forbidden', 'your guardian asked for this deletion; only they can withdraw it');
  if (row.purgeStartedAt !== null || !(await repo.cancelDeletion(deps.db, accountId))) {
    throw new AppError('conflict', 'the deletion has begun and can no longer be cancelled');
  }
  const statements: Statement[] = [auditEntry(deps, accountId, 'account.deletion.cancelled', await actorOf(deps, session.sessionId))];
  await atomic(deps.db, statements);
  const { email } = await getAccount(deps, accountId);
  await notify(deps, email, {
    subject: 'Your homing account will not be deleted',
    text: 'The deletion of your homing account was cancelled from a logged-in session. Nothing was deleted. If this was not you, change your password.',
  });
  deps.log.info('account deletion cancelled', { accountId });
}

/** A deleted account's id is never given out again. */
export const isTombstoned = (deps: Deps, accountId: string) => repo.isTombstoned(deps.db, accountId);
