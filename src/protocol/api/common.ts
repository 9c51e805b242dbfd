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
