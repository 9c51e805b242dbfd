import { commandMessage } from '../../protocol/commands.js';
import { fromBase64Url } from '../../protocol/encoding.js';
import { verifyDetached } from '../../protocol/signing.js';
import { atomic, changedRows, isGuardFailure } from '../../db/client.js';
import type { Deps } from '../../deps.js';
import type { DeviceAuth } from '../../http/env.js';
import { AppError, notFound } from '../../http/app-error.js';
import { findAccount } from '../accounts/service.js';
import { auditEntry, auditViewing } from '../audit/service.js';
import { consentStatements, requireConsent } from '../consents/service.js';
import { notifyDevice, notifyOwner } from '../push/service.js';
import { deviceRecord, findState } from '../devices/service.js';
import type { RateLimit, Throttles } from '../throttles/service.js';
import * as repo from './repo.js';

const MINUTE = 60_000;
// Counted in memory (exact on Node, per isolate on Workers, as the busy request buckets are): a
// counter row upserted per report was a third of a report's database work.
export const REPORTS_PER_DEVICE: RateLimit = { limit: 60, windowMs: MINUTE, counter: 'memory' };
/** A lost phone that keeps reporting tells its owner once, then again only after this quiet time. */
export const LOST_NOTICE_QUIET_MS = 15 * MINUTE;
/** Wipe cannot be undone, so it needs a signed proof of the password this recent. */
export const WIPE_REAUTH_MS = 5 * MINUTE;
/** A sanity bound only: a command cannot be issued in the future. Late is fine, until it expires. */
const COMMAND_FUTURE_MS = 10 * MINUTE;

const findDisabled = () =>
  new AppError('find_disabled', 'Find Device is off for this device; turn it on to report or command it');

// "Not yours" and "does not exist" are one answer: every lookup is keyed by the account.
const ownDevice = deviceRecord;

/**
 * Turns Find Device on or off. Turning it off is the user withdrawing consent: the device's
 * location history and last-known location are deleted and its open commands cancelled, in the
 * same atomic write. Every switch is also a row of the consent ledger, committed with it.
 */
export async function setFindEnabled(
  deps: Deps,
  accountId: string,
  deviceId: string,
  enabled: boolean,
  actor: { sessionId?: string; deviceId?: string } = {},
) {
  await ownDevice(deps, accountId, deviceId);
  await atomic(deps.db, [
    findState.setEnabled(deps, accountId, deviceId, enabled),
    ...(enabled ? [] : [repo.deleteDeviceLocations(deps.db, accountId, deviceId), repo.cancelOpenCommands(deps.db, accountId, deviceId)]),
    ...(await consentStatements(deps, { accountId, purpose: 'find', deviceId, granted: enabled, actor }, { audit: false })),
    auditEntry(deps, accountId, enabled ? 'find.enabled' : 'find.disabled', { deviceId, sessionId: actor.sessionId }),
  ]);
  deps.log.info(enabled ? 'find enabled' : 'find disabled', { accountId, deviceId });
}

/**
 * Stores sealed reports from a device, with the server's own receive time; the last one becomes
 * the last-known location. The device token decides which device they belong to, never the body.
 */
export async function reportLocations(
  deps: Deps,
  throttles: Throttles,
  device: DeviceAuth,
  reports: { sealed: string }[],
) {
  await throttles.hit(throttles.keyOf('locations:device', device.deviceId), REPORTS_PER_DEVICE);
  // The row the token was checked against a moment ago; the guard below rechecks the switch.
  const row = device.record;
  if (!row.findEnabled) throw findDisabled();
  // On, but agreed to under a policy version older than a rights-reducing one: off until agreed again.
  await requireConsent(deps, { accountId: device.accountId, purpose: 'find', deviceId: device.deviceId, device: row });
  const now = deps.clock.now();
  try {
    await atomic(deps.db, [
      // Consent withdrawn between the read above and this write must still win.
      findState.guardEnabled(deps, device.deviceId),
      ...reports.map((r) =>
        repo.insertReport(deps.db, { accountId: device.accountId, deviceId: device.deviceId, id: deps.random.id(), sealed: r.sealed, receivedAt: now }),
      ),
      findState.setLastLocation(deps, device.deviceId, reports.at(-1)!.sealed, now),
    ]);
  } catch (err) {
    throw isGuardFailure(err) ? findDisabled() : err;
  }
  if (row.lostSince !== null && (await findState.claimLostNotice(deps, device.deviceId, LOST_NOTICE_QUIET_MS))) {
    await auditEntry(deps, device.accountId, 'find.lost.reported', { deviceId: device.deviceId });
    notifyOwner(deps, device.accountId, { fetch: 'device', deviceId: device.deviceId }, { exceptDeviceId: device.deviceId });
  }
  return { accepted: reports.length };
}

