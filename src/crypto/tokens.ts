import { sha256 } from '@noble/hashes/sha2.js';
import { equalBytes, toBase64Url, utf8 } from '../client/crypto/encoding.js';

// Bearer tokens carry 256 random bits, so a fast hash is enough: nobody can search that space.
// Only the hash is stored; a copy of the database cannot be replayed as a token.
export const hashToken = (token: string) => toBase64Url(sha256(utf8(token)));

/** Compares secrets in constant time, so the time taken reveals nothing of where they differ. */
export function constantTimeEqual(a: string, b: string) {
  const left = sha256(utf8(a));
  const right = sha256(utf8(b));
  return equalBytes(left, right);
}
