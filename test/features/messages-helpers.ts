import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { messageCopies } from '../../src/db/schema.js';
import { toBase64Url } from '../../src/protocol/encoding.js';
import type { TestApp } from '../harness.js';
import type { Owner } from './find-helpers.js';
import { messagingKeys, newId, verifyNumber, type MessagingPhone } from './messaging-helpers.js';

// Server-side message tests: the queue routes sealed copies it never opens, so a copy here is
// random bytes of a plausible size standing in for one (the real sealed format is tested with the
// SDK). Each stand-in is recorded so a test can look for it in the log.

/** Random bytes standing in for a sealed copy (the server never opens one). */
export const standInSealed = (bytes = 300) => toBase64Url(randomBytes(bytes));

/** Another device of the phone's account, with Find Device, the same number verified and messaging on. */
export async function addMessagingDevice(t: TestApp, phone: MessagingPhone, name = 'tablet') {
  const device = await phone.register(name);
  await phone.asOwner('PUT', `/v1/devices/${device.id}/find`, { enabled: true });
  // verifyNumber uses only the owner's device calls, which a MessagingPhone keeps (its `keys` are the messaging ones).
  await verifyNumber(t, phone as unknown as Owner, device.auth, phone.number);
  const keys = messagingKeys();
  const on = await phone.asDevice(device.auth, 'PUT', '/v1/device/messaging', {
    number: phone.number,
    x25519PublicKey: keys.x25519PublicKey,
    ed25519PublicKey: keys.ed25519PublicKey,
  });
  if (on.status !== 200) throw new Error(`messaging on: ${on.status} ${JSON.stringify(on.body)}`);
  const as = (method: string, path: string, body?: unknown) => phone.asDevice(device.auth, method, path, body);
  return { ...device, keys, as };
}

type Caller = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>;

/** Sends one message: a stand-in sealed copy for each device (or the copies given). */
export const send = (from: Caller, deviceIds: string[], options: { messageId?: string; sealed?: (deviceId: string) => string } = {}) =>
  from('POST', '/v1/device/messages', {
    messageId: options.messageId ?? newId(),
    copies: deviceIds.map((deviceId) => ({ deviceId, sealed: options.sealed?.(deviceId) ?? standInSealed() })),
  });

export const inbox = async (as: Caller, limit?: number) => {
  const res = await as('GET', `/v1/device/messages${limit === undefined ? '' : `?limit=${limit}`}`);
  if (res.status !== 200) throw new Error(`inbox: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { messages: { id: string; sealed: string; receivedAt: number; from: { deviceId: string; number: string; ed25519PublicKey: string } }[]; more: boolean };
};

export const ack = (as: Caller, ids: string[]) => as('POST', '/v1/device/messages/ack', { ids });

/** The copies the database holds for a device, read directly (what an inbox could not show). */
export const storedCopies = (t: TestApp, deviceId: string) => t.deps.db.select().from(messageCopies).where(eq(messageCopies.deviceId, deviceId));

export const allStoredCopies = (t: TestApp) => t.deps.db.select().from(messageCopies);
