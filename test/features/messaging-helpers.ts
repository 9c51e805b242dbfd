import { randomBytes } from 'node:crypto';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { toBase64Url } from '../../src/protocol/encoding.js';
import type { TestApp } from '../harness.js';
import { owner, type Owner } from './find-helpers.js';

// Phones with messaging: an account whose device verified a number by SIM-change verification
// (outbound code, through the log SMS provider) and, when asked, turned messaging on with fresh keys.

export const newId = () => toBase64Url(randomBytes(16));

/** A device's messaging key pairs, as the SDK makes them (base64url public keys, raw secrets). */
export function messagingKeys() {
  const x25519Secret = x25519.utils.randomSecretKey();
  const ed25519Seed = ed25519.utils.randomSecretKey();
  return {
    x25519Secret,
    ed25519Seed,
    x25519PublicKey: toBase64Url(x25519.getPublicKey(x25519Secret)),
    ed25519PublicKey: toBase64Url(ed25519.getPublicKey(ed25519Seed)),
  };
}

export type MessagingKeys = ReturnType<typeof messagingKeys>;

/** Turns Find Device on for the device, reports a SIM change claiming `number` and submits the texted code. */
export async function verifyNumber(t: TestApp, o: Pick<Owner, 'asDevice'>, auth: Record<string, string>, number: string) {
  // SIM-change verification needs Find Device on (the policy's condition); a second device starts with it off.
  const find = await o.asDevice(auth, 'PUT', '/v1/device/find', { enabled: true });
  if (find.status !== 200) throw new Error(`Find Device on: ${find.status} ${JSON.stringify(find.body)}`);
  const eventId = newId();
  const started = await o.asDevice(auth, 'POST', '/v1/device/sim-events', {
    eventId,
    kind: 'replaced',
    simIdHash: toBase64Url(randomBytes(32)),
    claimedNumber: number,
    method: 'outbound',
  });
  if (started.status !== 201) throw new Error(`SIM event: ${started.status} ${JSON.stringify(started.body)}`);
  const code = t.outbox().filter((sms) => sms.to === number).at(-1)!.body.match(/\d{6}/)![0];
  const verified = await o.asDevice(auth, 'POST', `/v1/device/sim-events/${eventId}/verify`, { code });
  if (verified.body?.status !== 'verified') throw new Error(`SIM verify: ${verified.status} ${JSON.stringify(verified.body)}`);
}

let numbers = 0;
/** A fresh made-up UK mobile number (+4477009…), different for each call in a run. */
export const uniqueNumber = () => `+4477009${String(1000 + (++numbers % 9000)).padStart(5, '0')}`;

/** An account with one device that verified a number; `on` (the default) turns messaging on too. */
export async function messagingPhone(t: TestApp, options: { number?: string; on?: boolean } = {}) {
  const o = await owner(t);
  const number = options.number ?? uniqueNumber();
  await verifyNumber(t, o, o.device.auth, number);
  const keys = messagingKeys();
  if (options.on !== false) {
    const on = await o.asDevice(o.device.auth, 'PUT', '/v1/device/messaging', {
      number,
      x25519PublicKey: keys.x25519PublicKey,
      ed25519PublicKey: keys.ed25519PublicKey,
    });
    if (on.status !== 200) throw new Error(`messaging on: ${on.status} ${JSON.stringify(on.body)}`);
  }
  const asPhone = (method: string, path: string, body?: unknown) => o.asDevice(o.device.auth, method, path, body);
  return { ...o, number, keys, asPhone };
}

export type MessagingPhone = Awaited<ReturnType<typeof messagingPhone>>;

/** Turns messaging on for a device with fresh keys (or the ones given); answers the raw response. */
export async function turnOn(o: Pick<Owner, 'asDevice'>, auth: Record<string, string>, number: string, keys: MessagingKeys = messagingKeys()) {
  return o.asDevice(auth, 'PUT', '/v1/device/messaging', { number, x25519PublicKey: keys.x25519PublicKey, ed25519PublicKey: keys.ed25519PublicKey });
}

/** Another phone of the same account, with Find Device on (SIM verification needs it); `number` is verified on it when given. */
export async function anotherPhone(t: TestApp, o: Pick<Owner, 'asDevice' | 'asOwner' | 'register'>, options: { number?: string; on?: boolean } = {}) {
  const device = await o.register(`phone ${newId().slice(0, 4)}`);
  await o.asOwner('PUT', `/v1/devices/${device.id}/find`, { enabled: true });
  if (options.number) await verifyNumber(t, o, device.auth, options.number);
  if (options.number && options.on) {
    const on = await turnOn(o, device.auth, options.number);
    if (on.status !== 200) throw new Error(`messaging on: ${on.status} ${JSON.stringify(on.body)}`);
  }
  const asPhone = (method: string, path: string, body?: unknown) => o.asDevice(device.auth, method, path, body);
  return { ...device, asPhone };
}
