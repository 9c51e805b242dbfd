import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { changePassword, logIn } from '../../src/client/account.js';
import type { ApiClient, AuditEntry } from '../../src/client/api.js';
import { auditEntries, formatAuditLine } from '../../src/client/cli/audit-commands.js';
import { auditEntry } from '../../src/features/audit/service.js';
import { runMaintenance } from '../../src/jobs.js';
import { toBase64Url } from '../../src/protocol/encoding.js';
import { createTestApp, TEST_KDF, type TestApp } from '../harness.js';
import { attemptLogin, expectError, freshAddress, signUpAndLogIn } from '../security/helpers.js';
import { owner } from './find-helpers.js';

let t: TestApp;
beforeEach(() => {
  t = createTestApp();
});
afterEach(() => t.close());

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const DAY = 24 * 60 * MINUTE;

/** Every entry of the account, newest first, through the SDK's pager. */
async function everything(api: ApiClient) {
  const all: AuditEntry[] = [];
  for await (const entry of auditEntries(api, { limit: 0, all: true })) all.push(entry);
  return all;
}
const actions = async (api: ApiClient) => (await everything(api)).map((e) => e.action);
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
// Entries of the same millisecond have no order among themselves (only a stable one across
// pages): the tests move the clock between actions whose order they check.
const tick = () => t.clock.advance(1);
const deviceBody = () => ({ name: 'Pixel 8', model: 'Pixel 8', platform: 'android' as const, identifierHash: toBase64Url(randomBytes(32)) });

describe('happy: each action is recorded after it happens through the API', () => {
  it('a login, with its session and method', async () => {
    const m = await signUpAndLogIn(t);
    const [entry] = await everything(m.api);
    expect(entry).toMatchObject({ action: 'login.succeeded', sessionId: m.sessionId, detail: 'password', deviceId: null });
  });

  it('a wrong password on a real account is a login.failed entry the owner sees', async () => {
    const m = await signUpAndLogIn(t);
    tick();
    const refused = await attemptLogin(t, { email: m.email, password: 'not the password', address: freshAddress() });
    expect(refused.status).toBe(401);
    const log = await everything(m.api);
    expect(log[0]).toMatchObject({ action: 'login.failed', detail: 'password', sessionId: null });
    expect(log.map((e) => e.action)).toEqual(['login.failed', 'login.succeeded']);
  });

  it('a device added and removed, with the device id', async () => {
    const m = await signUpAndLogIn(t);
    // Registered from a phone's own session (which ends with the device), removed from the owner's.
    const phone = await logIn(t.api(), { email: m.email, password: m.password });
    const phoneApi = t.api({ sessionToken: phone.response.session.token! });
    tick();
    const { device } = await phoneApi.registerDevice(deviceBody());
    tick();
    await m.api.removeDevice(device.id);
    const log = await everything(m.api);
    expect(log.slice(0, 2)).toMatchObject([
      { action: 'device.removed', deviceId: device.id, sessionId: m.sessionId },
      { action: 'device.added', deviceId: device.id, sessionId: phone.response.session.id, detail: 'android' },
    ]);
  });

  it('the same phone registered again (a new token) is recorded as such', async () => {
    const m = await signUpAndLogIn(t);
    const body = deviceBody();
    await m.api.registerDevice(body);
    tick();
    const again = await m.api.registerDevice(body);
    expect((await everything(m.api))[0]).toMatchObject({ action: 'device.added', deviceId: again.device.id, detail: 'android, registered again' });
  });

  it('a session revoked, one by id or the others with a count', async () => {
    const m = await signUpAndLogIn(t);
    const second = await logIn(t.api(), { email: m.email, password: m.password });
    tick();
    await m.api.revokeSession(second.response.session.id);
    tick();
    await logIn(t.api(), { email: m.email, password: m.password });
    await logIn(t.api(), { email: m.email, password: m.password });
    tick();
    expect((await m.api.revokeOtherSessions()).revoked).toBe(2);
    const revoked = (await everything(m.api)).filter((e) => e.action === 'session.revoked');
    expect(revoked).toMatchObject([
      { sessionId: m.sessionId, detail: 'others: 2' },
      { sessionId: m.sessionId, detail: `session ${second.response.session.id}` },
    ]);
  });

  it('a password change, with how many other sessions it signed out', async () => {
    const m = await signUpAndLogIn(t);
    await logIn(t.api(), { email: m.email, password: m.password });
    tick();
    await changePassword(m.api, { accountId: m.accountId, email: m.email, masterKey: m.masterKey, currentPassword: m.password, newPassword: 'a new password', kdf: TEST_KDF });
    expect((await everything(m.api))[0]).toMatchObject({ action: 'password.changed', sessionId: m.sessionId, detail: '1 other sessions signed out' });
  });

  it('a command, with its type as detail', async () => {
    const o = await owner(t);
    expect((await o.asOwner('POST', `/v1/devices/${o.device.id}/commands`, o.sign(o.device.id, 'ring'))).status).toBe(201);
    tick();
    expect((await o.asOwner('POST', `/v1/devices/${o.device.id}/commands`, o.sign(o.device.id, 'locate'))).status).toBe(201);
    const { body } = await o.asOwner('GET', '/v1/account/audit');
    const commands = body.entries.filter((e: AuditEntry) => e.action === 'command.created');
    expect(commands).toMatchObject([
      { deviceId: o.device.id, detail: 'locate' },
      { deviceId: o.device.id, detail: 'ring' },
    ]);
  });

  it('a SIM event, with its kind as detail', async () => {
    const o = await owner(t);
    tick();
    const res = await o.asDevice(o.device.auth, 'POST', '/v1/device/sim-events', {
      eventId: toBase64Url(randomBytes(16)),
      kind: 'removed',
      simIdHash: toBase64Url(randomBytes(32)),
    });
    expect(res.status).toBe(201);
    const { body } = await o.asOwner('GET', '/v1/account/audit');
    expect(body.entries[0]).toMatchObject({ action: 'sim.changed', deviceId: o.device.id, detail: 'removed' });
  });
});

