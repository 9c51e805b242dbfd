import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { proveIdentity } from '../../src/client/account.js';
import { createCommandVerifier } from '../../src/client/crypto/commands.js';
import { openLocation } from '../../src/client/crypto/location.js';
import { runMaintenance } from '../../src/jobs.js';
import { createTestApp, type TestApp } from '../harness.js';
import { owner } from './find-helpers.js';

let t: TestApp;
beforeEach(() => {
  t = createTestApp({ SESSION_IDLE_HOURS: '1000', SESSION_TTL_HOURS: '1000' });
});
afterEach(() => t.close());

const HOUR = 3_600_000;

describe('location reports', () => {
  it('stores sealed reports; only the owner reads them back, and opens them with the account key', async () => {
    const o = await owner(t);
    const batch = [o.sealed(51.5, -0.12), o.sealed(51.51, -0.13)];
    expect(await o.asDevice(o.device.auth, 'POST', '/v1/device/locations', { reports: batch.map((sealed) => ({ sealed })) })).toMatchObject({ status: 202, body: { accepted: 2 } });

    const last = await o.asOwner('GET', `/v1/devices/${o.device.id}/location`);
    expect(last.body.report.receivedAt).toBe(t.clock.now());
    expect(openLocation(last.body.report.sealed, o.keys.x25519PublicKey, o.keys.x25519SecretKey)).toMatchObject({ lat: 51.51, lon: -0.13, accuracy: 12 });
    const history = await o.asOwner('GET', `/v1/devices/${o.device.id}/locations`);
    expect(history.body.reports.map((r: any) => openLocation(r.sealed, o.keys.x25519PublicKey, o.keys.x25519SecretKey).lat)).toEqual([51.5, 51.51]);

    // The database holds no coordinates in the clear.
    const rows = JSON.stringify(await t.deps.db.query.locationReports.findMany());
    expect(rows).not.toContain('51.5');
    const audit = await o.asOwner('GET', '/v1/account/audit');
    expect(audit.body.entries.map((e: any) => e.action)).toEqual(expect.arrayContaining(['location.read', 'location.history.read', 'find.enabled']));
  });

  it('refuses reports while Find Device is off, and purges what it held when turned off', async () => {
    const o = await owner(t, { findEnabled: false });
    const refused = await o.asDevice(o.device.auth, 'POST', '/v1/device/locations', { reports: [{ sealed: o.sealed(1, 2) }] });
    expect(refused).toMatchObject({ status: 403, body: { error: { code: 'find_disabled' } } });

    await o.asOwner('PUT', `/v1/devices/${o.device.id}/find`, { enabled: true });
    await o.asDevice(o.device.auth, 'POST', '/v1/device/locations', { reports: [{ sealed: o.sealed(1, 2) }] });
    const off = await o.asDevice(o.device.auth, 'PUT', '/v1/device/find', { enabled: false });
    expect(off.body.findEnabled).toBe(false);
    expect((await o.asOwner('GET', `/v1/devices/${o.device.id}/location`)).body.report).toBeNull();
    expect((await o.asOwner('GET', `/v1/devices/${o.device.id}/locations`)).body.reports).toEqual([]);
    expect(await t.deps.db.query.locationReports.findMany()).toEqual([]);
  });

  it('purges history past the window but keeps the last-known location', async () => {
    const o = await owner(t);
    await o.asDevice(o.device.auth, 'POST', '/v1/device/locations', { reports: [{ sealed: o.sealed(10, 10) }] });
    t.clock.advance(23 * HOUR);
    await runMaintenance(t.deps);
    expect((await o.asOwner('GET', `/v1/devices/${o.device.id}/locations?from=0`)).body.reports).toHaveLength(1);
    t.clock.advance(2 * HOUR);
    await runMaintenance(t.deps);
    expect((await o.asOwner('GET', `/v1/devices/${o.device.id}/locations?from=0`)).body.reports).toEqual([]);
    expect((await o.asOwner('GET', `/v1/devices/${o.device.id}/location`)).body.report).not.toBeNull();
  });

  it('rate-limits reports per device', async () => {
    const o = await owner(t);
    const body = { reports: [{ sealed: o.sealed(0, 0) }] };
    for (let i = 0; i < 60; i++) expect((await o.asDevice(o.device.auth, 'POST', '/v1/device/locations', body)).status).toBe(202);
    const limited = await o.asDevice(o.device.auth, 'POST', '/v1/device/locations', body);
    expect(limited).toMatchObject({ status: 429, body: { error: { code: 'rate_limited' } } });
    t.clock.advance(61_000);
    expect((await o.asDevice(o.device.auth, 'POST', '/v1/device/locations', body)).status).toBe(202);
  });
});

