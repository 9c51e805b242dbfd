import { afterEach, describe, expect, it } from 'vitest';
import type { PushService } from '../fakes/push-service.js';
import type { TestApp } from '../harness.js';
import { createTestApp } from '../harness.js';
import { ack, addMessagingDevice, allStoredCopies, inbox, send, standInSealed, storedCopies } from '../features/messages-helpers.js';
import { messagingPhone, newId, type MessagingPhone } from '../features/messaging-helpers.js';
import { createPushWorld, subscriptionBody } from '../features/push-helpers.js';

// Attacks on the message queue: strangers and sibling devices reaching for a device's copies, a
// removed device's token, a blocked sender probing whether it is blocked, and what the log and the
// push service get to see. Copies are random stand-ins for sealed ones: the server never opens one.

let t: TestApp;
let close: () => unknown = () => undefined;
afterEach(async () => {
  await close();
  close = () => undefined;
});

const plain = () => {
  t = createTestApp();
  close = () => t.close();
};

async function withPush() {
  const world = await createPushWorld();
  t = world.t;
  close = () => world.close();
  return world.service;
}

const subscribe = async (service: PushService, phone: MessagingPhone) => {
  const subscription = service.subscribe({ applicationServerKey: t.deps.push.vapidPublicKey });
  expect((await phone.asPhone('PUT', '/v1/device/push', subscriptionBody(subscription))).status).toBe(200);
  return subscription;
};

describe('security: nobody but the recipient device reads or removes its copies', () => {
  it("another account cannot fetch the victim's queue, and its acks of the victim's copy ids count 0 and remove nothing", async () => {
    plain();
    const alice = await messagingPhone(t);
    const victim = await messagingPhone(t);
    const mallory = await messagingPhone(t);
    const sealed = standInSealed();
    await send(alice.asPhone, [victim.device.id], { sealed: () => sealed });
    const ids = (await inbox(victim.asPhone)).messages.map((m) => m.id);

    expect((await inbox(mallory.asPhone)).messages).toEqual([]);
    const stolen = await ack(mallory.asPhone, ids);
    expect(stolen.status).toBe(200);
    expect(stolen.body).toEqual({ acknowledged: 0 });
    const still = await inbox(victim.asPhone);
    expect(still.messages.map((m) => [m.id, m.sealed])).toEqual([[ids[0], sealed]]);
  });

  it("another device of the SAME account can neither read nor acknowledge this device's copies", async () => {
    plain();
    const alice = await messagingPhone(t);
    const victim = await messagingPhone(t);
    const sibling = await addMessagingDevice(t, victim);
    const sealed = standInSealed();
    await send(alice.asPhone, [victim.device.id], { sealed: () => sealed });
    const ids = (await inbox(victim.asPhone)).messages.map((m) => m.id);

    const seen = await inbox(sibling.as);
    expect(JSON.stringify(seen)).not.toContain(sealed);
    expect((await ack(sibling.as, ids)).body).toEqual({ acknowledged: 0 });
    expect((await inbox(victim.asPhone)).messages.map((m) => m.id)).toEqual(ids);
  });

  it("a removed device's token gets 401 on the inbox and on acks, and its waiting copies are gone with it", async () => {
    plain();
    const alice = await messagingPhone(t);
    const victim = await messagingPhone(t);
    const tablet = await addMessagingDevice(t, victim);
    await send(alice.asPhone, [victim.device.id, tablet.id]);
    const ids = (await inbox(tablet.as)).messages.map((m) => m.id);
    expect(ids).toHaveLength(1);

    expect((await victim.asOwner('DELETE', `/v1/devices/${tablet.id}`)).status).toBe(204);
    expect((await tablet.as('GET', '/v1/device/messages')).status).toBe(401);
    expect((await ack(tablet.as, ids)).status).toBe(401);
    expect(await storedCopies(t, tablet.id)).toEqual([]);
    // The account's other phone keeps its own copy.
    expect((await inbox(victim.asPhone)).messages).toHaveLength(1);
  });

  it('a device that turns messaging off loses the copies waiting for it, and senders are told it is not receiving', async () => {
    plain();
    const alice = await messagingPhone(t);
    const bob = await messagingPhone(t);
    await send(alice.asPhone, [bob.device.id]);
    expect((await bob.asPhone('DELETE', '/v1/device/messaging')).status).toBe(204);
    expect(await storedCopies(t, bob.device.id)).toEqual([]);
    expect((await send(alice.asPhone, [bob.device.id])).body.undelivered).toEqual([{ deviceId: bob.device.id, reason: 'not_receiving' }]);
  });
});

