import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes, toBase64Url, utf8 } from '../protocol/encoding.js';

export interface Random {
  bytes(length: number): Uint8Array;
  /** A random identifier: 16 bytes, base64url. */
  id(): string;
  /** A random bearer secret: 32 bytes, base64url, behind a prefix that says what it is. */
  token(prefix: string): string;
}

export const cryptoRandom: Random = {
  bytes: (length) => randomBytes(length),
  id: () => toBase64Url(randomBytes(16)),
  token: (prefix) => `${prefix}_${toBase64Url(randomBytes(32))}`,
};

// Bearer tokens carry 256 random bits, so a fast hash is enough: nobody can search that space.
// Only the hash is stored; a copy of the database cannot be replayed as a token.
export const hashToken = (token: string) => toBase64Url(sha256(utf8(token)));
