import { describe, expect, it } from 'vitest';
import type { Command } from '../../src/client/api.js';
import { deviceCondition, newOutcomes, OFFLINE_AFTER_MS, outcomeText, seenText, wipedAt } from '../../src/web/device-state.js';

// The page's reading of a device's state (src/web/device-state.ts), in Node: what the server
// records, turned into "Wiped", "Lost Mode" and "offline since …".

const MIN = 60_000;
const NOW = Date.UTC(2026, 10, 1, 12);

function command(fields: Partial<Command> & Pick<Command, 'type' | 'status'>): Command {
  return {
    id: `c-${Math.random().toString(36).slice(2)}`,
    deviceId: 'd1',
    args: '',
    issuedAt: NOW - 60 * MIN,
    expiresAt: NOW + 60 * MIN,
    counter: 1,
    signature: '',
    result: null,
    createdAt: NOW - 60 * MIN,
    deliveredAt: null,
    deliveries: 0,
    leaseUntil: null,
    acknowledgedAt: null,
    ...fields,
  } as Command;
}

describe('a wiped phone, read from its commands', () => {
  const wipe = command({ type: 'wipe', status: 'succeeded', acknowledgedAt: NOW - 30 * MIN });

  it('a wipe the phone confirmed is wiped from that moment; one only sent, or refused, is not', () => {
    expect(wipedAt([wipe], NOW - 30 * MIN)).toBe(NOW - 30 * MIN);
    expect(wipedAt([command({ type: 'wipe', status: 'pending' })], NOW)).toBeNull();
    expect(wipedAt([command({ type: 'wipe', status: 'rejected', acknowledgedAt: NOW - MIN })], NOW)).toBeNull();
    expect(wipedAt([command({ type: 'ring', status: 'succeeded', acknowledgedAt: NOW - MIN })], NOW)).toBeNull();
  });

  it('the same phone set up again after the wipe (seen later, or answering a later command) is no longer shown wiped', () => {
    // The wiping phone's own check-in at its answer, to the minute, still counts as the wipe.
    expect(wipedAt([wipe], NOW - 29 * MIN)).toBe(NOW - 30 * MIN);
    expect(wipedAt([wipe], NOW - 10 * MIN)).toBeNull();
    expect(wipedAt([wipe, command({ type: 'ring', status: 'succeeded', acknowledgedAt: NOW - 20 * MIN })], NOW - 30 * MIN)).toBeNull();
    // Commands sent after the wipe and never answered change nothing.
    expect(wipedAt([wipe, command({ type: 'ring', status: 'pending' })], NOW - 30 * MIN)).toBe(NOW - 30 * MIN);
  });
});

describe('device condition', () => {
  const device = (lastSeenAt: number | null, lostSince?: number) => ({ lastSeenAt, lostMode: lostSince === undefined ? null : { since: lostSince } });

  it(`a phone silent for more than ${OFFLINE_AFTER_MS / MIN} minutes is offline since it was last seen; one never seen is not called offline`, () => {
    expect(deviceCondition(device(NOW - OFFLINE_AFTER_MS), null, NOW).offlineSince).toBeNull();
    expect(deviceCondition(device(NOW - OFFLINE_AFTER_MS - MIN), null, NOW).offlineSince).toBe(NOW - OFFLINE_AFTER_MS - MIN);
    expect(deviceCondition(device(null), null, NOW).offlineSince).toBeNull();
    const twoHours = device(NOW - 120 * MIN);
    expect(seenText(twoHours, deviceCondition(twoHours, null, NOW), NOW)).toMatch(/^offline since .+ \(2 h ago\)$/);
    expect(seenText(device(NOW - 5 * MIN), deviceCondition(device(NOW - 5 * MIN), null, NOW), NOW)).toBe('last seen 5 min ago');
  });

  it('a wiped phone is shown as wiped only: not as lost or offline any more', () => {
    expect(deviceCondition(device(NOW - 300 * MIN, NOW - 400 * MIN), NOW - 300 * MIN, NOW)).toEqual({ wipedAt: NOW - 300 * MIN, lostSince: null, offlineSince: null });
    expect(deviceCondition(device(NOW - 300 * MIN, NOW - 400 * MIN), null, NOW)).toEqual({ wipedAt: null, lostSince: NOW - 400 * MIN, offlineSince: NOW - 300 * MIN });
  });
});

describe('command outcomes for the live region', () => {
  it('announces a command that went from waiting to answered, and nothing already answered when the list was first read', () => {
    const ring = command({ type: 'ring', status: 'pending' });
    const old = command({ type: 'locate', status: 'succeeded', acknowledgedAt: NOW - MIN });
    const answered = { ...ring, status: 'succeeded' as const, result: 'ring done', acknowledgedAt: NOW };
    expect(newOutcomes([], [answered, old])).toEqual([]);
    expect(newOutcomes([ring, old], [ring, old])).toEqual([]);
    expect(newOutcomes([ring, old], [answered, old])).toEqual([answered]);
    expect(outcomeText(answered, "Ada's Pixel")).toBe("Ring on Ada's Pixel: done (ring done).");
    expect(outcomeText({ type: 'wipe', status: 'failed', result: null }, "Ada's Pixel")).toBe("Wipe on Ada's Pixel: failed on the phone.");
  });
});
