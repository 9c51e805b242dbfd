import { afterEach, describe, expect, it } from 'vitest';
import { notifyDevice, notifyOwner } from '../../src/features/push/service.js';
import { bearer, createPushWorld, ownerWithPhone, subscriptionBody, subscriptionRows } from '../features/push-helpers.js';
import { expectError, randomId, signUpAndLogIn } from './helpers.js';

// Push subscriptions are capability URLs the server POSTs to: only their owner may see or end
// them, they die with the device or session they belong to, a push reveals nothing, and the
// server will not POST into its own network unless the operator allowed it for development.

let world: Awaited<ReturnType<typeof createPushWorld>> | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const HOSTILE_ENDPOINTS = [
  'http://push.example.net/wpush/abc', // not https
  'https://localhost/wpush',
  'https://push.localhost/wpush',
  'https://127.0.0.1/wpush',
  'https://2130706433/wpush', // 127.0.0.1 as one number
  'https://0x7f.0.0.1/wpush',
  'https://10.0.0.5/wpush',
  'https://172.20.1.1/wpush',
  'https://192.168.1.10/wpush',
  'https://169.254.169.254/latest/meta-data', // cloud metadata
  'https://100.64.0.1/wpush',
  'https://0.0.0.0/wpush',
  'https://[::1]/wpush',
  'https://[::ffff:127.0.0.1]/wpush',
  'https://[fe80::1]/wpush',
  'https://[fd12:3456::1]/wpush',
];

describe('security', () => {
  it('loopback, private, link-local, metadata and http endpoints are refused unless insecure endpoints are allowed', async () => {
    world = await createPushWorld({});
    const { t, service } = world;
    const { member, phone } = await ownerWithPhone(t);
    const keys = service.subscribe().keys;
    for (const endpoint of [...HOSTILE_ENDPOINTS, service.subscribe().endpoint]) {
      await expectError(t.request('PUT', '/v1/device/push', { headers: bearer(phone.token), body: { endpoint, keys } }), 400, 'validation_failed');
      await expectError(t.request('POST', '/v1/push/subscriptions', { headers: bearer(member.token), body: { endpoint, keys } }), 400, 'validation_failed');
    }
    expect((await t.request('PUT', '/v1/device/push', { headers: bearer(phone.token), body: { endpoint: 'https://push.example.net/wpush/abc', keys } })).status).toBe(200);
    expect(await subscriptionRows(t, member.accountId)).toHaveLength(1);
  });

  it('an endpoint carrying credentials is refused even when insecure endpoints are allowed', async () => {
    world = await createPushWorld();
    const { t, service } = world;
    const { phone } = await ownerWithPhone(t);
    const subscription = service.subscribe();
    const endpoint = subscription.endpoint.replace('http://', 'http://user:secret@');
    await expectError(t.request('PUT', '/v1/device/push', { headers: bearer(phone.token), body: { ...subscriptionBody(subscription), endpoint } }), 400, 'validation_failed');
  });

  it("another account can neither see nor delete a subscription, and cannot tell it from a missing one; the owner's still receives", async () => {
    world = await createPushWorld();
    const { t, service } = world;
    const { member: owner, phone } = await ownerWithPhone(t);
    const subscription = service.subscribe();
    await t.request('PUT', '/v1/device/push', { headers: bearer(phone.token), body: subscriptionBody(subscription) });
    const [row] = await subscriptionRows(t, owner.accountId);
    const other = await signUpAndLogIn(t);

    expect(await (await t.request('GET', '/v1/push/subscriptions', { headers: bearer(other.token) })).json()).toEqual({ subscriptions: [] });
    const foreign = await expectError(t.request('DELETE', `/v1/push/subscriptions/${row!.id}`, { headers: bearer(other.token) }), 404, 'not_found');
    const missing = await expectError(t.request('DELETE', `/v1/push/subscriptions/${randomId()}`, { headers: bearer(other.token) }), 404, 'not_found');
    expect(foreign.message).toBe(missing.message);

    // The other account notifying "its" owner reaches nothing of ours.
    notifyOwner(t.deps, other.accountId, { fetch: 'device', deviceId: phone.id });
    notifyDevice(t.deps, { accountId: other.accountId, deviceId: phone.id }, { fetch: 'commands' });
    await t.settle();
    expect(service.attempts()).toBe(0);
    notifyDevice(t.deps, { accountId: owner.accountId, deviceId: phone.id }, { fetch: 'commands' });
    await t.settle();
    expect(service.received(subscription.id)).toHaveLength(1);
  });

  it("a removed device's subscription is gone with it and receives nothing", async () => {
    world = await createPushWorld();
    const { t, service } = world;
    const { member, phone } = await ownerWithPhone(t);
    const subscription = service.subscribe();
    await t.request('PUT', '/v1/device/push', { headers: bearer(phone.token), body: subscriptionBody(subscription) });
    expect((await t.request('DELETE', `/v1/devices/${phone.id}`, { headers: bearer(member.token) })).status).toBe(204);
    expect(await subscriptionRows(t, member.accountId)).toEqual([]);
    notifyDevice(t.deps, { accountId: member.accountId, deviceId: phone.id }, { fetch: 'commands' });
    notifyOwner(t.deps, member.accountId, { fetch: 'device', deviceId: phone.id });
    await t.settle();
    expect(service.attempts()).toBe(0);
  });

  it("a browser's subscription ends when its session logs out", async () => {
    world = await createPushWorld();
    const { t, service } = world;
    const { member } = await ownerWithPhone(t);
    await t.request('POST', '/v1/push/subscriptions', { headers: bearer(member.token), body: subscriptionBody(service.subscribe()) });
    expect(await subscriptionRows(t, member.accountId)).toHaveLength(1);
    expect((await t.request('POST', '/v1/auth/logout', { headers: bearer(member.token) })).status).toBe(204);
    expect(await subscriptionRows(t, member.accountId)).toEqual([]);
  });

  it('a session token cannot set a device subscription, nor a device token an account one', async () => {
    world = await createPushWorld();
    const { t, service } = world;
    const { member, phone } = await ownerWithPhone(t);
    const body = subscriptionBody(service.subscribe());
    await expectError(t.request('PUT', '/v1/device/push', { headers: bearer(member.token), body }), 401, 'unauthorized');
    await expectError(t.request('POST', '/v1/push/subscriptions', { headers: bearer(phone.token), body }), 401, 'unauthorized');
    await expectError(t.request('GET', '/v1/push/subscriptions', { headers: bearer(phone.token) }), 401, 'unauthorized');
    expect(await subscriptionRows(t, member.accountId)).toEqual([]);
  });

  it('the decrypted push holds only what to fetch; the endpoint and keys are not in any response or log line', async () => {
    world = await createPushWorld();
    const { t, service } = world;
    const { member, phone } = await ownerWithPhone(t);
    const subscription = service.subscribe();
    const saved = await (await t.request('POST', '/v1/push/subscriptions', { headers: bearer(member.token), body: subscriptionBody(subscription) })).json();
    const listed = await (await t.request('GET', '/v1/push/subscriptions', { headers: bearer(member.token) })).json();
    notifyOwner(t.deps, member.accountId, { fetch: 'sim-events', deviceId: phone.id });
    await t.settle();
    expect(service.received(subscription.id).map((m) => m.payload)).toEqual([{ fetch: 'sim-events', deviceId: phone.id }]);
    const seen = JSON.stringify([saved, listed]) + t.logLines.join('\n');
    for (const secret of [subscription.endpoint, subscription.keys.p256dh, subscription.keys.auth]) expect(seen).not.toContain(secret);
  });
});
