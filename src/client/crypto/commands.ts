import { boxSeal, boxSealOpen } from './box-seal.js';
import {
  COMMAND_SIGNATURE_BYTES,
  commandMessage,
  DEFAULT_COMMAND_LIFETIME_MS,
  expiryProblem,
  isCommandType,
  isNonNegativeInteger,
  type CommandFields,
  type CommandType,
  type SignedCommand,
} from '../../protocol/commands.js';
import { EncodingError, fromBase64Url, parseUtf8Json, toBase64Url, utf8 } from '../../protocol/encoding.js';
import { signDetached, verifyDetached } from '../../protocol/signing.js';

// Signing commands (the owner's side) and verifying them (the device's side); the message format
// itself is in src/protocol/commands.ts.

export {
  COMMAND_TYPES,
  commandMessage,
  DEFAULT_COMMAND_LIFETIME_MS,
  isCommandType,
  MAX_COMMAND_LIFETIME_MS,
  type CommandFields,
  type CommandType,
  type SignedCommand,
} from '../../protocol/commands.js';

/** The counter the API recommends: above every earlier one, and near the clock so it survives lost state. */
export function nextCommandCounter(previous: number | undefined, now: number = Date.now()): number {
  return Math.max((previous ?? 0) + 1, Math.floor(now), 1);
}

/**
 * Serializes args with JSON.stringify exactly once and signs that very string, which is what gets
 * sent: re-serializing on the way could change the bytes and break the signature.
 */
export function signCommand(
  input: { deviceId: string; type: CommandType; args: object; issuedAt?: number; expiresAt?: number; counter: number },
  ed25519Seed: Uint8Array,
): SignedCommand {
  if (typeof input.args !== 'object' || input.args === null || Array.isArray(input.args)) {
    throw new Error('command: args must be a JSON object ({} for none)');
  }
  const args = JSON.stringify(input.args);
  if (typeof args !== 'string' || !args.startsWith('{')) {
    throw new Error('command: args must serialize to a JSON object');
  }
  if (!(ed25519Seed instanceof Uint8Array) || ed25519Seed.length !== 32) {
    throw new Error('command: ed25519 seed must be 32 bytes');
  }
  const issuedAt = input.issuedAt ?? Date.now();
  const fields: CommandFields = {
    deviceId: input.deviceId,
    type: input.type,
    issuedAt,
    expiresAt: input.expiresAt ?? issuedAt + DEFAULT_COMMAND_LIFETIME_MS,
    counter: input.counter,
    args,
  };
  const signature = signDetached(ed25519Seed, commandMessage(fields));
  return {
    type: fields.type,
    args,
    issuedAt,
    expiresAt: fields.expiresAt,
    counter: fields.counter,
    signature: toBase64Url(signature),
  };
}

// ── lock arguments ─────────────────────────────────────────────────────────────────────────────

export interface LockArgs {
  /** Shown on the lock screen. */
  message: string;
  /** A number the finder can call, or null. */
  callbackNumber: string | null;
}

function validateLockArgs(value: unknown): LockArgs {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('lock args: must be a JSON object');
  }
  const { message, callbackNumber } = value as Record<string, unknown>;
  if (typeof message !== 'string') throw new Error('lock args: message must be a string');
  if (callbackNumber !== null && typeof callbackNumber !== 'string') {
    throw new Error('lock args: callbackNumber must be a string or null');
  }
  return { message, callbackNumber };
}

/**
 * The lock message and callback number are sealed to the account's X25519 key, like location
 * reports, so the server relays them without reading them. Pass the result as signCommand's args.
 */
export function sealLockArgs(
  lock: { message: string; callbackNumber?: string | null },
  accountX25519PublicKey: Uint8Array,
): { sealed: string } {
  const plain = validateLockArgs({ message: lock.message, callbackNumber: lock.callbackNumber ?? null });
  return { sealed: toBase64Url(boxSeal(utf8(JSON.stringify(plain)), accountX25519PublicKey)) };
}

/** Opens lock args on the device (which holds the account's X25519 key pair). Throws on any failure. */
export function openLockArgs(args: unknown, publicKey: Uint8Array, secretKey: Uint8Array): LockArgs {
  const sealed = typeof args === 'object' && args !== null ? (args as { sealed?: unknown }).sealed : undefined;
  if (typeof sealed !== 'string') throw new Error('lock args: expected {"sealed": "<base64url>"}');
  const parsed = parseUtf8Json(boxSealOpen(fromBase64Url(sealed), publicKey, secretKey));
  if (!parsed) throw new Error('lock args: plaintext is not UTF-8 JSON');
  return validateLockArgs(parsed.value);
}

// ── device-side verification ───────────────────────────────────────────────────────────────────

/** A command as the device receives it (the server's Command object has more fields; they are ignored). */
export interface ReceivedCommand {
  deviceId: string;
  type: string;
  args: string;
  issuedAt: number;
  /** Absent on a command in the v1 format, which is refused as old-format. */
  expiresAt?: number;
  counter: number;
  signature: string;
}

