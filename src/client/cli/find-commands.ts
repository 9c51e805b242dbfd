import { type ApiClient, type Command, HomingApiError } from '../api.js';
import { type CommandVerifier, createCommandVerifier, openLockArgs, RECENT_COUNTERS_KEPT } from '../crypto/commands.js';
import { fromBase64Url } from '../../protocol/encoding.js';
import { type LocationFix, sealLocation } from '../crypto/location.js';
import { unlockAccount } from './owner-commands.js';
import { readSecret } from './prompt.js';
import { startPushWake } from './push-receiver.js';
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
  /** Register a Web Push endpoint and sleep between polls until a push (or --wait seconds) wakes the loop. */
  push?: boolean;
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

const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Worth waiting out: the network, a restarting server, an overloaded one. Anything else is an answer. */
const isTransient = (err: unknown) =>
  !(err instanceof HomingApiError) || err.status >= 500 || err.status === 429 || err.status === 408 || err.code === 'invalid_response';

/**
 * Waits for commands and answers each. Nothing the server sends is trusted: a command is carried
 * out only if the owner's key signed it for this device with a counter above every earlier one,
 * before its signed expiry. A phone is offline as often as not, so a lost connection or a server
 * restart is waited out with capped exponential backoff, never a reason to stop.
 */
export async function pollCommands(api: ApiClient, state: CliState, flags: FindFlags, save: (changes: Partial<CliState>) => void) {
  const device = requireDevice(state);
  const verifier = createCommandVerifier({
    deviceId: device.deviceId,
    ed25519PublicKey: device.ed25519PublicKey,
    lastCounter: state.commandCounter ?? 0,
    recentCounters: state.recentCommandCounters ?? [],
  });
  const wait = flags.wait === undefined ? 25 : number(flags.wait, 'wait');
  console.log(`waiting for commands for ${device.deviceId}${flags.once ? '' : ' (Ctrl-C to stop)'}`);
  const wake = flags.push ? await startPushWake(api) : undefined;
  let retryMs = RETRY_FIRST_MS;
  let showLostMode = true;
  for (let round = 0; ; round++) {
    try {
      if (wake && round > 0) await wake.next(wait * 1000);
      if (showLostMode) {
        const { lostMode } = await api.thisDevice();
        console.log(lostMode ? `this device is in Lost Mode since ${new Date(lostMode.since).toISOString()}` : 'this device is not in Lost Mode');
        showLostMode = false;
      }
      const { commands } = await api.pollCommands(wake ? 0 : wait);
      for (const command of commands) {
        await answer(api, state, verifier, command, save);
        if (command.type === 'lock' || command.type === 'unlock') showLostMode = true;
      }
      retryMs = RETRY_FIRST_MS;
    } catch (err) {
      if (flags.once || !isTransient(err)) throw err;
      // Whatever was carried out but not acknowledged is handed out again after its lease.
      console.error(`${(err as Error).message}; will retry in ${retryMs / 1000} s`);
      await sleep(retryMs);
      retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
      showLostMode = true;
      continue;
    }
    // With push, --once is: poll now, then once more after the first wake-up.
    if (flags.once && (!wake || round > 0)) return void (await wake?.close());
  }
}

/**
 * One command, answered exactly once in effect: the verifier's state is saved before acting, so
 * a redelivery (the acknowledgement was lost) is recognised as already-done and only acknowledged
 * again, with the result it had.
 */
async function answer(api: ApiClient, state: CliState, verifier: CommandVerifier, command: Command, save: (changes: Partial<CliState>) => void) {
  const verdict = verifier.verify(command);
  if (!verdict.ok && verdict.reason === 'already-done') {
    const earlier = state.unacknowledged?.[command.id] ?? { status: 'succeeded' as const, result: 'already carried out' };
    console.log(`already carried out ${command.type} (${command.id}); acknowledging it again`);
    await acknowledge(api, state, command.id, earlier, save);
    return;
  }
  if (!verdict.ok) {
    console.log(`refused ${command.type} (${command.id}): ${verdict.reason}`);
    await api.ackCommand(command.id, 'rejected', verdict.reason);
    return;
  }
  save({ commandCounter: verifier.lastCounter(), recentCommandCounters: verifier.recentCounters() });
  let outcome: Acknowledgement;
  try {
    outcome = { status: 'succeeded', result: await carryOut(api, state, command, verdict.args) };
  } catch (err) {
    outcome = { status: 'failed', result: (err as Error).message.slice(0, 200) };
  }
  // Bounded like the verifier's memory: an entry outlives its command only if its answer never got through.
  const kept = Object.entries(state.unacknowledged ?? {}).slice(-(RECENT_COUNTERS_KEPT - 1));
  save({ unacknowledged: { ...Object.fromEntries(kept), [command.id]: outcome } });
  await acknowledge(api, state, command.id, outcome, save);
  console.log(`acknowledged ${command.type}: ${outcome.status === 'failed' ? `failed: ${outcome.result}` : outcome.result}`);
}

type Acknowledgement = { status: 'succeeded' | 'failed'; result: string };

async function acknowledge(api: ApiClient, state: CliState, commandId: string, ack: Acknowledgement, save: (changes: Partial<CliState>) => void) {
  await api.ackCommand(commandId, ack.status, ack.result);
  const { [commandId]: _done, ...rest } = state.unacknowledged ?? {};
  save({ unacknowledged: rest });
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
      // The lock message is sealed to the account key, so opening it needs the password.
      const keys = await unlockAccount(api, state, await readSecret('Password (to open the lock message)', 'HOMING_PASSWORD'));
      const { message, callbackNumber } = openLockArgs(args, keys.x25519PublicKey, keys.x25519SecretKey);
      console.log(`LOCKED. Lock screen: "${message}"${callbackNumber ? ` — call ${callbackNumber}` : ''}`);
      return 'locked';
    }
    case 'unlock':
      console.log('UNLOCKED: Lost Mode ended, the lock screen message is gone');
      return 'unlocked';
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

export async function setFind(api: ApiClient, enabled: boolean) {
  const device = await api.setThisDeviceFind(enabled);
  console.log(`Find Device is ${device.findEnabled ? 'on' : 'off'} for ${device.name}${enabled ? '' : '; its stored locations were deleted'}`);
}
