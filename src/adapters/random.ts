import { createHash } from 'node:crypto';
import { randomBytes, toBase64Url } from '../protocol/encoding.js';

export interface Random {
  bytes(length: number): Uint8Array;
  /** A random identifier: 16 bytes, base64url. */
  id(): string;
  /** A random bearer secret: 32 bytes, base64url, behind a prefix that says what it is. */
  token(prefix: string): string;
}

// Ids are asked for on every request (its request id, each row it adds), and every
// getRandomValues call is a trip into the system's generator: on /healthz that trip was 8% of the
// CPU. So, as crypto.randomUUID does, ids are cut from a pool drawn 256 ids at a time. The bytes
// are the same CSPRNG output either way. Secrets (tokens, key material) are still drawn fresh, so
// none waits in memory before it is needed.
const ID_BYTES = 16;
const IDS_PER_DRAW = 256;
let idPool: Uint8Array = new Uint8Array(0);
let idOffset = 0;

function nextIdBytes() {
  if (idOffset >= idPool.length) {
    idPool = randomBytes(ID_BYTES * IDS_PER_DRAW);
    idOffset = 0;
  }
  idOffset += ID_BYTES;
  return idPool.subarray(idOffset - ID_BYTES, idOffset);
}

export const cryptoRandom: Random = {
  bytes: (length) => randomBytes(length),
  id: () => toBase64Url(nextIdBytes()),
  token: (prefix) => `${prefix}_${toBase64Url(randomBytes(32))}`,
};

// Bearer tokens carry 256 random bits, so a fast hash is enough: nobody can search that space.
// Only the hash is stored; a copy of the database cannot be replayed as a token.
// node:crypto's SHA-256 (on Workers too, with nodejs_compat): it runs on every authenticated request.
export const hashToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('base64url');
