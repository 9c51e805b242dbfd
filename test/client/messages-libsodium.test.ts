// Messages (docs/CRYPTO.md §12) and the spam fingerprint (§13) must be producible and checkable
// with plain libsodium calls, as the Android/iOS apps make them. These tests pin both formats
// against libsodium-wrappers-sumo and against the document's vectors; the fingerprint is
// recomputed here from the spec on top of crypto_generichash, independently of
// src/protocol/spam-fingerprint.ts.
import sodium from 'libsodium-wrappers-sumo';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMessagingKeys, openMessage, sealMessage, type MessagingKeyPair } from '../../src/client/crypto/messages.js';
import { encodeMessageBody, keySetFingerprint, messageSigningBytes, type MessageBody } from '../../src/protocol/messages.js';
import { fingerprintDistance, fingerprintsMatch, normaliseText, textFingerprint } from '../../src/protocol/spam-fingerprint.js';

const hex = (bytes: Uint8Array) => sodium.to_hex(bytes);
const b64 = (bytes: Uint8Array) => sodium.to_base64(bytes, sodium.base64_variants.URLSAFE_NO_PADDING);
const fromB64 = (text: string) => sodium.from_base64(text, sodium.base64_variants.URLSAFE_NO_PADDING);
const sequence = (start: number) => Uint8Array.from({ length: 32 }, (_, i) => (start + i) & 0xff);
const utf8 = (text: string) => new TextEncoder().encode(text);
const SIGNATURE_PREFIX = utf8('homing/v1/message\n');

beforeAll(async () => {
  await sodium.ready;
});

// ── the CRYPTO.md §12 vector ──────────────────────────────────────────────────────────────────
const V = {
  senderSeed: 'a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf',
  senderEd25519PublicKey: 'T9CZzNR9eJPf6ewkQU7LDZtUICMqrTDZHEZb4zy-ZcQ',
  recipientX25519SecretKey: 'c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf',
  recipientX25519PublicKey: '3CzKMejkO72R3_fkdcyjNH60eBB9W9dlq6SuSjDDXUQ',
  body:
    '{"v":1,"id":"AAECAwQFBgcICQoLDA0ODw","from":{"number":"+447700900001","deviceId":"alice-phone-0000000001"},' +
    '"to":{"number":"+447700900002","deviceId":"bob-phone-000000000001","x25519PublicKey":"3CzKMejkO72R3_fkdcyjNH60eBB9W9dlq6SuSjDDXUQ"},' +
    '"recipients":["+447700900002"],"sentAt":1767225600000,"text":"Dinner at 8? 🍝"}',
  signature:
    '06e3cf3d89849a8b0b4ff569cdb60ff3acec807d6d38c04a1600683035db8cdb' + '1c0d1beb38a77a17eef2c40db51692816169564455896992565102ef3365cf0f',
  sealed:
    '0FPT-MRKdqWfd-5c5teMRa_G_-UZpJJvB2-yam2KPWcC2DdQHRQBclvkNClnghfQzbgmEqFGl-q7Ozii-F2_lqXtgYESLQUg8U_MFchUsVvRkqiiDOqdZd0YD82XsT9FMMeKbrDucPf54LSmEOII_' +
    'GQ4g2smeuiziCIWmioj3oC95ti4v0-lP3-qeAc_uRl2Ks1a3O2wf5SlVvA1f3XTvK_hcqS12SUAUoGbLa0Ie3DYih6HX2V8TQkb_kObgWAHNlD5JxtsLlDUT-fTvCbDXhVtB9oH2nGSV7XkSAJkpMZEV' +
    '4jkPCkrj_nSWlxEz4iCA0FwH_GUgG0ZgxIDLtKK7RypzROcLIMp4fYG_vHsedgqiRiiL9tNIB4sDll_VQStm45OyDmvF8SLJkzdIiHKQA3KUEkkU9XYiecc1VOTooXmcJul4zos0r4ux3rPNr2oJGj4oOPN3hpx' +
    'xrKCXUcWlByS8c998eRhheoTRMr7GXvJ86u3rUf3Vf_yfAQBRcfCU50GABMQA3sS6udSHoiSwvohqNAFsCo6d8TkQE38_zL0R5ssebDlPHfmkaEbWako',
};

const vectorBody: MessageBody = {
  v: 1,
  id: 'AAECAwQFBgcICQoLDA0ODw',
  from: { number: '+447700900001', deviceId: 'alice-phone-0000000001' },
  to: { number: '+447700900002', deviceId: 'bob-phone-000000000001', x25519PublicKey: V.recipientX25519PublicKey },
  recipients: ['+447700900002'],
  sentAt: 1767225600000,
  text: 'Dinner at 8? 🍝',
};