export async function lastLocation(deps: Deps, accountId: string, deviceId: string, sessionId: string) {
  const device = await ownDevice(deps, accountId, deviceId);
  await auditViewing(deps, accountId, 'location.read', { deviceId, sessionId });
  const report = device.lastLocation ? { sealed: device.lastLocation, receivedAt: device.lastLocationAt! } : null;
  return { deviceId, report };
}

export async function locationHistory(
  deps: Deps,
  accountId: string,
  deviceId: string,
  sessionId: string,
  window: { from?: number; to?: number },
) {
  await ownDevice(deps, accountId, deviceId);
  const to = window.to ?? deps.clock.now();
  const from = window.from ?? to - deps.config.locationHistoryMs;
  await auditViewing(deps, accountId, 'location.history.read', { deviceId, sessionId });
  return { deviceId, reports: await repo.history(deps.db, accountId, deviceId, from, to) };
}

/** History past the retention window; last-known locations live on the device row and stay. */
export async function purgeOldLocations(deps: Deps) {
  return { reports: changedRows(await repo.deleteReportsBefore(deps.db, deps.clock.now() - deps.config.locationHistoryMs)) };
}

// ---- commands ----

export const commandView = (row: repo.CommandRow) => ({
  id: row.id,
  deviceId: row.deviceId,
  type: row.type,
  args: row.args,
  issuedAt: row.issuedAt,
  expiresAt: row.expiresAt,
  counter: row.counter,
  signature: row.signature,
  status: row.status,
  result: row.result,
  createdAt: row.createdAt,
  deliveredAt: row.deliveredAt,
  deliveries: row.deliveries,
  leaseUntil: row.status === 'delivered' ? row.leaseUntil : null,
  acknowledgedAt: row.acknowledgedAt,
});

export interface NewCommand {
  type: repo.CommandRow['type'];
  args: string;
  issuedAt: number;
  expiresAt: number;
  counter: number;
  signature: string;
}

/**
 * Queues a command the owner signed. The device verifies the signature, the counter and the
 * expiry itself (so a compromised server still cannot command it); the server checks them too,
 * so a forged, replayed or already expired command is refused at the door. The counter is raised
 * in the same atomic write that stores the command, so two commands can never share one; a lock
 * starts Lost Mode and an unlock ends it in that same write, so the state never disagrees with
 * the commands that set it.
 */
export async function createCommand(
  deps: Deps,
  session: { accountId: string; sessionId: string; reauthenticatedAt: number | null },
  deviceId: string,
  input: NewCommand,
) {
  const device = await ownDevice(deps, session.accountId, deviceId);
  if (!device.findEnabled) throw findDisabled();
  await requireConsent(deps, { accountId: session.accountId, purpose: 'find', deviceId });
  const now = deps.clock.now();
  if (input.type === 'wipe' && (session.reauthenticatedAt === null || now - session.reauthenticatedAt > WIPE_REAUTH_MS)) {
    throw new AppError('reauthentication_required', 'wiping needs the password again: re-authenticate, then send the wipe within 5 minutes');
  }
  if (input.issuedAt - now > COMMAND_FUTURE_MS) {
    throw new AppError('validation_failed', 'body.issuedAt: more than 10 minutes ahead of the server clock');
  }
  if (input.expiresAt <= now) throw new AppError('validation_failed', 'body.expiresAt: already passed');
  const account = (await findAccount(deps, session.accountId))!;
  const message = commandMessage({ deviceId, ...input });
  if (!verifyDetached(fromBase64Url(account.ed25519PublicKey), message, fromBase64Url(input.signature))) {
    throw new AppError('validation_failed', 'body.signature: does not verify with the account command key for this device');
  }
  const row = { accountId: session.accountId, deviceId, id: deps.random.id(), ...input, status: 'pending' as const, result: null, createdAt: now, deliveredAt: null, acknowledgedAt: null, leaseUntil: null, deliveries: 0 };
  const lostMode =
    input.type === 'lock' ? [findState.beginLostMode(deps, deviceId, now)] : input.type === 'unlock' ? [findState.endLostMode(deps, deviceId)] : [];
  try {
    await atomic(deps.db, [
      findState.guardCounterAbove(deviceId, input.counter),
      findState.raiseCounter(deps, deviceId, input.counter),
      repo.insertCommand(deps.db, row),
      ...lostMode,
      auditEntry(deps, session.accountId, 'command.created', { deviceId, sessionId: session.sessionId, detail: input.type }),
    ]);
  } catch (err) {
    if (!isGuardFailure(err)) throw err;
    throw new AppError('conflict', `body.counter: must be greater than ${(await ownDevice(deps, session.accountId, deviceId)).commandCounter}`);
  }
  deps.log.info('command queued', { accountId: session.accountId, deviceId, type: input.type });
  // Wake the phone (long-polling stays the fallback), and tell the owner's other screens when
  // Lost Mode changed. Neither waits for the push services nor fails this request.
  notifyDevice(deps, { accountId: session.accountId, deviceId }, { fetch: 'commands' });
  if (lostMode.length > 0) notifyOwner(deps, session.accountId, { fetch: 'device', deviceId }, { exceptDeviceId: deviceId });
  return commandView(row);
}

