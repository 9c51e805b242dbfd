import { createHash } from 'node:crypto';
import type { HashFactory } from '../client/crypto/sha256.js';

export const nodeSha256: HashFactory = () => {
  const hash = createHash('sha256');
  return { update: (bytes) => void hash.update(bytes), hex: () => hash.digest('hex') };
};
