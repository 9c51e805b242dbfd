import { encryptNotification } from '@block65/webcrypto-web-push';
import { toBase64Url, utf8 } from '../protocol/encoding.js';
import type { Clock } from './clock.js';
import { isPushTopic, parseRetryAfter, type PushSender, type VapidKeys, vapidAuthorization } from './push.js';

// The one Web Push sender, for Node and Workers alike: the RFC 8291 payload encryption is
// @block65/webcrypto-web-push's (WebCrypto, so the same code runs in workerd), the VAPID JWT is
// signed here with @noble/curves (that library's own signer refuses the http:// endpoints of a
// local push service, and reads the wall clock instead of ours), and the request is a plain fetch.

export interface WebPushSenderOptions {
  /** The keys, or how to derive them on first use (the P-256 tables cost an idle server ~5 MiB). */
  vapid: VapidKeys | (() => VapidKeys);
  /** The VAPID `sub` claim: a mailto: or https: contact for the push service's operator. */
  subject: string;
  clock: Clock;
  /** Every attempt is abandoned after this long; the caller retries. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export function createWebPushSender(options: WebPushSenderOptions): PushSender {
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const timeoutMs = options.timeoutMs ?? 10_000;
  let keys = typeof options.vapid === 'function' ? undefined : options.vapid;
  const vapid = () => (keys ??= (options.vapid as () => VapidKeys)());
  return {
    name: 'web-push',
    get vapidPublicKey() {
      return toBase64Url(vapid().publicKey);
    },
    async send(target, payload, { ttlSeconds, urgency, topic }) {
      if (!Number.isInteger(ttlSeconds) || ttlSeconds < 0) throw new RangeError('push TTL must be a whole number of seconds');
      if (topic !== undefined && !isPushTopic(topic)) throw new RangeError('a push topic is 1 to 32 base64url characters');
      const plaintext = payload instanceof Uint8Array ? payload : utf8(JSON.stringify(payload));
      // Every message is padded to the same size (4096 bytes on the wire), so its length says nothing.
      const body = await encryptNotification({ endpoint: target.endpoint, expirationTime: null, keys: { p256dh: target.p256dh, auth: target.auth } }, plaintext);
      const headers: Record<string, string> = {
        Authorization: vapidAuthorization(vapid(), target.endpoint, options.subject, options.clock.now()),
        'Content-Encoding': 'aes128gcm',
        'Content-Type': 'application/octet-stream',
        TTL: String(ttlSeconds),
        Urgency: urgency,
      };
      if (topic) headers.Topic = topic;
      let response: Response;
      try {
        // A redirect is never followed: the endpoint was checked when it was registered, its target was not.
        response = await doFetch(target.endpoint, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
      } catch (err) {
        const name = (err as Error)?.name;
        return { status: 0, error: name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'network' };
      }
      await response.body?.cancel().catch(() => undefined);
      const retryAfterSeconds = parseRetryAfter(response.headers.get('Retry-After'), options.clock.now());
      return retryAfterSeconds === undefined ? { status: response.status } : { status: response.status, retryAfterSeconds };
    },
  };
}