describe('remote commands', () => {
  it('owner signs, device fetches, verifies and acknowledges, owner sees the status', async () => {
    const o = await owner(t);
    const created = await o.asOwner('POST', `/v1/devices/${o.device.id}/commands`, o.sign(o.device.id, 'ring'));
    expect(created).toMatchObject({ status: 201, body: { type: 'ring', status: 'pending' } });

    const polled = await o.asDevice(o.device.auth, 'GET', '/v1/device/commands');
    expect(polled.body.commands).toHaveLength(1);
    const verifier = createCommandVerifier({ deviceId: o.device.id, ed25519PublicKey: o.keys.ed25519PublicKey, now: t.clock.now });
    expect(verifier.verify(polled.body.commands[0])).toMatchObject({ ok: true, type: 'ring' });
    expect((await o.asDevice(o.device.auth, 'GET', '/v1/device/commands')).body.commands).toEqual([]);

    const ack = await o.asDevice(o.device.auth, 'POST', `/v1/device/commands/${created.body.id}/ack`, { status: 'succeeded', result: 'rang' });
    expect(ack.body).toMatchObject({ status: 'succeeded', result: 'rang', acknowledgedAt: t.clock.now() });
    expect((await o.asDevice(o.device.auth, 'POST', `/v1/device/commands/${created.body.id}/ack`, { status: 'succeeded' })).status).toBe(200);
    const listed = await o.asOwner('GET', `/v1/devices/${o.device.id}/commands`);
    expect(listed.body.commands[0]).toMatchObject({ id: created.body.id, status: 'succeeded' });
  });

  it('long-polls until a command arrives', async () => {
    const o = await owner(t);
    const waiting = o.asDevice(o.device.auth, 'GET', '/v1/device/commands?wait=5');
    await new Promise((r) => setTimeout(r, 300));
    await o.asOwner('POST', `/v1/devices/${o.device.id}/commands`, o.sign(o.device.id, 'locate'));
    const { body } = await waiting;
    expect(body.commands.map((c: any) => c.type)).toEqual(['locate']);
  });

  it('requires a re-authentication in the last 5 minutes to wipe', async () => {
    const o = await owner(t);
    t.clock.advance(10 * 60_000);
    const refused = await o.asOwner('POST', `/v1/devices/${o.device.id}/commands`, o.sign(o.device.id, 'wipe'));
    expect(refused).toMatchObject({ status: 401, body: { error: { code: 'reauthentication_required' } } });
    expect((await o.asOwner('GET', `/v1/devices/${o.device.id}/commands`)).body.commands).toEqual([]);

    const api = t.api({ sessionToken: o.session.Authorization.slice(7) });
    const email = (await api.account()).email;
    await api.reauthenticate(await proveIdentity(api, { email, password: 'pw' }));
    const wipe = await o.asOwner('POST', `/v1/devices/${o.device.id}/commands`, o.sign(o.device.id, 'wipe'));
    expect(wipe.status).toBe(201);
    t.clock.advance(6 * 60_000);
    expect((await o.asOwner('POST', `/v1/devices/${o.device.id}/commands`, o.sign(o.device.id, 'wipe'))).status).toBe(401);
  });

  it('cancels open commands when Find Device is turned off, and refuses new ones', async () => {
    const o = await owner(t);
    const created = await o.asOwner('POST', `/v1/devices/${o.device.id}/commands`, o.sign(o.device.id, 'ring'));
    await o.asOwner('PUT', `/v1/devices/${o.device.id}/find`, { enabled: false });
    expect((await o.asOwner('GET', `/v1/devices/${o.device.id}/commands`)).body.commands[0]).toMatchObject({ id: created.body.id, status: 'cancelled' });
    expect((await o.asDevice(o.device.auth, 'GET', '/v1/device/commands')).body.commands).toEqual([]);
    const refused = await o.asOwner('POST', `/v1/devices/${o.device.id}/commands`, o.sign(o.device.id, 'ring'));
    expect(refused.body.error.code).toBe('find_disabled');
  });
});
