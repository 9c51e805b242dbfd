import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { diagnostics } from '../../src/db/schema.js';
import { createTestApp, type TestApp } from '../harness.js';
import { crash, expectConsentRequired, postDeviceReport, registerPhone, setConsent } from '../features/diagnostics-helpers.js';
import { attemptLogin, expectError, freshAddress, json, signUpAndLogIn } from './helpers.js';

// Diagnostics as an attacker sees them: reports belong to the account the credential names, and
// to nobody else; a consent switched off refuses at once; the size limit counts what arrives.

let t: TestApp;
beforeEach(() => {
  t = createTestApp({ DIAGNOSTICS_MAX_BYTES: '4096' });
});
afterEach(() => t.close());

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const rowsOf = (accountId: string) => t.deps.db.select().from(diagnostics).where(eq(diagnostics.accountId, accountId));

async function victimWithReports() {
  const victim = await signUpAndLogIn(t);
  await setConsent(t, victim, 'diagnostics', true);
  const phone = await registerPhone(t, victim);
  await phone.api.sendDeviceDiagnostics(crash({ secret: 'victim-only' }));
  await phone.api.sendDeviceDiagnostics(crash());
  return { victim, phone };
}

describe('security', () => {
  it("another account cannot read the victim's reports: its list holds only its own", async () => {
    const { victim } = await victimWithReports();
    const attacker = await signUpAndLogIn(t);
    await setConsent(t, attacker, 'diagnostics', true);
    await attacker.api.sendDiagnostics(crash());
    const page = await attacker.api.diagnostics({ limit: 200 });
    expect(page.reports).toHaveLength(1);
    expect(JSON.stringify(page)).not.toContain('victim-only');
    expect((await victim.api.diagnostics()).reports).toHaveLength(2);
  });

  it("another account's DELETE removes its own reports only, and its receipt names its own account", async () => {
    const { victim } = await victimWithReports();
    const attacker = await signUpAndLogIn(t);
    const { deleted, receipt } = await attacker.api.deleteDiagnostics();
    expect(deleted).toBe(0);
    expect(JSON.parse(receipt.payload).accountId).toBe(attacker.accountId);
    expect(await rowsOf(victim.accountId)).toHaveLength(2);
  });

  it("a removed device's token cannot report, and nothing is stored", async () => {
    const { victim, phone } = await victimWithReports();
    await victim.api.removeDevice(phone.deviceId);
    await expectError(postDeviceReport(t, phone.token, crash()), 401, 'unauthorized');
    expect(await rowsOf(victim.accountId)).toEqual([]);
  });

  it("a device of account A cannot file under account B: the body may not name an account or a device", async () => {
    const a = await signUpAndLogIn(t);
    const b = await signUpAndLogIn(t);
    await setConsent(t, a, 'diagnostics', true);
    await setConsent(t, b, 'diagnostics', true);
    const phoneA = await registerPhone(t, a);
    const phoneB = await registerPhone(t, b);
    await expectError(postDeviceReport(t, phoneA.token, { ...crash(), accountId: b.accountId }), 400, 'validation_failed');
    await expectError(postDeviceReport(t, phoneA.token, { ...crash(), deviceId: phoneB.deviceId }), 400, 'validation_failed');
    expect((await postDeviceReport(t, phoneA.token, crash())).status).toBe(201);
    expect(await rowsOf(b.accountId)).toEqual([]);
    expect((await rowsOf(a.accountId)).map((r) => r.deviceId)).toEqual([phoneA.deviceId]);
  });

  it('a device of an account without consent cannot report by riding on another account that has it', async () => {
    const withConsent = await signUpAndLogIn(t);
    await setConsent(t, withConsent, 'diagnostics', true);
    const without = await signUpAndLogIn(t);
    const phone = await registerPhone(t, without);
    await expectConsentRequired(postDeviceReport(t, phone.token, crash()), 'diagnostics');
    expect(await rowsOf(without.accountId)).toEqual([]);
  });

  it('consent withdrawn: the very next report is refused, and the stored ones can then be deleted', async () => {
    const { victim, phone } = await victimWithReports();
    await setConsent(t, victim, 'diagnostics', false);
    await expectConsentRequired(postDeviceReport(t, phone.token, crash()), 'diagnostics');
    expect(await rowsOf(victim.accountId)).toHaveLength(2);
    expect((await victim.api.deleteDiagnostics()).deleted).toBe(2);
    expect(await rowsOf(victim.accountId)).toEqual([]);
  });

  it('a Content-Length that lies low does not get an oversized report past the limit', async () => {
    const victim = await signUpAndLogIn(t);
    await setConsent(t, victim, 'diagnostics', true);
    const phone = await registerPhone(t, victim);
    const raw = JSON.stringify({ kind: 'crash', report: { pad: 'x'.repeat(10_000) } });
    const res = await t.app.request('http://localhost:8787/v1/device/diagnostics', {
      method: 'POST',
      headers: { ...bearer(phone.token), 'Content-Type': 'application/json', 'Content-Length': '100' },
      body: raw,
    });
    await expectError(res, 413, 'payload_too_large');
    expect(await rowsOf(victim.accountId)).toEqual([]);
  });

  it('a cookie session without its CSRF token can neither file nor delete reports', async () => {
    const { victim } = await victimWithReports();
    const login = await attemptLogin(t, { email: victim.email, password: victim.password, address: freshAddress(), session: 'cookie' });
    const cookie = login.headers.getSetCookie().find((line) => line.startsWith('__Host-homing-session='))!.split(';')[0]!;
    await expectError(t.request('DELETE', '/v1/account/diagnostics', { headers: { Cookie: cookie } }), 403, 'csrf_failed');
    await expectError(t.request('POST', '/v1/account/diagnostics', { body: crash(), headers: { Cookie: cookie } }), 403, 'csrf_failed');
    expect(await rowsOf(victim.accountId)).toHaveLength(2);
    const { csrfToken } = (await json(login)).session;
    const ok = await t.request('DELETE', '/v1/account/diagnostics', { headers: { Cookie: cookie, 'X-CSRF-Token': csrfToken } });
    expect(ok.status).toBe(200);
  });

  it('a phone flooding reports is cut off by its rate limit, and what it sent past the limit is not stored', async () => {
    const victim = await signUpAndLogIn(t);
    await setConsent(t, victim, 'diagnostics', true);
    const phone = await registerPhone(t, victim);
    const statuses: number[] = [];
    for (let i = 0; i < 62; i++) statuses.push((await postDeviceReport(t, phone.token, crash())).status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(60);
    expect(statuses.slice(60)).toEqual([429, 429]);
    expect(await rowsOf(victim.accountId)).toHaveLength(60);
  });
});
