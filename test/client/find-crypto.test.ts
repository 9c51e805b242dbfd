// Find Device formats (docs/CRYPTO.md §9 location reports, §10 commands), pinned against
// libsodium-wrappers-sumo: phones use plain libsodium, so every byte we produce must be what
// crypto_box_seal / crypto_sign_detached produce, and the other way round. The libsodium side
// below is written from the document, not from src/.
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import sodium from 'libsodium-wrappers-sumo';
import { beforeAll, describe, expect, it } from 'vitest';
import { DecryptionError } from '../../src/client/crypto/aead.js';
import {
  BOX_SEAL_OVERHEAD,
  boxSeal,
  boxSealOpen,
  boxSealWithEphemeralKey,
} from '../../src/client/crypto/box-seal.js';
import {
  type CommandType,
  commandMessage,
  DEFAULT_COMMAND_LIFETIME_MS,
  MAX_COMMAND_LIFETIME_MS,
  nextCommandCounter,
  openLockArgs,
  sealLockArgs,
  signCommand,
} from '../../src/client/crypto/commands.js';
import { fromBase64Url, toBase64Url, utf8 } from '../../src/protocol/encoding.js';
import {
  InvalidLocationError,
  type LocationFix,
  openLocation,
  sealLocation,
} from '../../src/client/crypto/location.js';
import { ed25519PublicKeyFromSeed } from '../../src/protocol/signing.js';

beforeAll(async () => {
  await sodium.ready;
});

const seq = (start: number, n = 32) => Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff);
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** crypto_box_seal with a chosen ephemeral key, from libsodium calls only (§9). */
function libsodiumSealWithEphemeral(message: Uint8Array, pk: Uint8Array, esk: Uint8Array): Uint8Array {
  const epk = sodium.crypto_scalarmult_base(esk);
  const nonce = sodium.crypto_generichash(24, new Uint8Array([...epk, ...pk]), null);
  return new Uint8Array([...epk, ...sodium.crypto_box_easy(message, nonce, pk, esk)]);
}

// ── vectors (docs/CRYPTO.md §9 and §10 "Test vector") ─────────────────────────────────────────────

const LOCATION_VECTOR = {
  recipientSecretKey: '101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f',
  recipientPublicKey: 'd89e3bad79437dbed9f843418304f460ff05c7fe81fe4a9577a804cb9367ff66',
  ephemeralSecretKey: '505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f',
  ephemeralPublicKey: '392d174a38b3b1beafaf1fe824870841c5fa531bc6eafdb6402c124664488c1c',
  nonce: '73e06e6267f1e9c64b2ff47d5e34d2f5c28a891afb061185',
  plaintext: '{"lat":52.520008,"lon":13.404954,"accuracy":12.5,"source":"gps","battery":87,"measuredAt":1767225600000}',
  fix: {
    lat: 52.520008,
    lon: 13.404954,
    accuracy: 12.5,
    source: 'gps',
    battery: 87,
    measuredAt: 1767225600000,
  } as LocationFix,
  sealed:
    '392d174a38b3b1beafaf1fe824870841c5fa531bc6eafdb6402c124664488c1c' +
    '5206b42d9e8a3478699436d4f3d7a436' +
    'd9bb50ea63bba593b81242336ea9cc54feb9ffaf04c12129d8f0c7dd5edc21e7' +
    '735447bd4ff982c790c0ff959631da15687e077143e8239516bb83e83705ab80' +
    '2e8b9fa1f876fcdb460c4c0b8d39c9e212a523b3deb811dad5f1bed138e74cc9' +
    '889c625c71239ea1',
  sealedBase64Url:
    'OS0XSjizsb6vrx_oJIcIQcX6UxvG6v22QCwSRmRIjBxSBrQtnoo0eGmUNtTz16Q22btQ6mO7pZO4EkIzbqnMVP65_68EwSEp2PDH3V7c' +
    'IedzVEe9T_mCx5DA_5WWMdoVaH4HcUPoI5UWu4PoNwWrgC6Ln6H4dvzbRgxMC405yeISpSOz3rgR2tXxvtE450zJiJxiXHEjnqE',
};

