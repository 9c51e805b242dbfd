import type { Argon2idInput } from '../client/crypto/argon2id.js';
import type { Argon2idEngine } from '../client/crypto/argon2id-wasm.js';

// What the page and its Argon2id worker (kdf-worker.ts) say to each other. A worker may first be
// asked to get ready (load its engine, take its memory) while the user is still typing; then one
// derivation, one answer, and the page ends the worker. Type-only, so neither side's bundle
// carries the other's code.

export type KdfRequest = { kind: 'prepare'; memLimit: number } | ({ kind: 'derive' } & Argon2idInput);

export type KdfAnswer =
  | { kind: 'prepared' }
  | { kind: 'derived'; ok: true; key: Uint8Array; engine: Argon2idEngine }
  | { kind: 'derived'; ok: false; error: string };
