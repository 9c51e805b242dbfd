import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/adapters/clock.js';
import { deriveVapidKeys, type PushSender, type VapidKeys } from '../../src/adapters/push.js';
import { createWebPushSender } from '../../src/adapters/push-web.js';
import { createServerSecrets } from '../../src/adapters/server-secrets.js';
import { randomBytes } from '../../src/protocol/encoding.js';
import type { PushServiceControl } from '../fakes/push-service-client.js';

// What every PushSender does against a push service that checks VAPID and decrypts like a real
// one (the loopback fake, reached over HTTP). Runs on Node (test/adapters/push.test.ts) and inside
// workerd (test/workers/push.spec.ts), so the sender is shown to work the same on both runtimes.

const SUBJECT = 'mailto:operator@homing.test';
const OPTIONS = { ttlSeconds: 600, urgency: 'high' as const, topic: 'commands' };
const keysFromNewServerKey = () => deriveVapidKeys(createServerSecrets(randomBytes(32), randomBytes));

export function describePushSenderContract(runtime: string, service: () => PushServiceControl) {
  const make = (vapid: VapidKeys, timeoutMs?: number): PushSender => createWebPushSender({ vapid, subject: SUBJECT, clock: systemClock, timeoutMs });

  describe(`PushSender contract (${runtime})`, () => {
    it('a push reaches the subscriber, decrypts with its keys, and is signed with the advertised VAPID key', async () => {
      const sender = make(keysFromNewServerKey());
      const subscription = await service().subscribe({ applicationServerKey: sender.vapidPublicKey });
      const result = await sender.send({ endpoint: subscription.endpoint, ...subscription.keys }, { fetch: 'commands' }, OPTIONS);
      expect(result).toEqual({ status: 201 });
      expect(await service().received(subscription.id)).toEqual([
        { payload: { fetch: 'commands' }, ttl: 600, urgency: 'high', topic: 'commands', vapidKey: sender.vapidPublicKey },
      ]);
    });

    it('a push signed with another server\'s VAPID key is refused by the push service (the fake checks)', async () => {
      const ours = make(keysFromNewServerKey());
      const forger = make(keysFromNewServerKey());
      const subscription = await service().subscribe({ applicationServerKey: ours.vapidPublicKey });
      expect((await forger.send({ endpoint: subscription.endpoint, ...subscription.keys }, { fetch: 'commands' }, OPTIONS)).status).toBe(403);
      expect(await service().received(subscription.id)).toEqual([]);
      expect(await service().refusals(subscription.id)).toEqual([expect.objectContaining({ reason: expect.stringContaining('another key') })]);
    });

    it('404, 410, 429 with Retry-After and 500 come back as they were answered, for the caller to act on', async () => {
      const sender = make(keysFromNewServerKey());
      const subscription = await service().subscribe();
      await service().respondWith(subscription.id, { status: 410 }, { status: 429, retryAfter: '7' }, { status: 500 }, { status: 404 });
      const target = { endpoint: subscription.endpoint, ...subscription.keys };
      const results = [];
      for (let i = 0; i < 4; i++) results.push(await sender.send(target, { fetch: 'commands' }, OPTIONS));
      expect(results).toEqual([{ status: 410 }, { status: 429, retryAfterSeconds: 7 }, { status: 500 }, { status: 404 }]);
    });

    it('a push service that never answers is abandoned after the timeout, as "no answer"', async () => {
      const sender = make(keysFromNewServerKey(), 300);
      const subscription = await service().subscribe();
      await service().respondWith(subscription.id, { status: 0 });
      const started = Date.now();
      expect(await sender.send({ endpoint: subscription.endpoint, ...subscription.keys }, { fetch: 'commands' }, OPTIONS)).toEqual({ status: 0, error: 'timeout' });
      expect(Date.now() - started).toBeLessThan(5_000);
    });

    it('a push service that is not there is "no answer", not a thrown error', async () => {
      const sender = make(keysFromNewServerKey(), 2_000);
      const subscription = await service().subscribe();
      const closedPort = { endpoint: 'http://127.0.0.1:9/push/nobody', ...subscription.keys };
      expect(await sender.send(closedPort, { fetch: 'commands' }, OPTIONS)).toMatchObject({ status: 0 });
    });

    it('refuses a Topic a push service would reject, before sending anything', async () => {
      const sender = make(keysFromNewServerKey());
      const subscription = await service().subscribe();
      const target = { endpoint: subscription.endpoint, ...subscription.keys };
      await expect(sender.send(target, { fetch: 'commands' }, { ...OPTIONS, topic: 'has spaces' })).rejects.toThrow(RangeError);
      await expect(sender.send(target, { fetch: 'commands' }, { ...OPTIONS, topic: 'x'.repeat(33) })).rejects.toThrow(RangeError);
    });
  });
}