describe('location reads: one entry per viewing, not per poll', () => {
  it('the page polling every 15 s for 10 minutes records one entry of each read; a second session records its own', async () => {
    const o = await owner(t);
    const poll = (headers: Record<string, string>) =>
      Promise.all([
        t.request('GET', `/v1/devices/${o.device.id}/location`, { headers }),
        t.request('GET', `/v1/devices/${o.device.id}/locations`, { headers }),
      ]);
    for (let elapsed = 0; elapsed <= 10 * MINUTE; elapsed += 15 * SECOND) {
      for (const res of await poll(o.session)) expect(res.status).toBe(200);
      t.clock.advance(15 * SECOND);
    }
    const reads = async () => (await o.asOwner('GET', '/v1/account/audit?limit=500')).body.entries.filter((e: AuditEntry) => e.action.startsWith('location.'));
    const first = await reads();
    expect(first.map((e: AuditEntry) => e.action).sort()).toEqual(['location.history.read', 'location.read']);

    // Another session (another browser) viewing the same device is another viewing.
    const other = await logIn(t.api(), { email: (await o.asOwner('GET', '/v1/account')).body.email, password: 'pw' });
    await poll(bearer(other.response.session.token!));
    const second = await reads();
    expect(second).toHaveLength(4);
    expect(second.filter((e: AuditEntry) => e.sessionId === other.response.session.id)).toHaveLength(2);
  });

  it('the same session reading again after the 30-minute window records a new entry', async () => {
    const o = await owner(t);
    const read = () => t.request('GET', `/v1/devices/${o.device.id}/location`, { headers: o.session });
    await read();
    t.clock.advance(29 * MINUTE);
    await read();
    const count = async () => (await o.asOwner('GET', '/v1/account/audit')).body.entries.filter((e: AuditEntry) => e.action === 'location.read').length;
    expect(await count()).toBe(1);
    t.clock.advance(1 * MINUTE + 1);
    await read();
    expect(await count()).toBe(2);
  });

  it('another device of the account is a viewing of its own', async () => {
    const o = await owner(t);
    const tablet = await o.register('tablet');
    await o.asOwner('PUT', `/v1/devices/${tablet.id}/find`, { enabled: true });
    await t.request('GET', `/v1/devices/${o.device.id}/location`, { headers: o.session });
    await t.request('GET', `/v1/devices/${tablet.id}/location`, { headers: o.session });
    const reads = (await o.asOwner('GET', '/v1/account/audit')).body.entries.filter((e: AuditEntry) => e.action === 'location.read');
    expect(reads.map((e: AuditEntry) => e.deviceId).sort()).toEqual([o.device.id, tablet.id].sort());
  });
});

