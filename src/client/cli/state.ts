import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { MessagingKeyPair } from '../crypto/messages.js';
import type { BlocklistCache } from '../spam.js';
import type { DeviceKeys } from '../../protocol/messages.js';

/** What the CLI remembers between runs. Tokens are secrets, so the file is owner-only. */
export interface CliState {
  server?: string;
  email?: string;
  accountId?: string;
  sessionToken?: string;
  /** From the last login (htc_…): sent with later logins so a flood of strangers' attempts cannot lock this device out. */
  trustedClient?: string;
  hardwareId?: string;
  deviceId?: string;
  deviceToken?: string;
  /** The account's public keys: locations are sealed to the first, commands verified with the second. */
  x25519PublicKey?: string;
  ed25519PublicKey?: string;
  /** The highest command counter this device accepted; anything at or below it is a replay… */
  commandCounter?: number;
  /** …or, when it is one of these recently accepted counters, a redelivery of a command already carried out. */
  recentCommandCounters?: number[];
  /** Results carried out but not yet acknowledged, by command id: a redelivery is answered with them. */
  unacknowledged?: Record<string, { status: 'succeeded' | 'failed'; result: string }>;
  lastFix?: { lat: number; lon: number };
  /** The SIM event waiting for its code. */
  simEventId?: string;
  /** The server's receipt-signing key, pinned when first seen: receipts are verified against it. */
  receiptKey?: string;
  /** While messaging is on: the number and this device's messaging keys. The secret halves exist only here. */
  messaging?: { number: string; keys: MessagingKeyPair };
  /** Each number's device keys as last seen, so a change (a new phone, or keys a server substituted) is told. */
  keyBook?: Record<string, DeviceKeys[]>;
  /** Ids of the last messages shown, oldest first and bounded: a copy delivered again is not shown twice. */
  seenMessages?: string[];
  /** The spam blocklist as last downloaded; `spam check` matches against it here, on the device. */
  spamBlocklist?: BlocklistCache;
}

export const defaultStatePath = () =>
  process.env.HOMING_CLI_STATE ?? join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'homing', 'cli.json');

export function loadState(path: string): CliState {
  if (!existsSync(path)) return {};
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as CliState;
  } catch {
    throw new Error(`${path} is not valid JSON; delete it to start over`);
  }
}

export function saveState(path: string, state: CliState) {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
}