const COMMAND_VECTOR = {
  seed: 'e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff',
  publicKey: '13d9908a70925992ed546007d27f50da68ba7217ef62ac3cca784529ff10471c',
  deviceId: 'dev_test_0001',
  type: 'ring' as CommandType,
  issuedAt: 1767225600000,
  expiresAt: 1767830400000,
  counter: 1767225600000,
  args: '{}',
  message:
    '686f6d696e672f76322f636f6d6d616e640a6465765f746573745f303030310a72696e670a3137363732' +
    '32353630303030300a313736373833303430303030300a313736373232353630303030300a7b7d',
  signature:
    'a96e4bf813a92a679f3078efeb0f994b637961f44081c0156f1d42fe74c5790e' +
    '8a65b2918418576a85263f2d57044163935060a0bc0bb6be2d26a09c885ed40d',
};

// Small-order X25519 points (and non-canonical encodings of them), as libsodium blacklists.
const LOW_ORDER_POINTS = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
];

// ── crypto_box_seal ────────────────────────────────────────────────────────────────────────────

describe('boxSeal / boxSealOpen = crypto_box_seal / crypto_box_seal_open', () => {
  const sizes = [0, 1, 15, 16, 17, 63, 64, 65, 1000, 70_000];

  it('libsodium opens what boxSeal seals, for every size including empty', () => {
    const { publicKey, privateKey } = sodium.crypto_box_keypair();
    for (const size of sizes) {
      const message = sodium.randombytes_buf(size);
      const sealed = boxSeal(message, publicKey);
      expect(sealed.length).toBe(size + BOX_SEAL_OVERHEAD);
      expect(bytesToHex(sodium.crypto_box_seal_open(sealed, publicKey, privateKey))).toBe(bytesToHex(message));
    }
  });

  it('boxSealOpen opens what libsodium seals, for every size including empty', () => {
    const { publicKey, privateKey } = sodium.crypto_box_keypair();
    for (const size of sizes) {
      const message = sodium.randombytes_buf(size);
      const sealed = sodium.crypto_box_seal(message, publicKey);
      expect(bytesToHex(boxSealOpen(sealed, publicKey, privateKey))).toBe(bytesToHex(message));
    }
  });

  it('uses a fresh ephemeral key for every seal', () => {
    const { publicKey } = sodium.crypto_box_keypair();
    const a = boxSeal(utf8('same'), publicKey);
    const b = boxSeal(utf8('same'), publicKey);
    expect(bytesToHex(a.subarray(0, 32))).not.toBe(bytesToHex(b.subarray(0, 32)));
  });

  it('with a fixed ephemeral key, gives the same bytes as libsodium and the documented vector', () => {
    const v = LOCATION_VECTOR;
    const pk = hexToBytes(v.recipientPublicKey);
    const esk = hexToBytes(v.ephemeralSecretKey);
    expect(bytesToHex(sodium.crypto_scalarmult_base(hexToBytes(v.recipientSecretKey)))).toBe(v.recipientPublicKey);
    expect(bytesToHex(sodium.crypto_scalarmult_base(esk))).toBe(v.ephemeralPublicKey);
    expect(
      bytesToHex(sodium.crypto_generichash(24, hexToBytes(v.ephemeralPublicKey + v.recipientPublicKey), null)),
    ).toBe(v.nonce);
    const ours = boxSealWithEphemeralKey(utf8(v.plaintext), pk, esk);
    expect(bytesToHex(ours)).toBe(v.sealed);
    expect(bytesToHex(libsodiumSealWithEphemeral(utf8(v.plaintext), pk, esk))).toBe(v.sealed);
    expect(toBase64Url(ours)).toBe(v.sealedBase64Url);
  });

  it('rejects a flipped bit anywhere (epk, tag, ciphertext) with DecryptionError, as libsodium does', () => {
    const { publicKey, privateKey } = sodium.crypto_box_keypair();
    const sealed = boxSeal(utf8('lat 52.52, lon 13.40'), publicKey);
    for (let i = 0; i < sealed.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const tampered = Uint8Array.from(sealed);
        tampered[i]! ^= bit;
        expect(() => boxSealOpen(tampered, publicKey, privateKey), `byte ${i} bit ${bit}`).toThrow(DecryptionError);
        expect(() => sodium.crypto_box_seal_open(tampered, publicKey, privateKey)).toThrow();
      }
    }
  });

  it('rejects truncated and extended input with DecryptionError', () => {
    const { publicKey, privateKey } = sodium.crypto_box_keypair();
    const sealed = boxSeal(utf8('hello'), publicKey);
    for (let n = 0; n < sealed.length; n++) {
      expect(() => boxSealOpen(sealed.subarray(0, n), publicKey, privateKey), `length ${n}`).toThrow(DecryptionError);
    }
    expect(() => boxSealOpen(new Uint8Array([...sealed, 0]), publicKey, privateKey)).toThrow(DecryptionError);
  });

  it('rejects the wrong recipient key pair, or a mismatched public key, with DecryptionError', () => {
    const alice = sodium.crypto_box_keypair();
    const bob = sodium.crypto_box_keypair();
    const sealed = boxSeal(utf8('for alice'), alice.publicKey);
    expect(() => boxSealOpen(sealed, bob.publicKey, bob.privateKey)).toThrow(DecryptionError);
    // Right secret key, wrong public key: the nonce is derived from the public key, so this fails too.
    expect(() => boxSealOpen(sealed, bob.publicKey, alice.privateKey)).toThrow(DecryptionError);
    expect(() => boxSealOpen(sealed, alice.publicKey, new Uint8Array(31))).toThrow(DecryptionError);
    expect(text(boxSealOpen(sealed, alice.publicKey, alice.privateKey))).toBe('for alice');
  });

  it('rejects a low-order ephemeral public key with DecryptionError, as libsodium does', () => {
    const { publicKey, privateKey } = sodium.crypto_box_keypair();
    for (const point of LOW_ORDER_POINTS) {
      const sealed = new Uint8Array([...hexToBytes(point), ...new Uint8Array(16), 1, 2, 3]);
      expect(() => boxSealOpen(sealed, publicKey, privateKey), point).toThrow(DecryptionError);
      expect(() => sodium.crypto_box_seal_open(sealed, publicKey, privateKey), point).toThrow();
    }
  });

  it('refuses to seal to a low-order or malformed recipient key', () => {
    for (const point of LOW_ORDER_POINTS) {
      expect(() => boxSeal(utf8('x'), hexToBytes(point)), point).toThrow(/invalid recipient public key/);
    }
    expect(() => boxSeal(utf8('x'), new Uint8Array(31))).toThrow(/32 bytes/);
  });
});

