import { p256 } from '@noble/curves/nist.js';
import { z } from 'zod';
import { fromBase64Url } from '../encoding.js';
import { base64urlBytes, id, timestamp } from './common.js';

// Web Push subscriptions (RFC 8030 endpoint, RFC 8291 keys) as browsers' PushSubscription.toJSON()
// and UnifiedPush distributors give them, and the one message a push carries: what to fetch.

const isUncompressedP256 = (text: string) => {
  try {
    const bytes = fromBase64Url(text);
    if (bytes[0] !== 0x04) return false;
    p256.Point.fromBytes(bytes).assertValidity();
    return true;
  } catch {
    return false;
  }
};

export const pushKeys = z
  .strictObject({
    p256dh: base64urlBytes(65, "The subscriber's P-256 public key, uncompressed (RFC 8291 §3.2)").refine(
      isUncompressedP256,
      'must be an uncompressed point on P-256',
    ),
    auth: base64urlBytes(16, "The subscriber's authentication secret (RFC 8291 §3.2)"),
  })
  .meta({ id: 'PushKeys' });

export const pushSubscriptionBody = z
  .strictObject({
    endpoint: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .meta({ description: 'The push resource (RFC 8030): https, on a public address', example: 'https://push.example.net/wpush/v2/gAAAAB' }),
    keys: pushKeys,
  })
  .meta({ id: 'PushSubscriptionRequest' });

export const pushSubscription = z
  .object({
    id: z.string(),
    deviceId: z.string().nullable().meta({ description: "Set for a device's own subscription" }),
    sessionId: z.string().nullable().meta({ description: "Set for a browser's or app's subscription, which ends with its session" }),
    pushService: z.string().meta({ description: "The endpoint's origin; the endpoint itself is a secret and never shown", example: 'https://push.example.net' }),
    createdAt: timestamp('When it was registered'),
    lastSuccessAt: timestamp('When a push last reached the push service').nullable(),
    failures: z.number().int().meta({ description: 'Refused deliveries since the last success; at 5 the subscription is dropped' }),
  })
  .meta({ id: 'PushSubscription' });

export const pushSubscriptionList = z.object({ subscriptions: z.array(pushSubscription) }).meta({ id: 'PushSubscriptionList' });

export const vapidKey = z
  .object({
    publicKey: z.string().meta({ description: "The server's VAPID public key, uncompressed P-256 in base64url: a browser's applicationServerKey" }),
  })
  .meta({ id: 'VapidKey' });

export const subscriptionIdParam = z.object({ subscriptionId: id('Push subscription id') });

/** What a push says, decrypted: only what to fetch, never a location, a number or a message. */
export const pushMessage = z.discriminatedUnion('fetch', [
  z.strictObject({ fetch: z.literal('commands') }),
  z.strictObject({ fetch: z.literal('device'), deviceId: z.string() }),
  z.strictObject({ fetch: z.literal('sim-events'), deviceId: z.string() }),
  z.strictObject({ fetch: z.literal('messages') }),
]);

export type PushMessage = z.infer<typeof pushMessage>;
