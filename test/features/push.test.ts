import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_FAILURES, MAX_SUBSCRIPTIONS_PER_ACCOUNT, notifyDevice, notifyOwner } from '../../src/features/push/service.js';
import type { PushService } from '../fakes/push-service.js';
import type { TestApp } from '../harness.js';
import { expectError } from '../security/helpers.js';
import { addPhone, bearer, createPushWorld, ownerWithPhone, subscriptionBody, subscriptionRows } from './push-helpers.js';

let world: Awaited<ReturnType<typeof createPushWorld>>;
let t: TestApp;
let service: PushService;
beforeEach(async () => {
  world = await createPushWorld();
  ({ t, service } = world);
});
afterEach(() => world.close());

/** A phone whose own subscription is registered with the loopback push service. */
async function subscribedPhone() {
  const { member, phone } = await ownerWithPhone(t);
  const subscription = service.subscribe({ applicationServerKey: t.deps.push.vapidPublicKey });
  const res = await t.request('PUT', '/v1/device/push', { headers: bearer(phone.token), body: subscriptionBody(subscription) });
  expect(res.status).toBe(200);
  return { member, phone, subscription, saved: await res.json() };
}

describe('happy', () => {
  it('serves the VAPID key a browser subscribes with', async () => {
    const res = await t.request('GET', '/v1/push/vapid-key');
    expect(await res.json()).toEqual({ publicKey: t.deps.push.vapidPublicKey });
    expect(t.deps.push.vapidPublicKey).toMatch(/^B[\w-]{86}$/); // 0x04 ‖ x ‖ y, 65 bytes
  });

  it('a new command wakes the phone: the push decrypts with its keys and names only what to fetch', async () => {
    const { member, phone, subscription, saved } = await subscribedPhone();
    expect(saved).toMatchObject({ deviceId: phone.id, sessionId: null, pushService: service.origin, lastSuccessAt: null, failures: 0 });
    expect(JSON.stringify(saved)).not.toContain(subscription.endpoint);

    expect(notifyDevice(t.deps, { accountId: member.accountId, deviceId: phone.id }, { fetch: 'commands' })).toBeUndefined();
    await t.settle();
    expect(service.received(subscription.id)).toEqual([
      { payload: { fetch: 'commands' }, ttl: 86_400, urgency: 'high', topic: 'commands', vapidKey: t.deps.push.vapidPublicKey },
    ]);
    const [row] = await subscriptionRows(t, member.accountId);
    expect(row).toMatchObject({ lastSuccessAt: t.clock.now(), failures: 0 });
  });

  it("registering again replaces the phone's subscription: the old endpoint receives nothing more", async () => {
    const { member, phone, subscription: old } = await subscribedPhone();
    const fresh = service.subscribe();
    await t.request('PUT', '/v1/device/push', { headers: bearer(phone.token), body: subscriptionBody(fresh) });
    notifyDevice(t.deps, { accountId: member.accountId, deviceId: phone.id }, { fetch: 'commands' });
    await t.settle();
    expect([service.received(old.id).length, service.received(fresh.id).length]).toEqual([0, 1]);
    expect(await subscriptionRows(t, member.accountId)).toHaveLength(1);
  });

  it("the owner hears about one phone on the browser and the account's other phones, not on that phone", async () => {
    const { member, phone, subscription: onLostPhone } = await subscribedPhone();
    const browser = service.subscribe({ applicationServerKey: t.deps.push.vapidPublicKey });
    const created = await t.request('POST', '/v1/push/subscriptions', { headers: bearer(member.token), body: subscriptionBody(browser) });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ deviceId: null, sessionId: member.sessionId });
    const tablet = await addPhone(t, member.token, 'Tablet');
    const onTablet = service.subscribe();
    await t.request('PUT', '/v1/device/push', { headers: bearer(tablet.token), body: subscriptionBody(onTablet) });

    notifyOwner(t.deps, member.accountId, { fetch: 'sim-events', deviceId: phone.id }, { exceptDeviceId: phone.id });
    await t.settle();
    const expected = [expect.objectContaining({ payload: { fetch: 'sim-events', deviceId: phone.id }, topic: `sim-${phone.id}` })];
    expect(service.received(browser.id)).toEqual(expected);
    expect(service.received(onTablet.id)).toEqual(expected);
    expect(service.received(onLostPhone.id)).toEqual([]);
  });

  it('lists the subscriptions without their endpoints, and deleting one stops its pushes', async () => {
    const { member, phone, subscription } = await subscribedPhone();
    const listed = await (await t.request('GET', '/v1/push/subscriptions', { headers: bearer(member.token) })).json();
    expect(listed.subscriptions).toEqual([expect.objectContaining({ deviceId: phone.id, pushService: service.origin })]);
    expect(JSON.stringify(listed)).not.toContain(subscription.id);

    expect((await t.request('DELETE', `/v1/push/subscriptions/${listed.subscriptions[0].id}`, { headers: bearer(member.token) })).status).toBe(204);
    notifyDevice(t.deps, { accountId: member.accountId, deviceId: phone.id }, { fetch: 'commands' });
    await t.settle();
    expect(service.attempts()).toBe(0);
  });

  it('DELETE /v1/device/push turns push off for the phone (long-poll remains), and is idempotent', async () => {
    const { member, phone } = await subscribedPhone();
    for (let i = 0; i < 2; i++) expect((await t.request('DELETE', '/v1/device/push', { headers: bearer(phone.token) })).status).toBe(204);
    expect(await subscriptionRows(t, member.accountId)).toEqual([]);
  });
});

