import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toBase64Url } from '../../src/protocol/encoding.js';
import { createTestApp, type TestApp } from '../harness.js';
import { owner, type Owner } from './find-helpers.js';

let t: TestApp;
beforeEach(() => {
  t = createTestApp();
});
afterEach(() => t.close());

const MINUTE = 60_000;
const newId = () => toBase64Url(randomBytes(16));
const simEvent = (extra: Record<string, unknown> = {}) => ({
  eventId: newId(),
  kind: 'replaced',
  simIdHash: toBase64Url(randomBytes(32)),
  carrier: 'Vodafone UK',
  claimedNumber: '+447700900123',
  method: 'outbound',
  ...extra,
});
const codeFrom = (t: TestApp) => t.outbox().at(-1)!.body.match(/\d{6}/)![0];

async function report(o: Owner, body: Record<string, unknown>) {
  return o.asDevice(o.device.auth, 'POST', '/v1/device/sim-events', body);
}

describe('outbound verification (log provider)', () => {
  it('texts a code, verifies it, stores the number sealed, and tells the owner', async () => {
    const o = await owner(t);
    const event = simEvent();
    const started = await report(o, event);
    expect(started).toMatchObject({ status: 201, body: { status: 'pending', expiresAt: t.clock.now() + 10 * MINUTE } });
    expect(t.outbox()).toHaveLength(1);
    expect(t.outbox()[0]!.to).toBe('+447700900123');

    const verified = await o.asDevice(o.device.auth, 'POST', `/v1/device/sim-events/${event.eventId}/verify`, { code: codeFrom(t) });
    expect(verified.body.status).toBe('verified');

    const history = await o.asOwner('GET', `/v1/devices/${o.device.id}/sim-events`);
    expect(history.body.events[0]).toMatchObject({ kind: 'replaced', carrier: 'Vodafone UK', verifiedNumber: '+447700900123', status: 'verified', alert: false });
    const audit = await o.asOwner('GET', '/v1/account/audit');
    expect(audit.body.entries.map((e: any) => e.action)).toEqual(expect.arrayContaining(['sim.changed', 'sim.verified']));
    // At rest the number is sealed: neither it nor the carrier is in the database file's rows.
    const rows = JSON.stringify(await t.deps.db.query.simEvents.findMany());
    expect(rows).not.toContain('7700900123');
    expect(rows).not.toContain('Vodafone');
  });

  it('is idempotent: the same event reported twice sends one SMS', async () => {
    const o = await owner(t);
    const event = simEvent();
    await report(o, event);
    expect((await report(o, event)).status).toBe(201);
    expect(t.outbox()).toHaveLength(1);
    expect((await report(o, { ...event, kind: 'inserted' })).status).toBe(409);
  });

  it('the sixth guess fails even when right, and a code is single-use and dies after 10 minutes', async () => {
    const o = await owner(t);
    const event = simEvent();
    await report(o, event);
    const code = codeFrom(t);
    const verify = (c: string) => o.asDevice(o.device.auth, 'POST', `/v1/device/sim-events/${event.eventId}/verify`, { code: c });
    const wrong = code === '000000' ? '000001' : '000000';
    for (let i = 0; i < 5; i++) {
      const res = await verify(wrong);
      expect(res.body.error).toMatchObject({ code: 'verification_failed', details: { attemptsLeft: 4 - i } });
    }
    expect((await verify(code)).body.error.code).toBe('verification_failed');

    const second = simEvent();
    await report(o, second);
    const fresh = codeFrom(t);
    t.clock.advance(10 * MINUTE + 1);
    expect((await o.asDevice(o.device.auth, 'POST', `/v1/device/sim-events/${second.eventId}/verify`, { code: fresh })).status).toBe(400);

    const third = simEvent();
    await report(o, third);
    const once = codeFrom(t);
    const verifyThird = () => o.asDevice(o.device.auth, 'POST', `/v1/device/sim-events/${third.eventId}/verify`, { code: once });
    expect((await verifyThird()).status).toBe(200);
    expect((await verifyThird()).status).toBe(400);
  });

  it('limits resends per event and refuses numbers outside the allowlist', async () => {
    t.close();
    t = createTestApp({ SMS_ALLOWED_PREFIXES: '+44,+1' });
    const o = await owner(t);
    const event = simEvent();
    await report(o, event);
    const firstCode = codeFrom(t);
    const resend = () => o.asDevice(o.device.auth, 'POST', `/v1/device/sim-events/${event.eventId}/resend`);
    expect((await resend()).status).toBe(200);
    expect((await resend()).status).toBe(200);
    expect((await resend()).body.error.code).toBe('rate_limited');
    expect(t.outbox()).toHaveLength(3);
    // A resend replaces the code: the old one no longer works, the newest does.
    const verify = (code: string) => o.asDevice(o.device.auth, 'POST', `/v1/device/sim-events/${event.eventId}/verify`, { code });
    if (firstCode !== codeFrom(t)) expect((await verify(firstCode)).status).toBe(400);
    expect((await verify(codeFrom(t))).status).toBe(200);
    const sent = t.outbox().length;
    const blocked = await report(o, simEvent({ claimedNumber: '+2348012345678' }));
    expect(blocked).toMatchObject({ status: 400, body: { error: { code: 'invalid_phone_number' } } });
    expect((await report(o, simEvent({ claimedNumber: '0770 090 0123' }))).status).toBe(400);
    expect(t.outbox()).toHaveLength(sent);
  });

  it('texts one number at most 4 codes a day, and one device at most 6, whichever events ask', async () => {
    const a = await owner(t);
    for (let i = 0; i < 4; i++) expect((await report(a, simEvent({ claimedNumber: '+15005550006' }))).status).toBe(201);
    expect((await report(a, simEvent({ claimedNumber: '+15005550006' }))).body.error.code).toBe('rate_limited');
    expect((await report(a, simEvent({ claimedNumber: '+15005550007' }))).status).toBe(201);
    // The refused fifth still counted for the device: this is its seventh try.
    expect((await report(a, simEvent({ claimedNumber: '+15005550008' }))).body.error.code).toBe('rate_limited');
    const history = await a.asOwner('GET', `/v1/devices/${a.device.id}/sim-events`);
    expect(history.body.events.map((e: any) => e.status).sort()).toEqual(['failed', 'failed', 'pending', 'pending', 'pending', 'pending', 'pending']);
    const b = await owner(t);
    expect((await report(b, simEvent({ claimedNumber: '+15005550006' }))).body.error.code).toBe('rate_limited');
    t.clock.advance(24 * 60 * MINUTE + 1);
    expect((await report(b, simEvent({ claimedNumber: '+15005550006' }))).status).toBe(201);
  });

  it('needs Find Device on, and raises an alert for a SIM swapped while the device is locked as lost', async () => {
    const o = await owner(t, { findEnabled: false });
    expect((await report(o, simEvent())).body.error.code).toBe('find_disabled');
    await o.asOwner('PUT', `/v1/devices/${o.device.id}/find`, { enabled: true });
    await o.asOwner('POST', `/v1/devices/${o.device.id}/commands`, o.sign(o.device.id, 'lock', { sealed: 'x'.repeat(80) }));
    await report(o, { eventId: newId(), kind: 'removed', simIdHash: toBase64Url(randomBytes(32)) });
    const history = await o.asOwner('GET', `/v1/devices/${o.device.id}/sim-events`);
    expect(history.body.events[0]).toMatchObject({ kind: 'removed', status: 'recorded', alert: true });
    expect((await o.asOwner('GET', '/v1/account/audit')).body.entries.map((e: any) => e.action)).toContain('sim.alert');
  });
});

