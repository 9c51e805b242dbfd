import { afterEach, describe, expect, it } from 'vitest';
import { MAX_COPIES_PER_MESSAGE } from '../../src/protocol/api/messaging.js';
import { fromBase64Url, toBase64Url } from '../../src/protocol/encoding.js';
import { runMaintenance } from '../../src/jobs.js';
import { createTestApp, type TestApp } from '../harness.js';
import { ack, addMessagingDevice, allStoredCopies, inbox, send, standInSealed, storedCopies } from './messages-helpers.js';
import { messagingPhone, newId } from './messaging-helpers.js';

// The sealed store-and-forward queue, through the front door: sending one copy per device,
// fetching (which deletes nothing), acknowledging, retries after lost replies, expiry, and the
// limits. Copies are random stand-ins: the server never opens one.

const DAY = 24 * 60 * 60_000;

let t: TestApp;
afterEach(() => t?.close());

const errorOf = (res: { status: number; body: any }) => ({ status: res.status, code: res.body?.error?.code });

describe('happy: a copy per device, fetched by its own device, deleted on acknowledgement', () => {
  it("a message to a person with two phones and to the sender's own other phone: each device fetches only its copy; ack deletes it", async () => {
    t = createTestApp();
    const alice = await messagingPhone(t);
    const aliceTablet = await addMessagingDevice(t, alice);
    const bob = await messagingPhone(t);
    const bobTablet = await addMessagingDevice(t, bob);
    const sealed = new Map([bob.device.id, bobTablet.id, aliceTablet.id].map((id) => [id, standInSealed()]));

    const sent = await send(alice.asPhone, [...sealed.keys()], { sealed: (id) => sealed.get(id)! });
    expect(sent.status).toBe(202);
    expect(sent.body.queued).toEqual([bob.device.id, bobTablet.id, aliceTablet.id]);
    expect(sent.body.undelivered).toEqual([]);

    for (const [deviceId, as] of [
      [bob.device.id, bob.asPhone],
      [bobTablet.id, bobTablet.as],
      [aliceTablet.id, aliceTablet.as],
    ] as const) {
      const box = await inbox(as);
      expect(box.more).toBe(false);
      expect(box.messages).toHaveLength(1);
      expect(box.messages[0]).toMatchObject({
        sealed: sealed.get(deviceId),
        receivedAt: t.clock.now(),
        from: { deviceId: alice.device.id, number: alice.number, ed25519PublicKey: alice.keys.ed25519PublicKey },
      });
      expect((await ack(as, [box.messages[0]!.id])).body).toEqual({ acknowledged: 1 });
      expect((await inbox(as)).messages).toEqual([]);
    }
    // The sender's own phone got no copy of what it sent.
    expect((await inbox(alice.asPhone)).messages).toEqual([]);
    expect(await allStoredCopies(t)).toEqual([]);
  });

  it('the inbox is oldest first and pages with `more`; the size stored is the decoded size, measured by the server', async () => {
    t = createTestApp();
    const alice = await messagingPhone(t);
    const bob = await messagingPhone(t);
    const sent: string[] = [];
    for (let i = 0; i < 5; i++) {
      const sealed = standInSealed(200 + i);
      sent.push(sealed);
      await send(alice.asPhone, [bob.device.id], { sealed: () => sealed });
      t.clock.advance(1000);
    }
    const first = await inbox(bob.asPhone, 3);
    expect(first.more).toBe(true);
    expect(first.messages.map((m) => m.sealed)).toEqual(sent.slice(0, 3));
    await ack(bob.asPhone, first.messages.map((m) => m.id));
    const rest = await inbox(bob.asPhone, 3);
    expect(rest.more).toBe(false);
    expect(rest.messages.map((m) => m.sealed)).toEqual(sent.slice(3));
    expect((await storedCopies(t, bob.device.id)).map((r) => r.size).sort()).toEqual([203, 204]);
  });

  it('a message to 12 devices (more than one insert statement holds, for D1) stores every copy, and a retry stores none again', async () => {
    t = createTestApp();
    const alice = await messagingPhone(t);
    const recipients = [];
    for (let i = 0; i < 12; i++) {
      if (i === 6) t.clock.advance(61 * 60_000); // sign-ups are limited to 10 an hour an address
      recipients.push(await messagingPhone(t));
    }
    const messageId = newId();
    const first = await send(alice.asPhone, recipients.map((r) => r.device.id), { messageId });
    expect(first.body.queued).toHaveLength(12);
    expect(await allStoredCopies(t)).toHaveLength(12);
    expect((await send(alice.asPhone, recipients.map((r) => r.device.id), { messageId })).body).toEqual(first.body);
    expect(await allStoredCopies(t)).toHaveLength(12);
    for (const r of recipients) expect((await inbox(r.asPhone)).messages).toHaveLength(1);
  });

  it('a device with messaging off and a device id nobody has are both not_receiving, one answer, and nothing is stored for them', async () => {
    t = createTestApp();
    const alice = await messagingPhone(t);
    const off = await messagingPhone(t, { on: false });
    const nobody = newId();
    const res = await send(alice.asPhone, [off.device.id, nobody]);
    expect(res.status).toBe(202);
    expect(res.body.queued).toEqual([]);
    expect(res.body.undelivered).toEqual([
      { deviceId: off.device.id, reason: 'not_receiving' },
      { deviceId: nobody, reason: 'not_receiving' },
    ]);
    expect(await allStoredCopies(t)).toEqual([]);
  });
});

