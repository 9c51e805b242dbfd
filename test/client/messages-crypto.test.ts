// One copy of a message seen from the attacker's side (docs/CRYPTO.md §12): whatever another
// account, another recipient or the server does to a copy, openMessage either returns the body
// its sender signed for this device, or names why not.
import { describe, expect, it } from 'vitest';
import { boxSeal, boxSealOpen } from '../../src/client/crypto/box-seal.js';
import { createMessagingKeys, MessageRejected, openMessage, sealMessage, type MessagingKeyPair, type RejectReason } from '../../src/client/crypto/messages.js';
import { concatBytes, fromBase64Url, toBase64Url, utf8 } from '../../src/protocol/encoding.js';
import { encodeMessageBody, messageSigningBytes, type MessageBody } from '../../src/protocol/messages.js';
import { signDetached } from '../../src/protocol/signing.js';

const party = (number: string, deviceId: string) => ({ number, deviceId, keys: createMessagingKeys() });
const alice = party('+447700900001', 'alice-phone-0000000001');
const bob = party('+447700900002', 'bob-phone-000000000001');
const carol = party('+447700900003', 'carol-phone-0000000001');
const mallory = party('+447700900666', 'mallory-phone-00000001');

/** The sending device as the server states it on an inbox copy. */
const stated = (p: { number: string; deviceId: string; keys: MessagingKeyPair }) => ({
  number: p.number,
  deviceId: p.deviceId,
  ed25519PublicKey: p.keys.ed25519PublicKey,
});

function bodyFromTo(from: typeof alice, to: typeof alice, text = 'See you at the station at 6'): MessageBody {
  return {
    v: 1,
    id: 'AAECAwQFBgcICQoLDA0ODw',
    from: { number: from.number, deviceId: from.deviceId },
    to: { number: to.number, deviceId: to.deviceId, x25519PublicKey: to.keys.x25519PublicKey },
    recipients: [to.number],
    sentAt: 1767225600000,
    text,
  };
}

/** Seals signature ‖ bodyBytes by hand, so a test can sign and seal anything it likes. */
function sealRaw(bodyBytes: Uint8Array, signerSeed: string, recipientX25519: string): string {
  const signature = signDetached(fromBase64Url(signerSeed), messageSigningBytes(bodyBytes));
  return toBase64Url(boxSeal(concatBytes(signature, bodyBytes), fromBase64Url(recipientX25519)));
}

function rejection(run: () => unknown): RejectReason {
  try {
    run();
  } catch (error) {
    if (error instanceof MessageRejected) return error.reason;
    throw error;
  }
  throw new Error('the copy was accepted');
}

describe('openMessage: a genuine copy', () => {
  it('opens to the body its sender signed for this device', () => {
    const body = bodyFromTo(alice, bob);
    expect(openMessage(sealMessage(body, alice.keys.ed25519Seed, bob.keys.x25519PublicKey), bob, stated(alice))).toEqual(body);
  });
});