export type CommandRejection =
  | 'malformed'
  | 'old-format'
  | 'other-device'
  | 'bad-signature'
  | 'replayed'
  | 'already-done'
  | 'expired';

export type CommandVerdict =
  | { ok: true; type: CommandType; args: unknown; counter: number; expiresAt: number }
  | { ok: false; reason: CommandRejection };

/** How many recently accepted counters the device remembers, to recognise a redelivery. */
export const RECENT_COUNTERS_KEPT = 64;

export interface CommandVerifier {
  verify(command: ReceivedCommand): CommandVerdict;
  /** Highest accepted counter; persist it (with recentCounters) after every accepted command, before acting. */
  lastCounter(): number;
  /** The counters accepted most recently, oldest first, at most RECENT_COUNTERS_KEPT. */
  recentCounters(): number[];
}

/**
 * The device's rule for what it carries out. Checks, in order: well-formed fields and a 64-byte
 * base64url signature (else malformed); an expiresAt at all (else old-format: the v1 format had
 * none, and its commands are refused); deviceId is ours (else other-device); the signature over
 * commandMessage with our own deviceId (else bad-signature); args is a JSON object (else
 * malformed); counter > lastCounter (else already-done when we accepted that very counter
 * recently, replayed otherwise); now < expiresAt (else expired). How long after issuedAt it
 * arrives does not matter: the signed counter stops replays, the signed expiry stops late use.
 * Only an accepted command raises lastCounter. No I/O; time comes from `now`.
 */
export function createCommandVerifier(input: {
  deviceId: string;
  ed25519PublicKey: Uint8Array;
  lastCounter?: number;
  recentCounters?: number[];
  now?: () => number;
}): CommandVerifier {
  const { deviceId, ed25519PublicKey } = input;
  const now = input.now ?? Date.now;
  let last = input.lastCounter ?? 0;
  const recent = [...(input.recentCounters ?? [])];
  if (typeof deviceId !== 'string' || deviceId.length === 0 || deviceId.includes('\n')) {
    throw new Error('command verifier: deviceId must be a non-empty string without newlines');
  }
  if (!(ed25519PublicKey instanceof Uint8Array) || ed25519PublicKey.length !== 32) {
    throw new Error('command verifier: ed25519PublicKey must be 32 bytes');
  }
  if (!isNonNegativeInteger(last)) throw new Error('command verifier: lastCounter must be a non-negative integer');
  if (!recent.every((c) => isNonNegativeInteger(c) && c >= 1 && c <= last)) {
    throw new Error('command verifier: recentCounters must be integers from 1 to lastCounter');
  }

  function verify(command: ReceivedCommand): CommandVerdict {
    const reject = (reason: CommandRejection): CommandVerdict => ({ ok: false, reason });
    if (typeof command !== 'object' || command === null) return reject('malformed');
    const { type, args, issuedAt, expiresAt, counter, signature } = command;
    if (
      typeof command.deviceId !== 'string' ||
      !isCommandType(type) ||
      typeof args !== 'string' ||
      !isNonNegativeInteger(issuedAt) ||
      !isNonNegativeInteger(counter) ||
      counter < 1 ||
      typeof signature !== 'string'
    ) {
      return reject('malformed');
    }
    let signatureBytes: Uint8Array;
    try {
      signatureBytes = fromBase64Url(signature);
    } catch (error) {
      if (error instanceof EncodingError) return reject('malformed');
      throw error;
    }
    if (signatureBytes.length !== COMMAND_SIGNATURE_BYTES) return reject('malformed');
    if (expiresAt === undefined) return reject('old-format');
    if (expiryProblem(issuedAt, expiresAt)) return reject('malformed');
    if (command.deviceId !== deviceId) return reject('other-device');

    // Our own deviceId goes into the message, so a command signed for another device never verifies.
    const message = commandMessage({ deviceId, type, issuedAt, expiresAt, counter, args });
    if (!verifyDetached(ed25519PublicKey, message, signatureBytes)) return reject('bad-signature');

    let parsed: unknown;
    try {
      parsed = JSON.parse(args);
    } catch {
      return reject('malformed');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return reject('malformed');

    // A redelivery (the acknowledgement was lost) is recognised, never run twice: checked before
    // the expiry so a late redelivery is still answered as done.
    if (counter <= last) return reject(recent.includes(counter) ? 'already-done' : 'replayed');
    if (now() >= expiresAt) return reject('expired');
    last = counter;
    recent.push(counter);
    if (recent.length > RECENT_COUNTERS_KEPT) recent.splice(0, recent.length - RECENT_COUNTERS_KEPT);
    return { ok: true, type, args: parsed, counter, expiresAt };
  }

  return { verify, lastCounter: () => last, recentCounters: () => [...recent] };
}
