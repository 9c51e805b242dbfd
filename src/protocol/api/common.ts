import { z } from 'zod';

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Bytes carried as base64url without padding, with their exact length checked. */
export function base64urlBytes(bytes: number, description: string) {
  const chars = Math.ceil((bytes * 4) / 3);
  return z
    .string()
    .length(chars, `must be ${bytes} bytes in base64url (${chars} characters)`)
    .regex(BASE64URL, 'must be base64url without padding')
    .meta({ description, example: 'A'.repeat(chars) });
}

export const SEALED_KEY_BYTES = 24 + 32 + 16; // XChaCha20 nonce + 32-byte key + Poly1305 tag

export const sealedKey = (description: string) => base64urlBytes(SEALED_KEY_BYTES, description);
export const publicKey = (description: string) => base64urlBytes(32, description);

export const id = (description: string) =>
  z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'must be a 22-character id').meta({ description, example: 'q3XbUoXQk0Rk2xXm3oQy1A' });

export const timestamp = (description: string) =>
  z.number().int().meta({ description: `${description} (Unix milliseconds)`, example: 1767225600000 });

// C0/C1 controls (NUL among them), and the bidirectional overrides and isolates that can make a
// name shown in a list read as something else ("evil\u202Egnp.exe").
const UNSAFE_TEXT = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

// The same, but a message may run over lines.
const UNSAFE_MESSAGE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** A message a device writes for its owner to read (a command's result): up to `max` characters, lines and tabs allowed, nothing that reorders or hides text. */
export const shownMessage = (max: number) =>
  z
    .string()
    .max(max)
    .refine((text) => !UNSAFE_MESSAGE.test(text), 'must not contain control characters other than newlines and tabs, or bidirectional overrides');

/** A short name people see (a device's, say): trimmed, 1 to `max` characters, nothing invisible that reorders or hides text. */
export const displayName = (max: number, example: string) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((text) => !UNSAFE_TEXT.test(text), 'must not contain control characters or bidirectional overrides')
    .meta({ example });