describe('openMessage: hostile copies', () => {
  it('a forged message (signed with a key other than the stated sender’s) is bad_signature', () => {
    const sealed = sealMessage(bodyFromTo(alice, bob), mallory.keys.ed25519Seed, bob.keys.x25519PublicKey);
    expect(rejection(() => openMessage(sealed, bob, stated(alice)))).toBe('bad_signature');
  });

  it('a re-signed message (another account signs a real body with its own key and sends it as itself) is sender_mismatch', () => {
    const realBody = bodyFromTo(alice, bob);
    const sealed = sealMessage(realBody, mallory.keys.ed25519Seed, bob.keys.x25519PublicKey);
    expect(rejection(() => openMessage(sealed, bob, stated(mallory)))).toBe('sender_mismatch');
  });

  it('a re-sealed message (a recipient passes a copy it got on to a third device) is rejected whoever the server names as sender', () => {
    const toBob = sealMessage(bodyFromTo(alice, bob), alice.keys.ed25519Seed, bob.keys.x25519PublicKey);
    // Bob opens his copy (crypto_box_seal_open is what any libsodium client can do) and re-seals signature ‖ body to Carol.
    const plain = openRaw(toBob, bob.keys);
    const toCarol = toBase64Url(boxSeal(plain, fromBase64Url(carol.keys.x25519PublicKey)));
    // Named as coming from Alice (a server helping Bob): the body is addressed to Bob's device.
    expect(rejection(() => openMessage(toCarol, carol, stated(alice)))).toBe('wrong_recipient');
    // Named as coming from Bob, who sent it: Alice's signature does not verify with Bob's key.
    expect(rejection(() => openMessage(toCarol, carol, stated(bob)))).toBe('bad_signature');
  });

  it('a body claiming another from.number than the server states is sender_mismatch', () => {
    const body = { ...bodyFromTo(alice, bob), from: { number: '+447700900999', deviceId: alice.deviceId } };
    const sealed = sealMessage(body, alice.keys.ed25519Seed, bob.keys.x25519PublicKey);
    expect(rejection(() => openMessage(sealed, bob, stated(alice)))).toBe('sender_mismatch');
  });

  it('a body claiming another from.deviceId than the server states is sender_mismatch', () => {
    const body = { ...bodyFromTo(alice, bob), from: { number: alice.number, deviceId: 'alice-tablet-000000002' } };
    const sealed = sealMessage(body, alice.keys.ed25519Seed, bob.keys.x25519PublicKey);
    expect(rejection(() => openMessage(sealed, bob, stated(alice)))).toBe('sender_mismatch');
  });

  it('tampered JSON (text changed after signing, re-sealed) is bad_signature', () => {
    const plain = openRaw(sealMessage(bodyFromTo(alice, bob), alice.keys.ed25519Seed, bob.keys.x25519PublicKey), bob.keys);
    const tampered = utf8(new TextDecoder().decode(plain.subarray(64)).replace('station at 6', 'station at 9'));
    const resealed = toBase64Url(boxSeal(concatBytes(plain.subarray(0, 64), tampered), fromBase64Url(bob.keys.x25519PublicKey)));
    expect(rejection(() => openMessage(resealed, bob, stated(alice)))).toBe('bad_signature');
  });

  it('a re-encoded body (same fields, whitespace added) is bad_signature: the signature covers the bytes received', () => {
    const bytes = utf8(JSON.stringify(bodyFromTo(alice, bob), null, 1));
    const signature = signDetached(fromBase64Url(alice.keys.ed25519Seed), messageSigningBytes(encodeMessageBody(bodyFromTo(alice, bob))));
    const sealed = toBase64Url(boxSeal(concatBytes(signature, bytes), fromBase64Url(bob.keys.x25519PublicKey)));
    expect(rejection(() => openMessage(sealed, bob, stated(alice)))).toBe('bad_signature');
  });

  it('a flipped byte anywhere in the sealed copy is unopenable', () => {
    const sealed = fromBase64Url(sealMessage(bodyFromTo(alice, bob), alice.keys.ed25519Seed, bob.keys.x25519PublicKey));
    for (const index of [0, 31, 32, 47, 48, 100, sealed.length - 1]) {
      const flipped = sealed.slice();
      flipped[index]! ^= 0x01;
      expect(rejection(() => openMessage(toBase64Url(flipped), bob, stated(alice)))).toBe('unopenable');
    }
  });

  it('a truncated copy is unopenable, down to nothing', () => {
    const sealed = sealMessage(bodyFromTo(alice, bob), alice.keys.ed25519Seed, bob.keys.x25519PublicKey);
    for (const length of [sealed.length - 2, 100, 64, 2, 0]) {
      expect(rejection(() => openMessage(sealed.slice(0, length), bob, stated(alice)))).toBe('unopenable');
    }
  });

  it('a copy sealed to another device, or text that is not base64url, is unopenable', () => {
    const toCarol = sealMessage(bodyFromTo(alice, carol), alice.keys.ed25519Seed, carol.keys.x25519PublicKey);
    expect(rejection(() => openMessage(toCarol, bob, stated(alice)))).toBe('unopenable');
    expect(rejection(() => openMessage('not base64url!', bob, stated(alice)))).toBe('unopenable');
  });

  it('a body addressed to this device id but another X25519 key (an old key, say) is wrong_recipient', () => {
    const body = { ...bodyFromTo(alice, bob), to: { ...bodyFromTo(alice, bob).to, x25519PublicKey: carol.keys.x25519PublicKey } };
    const sealed = sealMessage(body, alice.keys.ed25519Seed, bob.keys.x25519PublicKey);
    expect(rejection(() => openMessage(sealed, bob, stated(alice)))).toBe('wrong_recipient');
  });

  it('a correctly signed copy whose body is not a v1 body (not JSON, extra field, wrong version, too short) is malformed', () => {
    const good = JSON.parse(new TextDecoder().decode(encodeMessageBody(bodyFromTo(alice, bob)))) as Record<string, unknown>;
    const bodies = [
      utf8('not json at all'),
      utf8(JSON.stringify({ ...good, extra: true })),
      utf8(JSON.stringify({ ...good, v: 2 })),
      utf8(JSON.stringify({ ...good, id: 'short' })),
      utf8(JSON.stringify({ ...good, text: 'x'.repeat(4001) })),
      utf8(JSON.stringify({ ...good, recipients: [] })),
      Uint8Array.of(0xff, 0xfe, 0x7b, 0x7d),
    ];
    for (const bytes of bodies) {
      expect(rejection(() => openMessage(sealRaw(bytes, alice.keys.ed25519Seed, bob.keys.x25519PublicKey), bob, stated(alice)))).toBe('malformed');
    }
    // Shorter than a signature: nothing to verify.
    const tiny = toBase64Url(boxSeal(new Uint8Array(64), fromBase64Url(bob.keys.x25519PublicKey)));
    expect(rejection(() => openMessage(tiny, bob, stated(alice)))).toBe('malformed');
  });

  it('a sender key the server states that is no Ed25519 key at all is bad_signature, not a crash', () => {
    const sealed = sealMessage(bodyFromTo(alice, bob), alice.keys.ed25519Seed, bob.keys.x25519PublicKey);
    for (const ed25519PublicKey of ['', 'AAAA', '!!!', toBase64Url(new Uint8Array(32))]) {
      expect(rejection(() => openMessage(sealed, bob, { ...stated(alice), ed25519PublicKey }))).toBe('bad_signature');
    }
  });

  it('sealMessage refuses to sign a body that is not a v1 body', () => {
    expect(() => sealMessage({ ...bodyFromTo(alice, bob), text: 'x'.repeat(4001) }, alice.keys.ed25519Seed, bob.keys.x25519PublicKey)).toThrow(/text/);
    expect(() => sealMessage(bodyFromTo(alice, bob), 'AAAA', bob.keys.x25519PublicKey)).toThrow(/seed/);
  });
});

function openRaw(sealed: string, keys: MessagingKeyPair): Uint8Array {
  // The recipient's own crypto_box_seal_open, without the checks.
  return boxSealOpen(fromBase64Url(sealed), fromBase64Url(keys.x25519PublicKey), fromBase64Url(keys.x25519SecretKey));
}