describe('SIM events from the attacker side', () => {
  it("another device of the same account reusing this event's id gets 409: nothing is texted, and the first device's code still verifies", async () => {
    const victim = await owner(t);
    const event = simEvent();
    await report(victim, event);
    const code = codeFrom(t);
    const sibling = await victim.register('tablet');
    await victim.asOwner('PUT', `/v1/devices/${sibling.id}/find`, { enabled: true });

    const hijack = await victim.asDevice(sibling.auth, 'POST', '/v1/device/sim-events', { ...event, claimedNumber: '+447700900666' });
    expect(hijack).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
    expect(t.outbox()).toHaveLength(1);
    expect(t.outbox().map((sms) => sms.to)).not.toContain('+447700900666');
    expect((await victim.asDevice(sibling.auth, 'POST', `/v1/device/sim-events/${event.eventId}/resend`)).status).toBe(404);
    expect(t.outbox()).toHaveLength(1);

    const verified = await victim.asDevice(victim.device.auth, 'POST', `/v1/device/sim-events/${event.eventId}/verify`, { code });
    expect(verified).toMatchObject({ status: 200, body: { status: 'verified' } });
    const history = await victim.asOwner('GET', `/v1/devices/${victim.device.id}/sim-events`);
    expect(history.body.events).toHaveLength(1);
    expect(history.body.events[0]).toMatchObject({ verifiedNumber: '+447700900123' });
    expect((await victim.asOwner('GET', `/v1/devices/${sibling.id}/sim-events`)).body.events).toEqual([]);
  });

  it('another account or another device gets 404; the victim’s event is untouched', async () => {
    const victim = await owner(t);
    const event = simEvent();
    await report(victim, event);
    const code = codeFrom(t);
    const attacker = await owner(t);
    expect((await attacker.asOwner('GET', `/v1/devices/${victim.device.id}/sim-events`)).status).toBe(404);
    const theirs = await attacker.asDevice(attacker.device.auth, 'POST', `/v1/device/sim-events/${event.eventId}/verify`, { code });
    expect(theirs.status).toBe(404);
    const sibling = await victim.register('tablet');
    expect((await victim.asDevice(sibling.auth, 'POST', `/v1/device/sim-events/${event.eventId}/verify`, { code })).status).toBe(404);
    expect((await victim.asDevice(sibling.auth, 'POST', `/v1/device/sim-events/${event.eventId}/resend`)).status).toBe(404);
    expect((await victim.asDevice(victim.device.auth, 'POST', `/v1/device/sim-events/${event.eventId}/verify`, { code })).status).toBe(200);
  });
});
