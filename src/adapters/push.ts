import { p256 } from '@noble/curves/nist.js';
import { toBase64Url, utf8 } from '../protocol/encoding.js';
import type { ServerSecrets } from './server-secrets.js';

// Web Push, as the push feature sees it: RFC 8030 delivery to a subscription's endpoint, the
// payload encrypted to the subscription's keys (RFC 8291, aes128gcm), the request signed with the
// server's VAPID key (RFC 8292). test/adapters/push-contract.ts is what every sender must do.

export interface PushTarget {
  /** The RFC 8030 push resource: a capability URL, never logged. */
  endpoint: string;
  /** The subscriber's P-256 public key, uncompressed, base64url (65 bytes). */
  p256dh: string;
  /** The subscriber's auth secret, base64url (16 bytes). */
  auth: string;
}

export type PushUrgency = 'very-low' | 'low' | 'normal' | 'high';

export interface PushOptions {
  /** How long the push service may hold the message for an offline subscriber. */
  ttlSeconds: number;
  urgency: PushUrgency;
  /** RFC 8030 §5.4: a newer message with the same topic replaces an undelivered one. */
  topic?: string;
}

export interface PushResult {
  /** The push service's HTTP status; 0 when it gave no answer (see `error`). */
  status: number;
  /** From a 429 or 503's Retry-After, in seconds. */
  retryAfterSeconds?: number;
  error?: 'timeout' | 'network';
}

export interface PushSender {
  readonly name: string;
  /** The VAPID public key (uncompressed P-256, base64url): a browser's applicationServerKey. */
  readonly vapidPublicKey: string;
  /** One delivery attempt. Never throws for what the push service answers or for the network. */
  send(target: PushTarget, payload: Uint8Array | object, options: PushOptions): Promise<PushResult>;
}

export interface VapidKeys {
  secretKey: Uint8Array;
  /** Uncompressed P-256 point, 65 bytes. */
  publicKey: Uint8Array;
}

/**
 * The VAPID key pair is derived from the server key (HKDF, then reduced to a P-256 scalar as
 * FIPS 186-5 A.2.1 does), so the operator still backs up one secret, and a restored server keeps
 * the key every browser subscription was made for (a new key would orphan them all).
 */
export function deriveVapidKeys(secrets: ServerSecrets): VapidKeys {
  const seed = secrets.derive('vapid', 'p256', 48);
  const secretKey = p256.utils.randomSecretKey(seed);
  return { secretKey, publicKey: p256.getPublicKey(secretKey, false) };
}

/** RFC 8292 VAPID JWTs may live at most 24 hours; 12 leaves room for a push service's clock skew. */
export const VAPID_TOKEN_SECONDS = 12 * 3600;

/** The RFC 8292 Authorization header for one push resource: an ES256 JWT bound to its origin. */
export function vapidAuthorization(keys: VapidKeys, endpoint: string, subject: string, nowMs: number): string {
  const json = (value: object) => toBase64Url(utf8(JSON.stringify(value)));
  const claims = { aud: new URL(endpoint).origin, exp: Math.floor(nowMs / 1000) + VAPID_TOKEN_SECONDS, sub: subject };
  const unsigned = `${json({ typ: 'JWT', alg: 'ES256' })}.${json(claims)}`;
  // JWS ES256 is the raw r‖s signature over SHA-256 of the ASCII header.payload.
  const signature = p256.sign(utf8(unsigned), keys.secretKey, { prehash: true, format: 'compact' });
  return `vapid t=${unsigned}.${toBase64Url(signature)}, k=${toBase64Url(keys.publicKey)}`;
}

const TOPIC = /^[A-Za-z0-9_-]{1,32}$/;
export const isPushTopic = (topic: string) => TOPIC.test(topic);

/** Retry-After as seconds: delta-seconds or an HTTP-date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - nowMs) / 1000));
}
