import { proveIdentity } from '../account.js';
import type { ApiClient } from '../api.js';
import { derivePasswordSecrets, unlockWithPassword } from '../crypto/account-keys.js';
import {
  type CommandType,
  DEFAULT_COMMAND_LIFETIME_MS,
  isCommandType,
  MAX_COMMAND_LIFETIME_MS,
  nextCommandCounter,
  sealLockArgs,
  signCommand,
} from '../crypto/commands.js';
import { fromBase64Url } from '../../protocol/encoding.js';
import { readSecret } from './prompt.js';
import type { CliState } from './state.js';

// The owner's side of Find Device, as the web page does it: the command key is unwrapped here
// with the password, the command signed here, and the server only relays what was signed.

export interface OwnerCommandFlags {
  device?: string;
  expires?: string;
  message?: string;
  callback?: string;
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90s", "15m", "12h", "7d" → milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)([smhd])$/.exec(text.trim());
  if (!match) throw new Error(`--expires takes a number and a unit (s, m, h or d), e.g. 7d; not "${text}"`);
  return Number(match[1]) * UNITS[match[2]!]!;
}

/** Unwraps the account keys with the password; they stay in this process's memory only. */
export async function unlockAccount(api: ApiClient, state: CliState, password: string) {
  const bundle = await api.keyBundle();
  const secrets = await derivePasswordSecrets(password, { ...bundle.kdf, salt: fromBase64Url(bundle.kdf.salt) });
  return unlockWithPassword({ accountId: state.accountId!, ...bundle }, secrets.kek);
}

export async function sendOwnerCommand(api: ApiClient, state: CliState, type: string | undefined, flags: OwnerCommandFlags) {
  if (!isCommandType(type)) throw new Error('say which command: ring, stop-ring, lock, unlock, locate or wipe');
  const deviceId = flags.device;
  if (!deviceId) throw new Error('--device is required');
  const lifetime = flags.expires === undefined ? DEFAULT_COMMAND_LIFETIME_MS : parseDuration(flags.expires);
  if (lifetime < 1000 || lifetime > MAX_COMMAND_LIFETIME_MS) throw new Error('--expires must be between 1s and 30d');

  const password = await readSecret('Password (to unlock the command key)', 'HOMING_PASSWORD');
  const keys = await unlockAccount(api, state, password);
  try {
    // The server takes a wipe only within minutes of a fresh signed proof of the password.
    if (type === 'wipe') await api.reauthenticate(await proveIdentity(api, { email: state.email ?? (await api.account()).email, password }));
    const args =
      type === 'lock'
        ? sealLockArgs({ message: flags.message ?? 'This phone is lost. Please call the number below.', callbackNumber: flags.callback ?? null }, keys.x25519PublicKey)
        : {};
    // Above every counter the device has seen (the newest is listed first), and near the clock.
    const { commands } = await api.commands(deviceId);
    const issuedAt = Date.now();
    const counter = nextCommandCounter(commands[0]?.counter, issuedAt);
    const signed = signCommand({ deviceId, type: type as CommandType, args, issuedAt, expiresAt: issuedAt + lifetime, counter }, keys.ed25519Seed);
    const sent = await api.sendCommand(deviceId, signed);
    console.log(`sent ${type} to ${deviceId} (command ${sent.id}); the phone carries it out if it checks in before ${new Date(sent.expiresAt).toISOString()}`);
    return sent;
  } finally {
    keys.masterKey.fill(0);
    keys.ed25519Seed.fill(0);
    keys.x25519SecretKey.fill(0);
  }
}