// ── location reports ───────────────────────────────────────────────────────────────────────────

describe('location reports (§9)', () => {
  const fix: LocationFix = {
    lat: -33.868820,
    lon: 151.209296,
    accuracy: 3.9,
    source: 'network',
    battery: null,
    measuredAt: 1767225600123,
  };

  it('round-trips through sealLocation / openLocation', () => {
    const { publicKey, privateKey } = sodium.crypto_box_keypair();
    const sealed = sealLocation(fix, publicKey);
    expect(sealed).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(openLocation(sealed, publicKey, privateKey)).toEqual(fix);
  });

  it('libsodium opens a sealed report and JSON.parse gives the fix back', () => {
    const { publicKey, privateKey } = sodium.crypto_box_keypair();
    const sealed = sealLocation(fix, publicKey);
    const bytes = sodium.from_base64(sealed, sodium.base64_variants.URLSAFE_NO_PADDING);
    expect(JSON.parse(sodium.to_string(sodium.crypto_box_seal_open(bytes, publicKey, privateKey)))).toEqual(fix);
  });

  it('opens the documented vector, and a report libsodium sealed', () => {
    const v = LOCATION_VECTOR;
    const pk = hexToBytes(v.recipientPublicKey);
    const sk = hexToBytes(v.recipientSecretKey);
    expect(JSON.stringify(v.fix)).toBe(v.plaintext);
    expect(openLocation(v.sealedBase64Url, pk, sk)).toEqual(v.fix);
    const fromLibsodium = toBase64Url(sodium.crypto_box_seal(sodium.from_string(JSON.stringify(fix)), pk));
    expect(openLocation(fromLibsodium, pk, sk)).toEqual(fix);
  });

  it('only serializes the known fields', () => {
    const { publicKey, privateKey } = sodium.crypto_box_keypair();
    const withExtra = { ...fix, secretNote: 'do not leak' } as LocationFix;
    const sealed = sealLocation(withExtra, publicKey);
    const plain = sodium.to_string(
      sodium.crypto_box_seal_open(fromBase64Url(sealed), publicKey, privateKey),
    );
    expect(Object.keys(JSON.parse(plain))).toEqual(['lat', 'lon', 'accuracy', 'source', 'battery', 'measuredAt']);
    // A newer client's extra fields are dropped on open, not an error.
    const newerPlaintext = sodium.from_string(JSON.stringify({ ...fix, altitude: 40 }));
    const newer = toBase64Url(sodium.crypto_box_seal(newerPlaintext, publicKey));
    expect(openLocation(newer, publicKey, privateKey)).toEqual(fix);
  });

  const invalid: [string, unknown][] = [
    ['lat above 90', { ...fix, lat: 90.0001 }],
    ['lat below -90', { ...fix, lat: -91 }],
    ['lon above 180', { ...fix, lon: 180.5 }],
    ['lon below -180', { ...fix, lon: -181 }],
    ['lat as a string', { ...fix, lat: '52.5' }],
    ['negative accuracy', { ...fix, accuracy: -1 }],
    ['unknown source', { ...fix, source: 'wifi' }],
    ['battery above 100', { ...fix, battery: 101 }],
    ['battery as a string', { ...fix, battery: '50' }],
    ['measuredAt as a string', { ...fix, measuredAt: '2026-01-01T00:00:00Z' }],
    ['missing measuredAt', { lat: 1, lon: 2, accuracy: 3, source: 'gps', battery: null }],
    ['missing battery', { lat: 1, lon: 2, accuracy: 3, source: 'gps', measuredAt: 1 }],
    ['an array', [fix]],
    ['null', null],
  ];

  it.each(invalid)('openLocation rejects %s', (_name, value) => {
    const { publicKey, privateKey } = sodium.crypto_box_keypair();
    const sealed = toBase64Url(sodium.crypto_box_seal(sodium.from_string(JSON.stringify(value)), publicKey));
    expect(() => openLocation(sealed, publicKey, privateKey)).toThrow(InvalidLocationError);
  });

  it.each(invalid)('sealLocation refuses %s', (_name, value) => {
    const { publicKey } = sodium.crypto_box_keypair();
    expect(() => sealLocation(value as LocationFix, publicKey)).toThrow(InvalidLocationError);
  });

  it('sealLocation refuses NaN and Infinity (JSON would turn them into null)', () => {
    const { publicKey } = sodium.crypto_box_keypair();
    expect(() => sealLocation({ ...fix, lat: Number.NaN }, publicKey)).toThrow(/lat/);
    expect(() => sealLocation({ ...fix, accuracy: Number.POSITIVE_INFINITY }, publicKey)).toThrow(/accuracy/);
  });

  it('openLocation rejects a plaintext that is not JSON', () => {
    const { publicKey, privateKey } = sodium.crypto_box_keypair();
    const sealed = toBase64Url(sodium.crypto_box_seal(sodium.from_string('lat=1,lon=2'), publicKey));
    expect(() => openLocation(sealed, publicKey, privateKey)).toThrow(/not UTF-8 JSON/);
  });

  it('openLocation with the wrong key pair throws DecryptionError', () => {
    const alice = sodium.crypto_box_keypair();
    const bob = sodium.crypto_box_keypair();
    const sealed = sealLocation(fix, alice.publicKey);
    expect(() => openLocation(sealed, bob.publicKey, bob.privateKey)).toThrow(DecryptionError);
  });
});

