// The SDK's messaging end to end through the real test app: phones that verified numbers turn
// messaging on, send sealed copies, and receive, check and acknowledge them (src/client/messaging.ts).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/client/api.js';
import { sealMessage } from '../../src/client/crypto/messages.js';
import { lookUpNumbers, memoryKeyBook, receiveMessages, sendText, turnOnMessaging, type Messenger } from '../../src/client/messaging.js';
import { createTestApp, type TestApp } from '../harness.js';
import { owner } from '../features/find-helpers.js';
import { newId, uniqueNumber, verifyNumber } from '../features/messaging-helpers.js';

let t: TestApp;
beforeEach(() => void (t = createTestApp()));
afterEach(() => t.close());

const tokenOf = (auth: Record<string, string>) => auth.Authorization!.replace('Bearer ', '');

/** An account whose phone verified a number and turned messaging on through the SDK; `tablet` adds a second device with its own number. */
async function account(options: { tablet?: boolean } = {}) {
  const o = await owner(t, { findEnabled: false });
  const make = async (device: { id: string; auth: Record<string, string> }) => {
    const number = uniqueNumber();
    await verifyNumber(t, o, device.auth, number);
    const api = t.api({ deviceToken: tokenOf(device.auth) });
    const me = await turnOnMessaging(api, { deviceId: device.id, number });
    return { api, me, keyBook: memoryKeyBook(), seen: new Set<string>() };
  };
  const phone = await make(o.device);
  const tablet = options.tablet ? await make(await o.register('tablet')) : undefined;
  return { o, phone, tablet };
}

type Phone = { api: ApiClient; me: Messenger; keyBook: ReturnType<typeof memoryKeyBook>; seen: Set<string> };
const receive = (p: Phone) => receiveMessages(p.api, p.me, { keyBook: p.keyBook, seen: p.seen });

describe('messaging through the SDK', () => {
  it('a text reaches the recipient, and the sender’s own second device shows it as outgoing', async () => {
    const alice = await account({ tablet: true });
    const bob = await account();
    const sent = await sendText(alice.phone.api, alice.phone.me, { to: bob.phone.me.number, text: 'Dinner at 8? 🍝' }, alice.phone.keyBook);
    expect(sent).toMatchObject({ reachable: true, keysChanged: false, queued: 2, undelivered: [] });

    const atBob = await receive(bob.phone);
    expect(atBob.rejected).toEqual([]);
    expect(atBob.messages).toEqual([
      expect.objectContaining({ id: sent.messageId, from: alice.phone.me.number, text: 'Dinner at 8? 🍝', outgoing: false, keyChanged: false }),
    ]);
    const atTablet = await receive(alice.tablet!);
    expect(atTablet.messages).toEqual([
      expect.objectContaining({ id: sent.messageId, recipients: [bob.phone.me.number], outgoing: true, text: 'Dinner at 8? 🍝' }),
    ]);
    // Acknowledged: nothing comes back.
    expect((await receive(bob.phone)).messages).toEqual([]);
  });

  it('a number without messaging is unreachable and nothing is sent', async () => {
    const alice = await account();
    const sent = await sendText(alice.phone.api, alice.phone.me, { to: uniqueNumber(), text: 'hello?' }, alice.phone.keyBook);
    expect(sent).toMatchObject({ reachable: false, queued: 0 });
  });

  it('a copy redelivered because its acknowledgement was lost shows once', async () => {
    const alice = await account();
    const bob = await account();
    const { messageId } = await sendText(alice.phone.api, alice.phone.me, { to: bob.phone.me.number, text: 'once' }, alice.phone.keyBook);
    // The first receive's acknowledgement is lost: the server keeps the copy.
    const lostAck: ApiClient = { ...bob.phone.api, acknowledgeMessages: async () => ({ acknowledged: 0 }) };
    expect((await receiveMessages(lostAck, bob.phone.me, { keyBook: bob.phone.keyBook, seen: bob.phone.seen })).messages).toHaveLength(1);
    const again = await receive(bob.phone);
    expect(again.messages).toEqual([]);
    expect(bob.phone.seen.has(messageId)).toBe(true);
    expect((await bob.phone.api.fetchInbox()).messages).toEqual([]);
  });

  it('a copy forged by another account’s device (claiming the victim’s number, signed with its own key) is rejected and acknowledged', async () => {
    const victim = await account();
    const mallory = await account();
    const bob = await account();
    await lookUpNumbers(bob.phone.api, [victim.phone.me.number], bob.phone.keyBook);
    const forged = sealMessage(
      {
        v: 1,
        id: newId(),
        from: { number: victim.phone.me.number, deviceId: victim.phone.me.deviceId },
        to: { number: bob.phone.me.number, deviceId: bob.phone.me.deviceId, x25519PublicKey: bob.phone.me.keys.x25519PublicKey },
        recipients: [bob.phone.me.number],
        sentAt: t.clock.now(),
        text: 'It is me, send the code',
      },
      mallory.phone.me.keys.ed25519Seed,
      bob.phone.me.keys.x25519PublicKey,
    );
    await mallory.phone.api.sendMessage({ messageId: newId(), copies: [{ deviceId: bob.phone.me.deviceId, sealed: forged }] });
    const got = await receive(bob.phone);
    expect(got.messages).toEqual([]);
    expect(got.rejected).toEqual([{ copyId: expect.any(String), reason: 'sender_mismatch' }]);
    expect((await bob.phone.api.fetchInbox()).messages).toEqual([]);
  });

  it('the recipient is told keysChanged after the sender turns messaging on again with new keys', async () => {
    const alice = await account();
    const bob = await account();
    await sendText(alice.phone.api, alice.phone.me, { to: bob.phone.me.number, text: 'first' }, alice.phone.keyBook);
    expect((await receive(bob.phone)).messages[0]).toMatchObject({ keyChanged: false });

    const renewed = await turnOnMessaging(alice.phone.api, { deviceId: alice.phone.me.deviceId, number: alice.phone.me.number });
    await sendText(alice.phone.api, renewed, { to: bob.phone.me.number, text: 'new phone keys' }, alice.phone.keyBook);
    const got = await receive(bob.phone);
    expect(got.messages).toEqual([expect.objectContaining({ text: 'new phone keys', keyChanged: true })]);
    // And the KeyBook holds the new key now, so a look-up no longer reports a change.
    expect((await lookUpNumbers(bob.phone.api, [alice.phone.me.number], bob.phone.keyBook))[0]).toMatchObject({ keysChanged: false });
    expect(bob.phone.keyBook.get(alice.phone.me.number)![0]!.ed25519PublicKey).toBe(renewed.keys.ed25519PublicKey);
  });
});
