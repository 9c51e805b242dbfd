import { createHash } from 'node:crypto';
import type { HashFactory } from '../protocol/hash.js';

export const nodeSha256: HashFactory = () => {
  const hash = createHash('sha256');
  return { update: (bytes) => void hash.update(bytes), hex: () => hash.digest('hex') };
};
