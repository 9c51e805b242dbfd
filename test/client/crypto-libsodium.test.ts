// Every client format must be producible and openable with plain libsodium calls, because the
// Android/iOS apps use libsodium. These tests pin each format against libsodium-wrappers-sumo and
// against fixed vectors (the same ones as docs/CRYPTO.md).
import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import sodium from 'libsodium-wrappers-sumo';
import { beforeAll, describe, expect, it } from 'vitest';
import { sealWithKeyAndNonce } from '../../src/client/crypto/aead.js';
import {
  type AccountKeyMaterial,
  DecryptionError,
  EncodingError,
  INTERACTIVE_KDF,
  KDF_CONTEXT,
  SUBKEY,
  concatBytes,
  createAccountKeys,
  derivePasswordSecrets,
  deriveRecoverySecrets,
  deriveRootKey,
  deriveSubkey,
  ed25519PublicKeyFromSeed,
  constantTimeEqual,
  formatRecoveryKey,
  fromBase64Url,
  keyWrapAd,
  loginChallengeMessage,
  openWithKey,
  parseRecoveryKey,
  randomBytes,
  rewrapForPassword,
  sealWithKey,
  signDetached,
  toBase64Url,
  unlockWithPassword,
  unlockWithRecovery,
  utf8,
  verifyDetached,
} from '../../src/client/crypto/index.js';

const SMALL_KDF = { opsLimit: 2, memLimit: 65536 };

const hex = (bytes: Uint8Array) => sodium.to_hex(bytes);
const fromHex = (text: string) => sodium.from_hex(text);
const b64 = (bytes: Uint8Array) => sodium.to_base64(bytes, sodium.base64_variants.URLSAFE_NO_PADDING);
const fromB64 = (text: string) => sodium.from_base64(text, sodium.base64_variants.URLSAFE_NO_PADDING);
const sequence = (start: number, length: number) =>
  Uint8Array.from({ length }, (_, i) => (start + i) & 0xff);

function flipByte(bytes: Uint8Array, index: number): Uint8Array {
  const copy = bytes.slice();
  copy[index]! ^= 0x01;
  return copy;
}

function sodiumOpen(key: Uint8Array, sealed: Uint8Array, ad: Uint8Array): Uint8Array {
  return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, sealed.subarray(24), ad, sealed.subarray(0, 24), key);
}

function sodiumSeal(key: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Uint8Array {
  const nonce = sodium.randombytes_buf(24);
  return concatBytes(nonce, sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, null, nonce, key));
}

/** Same vectors as docs/CRYPTO.md, section "Test vectors". */
const VECTORS = {
  password: 'correct horse battery staple',
  salt: '000102030405060708090a0b0c0d0e0f',
  opsLimit: 2,
  memLimit: 65536,
  rootKey: '2df47ede6358ed17a9976d4fcedb897a10036d432a4acef17d263bfc98bd20ac',
  loginSeed: '1c6662cff8994032589d96730176be2579d645ef618e55c9d9292569407b6a65',
  kek: '8c299c63d763ec728370474d715effa5ba6df36857936395f224b23ffe3f58c5',
  loginPublicKey: 'VYzMG5kdnRKs-PgKYL9ctaTASNNYxPlTuHLo1VfHzYI',
  accountId: 'acct_test_0001',
  masterKey: '202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f',
  nonce: '404142434445464748494a4b4c4d4e4f5051525354555657',
  wrappedMasterKey:
    'QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXbfuMAh9ETxZpSg2Z-2I64yP5g9mXeTnlQBRahbSb6z6aX8F7nvvfv1la3-5ujUr7',
  origin: 'https://homing.example',
  challengeId: 'ch_test_0001',
  challenge: '606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f',
  loginMessage:
    '686f6d696e672f76312f6c6f67696e2d6368616c6c656e67650a68747470733a2f2f686f6d696e672e6578616d706c650a63685f746573745f303030310a606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f',
  loginSignature:
    '9b7cf3868a150d97f7a3ee12210704f5892e2fc89b0e92077f70965faf9a825c9713aef29e904d5cfb0ffc85f22419d379f1a74cd79cd98cff97bca7578caa04',
  recoveryKey: '80818283-84858687-88898a8b-8c8d8e8f-90919293-94959697-98999a9b-9c9d9e9f',
  recoveryLoginSeed: '9021dc5ccd1010e50cb90f9020f0d91f246799737697223a44a322b689ccab97',
  recoveryKek: 'd6ad0ab3583d9edba139dae6094054b5c51766e0f32d6091e3a598037744b388',
  recoveryLoginPublicKey: '05d61fb65b2afe76db772f1d97c43eb404f60acb00e9b5fd838d8109dcd78424',
};

