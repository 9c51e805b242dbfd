import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CommandVerifier, createCommandVerifier } from '../../src/client/crypto/commands.js';
import { toBase64Url } from '../../src/protocol/encoding.js';
import { runMaintenance } from '../../src/jobs.js';
import { createTestApp, type TestApp } from '../harness.js';
import { owner, type Owner } from './find-helpers.js';

// Find Device when it matters: the phone is offline, replies get lost, the server restarts.
// Commands are leased until acknowledged and expire only at the time the owner signed.

let t: TestApp;
beforeEach(() => {
  t = createTestApp({ SESSION_IDLE_HOURS: '1000', SESSION_TTL_HOURS: '1000' });
});
afterEach(() => t.close());

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const LEASE = 60_000;

/** The phone's side: poll once, verify each command, carry out what is new, acknowledge all. */
function phone(o: Owner) {
  const verifier: CommandVerifier = createCommandVerifier({ deviceId: o.device.id, ed25519PublicKey: o.keys.ed25519PublicKey, now: t.clock.now });
  const carriedOut: string[] = [];
  const poll = async () => (await o.asDevice(o.device.auth, 'GET', '/v1/device/commands')).body.commands as any[];
  const ack = (id: string, status: string, result: string) => o.asDevice(o.device.auth, 'POST', `/v1/device/commands/${id}/ack`, { status, result });
  return {
    carriedOut,
    poll,
    ack,
    /** One round; `dropAcks` loses the acknowledgements on the way (the phone acted, the server never heard). */
    async step(options: { dropAcks?: boolean } = {}) {
      const verdicts: string[] = [];
      for (const command of await poll()) {
        const verdict = verifier.verify(command);
        verdicts.push(verdict.ok ? 'ok' : verdict.reason);
        if (verdict.ok) carriedOut.push(`${command.type}#${command.counter}`);
        if (options.dropAcks) continue;
        if (verdict.ok || verdict.reason === 'already-done') await ack(command.id, 'succeeded', verdict.ok ? 'done' : 'already done');
        else await ack(command.id, 'rejected', verdict.reason);
      }
      return verdicts;
    },
  };
}

const send = (o: Owner, type: 'ring' | 'lock' | 'unlock' | 'locate', overrides: { expiresAt?: number; issuedAt?: number } = {}) =>
  o.asOwner('POST', `/v1/devices/${o.device.id}/commands`, o.sign(o.device.id, type, type === 'lock' ? { sealed: 'x'.repeat(80) } : {}, overrides));
const list = async (o: Owner) => (await o.asOwner('GET', `/v1/devices/${o.device.id}/commands`)).body.commands as any[];

