import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCommandVerifier, signCommand } from '../../src/client/crypto/commands.js';
import { toBase64Url } from '../../src/protocol/encoding.js';
import { createTestApp, type TestApp } from '../harness.js';
import { owner } from '../features/find-helpers.js';

let t: TestApp;
beforeEach(() => {
  t = createTestApp();
});
afterEach(() => t.close());

const randomId = () => toBase64Url(randomBytes(16));

describe('Find Device from the attacker side', () => {
  it('another account gets 404 for every location and command route, exactly as for a made-up id', async () => {
    const victim = await owner(t);
    await victim.asDevice(victim.device.auth, 'POST', '/v1/device/locations', { reports: [{ sealed: victim.sealed(48.85, 2.35) }] });
    const attacker = await owner(t);
    const routes = (id: string) => [
      ['GET', `/v1/devices/${id}/location`],
      ['GET', `/v1/devices/${id}/locations`],
      ['GET', `/v1/devices/${id}/commands`],
      ['PUT', `/v1/devices/${id}/find`, { enabled: false }],
      ['POST', `/v1/devices/${id}/commands`, attacker.sign(id, 'ring')],
    ] as const;
    for (const id of [victim.device.id, randomId()]) {
      for (const [method, path, body] of routes(id)) {
        const res = await attacker.asOwner(method, path, body);
        expect({ path, status: res.status, code: res.body.error.code, message: res.body.error.message }).toEqual({
          path,
          status: 404,
          code: 'not_found',
          message: 'device not found',
        });
      }
    }
    // The victim's data is untouched: still on, still located, no command queued.
    expect((await victim.asOwner('GET', `/v1/devices/${victim.device.id}/location`)).body.report).not.toBeNull();
    expect((await victim.asOwner('GET', `/v1/devices/${victim.device.id}/commands`)).body.commands).toEqual([]);
  });

  it("a device's token acts only for its own device: it sees and acknowledges only its own commands", async () => {
    const o = await owner(t);
    const other = await o.register('tablet');
    await o.asOwner('PUT', `/v1/devices/${other.id}/find`, { enabled: true });
    const forPhone = await o.asOwner('POST', `/v1/devices/${o.device.id}/commands`, o.sign(o.device.id, 'ring'));

    expect((await o.asDevice(other.auth, 'GET', '/v1/device/commands')).body.commands).toEqual([]);
    const ack = await o.asDevice(other.auth, 'POST', `/v1/device/commands/${forPhone.body.id}/ack`, { status: 'failed' });
    expect(ack).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    // Reports land on the token's own device, whatever the request says.
    await o.asDevice(other.auth, 'POST', '/v1/device/locations', { reports: [{ sealed: o.sealed(1, 1) }] });
    expect((await o.asOwner('GET', `/v1/devices/${o.device.id}/location`)).body.report).toBeNull();
    // A device token is no session, and a session is no device token.
    expect((await o.asDevice(other.auth, 'GET', `/v1/devices/${o.device.id}/location`)).status).toBe(401);
    expect((await o.asDevice(o.session, 'GET', '/v1/device/commands')).status).toBe(401);
  });

  it('refuses a forged signature, a command signed for another device, and a replayed counter', async () => {
    const o = await owner(t);
    const tablet = await o.register('tablet');
    await o.asOwner('PUT', `/v1/devices/${tablet.id}/find`, { enabled: true });
    const post = (deviceId: string, body: unknown) => o.asOwner('POST', `/v1/devices/${deviceId}/commands`, body);

    const forged = signCommand({ deviceId: o.device.id, type: 'wipe', args: {}, issuedAt: t.clock.now(), counter: 50 }, randomBytes(32));
    expect((await post(o.device.id, forged)).body.error).toMatchObject({ code: 'validation_failed', message: expect.stringContaining('signature') });

    const retargeted = o.sign(tablet.id, 'ring');
    expect((await post(o.device.id, retargeted)).body.error.code).toBe('validation_failed');
    const tampered = { ...o.sign(o.device.id, 'ring'), type: 'lock' };
    expect((await post(o.device.id, tampered)).body.error.code).toBe('validation_failed');

    const first = o.sign(o.device.id, 'ring', {}, { counter: 100 });
    expect((await post(o.device.id, first)).status).toBe(201);
    const replay = await post(o.device.id, first);
    expect(replay).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
    expect((await post(o.device.id, o.sign(o.device.id, 'ring', {}, { counter: 99 }))).status).toBe(409);
    const stale = o.sign(o.device.id, 'ring', {}, { counter: 200, issuedAt: t.clock.now() - 60 * 60_000 });
    expect((await post(o.device.id, stale)).status).toBe(400);
    expect((await o.asOwner('GET', `/v1/devices/${o.device.id}/commands`)).body.commands).toHaveLength(1);
  });

  it('the device itself refuses what a compromised server might hand it', async () => {
    const o = await owner(t);
    const tablet = await o.register('tablet');
    await o.asOwner('PUT', `/v1/devices/${tablet.id}/find`, { enabled: true });
    await o.asOwner('POST', `/v1/devices/${o.device.id}/commands`, o.sign(o.device.id, 'ring'));
    const [genuine] = (await o.asDevice(o.device.auth, 'GET', '/v1/device/commands')).body.commands;
    const phone = createCommandVerifier({ deviceId: o.device.id, ed25519PublicKey: o.keys.ed25519PublicKey, now: t.clock.now });
    expect(phone.verify(genuine).ok).toBe(true);
    // The server replays it, re-targets it to the tablet, or makes up a wipe of its own.
    expect(phone.verify(genuine)).toEqual({ ok: false, reason: 'replayed' });
    const tabletVerifier = createCommandVerifier({ deviceId: tablet.id, ed25519PublicKey: o.keys.ed25519PublicKey, now: t.clock.now });
    expect(tabletVerifier.verify({ ...genuine, deviceId: tablet.id })).toEqual({ ok: false, reason: 'bad-signature' });
    const invented = { ...genuine, type: 'wipe', counter: genuine.counter + 1 };
    expect(phone.verify(invented)).toEqual({ ok: false, reason: 'bad-signature' });
  });
});