beforeAll(async () => {
  await sodium.ready;
});

describe('test vectors (docs/CRYPTO.md)', () => {
  const params = { salt: fromHex(VECTORS.salt), opsLimit: VECTORS.opsLimit, memLimit: VECTORS.memLimit };

  it('libsodium itself reproduces the vectors', () => {
    const root = sodium.crypto_pwhash(
      32, VECTORS.password, params.salt, params.opsLimit, params.memLimit, sodium.crypto_pwhash_ALG_ARGON2ID13,
    );
    expect(hex(root)).toBe(VECTORS.rootKey);
    const loginSeed = sodium.crypto_kdf_derive_from_key(32, 1, KDF_CONTEXT, root);
    const kek = sodium.crypto_kdf_derive_from_key(32, 2, KDF_CONTEXT, root);
    expect(hex(loginSeed)).toBe(VECTORS.loginSeed);
    expect(hex(kek)).toBe(VECTORS.kek);
    expect(b64(sodium.crypto_sign_seed_keypair(loginSeed).publicKey)).toBe(VECTORS.loginPublicKey);
    const masterKey = sodiumOpen(kek, fromB64(VECTORS.wrappedMasterKey), utf8(`homing/v1/master-key/password/${VECTORS.accountId}`));
    expect(hex(masterKey)).toBe(VECTORS.masterKey);
    const signingKey = sodium.crypto_sign_seed_keypair(loginSeed).privateKey;
    expect(hex(sodium.crypto_sign_detached(fromHex(VECTORS.loginMessage), signingKey))).toBe(VECTORS.loginSignature);
  });

  it('password KDF and subkeys', async () => {
    const root = await deriveRootKey(VECTORS.password, params);
    expect(hex(root)).toBe(VECTORS.rootKey);
    expect(hex(deriveSubkey(root, SUBKEY.login, KDF_CONTEXT))).toBe(VECTORS.loginSeed);
    expect(hex(deriveSubkey(root, SUBKEY.kek, KDF_CONTEXT))).toBe(VECTORS.kek);
    const secrets = await derivePasswordSecrets(VECTORS.password, params);
    expect(hex(secrets.loginSeed)).toBe(VECTORS.loginSeed);
    expect(hex(secrets.kek)).toBe(VECTORS.kek);
    expect(toBase64Url(secrets.loginPublicKey)).toBe(VECTORS.loginPublicKey);
  });

  it('recovery subkeys', () => {
    const secrets = deriveRecoverySecrets(parseRecoveryKey(VECTORS.recoveryKey));
    expect(hex(secrets.loginSeed)).toBe(VECTORS.recoveryLoginSeed);
    expect(hex(secrets.kek)).toBe(VECTORS.recoveryKek);
    expect(hex(secrets.loginPublicKey)).toBe(VECTORS.recoveryLoginPublicKey);
    expect(formatRecoveryKey(sequence(0x80, 32))).toBe(VECTORS.recoveryKey);
  });

  it('master key wrap', () => {
    const kek = fromHex(VECTORS.kek);
    const ad = keyWrapAd('master-key/password', VECTORS.accountId);
    const sealed = sealWithKeyAndNonce(kek, fromHex(VECTORS.nonce), fromHex(VECTORS.masterKey), ad);
    expect(toBase64Url(sealed)).toBe(VECTORS.wrappedMasterKey);
    expect(hex(openWithKey(kek, fromBase64Url(VECTORS.wrappedMasterKey), ad))).toBe(VECTORS.masterKey);
  });

  it('login challenge message and signature', () => {
    const message = loginChallengeMessage({
      origin: VECTORS.origin,
      challengeId: VECTORS.challengeId,
      challenge: fromHex(VECTORS.challenge),
    });
    expect(hex(message)).toBe(VECTORS.loginMessage);
    const signature = signDetached(fromHex(VECTORS.loginSeed), message);
    expect(hex(signature)).toBe(VECTORS.loginSignature);
    expect(verifyDetached(fromB64(VECTORS.loginPublicKey), message, signature)).toBe(true);
  });
});

