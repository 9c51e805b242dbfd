import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { pushSubscriptions } from '../../src/db/schema.js';
import { toBase64Url } from '../../src/protocol/encoding.js';
import { type FakeSubscription, startPushService } from '../fakes/push-service.js';
import { createTestApp, type TestApp } from '../harness.js';
import { signUpAndLogIn } from '../security/helpers.js';

/**
 * A test app whose pushes go to a loopback push service sharing the test's clock. Loopback
 * endpoints need PUSH_ALLOW_INSECURE_ENDPOINTS, as in local development.
 */
export async function createPushWorld(env: Record<string, string> = { PUSH_ALLOW_INSECURE_ENDPOINTS: 'true' }) {
  const t = createTestApp(env);
  const service = await startPushService({ now: t.clock.now });
  return {
    t,
    service,
    async close() {
      await t.settle();
      await service.close();
      t.close();
    },
  };
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

export const subscriptionBody = (subscription: FakeSubscription) => ({ endpoint: subscription.endpoint, keys: subscription.keys });

/** An account, logged in, with one registered phone. */
export async function ownerWithPhone(t: TestApp, name = 'Phone') {
  const member = await signUpAndLogIn(t);
  return { member, phone: await addPhone(t, member.token, name) };
}

export async function addPhone(t: TestApp, sessionToken: string, name: string) {
  const res = await t.request('POST', '/v1/devices', {
    headers: bearer(sessionToken),
    body: { name, model: 'Pixel 9', platform: 'android', identifierHash: toBase64Url(randomBytes(32)) },
  });
  const body = await res.json();
  return { id: body.device.id as string, token: body.token as string };
}

export const subscriptionRows = (t: TestApp, accountId: string) =>
  t.deps.db.select().from(pushSubscriptions).where(eq(pushSubscriptions.accountId, accountId));