describe('commands that survive offline time', () => {
  it('a command that reaches the phone two hours late is still carried out', async () => {
    const o = await owner(t);
    const sent = await send(o, 'ring');
    expect(sent).toMatchObject({ status: 201, body: { status: 'pending', expiresAt: t.clock.now() + 7 * DAY, deliveries: 0, leaseUntil: null } });
    t.clock.advance(2 * HOUR);
    const p = phone(o);
    expect(await p.step()).toEqual(['ok']);
    expect(p.carriedOut).toEqual([`ring#${sent.body.counter}`]);
    expect((await list(o))[0]).toMatchObject({ status: 'succeeded', deliveredAt: t.clock.now(), deliveries: 1 });
  });

  it('a command past its expiry is never handed out and shows as expired', async () => {
    const o = await owner(t);
    await send(o, 'ring', { expiresAt: t.clock.now() + HOUR });
    t.clock.advance(HOUR);
    expect(await phone(o).poll()).toEqual([]);
    expect((await list(o))[0]).toMatchObject({ type: 'ring', status: 'expired', deliveries: 0, deliveredAt: null });
  });

  it('the maintenance job expires what nobody polled or listed, delivered or not, and leaves answered ones alone', async () => {
    const o = await owner(t);
    const delivered = await send(o, 'locate', { expiresAt: t.clock.now() + HOUR });
    const answered = await send(o, 'ring', { expiresAt: t.clock.now() + HOUR });
    const later = await send(o, 'ring', { expiresAt: t.clock.now() + 2 * HOUR });
    // The phone takes three, answers one, then goes dark; the ring sent after that stays pending.
    expect((await phone(o).poll()).map((c) => c.id)).toEqual([delivered, answered, later].map((c) => c.body.id));
    await phone(o).ack(answered.body.id, 'succeeded', 'rang');
    const pending = await send(o, 'ring', { expiresAt: t.clock.now() + HOUR });
    t.clock.advance(HOUR);
    await runMaintenance(t.deps);
    const rows = Object.fromEntries((await t.deps.db.query.commands.findMany()).map((r) => [r.id, r.status]));
    expect(rows).toEqual({ [pending.body.id]: 'expired', [delivered.body.id]: 'expired', [answered.body.id]: 'succeeded', [later.body.id]: 'delivered' });
  });

  it('a phone that acted before the expiry and answers after it is recorded as it answered', async () => {
    const o = await owner(t);
    const sent = await send(o, 'ring', { expiresAt: t.clock.now() + HOUR });
    await phone(o).poll();
    t.clock.advance(2 * HOUR);
    await runMaintenance(t.deps);
    expect((await list(o))[0].status).toBe('expired');
    expect(await phone(o).ack(sent.body.id, 'succeeded', 'rang')).toMatchObject({ status: 200, body: { status: 'succeeded', result: 'rang' } });
  });

  it('refuses a body in the v1 format with a message saying so', async () => {
    const o = await owner(t);
    const { expiresAt: _v2, ...v1 } = o.sign(o.device.id, 'ring');
    const refused = await o.asOwner('POST', `/v1/devices/${o.device.id}/commands`, v1);
    expect(refused).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
    expect(refused.body.error.message).toMatch(/^body\.expiresAt: required: .*the v1 format is no longer accepted$/);
  });
});

describe('delivery until acknowledged', () => {
  it('a poll reply lost in transit is redelivered after the lease, and carried out once', async () => {
    const o = await owner(t);
    const sent = await send(o, 'ring');
    const firstPoll = t.clock.now();
    // The server answered, but the reply never reached the phone.
    expect(await phone(o).poll()).toHaveLength(1);
    const p = phone(o);
    // Within the lease a poll hands it to nobody else…
    t.clock.advance(LEASE - 1);
    expect(await p.step()).toEqual([]);
    // …and once the lease passes without an acknowledgement, it comes again.
    t.clock.advance(1);
    expect(await p.step()).toEqual(['ok']);
    t.clock.advance(LEASE);
    expect(await p.step()).toEqual([]);
    expect(p.carriedOut).toEqual([`ring#${sent.body.counter}`]);
    const [row] = await list(o);
    expect(row).toMatchObject({ status: 'succeeded', result: 'done', deliveries: 2, deliveredAt: firstPoll, acknowledgedAt: firstPoll + LEASE, leaseUntil: null });
  });

  it('an acknowledgement lost on the way is redelivered; the phone knows it already did it and only acknowledges', async () => {
    const o = await owner(t);
    await send(o, 'lock');
    const p = phone(o);
    expect(await p.step({ dropAcks: true })).toEqual(['ok']);
    t.clock.advance(LEASE);
    expect(await p.step()).toEqual(['already-done']);
    expect(p.carriedOut).toHaveLength(1);
    expect((await list(o))[0]).toMatchObject({ status: 'succeeded', result: 'already done', deliveries: 2 });
  });

  it('a lost reply followed by a newer command: the older one comes along again, and both run in order', async () => {
    const o = await owner(t);
    const ring = await send(o, 'ring');
    expect(await phone(o).poll()).toHaveLength(1);
    t.clock.advance(5_000);
    const locate = await send(o, 'locate');
    const p = phone(o);
    expect(await p.step()).toEqual(['ok', 'ok']);
    expect(p.carriedOut).toEqual([`ring#${ring.body.counter}`, `locate#${locate.body.counter}`]);
    expect((await list(o)).map((c) => c.status)).toEqual(['succeeded', 'succeeded']);
  });

  it('two polls at the same moment never both take the same command', async () => {
    const o = await owner(t);
    await send(o, 'ring');
    await send(o, 'locate');
    const [a, b] = await Promise.all([phone(o).poll(), phone(o).poll()]);
    expect([...a, ...b].map((c) => c.type).sort()).toEqual(['locate', 'ring']);
    expect(a.length === 0 || b.length === 0).toBe(true);
  });

  it('acknowledging again returns the command unchanged; one never handed out is not found', async () => {
    const o = await owner(t);
    const first = await send(o, 'ring');
    const p = phone(o);
    expect((await p.ack(first.body.id, 'succeeded', 'early')).status).toBe(404);
    await p.poll();
    const acked = await p.ack(first.body.id, 'succeeded', 'rang');
    t.clock.advance(MINUTE);
    const again = await p.ack(first.body.id, 'failed', 'changed my mind');
    expect(again).toEqual({ status: 200, body: acked.body });
    expect(again.body).toMatchObject({ status: 'succeeded', result: 'rang' });
    expect((await p.ack(toBase64Url(randomBytes(16)), 'succeeded', 'x')).status).toBe(404);
  });
});

