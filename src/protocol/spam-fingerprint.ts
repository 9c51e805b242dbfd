import { blake2b } from '@noble/hashes/blake2.js';
import { utf8 } from './encoding.js';

// The similarity fingerprint of a message text (docs/CRYPTO.md §13): the server takes it from a
// reported text and then drops the text; the SDK takes it from an incoming text and matches it
// against the published blocklist on the phone, so nothing the user did not report leaves it.
// One implementation, here, for both sides.
//
// SimHash (Charikar 2002) over character shingles of the normalised text: texts that differ in a
// few words, a link or an amount give fingerprints a few bits apart.
//   normalise: NFKC, lower case, every link (http://, https:// or www. up to the next space) becomes
//              " link ", every run of digits becomes "0", everything but letters, digits
//              and spaces dropped, whitespace collapsed to one space, trimmed;
//   shingles:  the distinct substrings of SHINGLE_CHARS code points;
//   hash:      BLAKE2b-64 (crypto_generichash, 8 bytes, no key) of each shingle's UTF-8, read as
//              64 bits, most significant bit of byte 0 first;
//   bit i of the fingerprint is 1 when more shingles have bit i set than clear.
// The fingerprint is 16 lower-case hex digits.

export const SHINGLE_CHARS = 5;
/** Texts shorter than this once normalised get no fingerprint: too short to tell spam from a greeting. */
export const MIN_FINGERPRINT_CHARS = 20;
/** Two fingerprints at most this many bits apart are the same text. Two rewordings of one spam text measured 9 and 10 bits apart, unrelated texts 27 to 37 (of 64). */
export const MAX_FINGERPRINT_DISTANCE = 12;
export const FINGERPRINT_HEX = /^[0-9a-f]{16}$/;

export function normaliseText(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/(https?:\/\/|www\.)\S*/gu, ' link ')
    .replace(/\p{Nd}+/gu, '0')
    .replace(/[^\p{L}\p{N}\s]+/gu, '')
    .replace(/\s+/gu, ' ')
    .trim();
}

/** The fingerprint of a text, or null when it is too short to have one. */
export function textFingerprint(text: string): string | null {
  const chars = Array.from(normaliseText(text));
  if (chars.length < MIN_FINGERPRINT_CHARS) return null;
  const shingles = new Set<string>();
  for (let i = 0; i + SHINGLE_CHARS <= chars.length; i++) shingles.add(chars.slice(i, i + SHINGLE_CHARS).join(''));
  const votes = new Int32Array(64);
  for (const shingle of shingles) {
    const hash = blake2b(utf8(shingle), { dkLen: 8 });
    for (let bit = 0; bit < 64; bit++) votes[bit]! += (hash[bit >> 3]! >> (7 - (bit & 7))) & 1 ? 1 : -1;
  }
  const bytes = new Uint8Array(8);
  for (let bit = 0; bit < 64; bit++) if (votes[bit]! > 0) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Bits that differ between two fingerprints. */
export function fingerprintDistance(a: string, b: string): number {
  let distance = 0;
  for (let i = 0; i < 16; i += 4) {
    let x = parseInt(a.slice(i, i + 4), 16) ^ parseInt(b.slice(i, i + 4), 16);
    while (x) {
      distance += x & 1;
      x >>= 1;
    }
  }
  return distance;
}

export const fingerprintsMatch = (a: string, b: string) => fingerprintDistance(a, b) <= MAX_FINGERPRINT_DISTANCE;