describe('security: a blocked sender cannot tell it is blocked', () => {
  it("a blocked sender's message never arrives and wakes nobody, and its answer deep-equals the answer for a recipient who did not block it", async () => {
    const service = await withPush();
    const spammer = await messagingPhone(t);
    const blocker = await messagingPhone(t);
    const blockerTablet = await addMessagingDevice(t, blocker);
    const other = await messagingPhone(t);
    const otherTablet = await addMessagingDevice(t, other);
    const blockerPush = await subscribe(service, blocker);
    const otherPush = await subscribe(service, other);
    // Blocking is per account: the tablet's copies are dropped too, though it did not block.
    expect((await blocker.asPhone('POST', '/v1/device/messaging/blocks', { number: spammer.number })).status).toBe(201);

    // One message to both accounts, each with two phones: one answer must not tell them apart.
    const messageId = newId();
    const toBlocker = await send(spammer.asPhone, [blocker.device.id, blockerTablet.id], { messageId });
    const toOther = await send(spammer.asPhone, [other.device.id, otherTablet.id], { messageId });
    await t.settle();
    const minusDeviceIds = (res: { status: number; body: any }) => ({
      status: res.status,
      body: { ...res.body, queued: res.body.queued.map(() => 'a device') },
    });
    expect(toBlocker.body.queued).toEqual([blocker.device.id, blockerTablet.id]);
    expect(minusDeviceIds(toBlocker)).toEqual(minusDeviceIds(toOther));

    expect((await inbox(blocker.asPhone)).messages).toEqual([]);
    expect((await inbox(blockerTablet.as)).messages).toEqual([]);
    expect(await storedCopies(t, blocker.device.id)).toEqual([]);
    expect(service.received(blockerPush.id)).toEqual([]);
    expect(service.received(otherPush.id).map((p) => p.payload)).toEqual([{ fetch: 'messages' }]);
    expect((await inbox(other.asPhone)).messages).toHaveLength(1);
    expect((await inbox(otherTablet.as)).messages).toHaveLength(1);
  });

  it('unblocking lets the next message through', async () => {
    plain();
    const sender = await messagingPhone(t);
    const bob = await messagingPhone(t);
    await bob.asPhone('POST', '/v1/device/messaging/blocks', { number: sender.number });
    await send(sender.asPhone, [bob.device.id]);
    await bob.asPhone('DELETE', `/v1/device/messaging/blocks/${encodeURIComponent(sender.number)}`);
    await send(sender.asPhone, [bob.device.id]);
    expect((await inbox(bob.asPhone)).messages).toHaveLength(1);
  });
});

describe('security: what the push service and the log see', () => {
  it('the push that wakes the recipient decrypts to exactly { fetch: "messages" }: no sender, number or content', async () => {
    const service = await withPush();
    const alice = await messagingPhone(t);
    const bob = await messagingPhone(t);
    const bobPush = await subscribe(service, bob);
    const sealed = standInSealed();
    await send(alice.asPhone, [bob.device.id], { sealed: () => sealed });
    await t.settle();
    const pushes = service.received(bobPush.id);
    expect(pushes.map((p) => p.payload)).toEqual([{ fetch: 'messages' }]);
    expect(pushes[0]!.topic).toBe('messages');
    expect(JSON.stringify(pushes)).not.toContain(alice.number);
  });

  it("neither the sealed bytes nor the sender's number reach the log, and the database holds the number only sealed", async () => {
    plain();
    const alice = await messagingPhone(t);
    const bob = await messagingPhone(t);
    const sealed = standInSealed();
    const linesBefore = t.logLines.length;
    await send(alice.asPhone, [bob.device.id], { sealed: () => sealed });
    const box = await inbox(bob.asPhone);
    await ack(bob.asPhone, [box.messages[0]!.id]);
    await send(alice.asPhone, [bob.device.id], { sealed: () => sealed });
    const sent = t.logLines.slice(linesBefore).join('\n');
    expect(sent).toContain('message copies sent');
    expect(sent).not.toContain(sealed);
    expect(sent).not.toContain(alice.number);
    expect(sent).not.toContain(alice.number.slice(1));

    const [row] = await allStoredCopies(t);
    expect(row!.senderNumberSealed).not.toContain(alice.number.slice(1));
    expect(JSON.stringify(row)).not.toContain(alice.number.slice(1));
  });
});
