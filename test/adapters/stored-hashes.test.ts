import { describe, expect, it } from 'vitest';
import { hashToken } from '../../src/adapters/random.js';
import { createServerSecrets } from '../../src/adapters/server-secrets.js';

// Token hashes and blind indexes are stored: a database written by an earlier version must still
// find its devices, sessions and accounts. These values were computed with @noble/hashes, which
// computed both before node:crypto did; a change of algorithm, key derivation or encoding fails here.

describe('stored hashes keep their values', () => {
  it('a bearer token hashes to SHA-256, base64url without padding', () => {
    expect(hashToken('dev_0123456789')).toBe('_GmECyHFQ9IMlTzo9CLW4f58zOrXOAVG63zZ0Fi8Cyk');
  });

  it('a blind index is HMAC-SHA-256 under its HKDF subkey of the server key', () => {
    const secrets = createServerSecrets(
      new Uint8Array(32).map((_, i) => i),
      () => new Uint8Array(24),
    );
    expect(secrets.blindIndex('email', 'owner@example.org')).toBe('C9QYpmrrXAbxUJZIjp4Sa7lUbPD9W-yUZcqq8zxeEDk');
  });
});
