import type { Deps } from '../../deps.js';
import { AppError } from '../../http/app-error.js';
import type { Throttles } from '../throttles/service.js';
import * as repo from './repo.js';
import { numberIndexOf } from './service.js';

// The directory: which devices receive messages for a number.
//
// Guarantees. The numbers asked about are used only to answer: they are never stored and never
// logged (not even how many were found). A number that is unknown and one whose messaging is off
// get the same answer, [], by the same work: every number asked goes into one query by blind
// index, found or not. Only a device with messaging on may look up, and each account may look up
// MESSAGING_LOOKUPS_PER_DAY distinct numbers a day across all its devices; a request that would
// pass that is refused whole and uses none of what is left (docs/SECURITY.md, "Messages", says
// why these bound enumerating a country's numbers).

const DAY = 24 * 60 * 60_000;

type DeviceRef = { accountId: string; deviceId: string };

export async function lookUpNumbers(deps: Deps, throttles: Throttles, device: DeviceRef, numbers: string[]) {
  if (!(await repo.identityOfDevice(deps.db, device.deviceId))) {
    throw new AppError('forbidden', 'only a device with messaging on looks numbers up: turn it on with PUT /v1/device/messaging');
  }
  const asked = [...new Set(numbers)];
  const perDay = { limit: deps.config.messaging.lookupsPerDay, windowMs: DAY, counter: 'db' as const };
  const { left } = await throttles.hit(throttles.keyOf('messaging-lookups:account', device.accountId), perDay, asked.length);

  const indexes = asked.map((number) => numberIndexOf(deps, number));
  const holders = await repo.identitiesByNumbers(deps.db, indexes);
  const results = asked.map((number, i) => ({
    number,
    devices: holders
      .filter((row) => row.numberIndex === indexes[i])
      .map((row) => ({ deviceId: row.deviceId, x25519PublicKey: row.x25519PublicKey, ed25519PublicKey: row.ed25519PublicKey })),
  }));
  return { results, lookupsLeft: left };
}
