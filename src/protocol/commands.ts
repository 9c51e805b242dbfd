import { utf8 } from './encoding.js';

// The Find Device command message: what the owner signs with the account's Ed25519 command key
// and the device verifies, so the server can relay and store commands but cannot forge, alter,
// re-target, replay or prolong them (docs/CRYPTO.md §10). The server checks the same signature
// on arrival. The expiry is signed: a lost phone is usually offline when its owner acts, so the
// device carries a command out however late it arrives, until the moment the owner chose.

export const COMMAND_TYPES = ['ring', 'stop-ring', 'lock', 'unlock', 'locate', 'wipe'] as const;
export type CommandType = (typeof COMMAND_TYPES)[number];

export const COMMAND_MESSAGE_PREFIX = 'homing/v2/command\n';
export const COMMAND_SIGNATURE_BYTES = 64;

const DAY = 86_400_000;
/** What the owner's clients sign when no expiry is chosen. */
export const DEFAULT_COMMAND_LIFETIME_MS = 7 * DAY;
/** The longest a command may stay valid: a wipe signed today must not surface next year. */
export const MAX_COMMAND_LIFETIME_MS = 30 * DAY;

export interface CommandFields {
  deviceId: string;
  type: CommandType;
  /** Unix ms. */
  issuedAt: number;
  /** Unix ms, after issuedAt and at most MAX_COMMAND_LIFETIME_MS later. */
  expiresAt: number;
  /** Integer ≥ 1, strictly increasing per device. */
  counter: number;
  /** The exact JSON text that is sent and signed. */
  args: string;
}

/** What POST /v1/devices/{deviceId}/commands takes. */
export interface SignedCommand {
  type: CommandType;
  args: string;
  issuedAt: number;
  expiresAt: number;
  counter: number;
  /** base64url of the 64-byte Ed25519 signature. */
  signature: string;
}

export const isCommandType = (value: unknown): value is CommandType =>
  typeof value === 'string' && (COMMAND_TYPES as readonly string[]).includes(value);

export const isNonNegativeInteger = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/** Why an expiry is out of bounds for its issuedAt, or null when it is fine. */
export function expiryProblem(issuedAt: number, expiresAt: unknown): string | null {
  if (!isNonNegativeInteger(expiresAt)) return 'expiresAt must be a non-negative integer (Unix ms)';
  if (expiresAt <= issuedAt) return 'expiresAt must be after issuedAt';
  if (expiresAt - issuedAt > MAX_COMMAND_LIFETIME_MS) return 'expiresAt must be at most 30 days after issuedAt';
  return null;
}

/**
 * utf8("homing/v2/command\n" + deviceId + "\n" + type + "\n" + issuedAt + "\n" + expiresAt + "\n"
 *      + counter + "\n" + args).
 * The numbers are plain decimal integers. args comes last, so it alone may contain newlines.
 */
export function commandMessage(c: CommandFields): Uint8Array {
  // A newline in deviceId or type would let two different commands sign the same bytes.
  if (typeof c.deviceId !== 'string' || c.deviceId.length === 0 || c.deviceId.includes('\n')) {
    throw new Error('command: deviceId must be a non-empty string without newlines');
  }
  if (!isCommandType(c.type)) throw new Error(`command: type must be one of ${COMMAND_TYPES.join(', ')}`);
  if (!isNonNegativeInteger(c.issuedAt)) throw new Error('command: issuedAt must be a non-negative integer (Unix ms)');
  const expiry = expiryProblem(c.issuedAt, c.expiresAt);
  if (expiry) throw new Error(`command: ${expiry}`);
  if (!isNonNegativeInteger(c.counter) || c.counter < 1) throw new Error('command: counter must be an integer ≥ 1');
  if (typeof c.args !== 'string') throw new Error('command: args must be a string');
  return utf8(`${COMMAND_MESSAGE_PREFIX}${c.deviceId}\n${c.type}\n${c.issuedAt}\n${c.expiresAt}\n${c.counter}\n${c.args}`);
}
