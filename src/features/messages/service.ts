import { atomic, changedRows, type Statement } from '../../db/client.js';
import type { Deps } from '../../deps.js';
import { AppError } from '../../http/app-error.js';
import { fromBase64Url } from '../../protocol/encoding.js';
import { MESSAGE_SIGNATURE_BYTES } from '../../protocol/messages.js';
import { blocksNumber, identitiesOf, identityOf, openNumber, sealNumber } from '../messaging/service.js';
import { notifyDevice } from '../push/service.js';
import type { Throttles } from '../throttles/service.js';
import * as repo from './repo.js';

// The sealed store-and-forward queue: a sender hands the server one sealed copy per recipient
// device, each waits in its device's queue until that device acknowledges it or it expires. The
// server never opens a copy; it knows only its size, its device, and the sending device as the
// directory has it (so the recipient can check the signature against the key the server saw).

const DAY = 24 * 60 * 60_000;
/** crypto_box_seal adds an ephemeral X25519 key (32 bytes) and a MAC (16). */
const SEAL_OVERHEAD_BYTES = 48;
/** The smallest copy that can hold a sealed signature and a one-byte body. */
export const MIN_SEALED_BYTES = SEAL_OVERHEAD_BYTES + MESSAGE_SIGNATURE_BYTES + 1;
/** Copies one device may send a day (a copy per recipient device): a busy person's day, not a spam run. */
export const COPIES_PER_DEVICE_PER_DAY = { limit: 1000, windowMs: DAY };
const EXPORT_PAGE = 200;

type DeviceRef = { accountId: string; deviceId: string };

export interface SendInput {
  messageId: string;
  copies: { deviceId: string; sealed: string }[];
}

type Undelivered = { deviceId: string; reason: 'not_receiving' | 'queue_full' };

/** Each copy's decoded size; refuses the whole send, before anything is counted or stored, if one is bad. */
function measureCopies(deps: Deps, copies: SendInput['copies']) {
  const seen = new Set<string>();
  return copies.map((copy, i) => {
    if (seen.has(copy.deviceId)) throw new AppError('validation_failed', `body.copies[${i}].deviceId: one copy per device`);
    seen.add(copy.deviceId);
    let size: number;
    try {
      size = fromBase64Url(copy.sealed).length;
    } catch {
      throw new AppError('validation_failed', `body.copies[${i}].sealed: not base64url`);
    }
    const max = deps.config.messaging.maxSealedBytes;
    if (size > max) throw new AppError('payload_too_large', `body.copies[${i}].sealed: ${size} bytes, more than the ${max} a copy may have`);
    if (size < MIN_SEALED_BYTES) throw new AppError('validation_failed', `body.copies[${i}].sealed: ${size} bytes is too short to be a sealed, signed message`);
    return size;
  });
}

/**
 * Queues one sealed copy per recipient device.
 *
 * Block list: a copy for a device whose account blocks the sender's number is dropped and
 * answered as `queued`, exactly as a delivered one (same status, shape and fields, and no push
 * to that device), so a sender cannot learn that it is blocked. A full queue is checked before
 * the block, so a blocked sender meets `queue_full` exactly when an unblocked one would.
 *
 * Retries: every copy of a send carries dedupeKey = blindIndex(sending device, messageId), unique
 * per recipient device, so sending again after a lost reply inserts nothing and gets the same
 * answer. The queue cap is read before the write, so sends racing for a nearly full queue can
 * pass it by at most their own copies.
 */
