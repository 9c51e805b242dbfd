import { createHmac } from 'node:crypto';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { fromBase64Url, toBase64Url, utf8 } from '../protocol/encoding.js';

// Everything the server itself must keep secret derives from one 32-byte server key, so an
// operator has a single value to protect and back up. Each use gets its own HKDF subkey.

export interface ServerSecrets {
  /** Seals personal data the server must read later (email, phone) under the server key. */
  sealPersonal(purpose: string, plaintext: string): string;
  openPersonal(purpose: string, sealed: string): string;
  /** A keyed hash for finding a sealed value without opening it (a blind index). */
  blindIndex(purpose: string, value: string): string;
  /** Deterministic bytes an attacker cannot predict, e.g. the decoy salt for unknown emails. */
  derive(purpose: string, input: string, length: number): Uint8Array;
}

export function createServerSecrets(serverKey: Uint8Array, randomBytes: (n: number) => Uint8Array): ServerSecrets {
  if (serverKey.length !== 32) throw new Error('the server key must be 32 bytes');
  const subkeys = new Map<string, Uint8Array>();
  const subkey = (name: string) => {
    let key = subkeys.get(name);
    if (!key) {
      key = hkdf(sha256, serverKey, undefined, utf8(`homing/server/${name}`), 32);
      subkeys.set(name, key);
    }
    return key;
  };
  // A blind index is computed on every request (the rate-limit key of its client), so the MAC is
  // the platform's (node:crypto on Node, and on Workers with nodejs_compat), a few times faster
  // than a JavaScript HMAC.
  const mac = (name: string, input: string): Uint8Array => createHmac('sha256', subkey(name)).update(input, 'utf8').digest();

  return {
    sealPersonal(purpose, plaintext) {
      const nonce = randomBytes(24);
      const sealed = xchacha20poly1305(subkey('seal'), nonce, utf8(purpose)).encrypt(utf8(plaintext));
      return toBase64Url(concat(nonce, sealed));
    },
    openPersonal(purpose, sealed) {
      const bytes = fromBase64Url(sealed);
      const plain = xchacha20poly1305(subkey('seal'), bytes.subarray(0, 24), utf8(purpose)).decrypt(
        bytes.subarray(24),
      );
      return new TextDecoder().decode(plain);
    },
    blindIndex(purpose, value) {
      return toBase64Url(mac(`index/${purpose}`, value));
    },
    derive(purpose, input, length) {
      return hkdf(sha256, mac(`derive/${purpose}`, input), undefined, utf8(purpose), length);
    },
  };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