describe('delivery when the push service misbehaves', () => {
  it('410 Gone removes the subscription at once', async () => {
    const { member, phone, subscription } = await subscribedPhone();
    service.unsubscribe(subscription.id);
    notifyDevice(t.deps, { accountId: member.accountId, deviceId: phone.id }, { fetch: 'commands' });
    await t.settle();
    expect(await subscriptionRows(t, member.accountId)).toEqual([]);
    expect(service.attempts()).toBe(1);
  });

  it('429 with Retry-After is retried after the time it asks for, then delivered', async () => {
    const { member, phone, subscription } = await subscribedPhone();
    service.respondWith(subscription.id, { status: 429, retryAfter: '7' });
    const before = t.clock.now();
    notifyDevice(t.deps, { accountId: member.accountId, deviceId: phone.id }, { fetch: 'commands' });
    await t.settle();
    expect(service.received(subscription.id)).toHaveLength(1);
    expect(t.clock.now() - before).toBeGreaterThanOrEqual(7_000);
    expect((await subscriptionRows(t, member.accountId))[0]).toMatchObject({ failures: 0, lastSuccessAt: t.clock.now() });
  });

  it('500 three times gives up within the bound and counts one failure; the subscription stays', async () => {
    const { member, phone, subscription } = await subscribedPhone();
    service.respondWith(subscription.id, 500, 500, 500);
    const before = t.clock.now();
    notifyDevice(t.deps, { accountId: member.accountId, deviceId: phone.id }, { fetch: 'commands' });
    await t.settle();
    expect(service.attempts()).toBe(3);
    expect(t.clock.now() - before).toBeLessThanOrEqual(30_000);
    expect((await subscriptionRows(t, member.accountId))[0]).toMatchObject({ failures: 1, lastSuccessAt: null });
  });

  it(`a subscription refused ${MAX_FAILURES} times in a row (403, not retried) is deleted; a success in between resets the count`, async () => {
    const { member, phone, subscription } = await subscribedPhone();
    const notify = async () => {
      notifyDevice(t.deps, { accountId: member.accountId, deviceId: phone.id }, { fetch: 'commands' });
      await t.settle();
    };
    service.respondWith(subscription.id, 403, 403);
    for (let i = 0; i < 3; i++) await notify(); // two refusals, then a delivery
    expect((await subscriptionRows(t, member.accountId))[0]?.failures).toBe(0);
    service.respondWith(subscription.id, ...Array(MAX_FAILURES).fill(403));
    for (let i = 0; i < MAX_FAILURES - 1; i++) await notify();
    expect((await subscriptionRows(t, member.accountId))[0]?.failures).toBe(MAX_FAILURES - 1);
    await notify();
    expect(await subscriptionRows(t, member.accountId)).toEqual([]);
    expect(service.attempts()).toBe(3 + MAX_FAILURES);
  });

  it('an unreachable push service neither delays nor fails the caller, and the log names no endpoint or key', async () => {
    const { member, phone, subscription } = await subscribedPhone();
    await service.close();
    notifyDevice(t.deps, { accountId: member.accountId, deviceId: phone.id }, { fetch: 'commands' });
    await t.settle();
    expect((await subscriptionRows(t, member.accountId))[0]).toMatchObject({ failures: 1 });
    const log = t.logLines.join('\n');
    expect(log).toContain('push not delivered');
    for (const secret of [subscription.endpoint, service.origin, subscription.keys.p256dh, subscription.keys.auth]) expect(log).not.toContain(secret);
  });
});

describe('errors', () => {
  it(`an account keeps at most ${MAX_SUBSCRIPTIONS_PER_ACCOUNT} subscriptions; the same endpoint can still be re-registered`, async () => {
    const { member } = await ownerWithPhone(t);
    const subscriptions = Array.from({ length: MAX_SUBSCRIPTIONS_PER_ACCOUNT + 1 }, () => service.subscribe());
    for (const s of subscriptions.slice(0, -1)) {
      expect((await t.request('POST', '/v1/push/subscriptions', { headers: bearer(member.token), body: subscriptionBody(s) })).status).toBe(201);
    }
    await expectError(t.request('POST', '/v1/push/subscriptions', { headers: bearer(member.token), body: subscriptionBody(subscriptions.at(-1)!) }), 409, 'conflict');
    expect((await t.request('POST', '/v1/push/subscriptions', { headers: bearer(member.token), body: subscriptionBody(subscriptions[0]!) })).status).toBe(201);
    expect(await subscriptionRows(t, member.accountId)).toHaveLength(MAX_SUBSCRIPTIONS_PER_ACCOUNT);
  });

  it('a key that is not a P-256 point, an auth secret of the wrong length and extra fields are refused', async () => {
    const { phone } = await ownerWithPhone(t);
    const good = subscriptionBody(service.subscribe());
    const notOnCurve = `B${'A'.repeat(86)}`;
    const bodies = [
      { ...good, keys: { ...good.keys, p256dh: notOnCurve } },
      { ...good, keys: { ...good.keys, auth: good.keys.auth.slice(0, 20) } },
      { ...good, keys: { ...good.keys, p256dh: good.keys.p256dh.slice(0, 44) } },
      { ...good, expirationTime: null, extra: true },
    ];
    for (const body of bodies) await expectError(t.request('PUT', '/v1/device/push', { headers: bearer(phone.token), body }), 400, 'validation_failed');
  });
});
