import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { boxSeal, boxSealOpen } from '../../src/client/crypto/box-seal.js';
import { newMessageId, sealMessage } from '../../src/client/crypto/messages.js';
import { receiveMessages, sendText } from '../../src/client/messaging.js';
import { fromBase64Url, toBase64Url } from '../../src/protocol/encoding.js';
import { MESSAGE_VERSION } from '../../src/protocol/messages.js';
import { createTestApp, type TestApp } from '../harness.js';
import { sqlite } from '../features/deletion-helpers.js';
import { messagingDevice, messenger, type TestMessenger } from '../features/messenger-helpers.js';

// Messages end to end with the real SDK against the real test app, from the attacker's side: a
// forged sender, a message passed on by its recipient, a removed phone, another account's
// acknowledgement. The server routes and states who sent each copy; the SDK decides what to believe.

let t: TestApp;
beforeEach(() => {
  t = createTestApp();
});
afterEach(() => t.close());

const receive = (m: TestMessenger) => receiveMessages(m.api, m.me, { keyBook: m.keyBook, seen: m.seen });

describe('a forged or passed-on message is refused by its recipient', () => {
  it("a device of another account sends a body claiming the victim's number and device, signed with its own key: rejected as sender_mismatch, never shown, and acknowledged so it does not come back", async () => {
    const victim = await messenger(t);
    const recipient = await messenger(t);
    const attacker = await messenger(t);
    // The recipient knows the victim: it wrote to it before.
    await sendText(recipient.api, recipient.me, { to: victim.number, text: 'hi' }, recipient.keyBook);

    const [target] = (await attacker.api.lookUpNumbers([recipient.number])).results[0]!.devices;
    const forged = sealMessage(
      {
        v: MESSAGE_VERSION,
        id: newMessageId(),
        from: { number: victim.number, deviceId: victim.device.id },
        to: { number: recipient.number, deviceId: target!.deviceId, x25519PublicKey: target!.x25519PublicKey },
        recipients: [recipient.number],
        sentAt: t.clock.now(),
        text: 'This is your friend, send me the code you just got',
      },
      attacker.me.keys.ed25519Seed,
      target!.x25519PublicKey,
    );
    const sent = await attacker.api.sendMessage({ messageId: newMessageId(), copies: [{ deviceId: target!.deviceId, sealed: forged }] });
    expect(sent.queued).toEqual([recipient.device.id]);

    const received = await receive(recipient);
    expect(received.messages).toEqual([]);
    expect(received.rejected).toEqual([{ copyId: expect.any(String), reason: 'sender_mismatch' }]);
    expect((await recipient.api.fetchInbox()).messages).toEqual([]);
  });

  it('a recipient re-seals a message it got to a third party: rejected there (bad_signature; and wrong_recipient even when the server names the original sender)', async () => {
    const author = await messenger(t);
    const forwarder = await messenger(t);
    const third = await messenger(t);
    // The third party knows the author's keys, so only the forwarding can fail the check.
    await sendText(third.api, third.me, { to: author.number, text: 'hello author' }, third.keyBook);
    await sendText(author.api, author.me, { to: forwarder.number, text: 'for the forwarder only' }, author.keyBook);

    // The forwarder opens its copy to signature ‖ body, as its phone can, and seals those bytes to the third party.
    const [copy] = (await forwarder.api.fetchInbox()).messages;
    const authorColumns = sqlite(t).prepare('SELECT sender_device_id, sender_number_sealed, sender_ed25519_public_key FROM message_copies WHERE id = ?').get(copy!.id);
    const signedBytes = boxSealOpen(fromBase64Url(copy!.sealed), fromBase64Url(forwarder.me.keys.x25519PublicKey), fromBase64Url(forwarder.me.keys.x25519SecretKey));
    const passOn = async () => {
      const resealed = toBase64Url(boxSeal(signedBytes, fromBase64Url(third.me.keys.x25519PublicKey)));
      const sent = await forwarder.api.sendMessage({ messageId: newMessageId(), copies: [{ deviceId: third.device.id, sealed: resealed }] });
      expect(sent.queued).toEqual([third.device.id]);
    };

    // As the server states it, the copy comes from the forwarder, whose key did not sign it.
    await passOn();
    let received = await receive(third);
    expect(received.messages).toEqual([]);
    expect(received.rejected.map((r) => r.reason)).toEqual(['bad_signature']);

    // A server helping the forwarder names the author as the sender (its stored columns copied
    // onto the passed-on copy): the signature verifies, and the body still names the forwarder's device.
    await passOn();
    const rewritten = sqlite(t)
      .prepare('UPDATE message_copies SET sender_device_id = @sender_device_id, sender_number_sealed = @sender_number_sealed, sender_ed25519_public_key = @sender_ed25519_public_key WHERE device_id = @device_id')
      .run({ ...(authorColumns as object), device_id: third.device.id });
    expect(rewritten.changes).toBe(1);
    received = await receive(third);
    expect(received.messages).toEqual([]);
    expect(received.rejected.map((r) => r.reason)).toEqual(['wrong_recipient']);

    // The forwarder itself read the message as meant.
    expect((await receive(forwarder)).messages.map((m) => m.text)).toEqual(['for the forwarder only']);
  });
});

describe('devices and accounts keep to their own queues', () => {
  it("a removed device's token can no longer fetch, and the copies that waited for it are gone", async () => {
    const owner = await messenger(t);
    const sender = await messenger(t);
    await sendText(sender.api, sender.me, { to: owner.number, text: 'before removal' }, sender.keyBook);
    expect((await owner.api.fetchInbox()).messages).toHaveLength(1);

    expect((await t.request('DELETE', `/v1/devices/${owner.device.id}`, { headers: owner.session })).status).toBe(204);
    await expect(owner.api.fetchInbox()).rejects.toMatchObject({ status: 401 });
    await expect(owner.api.acknowledgeMessages(['anything'])).rejects.toMatchObject({ status: 401 });
    expect((sqlite(t).prepare('SELECT count(*) AS n FROM message_copies WHERE device_id = ?').get(owner.device.id) as { n: number }).n).toBe(0);
    // Senders find nobody at the number now.
    expect((await sender.api.lookUpNumbers([owner.number])).results[0]!.devices).toEqual([]);
  });

  it("account B cannot acknowledge A's copies, nor can A's own other phone: A still receives them", async () => {
    const a = await messenger(t);
    const b = await messenger(t);
    const aTablet = await messagingDevice(t, a.member, { name: 'tablet' });
    await sendText(b.api, b.me, { to: a.number, text: 'for the phone' }, b.keyBook);
    const ids = (await a.api.fetchInbox()).messages.map((m) => m.id);
    expect(ids).toHaveLength(1);

    expect(await b.api.acknowledgeMessages(ids)).toEqual({ acknowledged: 0 });
    expect(await aTablet.api.acknowledgeMessages(ids)).toEqual({ acknowledged: 0 });
    expect((await b.api.fetchInbox()).messages.map((m) => m.id)).not.toContain(ids[0]);

    const received = await receive(a);
    expect(received.messages.map((m) => m.text)).toEqual(['for the phone']);
    expect(received.rejected).toEqual([]);
  });
});