describe('paging', () => {
  it('returns every entry exactly once, newest first, across pages with many entries at the same millisecond', async () => {
    const m = await signUpAndLogIn(t);
    // 60 entries in 6 distinct milliseconds, written in an order unrelated to their ids.
    for (let i = 0; i < 60; i++) {
      if (i % 10 === 0) t.clock.advance(1);
      await auditEntry(t.deps, m.accountId, 'location.read', { detail: `n${i}` });
    }
    const seen: AuditEntry[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await m.api.auditLog({ cursor, limit: 7 });
      expect(page.entries.length).toBeLessThanOrEqual(7);
      seen.push(...page.entries);
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(Math.ceil(61 / 7));
    expect(seen).toHaveLength(61); // and the login
    expect(new Set(seen.map((e) => e.id)).size).toBe(61);
    const order = [...seen].sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : -1));
    expect(seen.map((e) => e.id)).toEqual(order.map((e) => e.id));
  });

  it('the first page holds the newest 100 by default, and nextCursor only when there is more', async () => {
    const m = await signUpAndLogIn(t);
    for (let i = 0; i < 120; i++) await auditEntry(t.deps, m.accountId, 'location.read');
    const first = await m.api.auditLog();
    expect(first.entries).toHaveLength(100);
    expect(first.nextCursor).toBeDefined();
    const rest = await m.api.auditLog({ cursor: first.nextCursor });
    expect(rest.entries).toHaveLength(21);
    expect(rest.nextCursor).toBeUndefined();
    expect((await m.api.auditLog({ limit: 500 })).entries).toHaveLength(121);
  });

  it('the log is no longer capped at 100: the 101st-oldest entry is still there', async () => {
    const m = await signUpAndLogIn(t);
    for (let i = 0; i < 150; i++) {
      t.clock.advance(1);
      await auditEntry(t.deps, m.accountId, 'location.read');
    }
    const all = await everything(m.api);
    expect(all).toHaveLength(151);
    expect(all.at(-1)!.action).toBe('login.succeeded');
  });

  it('a limit above 500, below 1, or a cursor that is not one answers 400', async () => {
    const m = await signUpAndLogIn(t);
    const headers = bearer(m.token);
    for (const query of ['limit=501', 'limit=0', 'limit=abc', 'cursor=x', 'cursor=1.short', `cursor=-1.${'A'.repeat(22)}`]) {
      await expectError(t.request('GET', `/v1/account/audit?${query}`, { headers }), 400, 'validation_failed');
    }
  });
});

describe('retention', () => {
  it('entries older than AUDIT_RETENTION_DAYS are purged by the housekeeping pass; younger ones stay', async () => {
    t.close();
    t = createTestApp({ AUDIT_RETENTION_DAYS: '30' });
    const m = await signUpAndLogIn(t);
    t.clock.advance(20 * DAY);
    await auditEntry(t.deps, m.accountId, 'location.read', { detail: 'recent' });
    t.clock.advance(11 * DAY); // the login is now 31 days old, the read 11
    const outcomes = await runMaintenance(t.deps);
    expect(outcomes.find((o) => o.name === 'audit')).toMatchObject({ status: 'ok', counts: { entries: 1 } });
    const again = await logIn(t.api(), { email: m.email, password: m.password });
    const log = await everything(t.api({ sessionToken: again.response.session.token! }));
    expect(log.map((e) => e.detail)).toEqual(['password', 'recent']); // the new login, and the read
    // Idempotent: nothing more to remove.
    expect((await runMaintenance(t.deps)).find((o) => o.name === 'audit')).toMatchObject({ counts: { entries: 0 } });
  });

  it('the default keeps a year', async () => {
    const m = await signUpAndLogIn(t);
    await auditEntry(t.deps, m.accountId, 'sim.changed');
    // Read through a fresh session each time (sessions expire long before a year).
    const fresh = async () => t.api({ sessionToken: (await logIn(t.api(), { email: m.email, password: m.password })).response.session.token! });
    t.clock.advance(364 * DAY);
    await runMaintenance(t.deps);
    expect(await actions(await fresh())).toContain('sim.changed');
    t.clock.advance(2 * DAY);
    await runMaintenance(t.deps);
    expect(await actions(await fresh())).not.toContain('sim.changed');
  });
});

describe('the CLI', () => {
  it('formats a line with time, action, detail and the device name when known', () => {
    const entry = { id: 'x'.repeat(22), at: Date.UTC(2026, 10, 1, 12, 0, 5), action: 'command.created', deviceId: 'dev1', sessionId: null, detail: 'ring' };
    expect(formatAuditLine(entry, new Map([['dev1', 'Pixel 8']]))).toMatch(/^2026-11-01 12:00:05Z {2}command\.created +ring {2}Pixel 8$/);
    expect(formatAuditLine({ ...entry, deviceId: 'gone' }, new Map())).toMatch(/ring {2}device gone$/);
    expect(formatAuditLine({ ...entry, deviceId: null, detail: null, action: 'login.succeeded' }, new Map())).toBe('2026-11-01 12:00:05Z  login.succeeded');
  });

  it('without --all shows only the newest N', async () => {
    const m = await signUpAndLogIn(t);
    for (let i = 0; i < 30; i++) await auditEntry(t.deps, m.accountId, 'location.read');
    const shown: AuditEntry[] = [];
    for await (const entry of auditEntries(m.api, { limit: 12, all: false })) shown.push(entry);
    expect(shown).toHaveLength(12);
  });
});
