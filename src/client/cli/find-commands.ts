import type { ApiClient, Command } from '../api.js';
import { derivePasswordSecrets, unlockWithPassword } from '../crypto/account-keys.js';
import { createCommandVerifier, openLockArgs } from '../crypto/commands.js';
import { fromBase64Url } from '../../protocol/encoding.js';
import { type LocationFix, sealLocation } from '../crypto/location.js';
import { readSecret } from './prompt.js';
import type { CliState } from './state.js';

// The phone's side of Find Device, so the whole story can be shown without a phone: report where
// it is, then wait for the owner's signed commands, check each one, carry it out and answer.

const DEFAULT_START = { lat: 51.5007, lon: -0.1246 };

export interface FindFlags {
  lat?: string;
  lon?: string;
  accuracy?: string;
  walk?: string;
  wait?: string;
  once?: boolean;
}

function requireDevice(state: CliState) {
  if (!state.deviceToken || !state.deviceId || !state.x25519PublicKey || !state.ed25519PublicKey) {
    throw new Error('this CLI is not registered as a device: run `register --name …` first');
  }
  return { deviceId: state.deviceId, x25519PublicKey: fromBase64Url(state.x25519PublicKey), ed25519PublicKey: fromBase64Url(state.ed25519PublicKey) };
}

const number = (value: string | undefined, name: string) => {
  const parsed = Number(value);
  if (value === undefined || !Number.isFinite(parsed)) throw new Error(`--${name} must be a number`);
  return parsed;
};

/** A walk of `steps` fixes a minute apart, ending now: a phone that was offline, then reconnected. */
export function simulatedWalk(start: { lat: number; lon: number }, steps: number, now = Date.now()): LocationFix[] {
  return Array.from({ length: steps }, (_, i) => {
    const angle = i * 0.7;
    return {
      lat: start.lat + 0.0004 * i * Math.cos(angle),
      lon: start.lon + 0.0006 * i * Math.sin(angle),
      accuracy: 8 + (i % 4) * 6,
      source: 'simulated' as const,
      battery: Math.max(5, 90 - i),
      measuredAt: now - (steps - 1 - i) * 60_000,
    };
  });
}

export async function reportLocation(api: ApiClient, state: CliState, flags: FindFlags) {
  const { x25519PublicKey } = requireDevice(state);
  let fixes: LocationFix[];
  if (flags.walk !== undefined) {
    const steps = number(flags.walk, 'walk');
    if (!Number.isInteger(steps) || steps < 1 || steps > 100) throw new Error('--walk takes 1 to 100 steps');
    const start = flags.lat !== undefined ? { lat: number(flags.lat, 'lat'), lon: number(flags.lon, 'lon') } : (state.lastFix ?? DEFAULT_START);
    fixes = simulatedWalk(start, steps);
  } else {
    const accuracy = flags.accuracy === undefined ? 10 : number(flags.accuracy, 'accuracy');
    fixes = [{ lat: number(flags.lat, 'lat'), lon: number(flags.lon, 'lon'), accuracy, source: 'manual', battery: null, measuredAt: Date.now() }];
  }
  const { accepted } = await api.reportLocations(fixes.map((fix) => sealLocation(fix, x25519PublicKey)));
  const last = fixes.at(-1)!;
  console.log(`reported ${accepted} location${accepted === 1 ? '' : 's'}; last ${last.lat.toFixed(5)}, ${last.lon.toFixed(5)} (±${last.accuracy} m)`);
  return { lastFix: { lat: last.lat, lon: last.lon } };
}

/**
 * Waits for commands and answers each. Nothing the server sends is trusted: a command is carried
 * out only if the owner's key signed it for this device with a counter above every earlier one.
 */
export async function pollCommands(api: ApiClient, state: CliState, flags: FindFlags, save: (changes: Partial<CliState>) => void) {
  const device = requireDevice(state);
  const verifier = createCommandVerifier({ deviceId: device.deviceId, ed25519PublicKey: device.ed25519PublicKey, lastCounter: state.commandCounter ?? 0 });
  const wait = flags.wait === undefined ? 25 : number(flags.wait, 'wait');
  console.log(`waiting for commands for ${device.deviceId}${flags.once ? '' : ' (Ctrl-C to stop)'}`);
  for (;;) {
    const { commands } = await api.pollCommands(wait);
    for (const command of commands) {
      const verdict = verifier.verify(command);
      if (!verdict.ok) {
        console.log(`refused ${command.type} (${command.id}): ${verdict.reason}`);
        await api.ackCommand(command.id, 'rejected', verdict.reason);
        continue;
      }
      save({ commandCounter: verifier.lastCounter() });
      const result = await carryOut(api, state, command, verdict.args);
      await api.ackCommand(command.id, 'succeeded', result);
      console.log(`acknowledged ${command.type}: ${result}`);
    }
    if (flags.once) return;
  }
}

async function carryOut(api: ApiClient, state: CliState, command: Command, args: unknown) {
  switch (command.type) {
    case 'ring':
      console.log('\u0007RING! RING! (this device is ringing)');
      return 'ringing';
    case 'stop-ring':
      console.log('stopped ringing');
      return 'stopped';
    case 'lock': {
      const keys = await unlockAccount(api, state);
      const { message, callbackNumber } = openLockArgs(args, keys.x25519PublicKey, keys.x25519SecretKey);
      console.log(`LOCKED. Lock screen: "${message}"${callbackNumber ? ` — call ${callbackNumber}` : ''}`);
      return 'locked';
    }
    case 'locate': {
      const here = state.lastFix ?? DEFAULT_START;
      await reportLocation(api, state, { lat: String(here.lat), lon: String(here.lon), accuracy: '15' });
      return 'location reported';
    }
    case 'wipe':
      console.log('WIPE requested and verified: a phone would now erase itself (the CLI only says so)');
      return 'wiped';
  }
}

/** The lock message is sealed to the account key, so opening it needs the password. */
async function unlockAccount(api: ApiClient, state: CliState) {
  const bundle = await api.keyBundle();
  const password = await readSecret('Password (to open the lock message)', 'HOMING_PASSWORD');
  const secrets = await derivePasswordSecrets(password, { ...bundle.kdf, salt: fromBase64Url(bundle.kdf.salt) });
  return unlockWithPassword({ accountId: state.accountId!, ...bundle }, secrets.kek);
}

export async function setFind(api: ApiClient, enabled: boolean) {
  const device = await api.setThisDeviceFind(enabled);
  console.log(`Find Device is ${device.findEnabled ? 'on' : 'off'} for ${device.name}${enabled ? '' : '; its stored locations were deleted'}`);
}