describe('happy: lost replies and retries', () => {
  it('a fetch reply lost in transit: fetching twice without ack gives the same copies; a lost ack sent again counts 0 the second time', async () => {
    t = createTestApp();
    const alice = await messagingPhone(t);
    const bob = await messagingPhone(t);
    await send(alice.asPhone, [bob.device.id]);
    await send(alice.asPhone, [bob.device.id]);
    const once = await inbox(bob.asPhone);
    const twice = await inbox(bob.asPhone);
    expect(once.messages).toHaveLength(2);
    expect(twice).toEqual(once);

    const ids = once.messages.map((m) => m.id);
    expect((await ack(bob.asPhone, ids)).body).toEqual({ acknowledged: 2 });
    // The ack's reply was lost: the phone fetches again (nothing), and acknowledges again.
    expect((await inbox(bob.asPhone)).messages).toEqual([]);
    const again = await ack(bob.asPhone, ids);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ acknowledged: 0 });
  });

  it('a send retried with the same messageId after its reply was lost stores no second copy and gets the same answer', async () => {
    t = createTestApp();
    const alice = await messagingPhone(t);
    const bob = await messagingPhone(t);
    const off = await messagingPhone(t, { on: false });
    const messageId = newId();
    const sealed = standInSealed();
    const first = await send(alice.asPhone, [bob.device.id, off.device.id], { messageId, sealed: () => sealed });
    t.clock.advance(30_000);
    const retried = await send(alice.asPhone, [bob.device.id, off.device.id], { messageId, sealed: () => sealed });
    expect(retried.status).toBe(202);
    expect(retried.body).toEqual(first.body);
    const box = await inbox(bob.asPhone);
    expect(box.messages).toHaveLength(1);
    // The copy kept is the first one, as received then.
    expect(box.messages[0]!.receivedAt).toBe(t.clock.now() - 30_000);
  });

  it('the same messageId from another sending device is another message, not a retry', async () => {
    t = createTestApp();
    const alice = await messagingPhone(t);
    const carol = await messagingPhone(t);
    const bob = await messagingPhone(t);
    const messageId = newId();
    await send(alice.asPhone, [bob.device.id], { messageId });
    await send(carol.asPhone, [bob.device.id], { messageId });
    expect((await inbox(bob.asPhone)).messages.map((m) => m.from.number).sort()).toEqual([alice.number, carol.number].sort());
  });
});

describe('happy: expiry', () => {
  it('a phone offline for 29 days still gets its copies; past 30 days the messages job removes them', async () => {
    t = createTestApp();
    const alice = await messagingPhone(t);
    const bob = await messagingPhone(t);
    await send(alice.asPhone, [bob.device.id]);
    t.clock.advance(29 * DAY);
    await runMaintenance(t.deps);
    expect((await inbox(bob.asPhone)).messages).toHaveLength(1);

    t.clock.advance(DAY + 1);
    const outcomes = await runMaintenance(t.deps);
    expect(outcomes.find((o) => o.name === 'messages')).toMatchObject({ status: 'ok', counts: { copies: 1 } });
    expect((await inbox(bob.asPhone)).messages).toEqual([]);
  });

  it('MESSAGE_RETENTION_DAYS sets the window: with 2, a copy three days old is gone', async () => {
    t = createTestApp({ MESSAGE_RETENTION_DAYS: '2' });
    const alice = await messagingPhone(t);
    const bob = await messagingPhone(t);
    await send(alice.asPhone, [bob.device.id]);
    t.clock.advance(DAY);
    await send(alice.asPhone, [bob.device.id]);
    t.clock.advance(2 * DAY - 1);
    await runMaintenance(t.deps);
    // The first is 3 days old, the second 2 days less a millisecond.
    expect((await inbox(bob.asPhone)).messages).toHaveLength(1);
  });
});

