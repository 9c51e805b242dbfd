// Every Argon2id engine the SDK can run (src/client/crypto/argon2id*.ts) gives libsodium's
// crypto_pwhash output byte for byte: the same key opens the same account whichever engine a
// browser, a phone or the CLI used. Checked against the docs/CRYPTO.md vector and against
// libsodium-wrappers-sumo itself, through deriveRootKey (which validates and NFKC-normalizes).
import sodium from 'libsodium-wrappers-sumo';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Argon2id, nobleArgon2id } from '../../src/client/crypto/argon2id.js';
import { argon2idWithFallback, wasmArgon2id } from '../../src/client/crypto/argon2id-wasm.js';
import { INTERACTIVE_KDF, deriveRootKey, utf8 } from '../../src/client/crypto/index.js';

/** docs/CRYPTO.md, "Test vectors", "Password KDF and subkeys" (also in crypto-libsodium.test.ts). */
const VECTOR = {
  password: 'correct horse battery staple',
  salt: '000102030405060708090a0b0c0d0e0f',
  opsLimit: 2,
  memLimit: 65536,
  rootKey: '2df47ede6358ed17a9976d4fcedb897a10036d432a4acef17d263bfc98bd20ac',
};

const hex = (bytes: Uint8Array) => sodium.to_hex(bytes);
const fallback: Argon2id = async (input) => (await argon2idWithFallback(input)).key;
const ENGINES: [string, Argon2id][] = [
  ['noble', nobleArgon2id],
  ['WebAssembly (libsodium)', wasmArgon2id],
  ['WebAssembly else noble', fallback],
];

const pwhash = (password: string | Uint8Array, salt: Uint8Array, opsLimit: number, memLimit: number) =>
  sodium.crypto_pwhash(32, password, salt, opsLimit, memLimit, sodium.crypto_pwhash_ALG_ARGON2ID13);

beforeAll(async () => {
  await sodium.ready;
});

describe.each(ENGINES)('Argon2id engine: %s', (_name, argon2id) => {
  it('reproduces the docs/CRYPTO.md root-key vector', async () => {
    const params = { salt: sodium.from_hex(VECTOR.salt), opsLimit: VECTOR.opsLimit, memLimit: VECTOR.memLimit };
    expect(hex(pwhash(VECTOR.password, params.salt, params.opsLimit, params.memLimit))).toBe(VECTOR.rootKey);
    expect(hex(await deriveRootKey(VECTOR.password, params, argon2id))).toBe(VECTOR.rootKey);
  });

  it('equals crypto_pwhash at the INTERACTIVE default (64 MiB), with a non-ASCII password (slow)', async () => {
    const salt = sodium.randombytes_buf(16);
    const password = 'interactive pässwörd';
    const expected = pwhash(password, salt, INTERACTIVE_KDF.opsLimit, INTERACTIVE_KDF.memLimit);
    expect(hex(await deriveRootKey(password, { salt, ...INTERACTIVE_KDF }, argon2id))).toBe(hex(expected));
  });

  it('equals crypto_pwhash at the smallest memory, at a memory not a multiple of 4 KiB, and at more passes', async () => {
    const salt = sodium.randombytes_buf(16);
    for (const [opsLimit, memLimit] of [[1, 8192], [3, 33792], [4, 16384]] as const) {
      const expected = pwhash('pw', salt, opsLimit, memLimit);
      expect(hex(await deriveRootKey('pw', { salt, opsLimit, memLimit }, argon2id)), `${opsLimit}/${memLimit}`).toBe(hex(expected));
    }
  });

  it('derives from the NFKC form: a decomposed password gives the composed one\'s key', async () => {
    const salt = sodium.randombytes_buf(16);
    const expected = pwhash(utf8('Åfi'), salt, 1, 8192);
    expect(hex(await deriveRootKey('A\u030A\uFB01', { salt, opsLimit: 1, memLimit: 8192 }, argon2id))).toBe(hex(expected));
  });
});

describe('choosing an engine', () => {
  it('an empty password, which crypto_pwhash accepts, gets its key from WebAssembly', async () => {
    const salt = sodium.randombytes_buf(16);
    const input = { password: new Uint8Array(0), salt, opsLimit: 1, memLimit: 8192 };
    const { key, engine } = await argon2idWithFallback(input);
    expect(engine).toBe('wasm');
    expect(hex(key)).toBe(hex(pwhash(new Uint8Array(0), salt, 1, 8192)));
    expect(hex(await nobleArgon2id(input))).toBe(hex(key));
  });

  it('falls back to noble when the WebAssembly engine throws', async () => {
    // crypto_pwhash takes only 16-byte salts, noble any of 8 or more: an input only noble runs.
    // (WebAssembly refused outright, by a CSP, is test/web/kdf-worker.browser.test.ts.)
    const input = { password: utf8('pw'), salt: sodium.randombytes_buf(8), opsLimit: 1, memLimit: 8192 };
    await expect(wasmArgon2id(input)).rejects.toThrow();
    const { key, engine } = await argon2idWithFallback(input);
    expect(engine).toBe('noble');
    expect(hex(key)).toBe(hex(await nobleArgon2id(input)));
  });

  it('deriveRootKey refuses an engine answer that is not 32 bytes, and validates before any engine runs', async () => {
    const salt = new Uint8Array(16);
    const short: Argon2id = async () => new Uint8Array(31);
    await expect(deriveRootKey('pw', { salt, opsLimit: 1, memLimit: 8192 }, short)).rejects.toThrow(/32 bytes/);
    let ran = false;
    const spy: Argon2id = async (input) => ((ran = true), nobleArgon2id(input));
    await expect(deriveRootKey('pw', { salt, opsLimit: 1, memLimit: 2 * 1024 ** 3 }, spy)).rejects.toThrow(/memLimit/);
    expect(ran).toBe(false);
  });

  it('deriveRootKey hands the engine the NFKC UTF-8 bytes, and wipes its copy once the engine answers', async () => {
    let seen: Uint8Array | undefined;
    const keep: Argon2id = async (input) => {
      seen = input.password;
      expect([...input.password]).toEqual([...utf8('Åfi')]);
      return nobleArgon2id(input);
    };
    await deriveRootKey('A\u030A\uFB01', { salt: new Uint8Array(16), opsLimit: 1, memLimit: 8192 }, keep);
    expect(seen?.every((byte) => byte === 0)).toBe(true);
  });
});
