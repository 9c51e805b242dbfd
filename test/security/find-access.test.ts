import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCommandVerifier, signCommand } from '../../src/client/crypto/commands.js';
import { toBase64Url, utf8 } from '../../src/protocol/encoding.js';
import { signDetached } from '../../src/protocol/signing.js';
import { createTestApp, type TestApp } from '../harness.js';
import { owner } from '../features/find-helpers.js';

let t: TestApp;
beforeEach(() => {
  t = createTestApp();
});
afterEach(() => t.close());

const randomId = () => toBase64Url(randomBytes(16));
const DAY = 86_400_000;

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

  it("a device's result text cannot smuggle controls or bidi overrides into the owner's command list", async () => {
    const o = await owner(t);
    const sent = await o.asOwner('POST', `/v1/devices/${o.device.id}/commands`, o.sign(o.device.id, 'ring'));
    expect((await o.asDevice(o.device.auth, 'GET', '/v1/device/commands')).body.commands).toHaveLength(1);
    const ack = (result: string) => o.asDevice(o.device.auth, 'POST', `/v1/device/commands/${sent.body.id}/ack`, { status: 'succeeded', result });
    for (const result of ['rang\u0000', 'done \u202Eexe.gnp', 'ok\rhidden', '\u0085']) {
      expect((await ack(result)).body.error).toMatchObject({ code: 'validation_failed', message: expect.stringContaining('result') });
    }
    const listed = async () => (await o.asOwner('GET', `/v1/devices/${o.device.id}/commands`)).body.commands[0];
    expect((await listed()).result).toBeNull();
    expect((await ack('rang for 30 s\n\tvolume full')).status).toBeLessThan(300);
    expect((await listed()).result).toBe('rang for 30 s\n\tvolume full');
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
    expect((await o.asOwner('GET', `/v1/devices/${o.device.id}/commands`)).body.commands).toHaveLength(1);
  });

  it('refuses a command whose expiry was prolonged, one already expired, one from the future, and the v1 format', async () => {
    const o = await owner(t);
    const post = (body: unknown) => o.asOwner('POST', `/v1/devices/${o.device.id}/commands`, body);
    const refused = (message: RegExp) => ({ status: 400, body: { error: { code: 'validation_failed', message: expect.stringMatching(message) } } });

    // Someone between the owner and the database moves the signed expiry: the signature breaks.
    const signed = o.sign(o.device.id, 'ring');
    expect(await post({ ...signed, expiresAt: signed.expiresAt + DAY })).toMatchObject(refused(/signature/));
    expect(await post({ ...signed, expiresAt: signed.issuedAt + 31 * DAY })).toMatchObject(refused(/expiresAt: must be at most 30 days/));
    expect(await post({ ...signed, expiresAt: signed.issuedAt })).toMatchObject(refused(/expiresAt: must be after issuedAt/));

    const lapsed = o.sign(o.device.id, 'ring', {}, { issuedAt: t.clock.now() - 2 * DAY, expiresAt: t.clock.now() - 1 });
    expect(await post(lapsed)).toMatchObject(refused(/expiresAt: already passed/));
    const future = o.sign(o.device.id, 'ring', {}, { issuedAt: t.clock.now() + 11 * 60_000 });
    expect(await post(future)).toMatchObject(refused(/issuedAt: more than 10 minutes ahead/));

    // A client still signing v1: no expiresAt in the body, the v1 message signed.
    const v1 = { type: 'ring', args: '{}', issuedAt: t.clock.now(), counter: 900 };
    const v1Signature = signDetached(o.keys.ed25519Seed, utf8(`homing/v1/command\n${o.device.id}\nring\n${v1.issuedAt}\n900\n{}`));
    expect(await post({ ...v1, signature: toBase64Url(v1Signature) })).toMatchObject(refused(/v1 format is no longer accepted/));

    // Issued two hours ago and still within its expiry is fine: a late command is not a stale one.
    expect((await post(o.sign(o.device.id, 'ring', {}, { issuedAt: t.clock.now() - 2 * 3_600_000 }))).status).toBe(201);
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
    // The server replays it: the phone knows it already did it and does not do it again.
    expect(phone.verify(genuine)).toEqual({ ok: false, reason: 'already-done' });
    // It re-targets it to the tablet, makes up a wipe of its own, or prolongs the expiry.
    const tabletVerifier = createCommandVerifier({ deviceId: tablet.id, ed25519PublicKey: o.keys.ed25519PublicKey, now: t.clock.now });
    expect(tabletVerifier.verify({ ...genuine, deviceId: tablet.id })).toEqual({ ok: false, reason: 'bad-signature' });
    const invented = { ...genuine, type: 'wipe', counter: genuine.counter + 1 };
    expect(phone.verify(invented)).toEqual({ ok: false, reason: 'bad-signature' });
    const prolonged = { ...genuine, expiresAt: genuine.expiresAt + 20 * DAY };
    const freshPhone = () => createCommandVerifier({ deviceId: o.device.id, ed25519PublicKey: o.keys.ed25519PublicKey, now: () => genuine.expiresAt + DAY });
    expect(freshPhone().verify(prolonged)).toEqual({ ok: false, reason: 'bad-signature' });
    // It holds the command back past its expiry, or hands out one the owner signed in the v1 format.
    expect(freshPhone().verify(genuine)).toEqual({ ok: false, reason: 'expired' });
    const { expiresAt: _dropped, ...v1Shaped } = genuine;
    expect(freshPhone().verify(v1Shaped)).toEqual({ ok: false, reason: 'old-format' });
    // And a phone that never accepted it refuses an older counter it did not carry out.
    const advanced = createCommandVerifier({ deviceId: o.device.id, ed25519PublicKey: o.keys.ed25519PublicKey, lastCounter: genuine.counter + 5, now: t.clock.now });
    expect(advanced.verify(genuine)).toEqual({ ok: false, reason: 'replayed' });
  });
});
