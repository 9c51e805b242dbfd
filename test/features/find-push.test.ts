import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toBase64Url } from '../../src/protocol/encoding.js';
import type { PushService } from '../fakes/push-service.js';
import type { TestApp } from '../harness.js';
import { owner, type Owner } from './find-helpers.js';
import { createPushWorld, subscriptionBody } from './push-helpers.js';

// What the owner and the phone hear by push, end to end through the API: a new command wakes the
// phone, Lost Mode changes and a lost phone coming back reach the owner's other screens, and a SIM
// swap on a lost phone raises the alarm. Each push decrypts (independently, in the loopback push
// service) to no more than what to fetch.

let world: Awaited<ReturnType<typeof createPushWorld>>;
let t: TestApp;
let service: PushService;
beforeEach(async () => {
  world = await createPushWorld({ PUSH_ALLOW_INSECURE_ENDPOINTS: 'true' });
  ({ t, service } = world);
});
afterEach(() => world.close());

const MINUTE = 60_000;

/** An owner whose phone and browser are both subscribed. */
async function subscribedOwner() {
  const o = await owner(t);
  const onPhone = service.subscribe({ applicationServerKey: t.deps.push.vapidPublicKey });
  expect((await o.asDevice(o.device.auth, 'PUT', '/v1/device/push', subscriptionBody(onPhone))).status).toBe(200);
  const inBrowser = service.subscribe({ applicationServerKey: t.deps.push.vapidPublicKey });
  expect((await o.asOwner('POST', '/v1/push/subscriptions', subscriptionBody(inBrowser))).status).toBe(201);
  return { o, onPhone, inBrowser };
}

const send = (o: Owner, type: Parameters<Owner['sign']>[1], args: object = {}) =>
  o.asOwner('POST', `/v1/devices/${o.device.id}/commands`, o.sign(o.device.id, type, args));

const payloads = (id: string) => service.received(id).map((push) => push.payload);

describe('push triggers', () => {
  it('a new command wakes the phone with a push naming only what to fetch, not the command', async () => {
    const { o, onPhone, inBrowser } = await subscribedOwner();
    expect((await send(o, 'ring')).status).toBe(201);
    await t.settle();
    expect(payloads(onPhone.id)).toEqual([{ fetch: 'commands' }]);
    expect(payloads(inBrowser.id)).toEqual([]);
    expect(JSON.stringify(service.received(onPhone.id))).not.toContain('ring');
  });

  it("a lock puts the phone in Lost Mode and tells the owner's browser; an unlock ends it and tells it again", async () => {
    const { o, onPhone, inBrowser } = await subscribedOwner();
    await send(o, 'lock', { sealed: toBase64Url(randomBytes(80)) });
    await t.settle();
    expect(payloads(inBrowser.id)).toEqual([{ fetch: 'device', deviceId: o.device.id }]);
    await send(o, 'unlock');
    await t.settle();
    expect(payloads(inBrowser.id)).toHaveLength(2);
    expect(payloads(onPhone.id)).toEqual([{ fetch: 'commands' }, { fetch: 'commands' }]);
  });

  it('a lost phone that reports again tells the owner once, not once per report, and again after a quiet time', async () => {
    const { o, inBrowser } = await subscribedOwner();
    const report = () => o.asDevice(o.device.auth, 'POST', '/v1/device/locations', { reports: [{ sealed: o.sealed(48.85, 2.29) }] });
    await report();
    await t.settle();
    expect(payloads(inBrowser.id)).toEqual([]); // not lost: reports are routine

    await send(o, 'lock', { sealed: toBase64Url(randomBytes(80)) });
    await t.settle();
    const afterLock = payloads(inBrowser.id).length;
    await Promise.all([report(), report(), report()]);
    await t.settle();
    expect(payloads(inBrowser.id).slice(afterLock)).toEqual([{ fetch: 'device', deviceId: o.device.id }]);
    const audit = (await o.asOwner('GET', '/v1/account/audit')).body.entries.map((e: { action: string }) => e.action);
    expect(audit.filter((a: string) => a === 'find.lost.reported')).toHaveLength(1);

    t.clock.advance(16 * MINUTE);
    await report();
    await t.settle();
    expect(payloads(inBrowser.id).slice(afterLock)).toHaveLength(2);
  });

  it("a SIM swapped on a lost phone alerts the owner's browser, and the phone itself is not told", async () => {
    const { o, onPhone, inBrowser } = await subscribedOwner();
    await send(o, 'lock', { sealed: toBase64Url(randomBytes(80)) });
    await t.settle();
    const [phoneBefore, browserBefore] = [payloads(onPhone.id).length, payloads(inBrowser.id).length];
    const sim = { eventId: toBase64Url(randomBytes(16)), kind: 'removed', simIdHash: toBase64Url(randomBytes(32)) };
    expect((await o.asDevice(o.device.auth, 'POST', '/v1/device/sim-events', sim)).status).toBe(201);
    await t.settle();
    expect(payloads(inBrowser.id).slice(browserBefore)).toEqual([{ fetch: 'sim-events', deviceId: o.device.id }]);
    expect(payloads(onPhone.id).slice(phoneBefore)).toEqual([]);
  });

  it('a removed phone is woken by nothing: its subscription went with it', async () => {
    const { o, onPhone } = await subscribedOwner();
    const tablet = await o.register('tablet');
    await o.asOwner('DELETE', `/v1/devices/${o.device.id}`);
    await o.asOwner('PUT', `/v1/devices/${tablet.id}/find`, { enabled: true });
    await o.asOwner('POST', `/v1/devices/${tablet.id}/commands`, o.sign(tablet.id, 'ring'));
    await t.settle();
    expect(payloads(onPhone.id)).toEqual([]);
  });
});