describe('errors: refused sends store nothing and answer in the one error shape', () => {
  const oneCopy = (deviceId: string, sealed: string) => ({ messageId: newId(), copies: [{ deviceId, sealed }] });

  it('a device with messaging off cannot send, and is told to turn it on with PUT /v1/device/messaging', async () => {
    t = createTestApp();
    const off = await messagingPhone(t, { on: false });
    const bob = await messagingPhone(t);
    const res = await send(off.asPhone, [bob.device.id]);
    expect(errorOf(res)).toEqual({ status: 403, code: 'forbidden' });
    expect(res.body.error.message).toContain('PUT /v1/device/messaging');
    expect(await allStoredCopies(t)).toEqual([]);
  });

  it('an oversize copy (over MESSAGE_MAX_BYTES decoded) is 413; one byte less is accepted', async () => {
    t = createTestApp({ MESSAGE_MAX_BYTES: '1024' });
    const alice = await messagingPhone(t);
    const bob = await messagingPhone(t);
    const over = await alice.asPhone('POST', '/v1/device/messages', oneCopy(bob.device.id, standInSealed(1025)));
    expect(errorOf(over)).toEqual({ status: 413, code: 'payload_too_large' });
    expect(await allStoredCopies(t)).toEqual([]);
    expect((await alice.asPhone('POST', '/v1/device/messages', oneCopy(bob.device.id, standInSealed(1024)))).status).toBe(202);
  });

  it('one bad copy among good ones refuses the whole send: too short, not base64url, a duplicate device, too many copies', async () => {
    t = createTestApp();
    const alice = await messagingPhone(t);
    const bob = await messagingPhone(t);
    const good = { deviceId: bob.device.id, sealed: standInSealed() };
    const impossibleLength = `${toBase64Url(new Uint8Array(201))}A`; // 269 characters: no byte string encodes to that
    expect(() => fromBase64Url(impossibleLength)).toThrow();
    const other = (await messagingPhone(t)).device.id;
    const bodies = [
      { messageId: newId(), copies: [good, { deviceId: other, sealed: standInSealed(112) }] },
      { messageId: newId(), copies: [good, { deviceId: other, sealed: impossibleLength }] },
      { messageId: newId(), copies: [good, { deviceId: other, sealed: 'not base64!' }] },
      { messageId: newId(), copies: [good, { ...good, sealed: standInSealed() }] },
      { messageId: newId(), copies: Array.from({ length: MAX_COPIES_PER_MESSAGE + 1 }, () => ({ deviceId: newId(), sealed: standInSealed() })) },
    ];
    for (const body of bodies) {
      const res = await alice.asPhone('POST', '/v1/device/messages', body);
      expect(errorOf(res)).toEqual({ status: 400, code: 'validation_failed' });
      expect(res.body.error.requestId).toBeTypeOf('string');
    }
    expect(await allStoredCopies(t)).toEqual([]);
    // 113 bytes (seal + signature + one byte of body) is the smallest accepted.
    expect((await alice.asPhone('POST', '/v1/device/messages', oneCopy(bob.device.id, standInSealed(113)))).status).toBe(202);
  });

  it('a full queue (MESSAGE_QUEUE_MAX) answers queue_full for that device only, and stores nothing more for it', async () => {
    t = createTestApp({ MESSAGE_QUEUE_MAX: '10' });
    const alice = await messagingPhone(t);
    const bob = await messagingPhone(t);
    const carol = await messagingPhone(t);
    for (let i = 0; i < 10; i++) expect((await send(alice.asPhone, [bob.device.id])).body.queued).toEqual([bob.device.id]);
    const res = await send(alice.asPhone, [bob.device.id, carol.device.id]);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ queued: [carol.device.id], undelivered: [{ deviceId: bob.device.id, reason: 'queue_full' }] });
    expect(await storedCopies(t, bob.device.id)).toHaveLength(10);
    // Acknowledging makes room again.
    await ack(bob.asPhone, [(await inbox(bob.asPhone, 1)).messages[0]!.id]);
    expect((await send(alice.asPhone, [bob.device.id])).body.queued).toEqual([bob.device.id]);
  });

  it('a send loop hits the daily copy cap (1,000 copies a device, counted per copy): 429, until the day has passed', async () => {
    t = createTestApp();
    const alice = await messagingPhone(t);
    const bob = await messagingPhone(t);
    // Copies to device ids nobody has store nothing but still count: a spammer pays per copy.
    const fullSend = () => send(alice.asPhone, Array.from({ length: MAX_COPIES_PER_MESSAGE }, () => newId()));
    for (let i = 0; i < 31; i++) {
      expect((await fullSend()).status).toBe(202);
      t.clock.advance(1000); // stays under the per-minute request bucket
    }
    // 992 copies used: 32 more do not fit, 8 do, then one more does not.
    expect(errorOf(await fullSend())).toEqual({ status: 429, code: 'rate_limited' });
    expect((await send(alice.asPhone, Array.from({ length: 8 }, () => newId()))).status).toBe(202);
    const refused = await send(alice.asPhone, [bob.device.id]);
    expect(errorOf(refused)).toEqual({ status: 429, code: 'rate_limited' });
    expect(await storedCopies(t, bob.device.id)).toEqual([]);
    t.clock.advance(DAY);
    expect((await send(alice.asPhone, [bob.device.id])).status).toBe(202);
  });

  it('a fast send loop meets the per-minute request bucket (120 a device) before the daily cap', async () => {
    t = createTestApp();
    const alice = await messagingPhone(t);
    const nobody = newId();
    for (let i = 0; i < 120; i++) expect((await send(alice.asPhone, [nobody])).status).toBe(202);
    expect(errorOf(await send(alice.asPhone, [nobody]))).toEqual({ status: 429, code: 'rate_limited' });
  });
});
