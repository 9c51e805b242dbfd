import type { ApiClient } from './api.js';
import { FINGERPRINT_HEX, fingerprintsMatch, textFingerprint } from '../protocol/spam-fingerprint.js';

// Spam filtering on the phone (docs/CRYPTO.md §13). The device keeps a copy of the published
// blocklist, brings it up to date with deltas, and matches each incoming number and text against
// it locally: the server never learns which messages a device received, only what its user
// chose to report.

/** The device's copy of the blocklist: keep it (as JSON) and pass it back to refreshBlocklist. */
export interface BlocklistCache {
  /** The list version this copy is at; 0 for none. */
  version: number;
  /** E.164 numbers. */
  numbers: string[];
  /** Text fingerprints, 16 hex digits each. */
  fingerprints: string[];
}

export const emptyBlocklist = (): BlocklistCache => ({ version: 0, numbers: [], fingerprints: [] });

/**
 * Fetches the changes since cache.version and returns the updated copy (the given one is not
 * changed). reset means the server did not know that version: the answer is the whole list.
 * A fingerprint that is not 16 hex digits is ignored, since it could not be compared.
 */
export async function refreshBlocklist(api: ApiClient, cache: BlocklistCache): Promise<BlocklistCache> {
  const delta = await api.spamBlocklist(cache.version);
  const base = delta.reset ? emptyBlocklist() : cache;
  const numbers = new Set(base.numbers);
  const fingerprints = new Set(base.fingerprints);
  for (const { kind, value, listed } of delta.changes) {
    if (kind === 'text' && !FINGERPRINT_HEX.test(value)) continue;
    const set = kind === 'number' ? numbers : fingerprints;
    if (listed) set.add(value);
    else set.delete(value);
  }
  return { version: delta.version, numbers: [...numbers].sort(), fingerprints: [...fingerprints].sort() };
}

export interface SpamMatch {
  spam: boolean;
  /** The number is on the list. */
  byNumber: boolean;
  /** The text is within MAX_FINGERPRINT_DISTANCE bits of a listed fingerprint (a rewording of a reported text). */
  byText: boolean;
}

/** Entirely local: the number by exact match, the text by its fingerprint (the server's own code, src/protocol/spam-fingerprint.ts). */
export function matchSpam(cache: BlocklistCache, input: { number?: string; text?: string }): SpamMatch {
  const byNumber = input.number !== undefined && cache.numbers.includes(input.number);
  const fingerprint = input.text === undefined ? null : textFingerprint(input.text);
  const byText = fingerprint !== null && cache.fingerprints.some((listed) => fingerprintsMatch(fingerprint, listed));
  return { spam: byNumber || byText, byNumber, byText };
}