// ── commands ───────────────────────────────────────────────────────────────────────────────────

/** The canonical message, concatenated here by hand from the document. */
const libsodiumMessage = (c: { deviceId: string; type: string; issuedAt: number; expiresAt: number; counter: number; args: string }) =>
  sodium.from_string(`homing/v2/command\n${c.deviceId}\n${c.type}\n${c.issuedAt}\n${c.expiresAt}\n${c.counter}\n${c.args}`);

describe('command signing (§10)', () => {
  it('commandMessage and signCommand match the documented vector and libsodium crypto_sign_detached', () => {
    const v = COMMAND_VECTOR;
    const seed = hexToBytes(v.seed);
    const keyPair = sodium.crypto_sign_seed_keypair(seed);
    expect(bytesToHex(keyPair.publicKey)).toBe(v.publicKey);
    expect(bytesToHex(ed25519PublicKeyFromSeed(seed))).toBe(v.publicKey);

    const message = commandMessage(v);
    expect(bytesToHex(message)).toBe(v.message);
    expect(bytesToHex(libsodiumMessage(v))).toBe(v.message);
    expect(bytesToHex(sodium.crypto_sign_detached(message, keyPair.privateKey))).toBe(v.signature);

    // No expiry given: signCommand signs the default, 7 days after issuedAt, which is the vector's.
    const signed = signCommand({ deviceId: v.deviceId, type: v.type, args: {}, issuedAt: v.issuedAt, counter: v.counter }, seed);
    expect(signed).toEqual({
      type: 'ring',
      args: '{}',
      issuedAt: v.issuedAt,
      expiresAt: v.expiresAt,
      counter: v.counter,
      signature: toBase64Url(hexToBytes(v.signature)),
    });
    expect(v.expiresAt - v.issuedAt).toBe(DEFAULT_COMMAND_LIFETIME_MS);
  });

  it('libsodium verifies signCommand signatures over the exact args string that is sent', () => {
    const seed = sodium.randombytes_buf(32);
    const { publicKey } = sodium.crypto_sign_seed_keypair(seed);
    const signed = signCommand(
      { deviceId: 'dev_x', type: 'lock', args: { sealed: 'abc', note: 'ünïcødé\nline' }, counter: 7 },
      seed,
    );
    expect(signed.args).toBe(JSON.stringify({ sealed: 'abc', note: 'ünïcødé\nline' }));
    expect(Math.abs(signed.issuedAt - Date.now())).toBeLessThan(60_000);
    const message = libsodiumMessage({ deviceId: 'dev_x', ...signed });
    const signature = sodium.from_base64(signed.signature, sodium.base64_variants.URLSAFE_NO_PADDING);
    expect(sodium.crypto_sign_verify_detached(signature, message, publicKey)).toBe(true);
    // The same args with different whitespace are different bytes, and do not verify.
    const respaced = JSON.stringify(JSON.parse(signed.args), null, 1);
    const reformatted = libsodiumMessage({ deviceId: 'dev_x', ...signed, args: respaced });
    expect(sodium.crypto_sign_verify_detached(signature, reformatted, publicKey)).toBe(false);
    // Nor does the same command with its expiry moved: the expiry is signed.
    const prolonged = libsodiumMessage({ deviceId: 'dev_x', ...signed, expiresAt: signed.expiresAt + 1 });
    expect(sodium.crypto_sign_verify_detached(signature, prolonged, publicKey)).toBe(false);
  });

  it('the v1 message of the same fields is different bytes, so a v1 signature never verifies as v2', () => {
    const v = COMMAND_VECTOR;
    const keyPair = sodium.crypto_sign_seed_keypair(hexToBytes(v.seed));
    const v1 = sodium.from_string(`homing/v1/command\n${v.deviceId}\n${v.type}\n${v.issuedAt}\n${v.counter}\n${v.args}`);
    const v1Signature = sodium.crypto_sign_detached(v1, keyPair.privateKey);
    expect(sodium.crypto_sign_verify_detached(v1Signature, commandMessage(v), keyPair.publicKey)).toBe(false);
  });

  const base = { deviceId: 'dev_a', type: 'ring' as CommandType, issuedAt: 1_000, expiresAt: 2_000, counter: 1, args: '{}' };
  const badFields: [string, Record<string, unknown>][] = [
    ['a newline in deviceId', { deviceId: 'dev_a\nring' }],
    ['an empty deviceId', { deviceId: '' }],
    ['a newline in type', { type: 'ring\n1' }],
    ['an unknown type', { type: 'explode' }],
    ['a fractional issuedAt', { issuedAt: 1.5 }],
    ['a negative issuedAt', { issuedAt: -1 }],
    ['a NaN issuedAt', { issuedAt: Number.NaN }],
    ['a string issuedAt', { issuedAt: '1000' }],
    ['a missing expiresAt (the v1 fields)', { expiresAt: undefined }],
    ['a fractional expiresAt', { expiresAt: 1500.5 }],
    ['an expiresAt equal to issuedAt', { expiresAt: 1_000 }],
    ['an expiresAt before issuedAt', { expiresAt: 999 }],
    ['an expiresAt more than 30 days after issuedAt', { expiresAt: 1_000 + MAX_COMMAND_LIFETIME_MS + 1 }],
    ['counter 0', { counter: 0 }],
    ['a fractional counter', { counter: 2.5 }],
    ['an unsafe counter', { counter: 2 ** 53 }],
    ['non-string args', { args: {} }],
  ];

  it.each(badFields)('commandMessage rejects %s', (_name, change) => {
    expect(() => commandMessage({ ...base, ...change } as never)).toThrow(/^command: /);
  });

  it('commandMessage accepts the base fields and the 30-day boundary (so the rejections above are about the change)', () => {
    expect(text(commandMessage(base))).toBe('homing/v2/command\ndev_a\nring\n1000\n2000\n1\n{}');
    expect(() => commandMessage({ ...base, expiresAt: 1_000 + MAX_COMMAND_LIFETIME_MS })).not.toThrow();
  });

  it('signCommand refuses non-object args, a bad seed and an expiry out of bounds', () => {
    const seed = new Uint8Array(32);
    const input = { deviceId: 'dev_a', type: 'ring' as CommandType, counter: 1 };
    expect(() => signCommand({ ...input, args: null as unknown as object }, seed)).toThrow(/args/);
    expect(() => signCommand({ ...input, args: [1] }, seed)).toThrow(/args/);
    expect(() => signCommand({ ...input, args: {} }, new Uint8Array(64))).toThrow(/seed/);
    expect(() => signCommand({ ...input, args: {}, issuedAt: 5_000, expiresAt: 5_000 }, seed)).toThrow(/expiresAt/);
    expect(() => signCommand({ ...input, args: {}, issuedAt: 0, expiresAt: MAX_COMMAND_LIFETIME_MS + 1 }, seed)).toThrow(/30 days/);
  });

  it('nextCommandCounter is above the previous counter and at least the clock', () => {
    expect(nextCommandCounter(undefined, 1_700_000_000_000)).toBe(1_700_000_000_000);
    expect(nextCommandCounter(1_700_000_000_000, 1_700_000_000_000)).toBe(1_700_000_000_001);
    expect(nextCommandCounter(5, 1_700_000_000_000)).toBe(1_700_000_000_000);
    expect(nextCommandCounter(2_000_000_000_000, 1_700_000_000_000)).toBe(2_000_000_000_001);
  });
});

