import { hashToken } from '../../adapters/random.js';
import type { Deps } from '../../deps.js';
import { AppError, notFound } from '../../http/app-error.js';
import { auditEntry } from '../audit/service.js';
import { bindSessionToDevice } from '../sessions/service.js';
import * as repo from './repo.js';

export const DEVICE_TOKEN_PREFIX = 'hd';
const TOUCH_INTERVAL_MS = 60_000;

export interface DeviceRegistration {
  name: string;
  model: string;
  platform: 'android' | 'ios' | 'other';
  identifierHash: string;
}

const view = (row: repo.DeviceRow) => ({
  id: row.id,
  name: row.name,
  model: row.model,
  platform: row.platform,
  createdAt: row.createdAt,
  lastSeenAt: row.lastSeenAt,
  findEnabled: row.findEnabled,
  lostMode: row.lostSince === null ? null : { since: row.lostSince },
});

export async function registerDevice(deps: Deps, session: { accountId: string; sessionId: string }, input: DeviceRegistration) {
  const { accountId } = session;
  const token = deps.random.token(DEVICE_TOKEN_PREFIX);
  const newId = deps.random.id();
  const row = await repo.upsertDevice(deps.db, {
    id: newId,
    accountId,
    name: input.name,
    model: input.model,
    platform: input.platform,
    identifierHash: deps.secrets.blindIndex('device-identifier', input.identifierHash),
    tokenHash: hashToken(token),
    createdAt: deps.clock.now(),
    lastSeenAt: null,
    findEnabled: false,
    commandCounter: 0,
    lastLocation: null,
    lastLocationAt: null,
  });
  // The registering session runs on this phone (unless it already belongs to another).
  await bindSessionToDevice(deps, session.sessionId, row.id);
  // The same hardware registered again keeps its id and gets a new token: recorded too.
  const detail = row.id === newId ? row.platform : `${row.platform}, registered again`;
  await auditEntry(deps, accountId, 'device.added', { deviceId: row.id, sessionId: session.sessionId, detail });
  deps.log.info('device registered', { accountId, deviceId: row.id });
  return { device: view(row), token };
}

/**
 * A device token authenticates exactly one device of one account. Removing the device deletes
 * the row holding the token's hash, so the token stops working on the next request.
 */
export async function authenticateDevice(deps: Deps, token: string) {
  const row = await repo.findDeviceByTokenHash(deps.db, hashToken(token));
  if (!row) throw new AppError('unauthorized', 'the device token is unknown or the device was removed');
  const now = deps.clock.now();
  if (row.lastSeenAt === null || now - row.lastSeenAt >= TOUCH_INTERVAL_MS) await repo.touchDevice(deps.db, row.id, now);
  return { deviceId: row.id, accountId: row.accountId, record: row };
}

export async function listDevices(deps: Deps, accountId: string) {
  return (await repo.listDevices(deps.db, accountId)).map(view);
}

export type DeviceRecord = repo.DeviceRow;

// "Not yours" and "does not exist" are one answer: every lookup is keyed by the account.
export async function deviceRecord(deps: Deps, accountId: string, deviceId: string): Promise<DeviceRecord> {
  const row = await repo.findDevice(deps.db, accountId, deviceId);
  if (!row) throw notFound('device');
  return row;
}

export const getDevice = async (deps: Deps, accountId: string, deviceId: string) => view(await deviceRecord(deps, accountId, deviceId));

export async function renameDevice(deps: Deps, accountId: string, deviceId: string, name: string) {
  const row = await repo.renameDevice(deps.db, accountId, deviceId, name);
  if (!row) throw notFound('device');
  return view(row);
}

export async function removeDevice(deps: Deps, accountId: string, deviceId: string, sessionId?: string) {
  if (!(await repo.deleteDevice(deps.db, accountId, deviceId))) throw notFound('device');
  await auditEntry(deps, accountId, 'device.removed', { deviceId, sessionId });
  deps.log.info('device removed', { accountId, deviceId });
}

/**
 * Find Device keeps its per-device state on the device row (consent, last-known location, the
 * highest accepted command counter). These build the statements the find feature commits inside
 * its own atomic writes, so the rule and the row it guards change together.
 */
export const findState = {
  setEnabled: (deps: Deps, accountId: string, deviceId: string, enabled: boolean) => repo.setFindEnabled(deps.db, accountId, deviceId, enabled),
  guardEnabled: (deps: Deps, deviceId: string) => repo.guardFindEnabled(deps.db, deviceId),
  setLastLocation: (deps: Deps, deviceId: string, sealed: string, at: number) => repo.setLastLocation(deps.db, deviceId, sealed, at),
  guardCounterAbove: (deviceId: string, counter: number) => repo.guardCounter(deviceId, counter),
  raiseCounter: (deps: Deps, deviceId: string, counter: number) => repo.raiseCounter(deps.db, deviceId, counter),
  /** The owner's lock puts the device in Lost Mode (a second lock keeps the first one's time). */
  beginLostMode: (deps: Deps, deviceId: string, at: number) => repo.beginLostMode(deps.db, deviceId, at),
  /** The owner's unlock ends it. */
  endLostMode: (deps: Deps, deviceId: string) => repo.endLostMode(deps.db, deviceId),
  /** True for the one report that should tell the owner their lost phone is back (see repo.claimLostNotice). */
  claimLostNotice: (deps: Deps, deviceId: string, quietMs: number) => repo.claimLostNotice(deps.db, deviceId, deps.clock.now(), quietMs),
};

/** Every device of the account as the export lists it (src/protocol/api/export.ts): no token or identifier hash. */
export async function exportDevices(deps: Deps, accountId: string) {
  return (await repo.listDevices(deps.db, accountId)).map((row) => {
    const { lostMode: _, ...device } = view(row);
    return {
      ...device,
      commandCounter: row.commandCounter,
      lostSince: row.lostSince,
      lastLocation: row.lastLocation,
      lastLocationAt: row.lastLocationAt,
    };
  });
}

// ---- deletion (src/features/deletion) ----

/** Removes the device row; its locations, commands, SIM events, push subscriptions, sessions and diagnostics go with it (cascade). */
export const deleteDeviceStatement = (deps: Deps, accountId: string, deviceId: string) => repo.deleteDeviceStatement(deps.db, accountId, deviceId);

/** Account deletion: removes every device (and so everything bound to one). */
export const deleteAllDevicesStatement = (deps: Deps, accountId: string) => repo.deleteAllOf(deps.db, accountId);
