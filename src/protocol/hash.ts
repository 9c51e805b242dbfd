import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

/** SHA-256 fed a piece at a time, so blobs are hashed as they stream past. */
export interface IncrementalHash {
  update(bytes: Uint8Array): void;
  hex(): string;
}

export type HashFactory = () => IncrementalHash;

/** Portable SHA-256 (browsers, Workers); Node swaps in node:crypto, which is several times faster. */
export const nobleSha256: HashFactory = () => {
  const state = sha256.create();
  return { update: (bytes) => void state.update(bytes), hex: () => bytesToHex(state.digest()) };
};
