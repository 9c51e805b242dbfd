import { atomic, isGuardFailure, type Statement } from '../../db/client.js';
import type { Deps } from '../../deps.js';
import { AppError } from '../../http/app-error.js';
import { auditEntry } from '../audit/service.js';
import { type Actor, consentStatements } from '../consents/service.js';
import { currentVerifiedNumber } from '../sim/service.js';
import * as repo from './repo.js';

// Messaging identities: the directory a sender looks a number up in, and the block list.
// The number is personal data the server must read (to answer a lookup), so it is stored sealed
// and found by its blind index, never raw.

export interface MessagingIdentity {
  accountId: string;
  deviceId: string;
  /** E.164, opened. */
  number: string;
  numberIndex: string;
  x25519PublicKey: string;
  ed25519PublicKey: string;
  since: number;
}

const NUMBER = 'phone';

/** blindIndex('phone', number): the same index the SIM feature uses for numbers. */
export const numberIndexOf = (deps: Deps, number: string) => deps.secrets.blindIndex(NUMBER, number);
export const sealNumber = (deps: Deps, number: string) => deps.secrets.sealPersonal(NUMBER, number);
export const openNumber = (deps: Deps, sealed: string) => deps.secrets.openPersonal(NUMBER, sealed);

const identityView = (deps: Deps, row: repo.IdentityRow): MessagingIdentity => ({
  accountId: row.accountId,
  deviceId: row.deviceId,
  number: openNumber(deps, row.numberSealed),
  numberIndex: row.numberIndex,
  x25519PublicKey: row.x25519PublicKey,
  ed25519PublicKey: row.ed25519PublicKey,
  since: row.createdAt,
});

/** The device's identity, or undefined while its messaging is off. */
export async function identityOf(deps: Deps, deviceId: string): Promise<MessagingIdentity | undefined> {
  const row = await repo.identityOfDevice(deps.db, deviceId);
  return row && identityView(deps, row);
}

/** The identities of these devices, of any account (one query; ids without one are left out). */
export async function identitiesOf(deps: Deps, deviceIds: string[]): Promise<MessagingIdentity[]> {
  return (await repo.identitiesOfDevices(deps.db, [...new Set(deviceIds)])).map((row) => identityView(deps, row));
}

/** True when the account blocks the number with this index. */
export async function blocksNumber(deps: Deps, accountId: string, numberIndex: string): Promise<boolean> {
  return (await repo.findBlock(deps.db, accountId, numberIndex)) !== undefined;
}

// ---- turning messaging on and off ----

/** What this feature needs of the message queue (features/messages), which depends on it; app.ts passes it in. */
export interface MessagingActions {
  /** Deletes every copy waiting for the device: run in the same write that removes its identity. */
  dropQueue(deps: Deps, accountId: string, deviceId: string): Statement;
}

type DeviceRef = { accountId: string; deviceId: string };
export interface MessagingOnInput {
  number: string;
  x25519PublicKey: string;
  ed25519PublicKey: string;
}

/** The identity as the wire shows it (MessagingIdentity in src/protocol/api/messaging.ts). */
export const identityResponse = (identity: MessagingIdentity) => ({
  deviceId: identity.deviceId,
  x25519PublicKey: identity.x25519PublicKey,
  ed25519PublicKey: identity.ed25519PublicKey,
  number: identity.number,
  since: identity.since,
});

const PURPOSE = 'messaging';

/**
 * Turns messaging on for this device with the number it proved and the keys of its app install.
 *
 * Who may hold a number. Only a device whose newest SIM event is verified with that very number
 * (SIM-change verification), so nobody can receive another person's messages by naming their
 * number. Several devices of one account may hold it, each having verified it itself. It
 * belongs to at most one account: when another account's devices hold it, the newer SIM
 * verification wins. If this device verified the number after the other identity was turned on
 * (the number has changed hands since), the other account's identities for it are removed, their
 * waiting copies dropped and their consent withdrawn, in the same write that adds this one;
 * otherwise the request is refused (409). A guard in that write makes a concurrent claim by a
 * third account abort it, so two accounts never both end up holding the number.
 *
 * Turning on again replaces the device's keys: a new install, which the senders' apps show as a
 * key change. It is the consent 'messaging' for this device, recorded in the same write.
 */
