import { atomic } from '../../db/client.js';
import type { Deps } from '../../deps.js';
import { auditEntry } from '../audit/service.js';
import * as repo from './repo.js';
import { numberIndexOf, openNumber, sealNumber } from './service.js';

// The account's block list: numbers whose messages none of its devices receive (the queue drops
// them, and the sender cannot tell). Shared by every device of the account; each number is kept
// sealed, found by its blind index, and its audit entries never name it.

type DeviceRef = { accountId: string; deviceId: string };

const blockView = (deps: Deps, row: repo.BlockRow) => ({ number: openNumber(deps, row.numberSealed), since: row.createdAt });

/** Blocking a number already blocked answers the same block, with its first time. */
export async function blockNumber(deps: Deps, device: DeviceRef, number: string) {
  const numberIndex = numberIndexOf(deps, number);
  const existing = await repo.findBlock(deps.db, device.accountId, numberIndex);
  if (existing) return blockView(deps, existing);
  await atomic(deps.db, [
    repo.insertBlock(deps.db, { accountId: device.accountId, numberIndex, numberSealed: sealNumber(deps, number), createdAt: deps.clock.now() }),
    auditEntry(deps, device.accountId, 'messaging.block', { deviceId: device.deviceId }),
  ]);
  return blockView(deps, (await repo.findBlock(deps.db, device.accountId, numberIndex))!);
}

/** Unblocking a number that is not blocked changes nothing. */
export async function unblockNumber(deps: Deps, device: DeviceRef, number: string) {
  const numberIndex = numberIndexOf(deps, number);
  if (!(await repo.findBlock(deps.db, device.accountId, numberIndex))) return;
  await atomic(deps.db, [
    repo.deleteBlock(deps.db, device.accountId, numberIndex),
    auditEntry(deps, device.accountId, 'messaging.unblock', { deviceId: device.deviceId }),
  ]);
}

/** Newest first, numbers opened for their owner. */
export async function blockedNumbers(deps: Deps, accountId: string) {
  return { blocks: (await repo.blocksOfAccount(deps.db, accountId)).map((row) => blockView(deps, row)) };
}
