import type { Argon2idInput } from '../client/crypto/argon2id.js';
import type { Argon2idEngine } from '../client/crypto/argon2id-wasm.js';

// What the page and its Argon2id worker (kdf-worker.ts) say to each other: one request, one answer,
// then the page ends the worker. Type-only, so neither side's bundle carries the other's code.

export type KdfRequest = Argon2idInput;

export type KdfAnswer = { ok: true; key: Uint8Array; engine: Argon2idEngine } | { ok: false; error: string };