/** The recipient of the vector, as the SDK stores its keys. */
function vectorRecipient() {
  const secret = sodium.from_hex(V.recipientX25519SecretKey);
  const keys: MessagingKeyPair = {
    x25519PublicKey: b64(sodium.crypto_scalarmult_base(secret)),
    x25519SecretKey: b64(secret),
    ed25519PublicKey: b64(sodium.crypto_sign_seed_keypair(sequence(0x20)).publicKey),
    ed25519Seed: b64(sequence(0x20)),
  };
  return { deviceId: 'bob-phone-000000000001', number: '+447700900002', keys };
}

const vectorSender = () => ({ deviceId: 'alice-phone-0000000001', number: '+447700900001', ed25519PublicKey: V.senderEd25519PublicKey });

/** crypto_box_seal_open, then crypto_sign_verify_detached over prefix ‖ body: the recipient's steps 1–2 in libsodium. */
function sodiumOpenAndVerify(sealed: string, x25519PublicKey: Uint8Array, x25519SecretKey: Uint8Array, senderEd25519PublicKey: Uint8Array) {
  const plain = sodium.crypto_box_seal_open(fromB64(sealed), x25519PublicKey, x25519SecretKey);
  const signature = plain.subarray(0, 64);
  const body = plain.subarray(64);
  const verified = sodium.crypto_sign_verify_detached(signature, new Uint8Array([...SIGNATURE_PREFIX, ...body]), senderEd25519PublicKey);
  return { signature, body, verified };
}

describe('messages against libsodium (docs/CRYPTO.md §12)', () => {
  it('the vector keys, body bytes and signature are what libsodium computes', () => {
    const sender = sodium.crypto_sign_seed_keypair(sodium.from_hex(V.senderSeed));
    expect(b64(sender.publicKey)).toBe(V.senderEd25519PublicKey);
    expect(b64(sodium.crypto_scalarmult_base(sodium.from_hex(V.recipientX25519SecretKey)))).toBe(V.recipientX25519PublicKey);
    const bodyBytes = encodeMessageBody(vectorBody);
    expect(new TextDecoder().decode(bodyBytes)).toBe(V.body);
    expect(hex(messageSigningBytes(bodyBytes))).toBe(hex(new Uint8Array([...SIGNATURE_PREFIX, ...utf8(V.body)])));
    expect(hex(sodium.crypto_sign_detached(new Uint8Array([...SIGNATURE_PREFIX, ...utf8(V.body)]), sender.privateKey))).toBe(V.signature);
  });

  it('libsodium opens the vector copy to signature ‖ body and verifies the signature', () => {
    const secret = sodium.from_hex(V.recipientX25519SecretKey);
    const opened = sodiumOpenAndVerify(V.sealed, fromB64(V.recipientX25519PublicKey), secret, fromB64(V.senderEd25519PublicKey));
    expect(hex(opened.signature)).toBe(V.signature);
    expect(new TextDecoder().decode(opened.body)).toBe(V.body);
    expect(opened.verified).toBe(true);
  });

  it('openMessage opens the libsodium-sealed vector copy and returns its body', () => {
    expect(openMessage(V.sealed, vectorRecipient(), vectorSender())).toEqual(vectorBody);
  });

  it('libsodium opens what sealMessage makes and verifies its signature with the SDK-made keys', () => {
    const sender = createMessagingKeys();
    const recipient = createMessagingKeys();
    const body: MessageBody = {
      ...vectorBody,
      to: { number: '+447700900002', deviceId: 'bob-phone-000000000001', x25519PublicKey: recipient.x25519PublicKey },
      text: 'Ünïcödé, "quotes", \\ and a newline\n',
    };
    // libsodium derives the same public keys from the SDK's stored secrets.
    expect(b64(sodium.crypto_scalarmult_base(fromB64(recipient.x25519SecretKey)))).toBe(recipient.x25519PublicKey);
    expect(b64(sodium.crypto_sign_seed_keypair(fromB64(sender.ed25519Seed)).publicKey)).toBe(sender.ed25519PublicKey);

    const sealed = sealMessage(body, sender.ed25519Seed, recipient.x25519PublicKey);
    const opened = sodiumOpenAndVerify(sealed, fromB64(recipient.x25519PublicKey), fromB64(recipient.x25519SecretKey), fromB64(sender.ed25519PublicKey));
    expect(opened.verified).toBe(true);
    expect(JSON.parse(new TextDecoder().decode(opened.body))).toEqual(body);
  });

  it('openMessage opens a copy libsodium seals and signs with fresh libsodium keys', () => {
    const senderPair = sodium.crypto_sign_keypair();
    const recipientPair = sodium.crypto_box_keypair();
    const recipient = {
      deviceId: 'bob-phone-000000000001',
      number: '+447700900002',
      keys: { x25519PublicKey: b64(recipientPair.publicKey), x25519SecretKey: b64(recipientPair.privateKey), ed25519PublicKey: '', ed25519Seed: '' },
    };
    const body = { ...vectorBody, to: { ...vectorBody.to, x25519PublicKey: recipient.keys.x25519PublicKey } };
    const bodyBytes = utf8(JSON.stringify(body));
    const signature = sodium.crypto_sign_detached(new Uint8Array([...SIGNATURE_PREFIX, ...bodyBytes]), senderPair.privateKey);
    const sealed = b64(sodium.crypto_box_seal(new Uint8Array([...signature, ...bodyBytes]), recipientPair.publicKey));
    const sender = { deviceId: 'alice-phone-0000000001', number: '+447700900001', ed25519PublicKey: b64(senderPair.publicKey) };
    expect(openMessage(sealed, recipient, sender)).toEqual(body);
  });

  it('the key-set fingerprint vector: base64url(SHA-256(sorted lines))[0..22], in any device order', () => {
    const devices = [
      { deviceId: 'alice-phone-0000000001', x25519PublicKey: 'Z13VdO13iTELPS52gfN5C0ZsdzsVIf7PNld5WDcepS8', ed25519PublicKey: V.senderEd25519PublicKey },
      {
        deviceId: 'alice-tablet-000000002',
        x25519PublicKey: b64(sodium.crypto_scalarmult_base(sequence(0x40))),
        ed25519PublicKey: b64(sodium.crypto_sign_seed_keypair(sequence(0x80)).publicKey),
      },
    ];
    expect(devices[0]!.x25519PublicKey).toBe(b64(sodium.crypto_scalarmult_base(sequence(0x60))));
    const lines = devices.map((d) => `${d.deviceId} ${d.x25519PublicKey} ${d.ed25519PublicKey}\n`).sort().join('');
    const expected = b64(sodium.crypto_hash_sha256(utf8(lines))).slice(0, 22);
    expect(expected).toBe('fxkSuUu5ebm0ZmeJj0GjVh');
    expect(keySetFingerprint(devices)).toBe(expected);
    expect(keySetFingerprint([...devices].reverse())).toBe(expected);
  });
});