describe('encoding', () => {
  it('base64url matches libsodium URLSAFE_NO_PADDING for every length 0..70', () => {
    for (let length = 0; length <= 70; length++) {
      const bytes = sodium.randombytes_buf(length);
      const text = toBase64Url(bytes);
      expect(text).toBe(b64(bytes));
      expect(fromBase64Url(text)).toEqual(bytes);
    }
    expect(toBase64Url(Uint8Array.of(0xfb, 0xff, 0xbf))).toBe('-_-_');
  });

  it.each([
    ['padding', 'AAA='],
    ['standard alphabet +', 'ab+c'],
    ['standard alphabet /', 'ab/c'],
    ['whitespace', 'ab c'],
    ['non-ASCII', 'abcé'],
    ['impossible length', 'abcdA'],
    ['impossible length with stray bits', 'abcde'],
    ['non-canonical trailing bits', 'AB'],
  ])('strict decode rejects %s, as libsodium does', (_name, text) => {
    expect(() => fromBase64Url(text)).toThrow(EncodingError);
    expect(() => fromB64(text)).toThrow();
  });

  it('constantTimeEqual', () => {
    expect(constantTimeEqual(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 3))).toBe(true);
    expect(constantTimeEqual(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 4))).toBe(false);
    expect(constantTimeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 3))).toBe(false);
  });

  it('randomBytes handles more than one getRandomValues chunk', () => {
    const bytes = randomBytes(70000);
    expect(bytes.length).toBe(70000);
    expect(bytes.subarray(65536).some((byte) => byte !== 0)).toBe(true);
  });
});