export async function turnMessagingOn(deps: Deps, actions: MessagingActions, device: DeviceRef, input: MessagingOnInput) {
  const { accountId, deviceId } = device;
  const verified = await currentVerifiedNumber(deps, accountId, deviceId);
  if (verified?.number !== input.number) {
    throw new AppError(
      'forbidden',
      'messaging takes a number this device verified: report its SIM with POST /v1/device/sim-events and verify the number (the device’s newest SIM event must be verified with this number)',
    );
  }
  const numberIndex = numberIndexOf(deps, input.number);
  const others = (await repo.identitiesByNumbers(deps.db, [numberIndex])).filter((row) => row.accountId !== accountId);
  if (others.some((row) => row.createdAt >= verified.verifiedAt)) {
    throw new AppError('conflict', 'another account verified this number more recently and receives its messages; verify it again on this device to take it over');
  }
  const wasOn = (await repo.identityOfDevice(deps.db, deviceId)) !== undefined;
  const now = deps.clock.now();
  const takenOver = await Promise.all(others.map((row) => offStatements(deps, actions, row, { detail: 'number taken by a newer verification' })));
  try {
    await atomic(deps.db, [
      ...(others.length > 0 ? [repo.deleteOthersHolding(deps.db, accountId, numberIndex, others.map((row) => row.deviceId))] : []),
      ...takenOver.flat(),
      repo.guardHeldByOtherAccount(accountId, numberIndex),
      repo.upsertIdentity(deps.db, {
        deviceId,
        accountId,
        numberIndex,
        numberSealed: sealNumber(deps, input.number),
        x25519PublicKey: input.x25519PublicKey,
        ed25519PublicKey: input.ed25519PublicKey,
        createdAt: now,
      }),
      ...(wasOn ? [] : await consentStatements(deps, { accountId, purpose: PURPOSE, deviceId, granted: true, actor: { deviceId } }, { audit: false })),
      auditEntry(deps, accountId, 'messaging.on', { deviceId, detail: wasOn ? 'new keys' : undefined }),
    ]);
  } catch (err) {
    if (!isGuardFailure(err)) throw err;
    throw new AppError('conflict', 'another account took this number at the same moment; try again');
  }
  if (others.length > 0) deps.log.info('messaging number taken over by a newer verification', { accountId, deviceId, devicesRemoved: others.length });
  return (await identityOf(deps, deviceId))!;
}

/** The identity's removal, with its queue, consent row and audit entry (the identity row itself is the caller's). */
async function offStatements(deps: Deps, actions: MessagingActions, row: { accountId: string; deviceId: string }, opts: { actor?: Actor; detail?: string }) {
  return [
    actions.dropQueue(deps, row.accountId, row.deviceId),
    ...(await consentStatements(deps, { accountId: row.accountId, purpose: PURPOSE, deviceId: row.deviceId, granted: false, actor: opts.actor ?? {} }, { audit: false })),
    auditEntry(deps, row.accountId, 'messaging.off', { deviceId: row.deviceId, sessionId: opts.actor?.sessionId, detail: opts.detail }),
  ];
}

/**
 * Turns the device's messaging off: its identity and keys, every copy waiting for it and the
 * consent go in one write, so no sender finds it afterwards and nothing stays queued for it.
 * Nothing happens when it is already off.
 */
export async function turnMessagingOff(deps: Deps, actions: MessagingActions, device: DeviceRef, actor: Actor) {
  const identity = await repo.identityOfDevice(deps.db, device.deviceId);
  if (identity?.accountId !== device.accountId) return;
  await atomic(deps.db, [repo.deleteIdentity(deps.db, device.accountId, device.deviceId), ...(await offStatements(deps, actions, device, { actor }))]);
}

/** This device's identity, and the account's other devices with messaging on (a sender seals a copy to each). */
export async function messagingStatus(deps: Deps, device: DeviceRef) {
  const mine = (await repo.identitiesOfAccount(deps.db, device.accountId)).map((row) => identityResponse(identityView(deps, row)));
  return { identity: mine.find((i) => i.deviceId === device.deviceId) ?? null, ownDevices: mine.filter((i) => i.deviceId !== device.deviceId) };
}

// ---- export and deletion (wired by features/export and features/deletion) ----

export async function exportMessagingOf(deps: Deps, accountId: string) {
  const [identities, blocks] = await Promise.all([repo.identitiesOfAccount(deps.db, accountId), repo.blocksOfAccount(deps.db, accountId)]);
  return {
    identities: identities.map((row) => {
      const { deviceId, number, x25519PublicKey, ed25519PublicKey, since } = identityView(deps, row);
      return { deviceId, number, x25519PublicKey, ed25519PublicKey, since };
    }),
    blocks: blocks.map((row) => ({ number: openNumber(deps, row.numberSealed), since: row.createdAt })),
  };
}

/** Deletion: the identity a device holds (it goes with the device's row, by cascade). */
export const countDeviceMessaging = async (deps: Deps, accountId: string, deviceId: string) => ({
  identity: await repo.countIdentityOfDevice(deps.db, accountId, deviceId),
});
