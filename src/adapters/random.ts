import { randomBytes } from '../client/crypto/encoding.js';
import { toBase64Url } from '../client/crypto/encoding.js';

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