describe('kdf', () => {
  it('deriveRootKey equals crypto_pwhash ARGON2ID13 at INTERACTIVE params (slow)', async () => {
    expect(INTERACTIVE_KDF).toEqual({
      opsLimit: sodium.crypto_pwhash_OPSLIMIT_INTERACTIVE,
      memLimit: sodium.crypto_pwhash_MEMLIMIT_INTERACTIVE,
    });
    const salt = sodium.randombytes_buf(sodium.crypto_pwhash_SALTBYTES);
    const password = 'interactive pässwörd';
    const expected = sodium.crypto_pwhash(
      32, password, salt, INTERACTIVE_KDF.opsLimit, INTERACTIVE_KDF.memLimit, sodium.crypto_pwhash_ALG_ARGON2ID13,
    );
    expect(hex(await deriveRootKey(password, { salt, ...INTERACTIVE_KDF }))).toBe(hex(expected));
  });

  it('deriveRootKey equals crypto_pwhash for other small params and NFKC-normalizes', async () => {
    const salt = sodium.randombytes_buf(16);
    for (const [opsLimit, memLimit] of [[1, 8192], [3, 32768]] as const) {
      const expected = sodium.crypto_pwhash(32, 'pw', salt, opsLimit, memLimit, sodium.crypto_pwhash_ALG_ARGON2ID13);
      expect(hex(await deriveRootKey('pw', { salt, opsLimit, memLimit }))).toBe(hex(expected));
    }
    const composed = 'Å\uFB01';
    const decomposed = 'A\u030A\uFB01';
    const nfkcBytes = utf8(composed.normalize('NFKC'));
    expect(nfkcBytes).toEqual(utf8('Åfi'));
    const expected = sodium.crypto_pwhash(32, nfkcBytes, salt, 1, 8192, sodium.crypto_pwhash_ALG_ARGON2ID13);
    expect(hex(await deriveRootKey(decomposed, { salt, opsLimit: 1, memLimit: 8192 }))).toBe(hex(expected));
  });

  it('deriveRootKey rejects bad params', async () => {
    const salt = new Uint8Array(16);
    await expect(deriveRootKey('pw', { salt: new Uint8Array(15), ...SMALL_KDF })).rejects.toThrow(/salt/);
    await expect(deriveRootKey('pw', { salt, opsLimit: 1, memLimit: 65537 })).rejects.toThrow(/memLimit/);
    await expect(deriveRootKey('pw', { salt, opsLimit: 1, memLimit: 7168 })).rejects.toThrow(/memLimit/);
    await expect(deriveRootKey('pw', { salt, opsLimit: 0, memLimit: 8192 })).rejects.toThrow(/opsLimit/);
  });

  it('deriveSubkey equals crypto_kdf_derive_from_key for several ids', () => {
    const key = sodium.randombytes_buf(32);
    for (const id of [0, 1, 2, 3, 255, 256, 0xffffffff, 2 ** 40 + 5, Number.MAX_SAFE_INTEGER]) {
      const expected = sodium.crypto_kdf_derive_from_key(32, BigInt(id), KDF_CONTEXT, key);
      expect(hex(deriveSubkey(key, id, KDF_CONTEXT)), `id ${id}`).toBe(hex(expected));
    }
    expect(hex(deriveSubkey(key, 7, 'Examples'))).toBe(hex(sodium.crypto_kdf_derive_from_key(32, 7, 'Examples', key)));
  });

  it('deriveSubkey rejects contexts that are not 8 ASCII characters', () => {
    const key = new Uint8Array(32);
    expect(() => deriveSubkey(key, 1, 'homing1')).toThrow(/context/);
    expect(() => deriveSubkey(key, 1, 'homing012')).toThrow(/context/);
    expect(() => deriveSubkey(key, 1, 'homingé1')).toThrow(/context/);
    expect(() => deriveSubkey(key, -1, KDF_CONTEXT)).toThrow(/subkeyId/);
  });
});

describe('aead', () => {
  const ad = keyWrapAd('x25519-secret', 'acct_1');

  it('sealWithKey output opens with crypto_aead_xchacha20poly1305_ietf_decrypt', () => {
    const key = sodium.randombytes_buf(32);
    const plaintext = sodium.randombytes_buf(100);
    const sealed = sealWithKey(key, plaintext, ad);
    expect(sealed.length).toBe(24 + 100 + 16);
    expect(sodiumOpen(key, sealed, ad)).toEqual(plaintext);
    expect(() => sodiumOpen(key, sealed, keyWrapAd('ed25519-secret', 'acct_1'))).toThrow();
    expect(() => sodiumOpen(key, flipByte(sealed, 30), ad)).toThrow();
    expect(() => sodiumOpen(key, flipByte(sealed, 3), ad)).toThrow();
  });

  it('libsodium output opens with openWithKey; tampering fails with DecryptionError', () => {
    const key = sodium.randombytes_buf(32);
    const plaintext = sodium.randombytes_buf(33);
    const sealed = sodiumSeal(key, plaintext, ad);
    expect(openWithKey(key, sealed, ad)).toEqual(plaintext);
    expect(() => openWithKey(key, sealed, keyWrapAd('x25519-secret', 'acct_2'))).toThrow(DecryptionError);
    expect(() => openWithKey(key, flipByte(sealed, sealed.length - 1), ad)).toThrow(DecryptionError);
    expect(() => openWithKey(key, flipByte(sealed, 0), ad)).toThrow(DecryptionError);
    expect(() => openWithKey(sodium.randombytes_buf(32), sealed, ad)).toThrow(DecryptionError);
    expect(() => openWithKey(key, sealed.subarray(0, 39), ad)).toThrow(DecryptionError);
    expect(() => openWithKey(key.subarray(0, 31), sealed, ad)).toThrow(DecryptionError);
  });

  it('empty plaintext round-trips both ways', () => {
    const key = sodium.randombytes_buf(32);
    expect(sodiumOpen(key, sealWithKey(key, new Uint8Array(0), ad), ad).length).toBe(0);
    expect(openWithKey(key, sodiumSeal(key, new Uint8Array(0), ad), ad).length).toBe(0);
  });

  it('keyWrapAd is the UTF-8 of homing/v1/<purpose>/<accountId>', () => {
    expect(sodium.to_string(keyWrapAd('master-key/recovery', 'acct_9'))).toBe('homing/v1/master-key/recovery/acct_9');
  });
});