export async function sendMessage(deps: Deps, throttles: Throttles, device: DeviceRef, input: SendInput) {
  const sender = await identityOf(deps, device.deviceId);
  if (!sender || sender.accountId !== device.accountId) {
    throw new AppError('forbidden', 'messaging is off on this device: turn it on with PUT /v1/device/messaging before sending');
  }
  const sizes = measureCopies(deps, input.copies);
  // Counts copies, not requests: a send to 32 devices uses 32 of the day's copies.
  await throttles.hit(throttles.keyOf('messages:device', device.deviceId), COPIES_PER_DEVICE_PER_DAY, input.copies.length);

  const deviceIds = input.copies.map((c) => c.deviceId);
  const recipients = new Map((await identitiesOf(deps, deviceIds)).map((r) => [r.deviceId, r]));
  const dedupeKey = deps.secrets.blindIndex('message-copy', `${device.deviceId}:${input.messageId}`);
  const receiving = deviceIds.filter((id) => recipients.has(id));
  const [held, waiting] = await Promise.all([repo.devicesHolding(deps.db, dedupeKey, receiving), repo.waitingCounts(deps.db, receiving)]);
  const blocks = new Map<string, Promise<boolean>>();
  const blocked = (accountId: string) => {
    if (!blocks.has(accountId)) blocks.set(accountId, blocksNumber(deps, accountId, sender.numberIndex));
    return blocks.get(accountId)!;
  };

  const queued: string[] = [];
  const undelivered: Undelivered[] = [];
  const rows: repo.NewCopy[] = [];
  const now = deps.clock.now();
  const senderNumberSealed = sealNumber(deps, sender.number);
  for (const [i, copy] of input.copies.entries()) {
    const recipient = recipients.get(copy.deviceId);
    if (!recipient) {
      undelivered.push({ deviceId: copy.deviceId, reason: 'not_receiving' });
    } else if (held.has(copy.deviceId)) {
      queued.push(copy.deviceId);
    } else if ((waiting.get(copy.deviceId) ?? 0) >= deps.config.messaging.queueMax) {
      undelivered.push({ deviceId: copy.deviceId, reason: 'queue_full' });
    } else {
      queued.push(copy.deviceId);
      if (await blocked(recipient.accountId)) continue;
      rows.push({
        id: deps.random.id(),
        accountId: recipient.accountId,
        deviceId: copy.deviceId,
        dedupeKey,
        sealed: copy.sealed,
        size: sizes[i]!,
        senderDeviceId: device.deviceId,
        senderNumberSealed,
        senderEd25519PublicKey: sender.ed25519PublicKey,
        receivedAt: now,
      });
    }
  }

  await atomic(deps.db, repo.insertCopiesStatements(deps.db, rows));
  // The push names only what to fetch; a dropped copy wakes nobody.
  for (const row of rows) notifyDevice(deps, { accountId: row.accountId, deviceId: row.deviceId }, { fetch: 'messages' });
  // Counts and ids only: never a sealed copy or a number.
  deps.log.info('message copies sent', { deviceId: device.deviceId, copies: input.copies.length, queued: queued.length, undelivered: undelivered.length });
  return { messageId: input.messageId, queued, undelivered };
}

/**
 * The device's waiting copies, oldest first. Fetching deletes nothing: a reply lost in transit is
 * fetched again, and only an acknowledgement (or expiry) removes a copy.
 */
export async function fetchInbox(deps: Deps, device: DeviceRef, limit: number) {
  const rows = await repo.queueOf(deps.db, device.deviceId, limit + 1);
  return {
    messages: rows.slice(0, limit).map((row) => ({
      id: row.id,
      sealed: row.sealed,
      receivedAt: row.receivedAt,
      from: { deviceId: row.senderDeviceId, number: openNumber(deps, row.senderNumberSealed), ed25519PublicKey: row.senderEd25519PublicKey },
    })),
    more: rows.length > limit,
  };
}

/** Deletes this device's copies with these ids; another device's ids, or ones already gone, count nothing. */
export async function acknowledgeMessages(deps: Deps, device: DeviceRef, ids: string[]) {
  return { acknowledged: changedRows(await repo.deleteDeviceCopies(deps.db, device.deviceId, [...new Set(ids)])) };
}

/** Turning messaging off: the device's waiting copies go in the same write (features/messaging commits it). */
export const dropQueueStatement = (deps: Deps, accountId: string, deviceId: string): Statement => repo.deleteDeviceQueue(deps.db, accountId, deviceId);

/** Maintenance: copies nobody fetched and acknowledged within MESSAGE_RETENTION_DAYS. */
export async function purgeExpiredMessages(deps: Deps) {
  const copies = changedRows(await repo.deleteReceivedBefore(deps.db, deps.clock.now() - deps.config.messaging.retentionMs));
  if (copies) deps.log.info('message copies past retention purged', { copies });
  return { copies };
}

/** Export: the account's waiting copies (still sealed, as stored), a page at a time. */
export async function* exportMessageCopies(deps: Deps, accountId: string) {
  for (let after = ''; ; ) {
    const page = await repo.accountCopiesPage(deps.db, accountId, after, EXPORT_PAGE);
    yield* page;
    if (page.length < EXPORT_PAGE) return;
    after = page.at(-1)!.id;
  }
}

/** Deletion: the copies waiting for a device (they go with its row, by cascade). */
export const countDeviceMessages = async (deps: Deps, accountId: string, deviceId: string) => ({
  messages: await repo.countForDevice(deps.db, accountId, deviceId),
});
