import type { Command, Device } from './api.js';
import { COMMAND_NAMES, dateTime, timeAgo } from './format.js';

// What state a device is in, as the owner should see it: wiped, in Lost Mode, offline. Pure (no
// DOM), so it is unit-tested in Node. The server keeps no "wiped" flag on the device: a wipe is a
// command the phone answered, so it is read from the device's commands.

const MINUTE = 60_000;

/**
 * A phone that is on and online checks in (polls for commands, reports) well within this; the
 * server notes its last check-in to the minute. Longer silence reads as "offline since …".
 */
export const OFFLINE_AFTER_MS = 30 * MINUTE;

/**
 * The server's last-seen time moves at most once a minute, so a check-in just after the wipe
 * answer can still be the wiping phone's own; one later than this is a phone set up again.
 */
const SEEN_AFTER_WIPE_MS = 2 * MINUTE;

/**
 * When the phone confirmed a wipe, or null. A phone set up again after a wipe comes back under the
 * same device id with a new token: once it checks in, or answers a later command, it is no longer
 * the wiped phone.
 */
export function wipedAt(commands: readonly Command[], lastSeenAt: number | null): number | null {
  const wipes = commands.filter((c) => c.type === 'wipe' && c.status === 'succeeded' && c.acknowledgedAt !== null);
  if (wipes.length === 0) return null;
  const at = Math.max(...wipes.map((c) => c.acknowledgedAt!));
  const answeredSince = commands.some((c) => c.type !== 'wipe' && c.acknowledgedAt !== null && c.acknowledgedAt > at);
  const seenSince = lastSeenAt !== null && lastSeenAt > at + SEEN_AFTER_WIPE_MS;
  return answeredSince || seenSince ? null : at;
}

export interface DeviceCondition {
  /** When the phone confirmed the wipe; a wiped phone is neither lost nor offline any more, just gone. */
  wipedAt: number | null;
  lostSince: number | null;
  offlineSince: number | null;
}

export function deviceCondition(device: Pick<Device, 'lastSeenAt' | 'lostMode'>, wiped: number | null, now: number): DeviceCondition {
  if (wiped !== null) return { wipedAt: wiped, lostSince: null, offlineSince: null };
  const offline = device.lastSeenAt !== null && now - device.lastSeenAt > OFFLINE_AFTER_MS;
  return { wipedAt: null, lostSince: device.lostMode?.since ?? null, offlineSince: offline ? device.lastSeenAt : null };
}

/** "offline since 1 Nov 2026, 10:32 (2 h ago)", "last seen 5 min ago" or "never seen". */
export function seenText(device: Pick<Device, 'lastSeenAt'>, condition: DeviceCondition, now: number): string {
  if (condition.offlineSince !== null) return `offline since ${dateTime(condition.offlineSince)} (${timeAgo(condition.offlineSince, now)})`;
  return device.lastSeenAt === null ? 'never seen' : `last seen ${timeAgo(device.lastSeenAt, now)}`;
}

/** The short marks the device list shows next to a device. */
export function conditionBadges(condition: DeviceCondition): { kind: 'wiped' | 'lost'; text: string }[] {
  if (condition.wipedAt !== null) return [{ kind: 'wiped', text: 'Wiped' }];
  return condition.lostSince !== null ? [{ kind: 'lost', text: 'Lost Mode' }] : [];
}

/** Why the command buttons are off for a wiped phone, for the detail view. */
export const wipedText = (at: number, now: number) =>
  `Wiped ${dateTime(at)} (${timeAgo(at, now)}): the phone confirmed it erased everything, this account's keys with it, so it can no longer be found or take commands. Commands are off. If it is set up again and signs in to this account, it shows here as working once it checks in.`;

const OUTCOME_TEXT: Partial<Record<Command['status'], string>> = {
  succeeded: 'done',
  failed: 'failed on the phone',
  rejected: 'refused by the phone',
  expired: 'expired before the phone answered',
  cancelled: 'cancelled',
};

/**
 * The commands that reached an outcome between two lists of the same device's commands: only
 * ones already seen unanswered before, so opening a device announces nothing old.
 */
export function newOutcomes(before: readonly Command[], after: readonly Command[]): Command[] {
  const was = new Map(before.map((c) => [c.id, c.status]));
  return after.filter((c) => {
    const previous = was.get(c.id);
    return (previous === 'pending' || previous === 'delivered') && OUTCOME_TEXT[c.status] !== undefined;
  });
}

/** "Ring on Ada's Pixel: done (ring done)." — what the live region says when a command ends. */
export function outcomeText(command: Pick<Command, 'type' | 'status' | 'result'>, deviceName: string): string {
  const name = COMMAND_NAMES[command.type] ?? command.type;
  const result = command.result ? ` (${command.result})` : '';
  return `${name} on ${deviceName}: ${OUTCOME_TEXT[command.status] ?? command.status}${result}.`;
}