describe('signing', () => {
  it('public key from seed equals crypto_sign_seed_keypair', () => {
    for (let i = 0; i < 5; i++) {
      const seed = sodium.randombytes_buf(32);
      expect(hex(ed25519PublicKeyFromSeed(seed))).toBe(hex(sodium.crypto_sign_seed_keypair(seed).publicKey));
    }
  });

  it('signatures verify across implementations and tampering is rejected', () => {
    const seed = sodium.randombytes_buf(32);
    const { publicKey, privateKey } = sodium.crypto_sign_seed_keypair(seed);
    const message = sodium.randombytes_buf(77);

    const ours = signDetached(seed, message);
    expect(hex(ours)).toBe(hex(sodium.crypto_sign_detached(message, privateKey)));
    expect(sodium.crypto_sign_verify_detached(ours, message, publicKey)).toBe(true);
    expect(sodium.crypto_sign_verify_detached(ours, flipByte(message, 5), publicKey)).toBe(false);

    const theirs = sodium.crypto_sign_detached(message, privateKey);
    expect(verifyDetached(publicKey, message, theirs)).toBe(true);
    expect(verifyDetached(publicKey, flipByte(message, 5), theirs)).toBe(false);
    expect(verifyDetached(publicKey, message, flipByte(theirs, 40))).toBe(false);
    expect(verifyDetached(sodium.crypto_sign_keypair().publicKey, message, theirs)).toBe(false);
  });

  it('verifyDetached never throws and rejects malformed input', () => {
    const seed = sodium.randombytes_buf(32);
    const publicKey = ed25519PublicKeyFromSeed(seed);
    const message = utf8('hello');
    const signature = signDetached(seed, message);
    expect(verifyDetached(publicKey.subarray(0, 31), message, signature)).toBe(false);
    expect(verifyDetached(publicKey, message, signature.subarray(0, 63))).toBe(false);
    expect(verifyDetached(new Uint8Array(32).fill(0xff), message, signature)).toBe(false);
    const identity = new Uint8Array(32);
    identity[0] = 1;
    expect(verifyDetached(identity, message, signature)).toBe(false);
    // S >= group order: libsodium rejects it and so must we.
    const badS = signature.slice();
    badS.fill(0xff, 32);
    expect(sodium.crypto_sign_verify_detached(badS, message, publicKey)).toBe(false);
    expect(verifyDetached(publicKey, message, badS)).toBe(false);
  });

  it('rejects a signature whose R has a torsion component, like libsodium (cofactorless)', () => {
    const seed = sodium.randombytes_buf(32);
    const { scalar: a, pointBytes: publicKey } = ed25519.utils.getExtendedPublicKey(seed);
    const L = ed25519.Point.CURVE().n;
    const leBytesToBigInt = (bytes: Uint8Array) => BigInt(`0x${hex(bytes.slice().reverse()) || '0'}`);
    const bigIntTo32LeBytes = (n: bigint) => fromHex(n.toString(16).padStart(64, '0')).reverse();
    const message = utf8('torsion');

    const r = leBytesToBigInt(sodium.randombytes_buf(32)) % L;
    const torsion = ed25519.Point.fromHex(ED25519_TORSION_SUBGROUP[1]!);
    const mixedR = ed25519.Point.BASE.multiply(r).add(torsion).toBytes();
    const k = leBytesToBigInt(sha512(concatBytes(mixedR, publicKey, message))) % L;
    const signature = concatBytes(mixedR, bigIntTo32LeBytes((r + k * a) % L));

    // Noble's cofactored equation alone would accept this signature; libsodium does not.
    expect(ed25519.verify(signature, message, publicKey, { zip215: false })).toBe(true);
    expect(sodium.crypto_sign_verify_detached(signature, message, publicKey)).toBe(false);
    expect(verifyDetached(publicKey, message, signature)).toBe(false);
  });

  it('x25519 public key equals crypto_scalarmult_base of the secret', async () => {
    for (let i = 0; i < 3; i++) {
      const created = await createAccountKeys({ accountId: 'acct_x', password: 'pw', kdf: SMALL_KDF });
      const unlocked = unlockWithRecovery(
        { accountId: 'acct_x', ...created.bundle },
        deriveRecoverySecrets(parseRecoveryKey(created.recoveryKey)).kek,
      );
      const expected = sodium.crypto_scalarmult_base(unlocked.x25519SecretKey);
      expect(created.bundle.x25519PublicKey).toBe(b64(expected));
      expect(hex(unlocked.x25519PublicKey)).toBe(hex(expected));
    }
  });

  it('login challenge message rejects newlines in its fields', () => {
    const challenge = new Uint8Array(32);
    expect(() => loginChallengeMessage({ origin: 'https://a\nb', challengeId: 'c', challenge })).toThrow();
    expect(() => loginChallengeMessage({ origin: 'https://a', challengeId: 'c\n', challenge })).toThrow();
  });
});