// ── the CRYPTO.md §13 vectors, recomputed from the spec ───────────────────────────────────────

/** §13 on top of libsodium: shingles of 5 code points, crypto_generichash(8) each, bitwise majority vote. */
function sodiumFingerprint(normalised: string): string | null {
  const chars = Array.from(normalised);
  if (chars.length < 20) return null;
  const shingles = new Set<string>();
  for (let i = 0; i + 5 <= chars.length; i++) shingles.add(chars.slice(i, i + 5).join(''));
  const votes = new Array<number>(64).fill(0);
  for (const shingle of shingles) {
    const hash = sodium.crypto_generichash(8, utf8(shingle), null);
    for (let bit = 0; bit < 64; bit++) votes[bit]! += hash[Math.floor(bit / 8)]! & (0x80 >> bit % 8) ? 1 : -1;
  }
  const out = new Uint8Array(8);
  for (let bit = 0; bit < 64; bit++) if (votes[bit]! > 0) out[Math.floor(bit / 8)]! |= 0x80 >> bit % 8;
  return hex(out);
}

const FINGERPRINT_VECTORS = [
  {
    text: 'URGENT: your parcel is held at customs. Pay the £2.99 fee at https://bit.ly/xyz123 today',
    normalised: 'urgent your parcel is held at customs pay the 00 fee at link today',
    fingerprint: '1bf099ccc614b933',
  },
  {
    text: 'Your parcel is held at customs! Pay the fee of £1.50 now at www.parcel-fee.example/pay',
    normalised: 'your parcel is held at customs pay the fee of 00 now at link',
    fingerprint: '1bf98bc6c734bb21',
  },
  {
    text: 'Running ten minutes late, save me a seat near the window please',
    normalised: 'running ten minutes late save me a seat near the window please',
    fingerprint: '2c20101bb5082f31',
  },
];

describe('the spam fingerprint against libsodium (docs/CRYPTO.md §13)', () => {
  it.each(FINGERPRINT_VECTORS)('$normalised → $fingerprint', ({ text, normalised, fingerprint }) => {
    expect(normaliseText(text)).toBe(normalised);
    expect(sodiumFingerprint(normalised)).toBe(fingerprint);
    expect(textFingerprint(text)).toBe(fingerprint);
  });

  it('the two rewordings are 11 bits apart (a match, ≤ 12), the unrelated text 30 (no match)', () => {
    const [spam, reworded, unrelated] = FINGERPRINT_VECTORS.map((v) => v.fingerprint);
    expect(fingerprintDistance(spam!, reworded!)).toBe(11);
    expect(fingerprintsMatch(spam!, reworded!)).toBe(true);
    expect(fingerprintDistance(spam!, unrelated!)).toBe(30);
    expect(fingerprintsMatch(spam!, unrelated!)).toBe(false);
  });

  it('a text of fewer than 20 normalised characters has no fingerprint', () => {
    expect(normaliseText('  Hi!!   see you at 5 ')).toBe('hi see you at 0');
    expect(sodiumFingerprint('hi see you at 0')).toBeNull();
    expect(textFingerprint('  Hi!!   see you at 5 ')).toBeNull();
  });
});