describe('Lost Mode as a state', () => {
  const lostMode = async (o: Owner) => ({
    list: (await o.asOwner('GET', '/v1/devices')).body.devices[0].lostMode,
    one: (await o.asOwner('GET', `/v1/devices/${o.device.id}`)).body.lostMode,
    phone: (await o.asDevice(o.device.auth, 'GET', '/v1/device')).body.lostMode,
  });
  const everywhere = (value: unknown) => ({ list: value, one: value, phone: value });

  it('a lock starts Lost Mode, a second lock keeps its start, and an unlock ends it; the phone learns it too', async () => {
    const o = await owner(t);
    expect(await lostMode(o)).toEqual(everywhere(null));
    const lockedAt = t.clock.now();
    await send(o, 'lock');
    expect(await lostMode(o)).toEqual(everywhere({ since: lockedAt }));
    t.clock.advance(HOUR);
    await send(o, 'lock');
    expect(await lostMode(o)).toEqual(everywhere({ since: lockedAt }));
    await send(o, 'unlock');
    expect(await lostMode(o)).toEqual(everywhere(null));
  });

  it('a lock refused for its counter leaves the device as it was', async () => {
    const o = await owner(t);
    await o.asOwner('POST', `/v1/devices/${o.device.id}/commands`, o.sign(o.device.id, 'ring', {}, { counter: 500 }));
    const replayed = await o.asOwner('POST', `/v1/devices/${o.device.id}/commands`, o.sign(o.device.id, 'lock', { sealed: 'x'.repeat(80) }, { counter: 400 }));
    expect(replayed.status).toBe(409);
    expect((await lostMode(o)).one).toBeNull();
  });

  it('SIM changes raise alerts while the device is in Lost Mode, not after it ended, however long it lasts', async () => {
    const o = await owner(t);
    const simRemoved = async () => {
      await o.asDevice(o.device.auth, 'POST', '/v1/device/sim-events', { eventId: toBase64Url(randomBytes(16)), kind: 'removed', simIdHash: toBase64Url(randomBytes(32)) });
      return (await o.asOwner('GET', `/v1/devices/${o.device.id}/sim-events`)).body.events[0].alert;
    };
    await send(o, 'lock');
    t.clock.advance(40 * DAY);
    expect(await simRemoved()).toBe(true);
    await send(o, 'unlock');
    expect(await simRemoved()).toBe(false);
  });
});