/** Marks every unacknowledged command past its signed expiry as expired (the maintenance job). */
export async function expireCommands(deps: Deps) {
  return { expired: changedRows(await repo.expireDue(deps.db, deps.clock.now())) };
}

export async function listCommands(deps: Deps, accountId: string, deviceId: string) {
  await ownDevice(deps, accountId, deviceId);
  // Expired first, so the owner never sees as pending what the phone would no longer carry out.
  await repo.expireDue(deps.db, deps.clock.now(), { accountId, deviceId });
  return (await repo.listCommands(deps.db, accountId, deviceId)).map(commandView);
}

/** Waits ms, or less when the server starts to stop. */
const sleep = (ms: number, stopping: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      stopping.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    stopping.addEventListener('abort', done);
  });

/**
 * Hands a device its due commands, waiting up to `waitSeconds` for one to arrive. Each is leased,
 * not consumed: unacknowledged when the lease ends, it is handed out again, until it expires.
 */
export async function pollCommands(deps: Deps, device: { accountId: string; deviceId: string }, waitSeconds: number) {
  // No expiry sweep here (a write on every poll): the lease statement never hands out a command
  // past its expiry, and the owner's list and the maintenance job mark such commands expired.
  for (let waited = 0; ; waited++) {
    const leased = await repo.leaseDue(deps.db, device.accountId, device.deviceId, deps.clock.now(), deps.config.commandLeaseMs);
    // A stopping server answers now, as if the wait ran out, and the phone polls again elsewhere or later.
    if (leased.length > 0 || waited >= waitSeconds || deps.stopping.aborted) return leased.map(commandView);
    await sleep(1000, deps.stopping);
  }
}

/**
 * Records a device's result for one of its own commands. Idempotent: the phone re-acknowledges
 * when it cannot tell whether its answer arrived, and a repeat returns the command unchanged. A
 * command never handed to this device (pending, or another device's) is not found.
 */
export async function acknowledgeCommand(
  deps: Deps,
  device: { accountId: string; deviceId: string },
  commandId: string,
  ack: { status: 'succeeded' | 'failed' | 'rejected'; result?: string },
) {
  const updated = await repo.acknowledge(deps.db, device.accountId, device.deviceId, commandId, {
    status: ack.status,
    result: ack.result ?? null,
    at: deps.clock.now(),
  });
  if (updated) return commandView(updated);
  const existing = await repo.findCommand(deps.db, device.accountId, device.deviceId, commandId);
  if (!existing || existing.deliveredAt === null) throw notFound('command');
  return commandView(existing);
}

// ---- export (src/features/export): pages in primary-key order ----

/** One page of the account's location reports, still sealed to the account's X25519 key. */
export const exportLocationsPage = (deps: Deps, accountId: string, afterId: string, limit: number) =>
  repo.locationsPage(deps.db, accountId, afterId, limit);

/** One page of the account's commands, as signed, with what became of each (a delivery lease is not kept: it is only in flight). */
export async function exportCommandsPage(deps: Deps, accountId: string, afterId: string, limit: number) {
  return (await repo.commandsPage(deps.db, accountId, afterId, limit)).map((row) => {
    const { leaseUntil: _, ...command } = commandView(row);
    return command;
  });
}

/** Deletion: the location reports and commands a device holds (they go with its row, by cascade). */
export const countDeviceFindData = (deps: Deps, accountId: string, deviceId: string) => repo.countForDevice(deps.db, accountId, deviceId);