describe('account keys', () => {
  const accountId = 'acct_01J9ZK';
  const password = 'hunter2 but longer';

  function materialOf(bundle: Awaited<ReturnType<typeof createAccountKeys>>['bundle'], id = accountId): AccountKeyMaterial {
    return { accountId: id, ...bundle };
  }

  it('a full signup bundle unwraps with libsodium calls only', async () => {
    const created = await createAccountKeys({ accountId, password, kdf: SMALL_KDF });
    const { bundle } = created;
    const ad = (purpose: string) => sodium.from_string(`homing/v1/${purpose}/${accountId}`);

    expect(bundle.kdf.opsLimit).toBe(SMALL_KDF.opsLimit);
    expect(bundle.kdf.memLimit).toBe(SMALL_KDF.memLimit);
    const salt = fromB64(bundle.kdf.salt);
    expect(salt.length).toBe(sodium.crypto_pwhash_SALTBYTES);

    const root = sodium.crypto_pwhash(32, password, salt, bundle.kdf.opsLimit, bundle.kdf.memLimit, sodium.crypto_pwhash_ALG_ARGON2ID13);
    const loginSeed = sodium.crypto_kdf_derive_from_key(32, 1, 'homing01', root);
    const kek = sodium.crypto_kdf_derive_from_key(32, 2, 'homing01', root);
    expect(b64(sodium.crypto_sign_seed_keypair(loginSeed).publicKey)).toBe(bundle.loginPublicKey);
    expect(hex(created.loginSeed)).toBe(hex(loginSeed));

    const masterKey = sodiumOpen(kek, fromB64(bundle.wrappedMasterKey), ad('master-key/password'));
    expect(hex(masterKey)).toBe(hex(created.masterKey));

    const recoveryKey = sodium.from_hex(created.recoveryKey.replaceAll('-', ''));
    const recoveryKek = sodium.crypto_kdf_derive_from_key(32, 2, 'homing01', recoveryKey);
    const recoveryLoginSeed = sodium.crypto_kdf_derive_from_key(32, 1, 'homing01', recoveryKey);
    expect(b64(sodium.crypto_sign_seed_keypair(recoveryLoginSeed).publicKey)).toBe(bundle.recoveryLoginPublicKey);
    expect(hex(sodiumOpen(recoveryKek, fromB64(bundle.recoveryWrappedMasterKey), ad('master-key/recovery')))).toBe(hex(masterKey));

    const x25519Secret = sodiumOpen(masterKey, fromB64(bundle.wrappedX25519SecretKey), ad('x25519-secret'));
    expect(b64(sodium.crypto_scalarmult_base(x25519Secret))).toBe(bundle.x25519PublicKey);

    const ed25519Seed = sodiumOpen(masterKey, fromB64(bundle.wrappedEd25519SecretKey), ad('ed25519-secret'));
    const commandKeys = sodium.crypto_sign_seed_keypair(ed25519Seed);
    expect(b64(commandKeys.publicKey)).toBe(bundle.ed25519PublicKey);

    // The X25519 pair works for crypto_box_seal as later formats will use it.
    const sealed = sodium.crypto_box_seal(utf8('where am i'), fromB64(bundle.x25519PublicKey));
    expect(sodium.to_string(sodium.crypto_box_seal_open(sealed, fromB64(bundle.x25519PublicKey), x25519Secret))).toBe('where am i');
  });

  it('unlockWithPassword and unlockWithRecovery round-trip', async () => {
    const created = await createAccountKeys({ accountId, password, kdf: SMALL_KDF });
    const material = materialOf(created.bundle);
    const params = { salt: fromBase64Url(created.bundle.kdf.salt), ...SMALL_KDF };

    const { kek } = await derivePasswordSecrets(password, params);
    const viaPassword = unlockWithPassword(material, kek);
    expect(viaPassword.masterKey).toEqual(created.masterKey);
    expect(toBase64Url(viaPassword.x25519PublicKey)).toBe(created.bundle.x25519PublicKey);
    expect(toBase64Url(ed25519PublicKeyFromSeed(viaPassword.ed25519Seed))).toBe(created.bundle.ed25519PublicKey);

    const recovery = deriveRecoverySecrets(parseRecoveryKey(created.recoveryKey));
    expect(toBase64Url(recovery.loginPublicKey)).toBe(created.bundle.recoveryLoginPublicKey);
    const viaRecovery = unlockWithRecovery(material, recovery.kek);
    expect(viaRecovery).toEqual(viaPassword);

    expect(() => unlockWithPassword(material, recovery.kek)).toThrow(DecryptionError);
    expect(() => unlockWithRecovery(material, kek)).toThrow(DecryptionError);
  });

  it('wrong password fails with DecryptionError', async () => {
    const created = await createAccountKeys({ accountId, password, kdf: SMALL_KDF });
    const params = { salt: fromBase64Url(created.bundle.kdf.salt), ...SMALL_KDF };
    const { kek, loginPublicKey } = await derivePasswordSecrets('hunter3 but longer', params);
    expect(toBase64Url(loginPublicKey)).not.toBe(created.bundle.loginPublicKey);
    expect(() => unlockWithPassword(materialOf(created.bundle), kek)).toThrow(DecryptionError);
  });

  it('the AD binds the account: unwrapping under another accountId fails', async () => {
    const created = await createAccountKeys({ accountId, password, kdf: SMALL_KDF });
    const params = { salt: fromBase64Url(created.bundle.kdf.salt), ...SMALL_KDF };
    const { kek } = await derivePasswordSecrets(password, params);
    expect(() => unlockWithPassword(materialOf(created.bundle, 'acct_other'), kek)).toThrow(DecryptionError);

    // Even with the right master key, secrets wrapped for another account do not open.
    const other = await createAccountKeys({ accountId: 'acct_other', password, kdf: SMALL_KDF });
    const wrappedForOther = sealWithKey(created.masterKey, randomBytes(32), keyWrapAd('x25519-secret', 'acct_other'));
    expect(() =>
      unlockWithPassword({ ...materialOf(created.bundle), wrappedX25519SecretKey: toBase64Url(wrappedForOther) }, kek),
    ).toThrow(DecryptionError);
    expect(other.bundle.wrappedMasterKey).not.toBe(created.bundle.wrappedMasterKey);
  });

  it('unlock rejects a bundle whose public keys were swapped', async () => {
    const created = await createAccountKeys({ accountId, password, kdf: SMALL_KDF });
    const params = { salt: fromBase64Url(created.bundle.kdf.salt), ...SMALL_KDF };
    const { kek } = await derivePasswordSecrets(password, params);
    const foreignX = toBase64Url(sodium.crypto_box_keypair().publicKey);
    const foreignEd = toBase64Url(sodium.crypto_sign_keypair().publicKey);
    const material = materialOf(created.bundle);
    expect(() => unlockWithPassword({ ...material, x25519PublicKey: foreignX }, kek)).toThrow(
      'key bundle does not match its public keys',
    );
    expect(() => unlockWithPassword({ ...material, ed25519PublicKey: foreignEd }, kek)).toThrow(
      'key bundle does not match its public keys',
    );
  });

  it('rewrapForPassword: the new password unlocks, the old one no longer does', async () => {
    const created = await createAccountKeys({ accountId, password, kdf: SMALL_KDF });
    const rewrapped = await rewrapForPassword({
      accountId, masterKey: created.masterKey, password: 'a new password', kdf: SMALL_KDF,
    });
    expect(rewrapped.kdf.salt).not.toBe(created.bundle.kdf.salt);
    const material = { ...materialOf(created.bundle), wrappedMasterKey: rewrapped.wrappedMasterKey };

    const fresh = await derivePasswordSecrets('a new password', { salt: fromBase64Url(rewrapped.kdf.salt), ...SMALL_KDF });
    expect(toBase64Url(fresh.loginPublicKey)).toBe(rewrapped.loginPublicKey);
    expect(fresh.loginSeed).toEqual(rewrapped.loginSeed);
    expect(unlockWithPassword(material, fresh.kek).masterKey).toEqual(created.masterKey);

    const stale = await derivePasswordSecrets(password, { salt: fromBase64Url(rewrapped.kdf.salt), ...SMALL_KDF });
    expect(() => unlockWithPassword(material, stale.kek)).toThrow(DecryptionError);
    const old = await derivePasswordSecrets(password, { salt: fromBase64Url(created.bundle.kdf.salt), ...SMALL_KDF });
    expect(() => unlockWithPassword(material, old.kek)).toThrow(DecryptionError);
  });

  it('recovery key formatting round-trips and parsing is tolerant but strict about content', () => {
    const bytes = sodium.randombytes_buf(32);
    const formatted = formatRecoveryKey(bytes);
    expect(formatted).toMatch(/^[0-9a-f]{8}(-[0-9a-f]{8}){7}$/);
    expect(parseRecoveryKey(formatted)).toEqual(bytes);
    expect(parseRecoveryKey(` ${formatted.toUpperCase().replaceAll('-', ' ')}\n`)).toEqual(bytes);
    expect(parseRecoveryKey(formatted.replaceAll('-', ''))).toEqual(bytes);
    expect(() => parseRecoveryKey(formatted.slice(0, -1))).toThrow(/64 hexadecimal/);
    expect(() => parseRecoveryKey(`${formatted}0`)).toThrow(/64 hexadecimal/);
    expect(() => parseRecoveryKey(formatted.replace(/.$/, 'g'))).toThrow(/64 hexadecimal/);
    expect(() => parseRecoveryKey('')).toThrow(/64 hexadecimal/);
  });
});