describe('lock args', () => {
  it('round-trip through sealLockArgs / openLockArgs, and libsodium opens them', () => {
    const { publicKey, privateKey } = sodium.crypto_box_keypair();
    const lock = { message: 'Lost phone, please call', callbackNumber: '+49 30 1234567' };
    const args = sealLockArgs(lock, publicKey);
    expect(Object.keys(args)).toEqual(['sealed']);
    expect(openLockArgs(args, publicKey, privateKey)).toEqual(lock);
    const plain = sodium.crypto_box_seal_open(fromBase64Url(args.sealed), publicKey, privateKey);
    expect(JSON.parse(sodium.to_string(plain))).toEqual(lock);
  });

  it('a missing callbackNumber becomes null', () => {
    const { publicKey, privateKey } = sodium.crypto_box_keypair();
    expect(openLockArgs(sealLockArgs({ message: 'hi' }, publicKey), publicKey, privateKey)).toEqual({
      message: 'hi',
      callbackNumber: null,
    });
  });

  it('rejects the wrong key pair, a missing sealed field and invalid contents', () => {
    const alice = sodium.crypto_box_keypair();
    const bob = sodium.crypto_box_keypair();
    const args = sealLockArgs({ message: 'hi', callbackNumber: null }, alice.publicKey);
    expect(() => openLockArgs(args, bob.publicKey, bob.privateKey)).toThrow(DecryptionError);
    expect(() => openLockArgs({}, alice.publicKey, alice.privateKey)).toThrow(/sealed/);
    const bad = toBase64Url(sodium.crypto_box_seal(sodium.from_string('{"message":5}'), alice.publicKey));
    expect(() => openLockArgs({ sealed: bad }, alice.publicKey, alice.privateKey)).toThrow(/message/);
  });
});
