export class EncodingError extends Error {
  override name = 'EncodingError';
}

const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const BASE64URL_VALUES = new Map([...BASE64URL_ALPHABET].map((char, value) => [char, value]));

/** RFC 4648 §5 base64url without padding (libsodium base64_variants.URLSAFE_NO_PADDING). */
export function toBase64Url(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const chunk = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const charCount = Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6));
    for (let c = 0; c < charCount; c++) {
      text += BASE64URL_ALPHABET[(chunk >> (18 - 6 * c)) & 63];
    }
  }
  return text;
}

/**
 * Strict inverse of toBase64Url. Like libsodium's sodium_base642bin, it also rejects
 * non-zero leftover bits, so every byte string has exactly one accepted encoding.
 */
export function fromBase64Url(text: string): Uint8Array {
  if (text.length % 4 === 1) throw new EncodingError('base64url: impossible length');
  const bytes = new Uint8Array(Math.floor((text.length * 6) / 8));
  let buffer = 0;
  let bufferedBits = 0;
  let offset = 0;
  for (const char of text) {
    const value = BASE64URL_VALUES.get(char);
    if (value === undefined) throw new EncodingError('base64url: invalid character');
    buffer = ((buffer << 6) | value) & 0xfff;
    bufferedBits += 6;
    if (bufferedBits >= 8) {
      bufferedBits -= 8;
      bytes[offset++] = (buffer >> bufferedBits) & 0xff;
    }
  }
  if ((buffer & ((1 << bufferedBits) - 1)) !== 0) {
    throw new EncodingError('base64url: non-canonical trailing bits');
  }
  return bytes;
}

const textEncoder = new TextEncoder();

export function utf8(text: string): Uint8Array {
  return textEncoder.encode(text);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const result = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    result.set(part, offset);
    offset += part.length;
  }
  return result;
}

// getRandomValues refuses more than 65536 bytes per call.
const MAX_RANDOM_CHUNK = 65536;

export function randomBytes(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`randomBytes: bad length ${n}`);
  const bytes = new Uint8Array(n);
  for (let offset = 0; offset < n; offset += MAX_RANDOM_CHUNK) {
    crypto.getRandomValues(bytes.subarray(offset, offset + MAX_RANDOM_CHUNK));
  }
  return bytes;
}

/**
 * Compares secrets in constant time in their contents, so the time taken reveals nothing of where
 * they differ. Lengths are not secret (every caller compares fixed-length values). Strings are
 * compared as their UTF-8 bytes. The one comparison for secrets in homing, server and SDK alike.
 */
export function constantTimeEqual(left: Uint8Array | string, right: Uint8Array | string): boolean {
  const a = typeof left === 'string' ? utf8(left) : left;
  const b = typeof right === 'string' ? utf8(right) : right;
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ b[i]!;
  return difference === 0;
}

/** Strict UTF-8 JSON (invalid byte sequences are an error, not U+FFFD), or undefined if it is not. */
export function parseUtf8Json(bytes: Uint8Array): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) };
  } catch {
    return undefined;
  }
}
