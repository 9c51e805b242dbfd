import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { diagnostics } from '../../src/db/schema.js';
import {
  deleteDiagnosticsOf,
  deleteDiagnosticsOfPurpose,
  diagnosticsAggregates,
  fileReport,
  K_ANONYMITY,
  listDiagnostics,
  purgeOldDiagnostics,
} from '../../src/features/diagnostics/service.js';
import { runMaintenance } from '../../src/jobs.js';
import { verifyReceipt } from '../../src/protocol/receipts.js';
import { REPORT_MAX_DEPTH, REPORT_MAX_NODES } from '../../src/protocol/api/diagnostics.js';
import { createTestApp, type TestApp } from '../harness.js';
import { checkpoint, expectError, json, signUpAndLogIn } from '../security/helpers.js';
import { crash, expectConsentRequired, postDeviceReport, registerPhone, setConsent } from './diagnostics-helpers.js';

let t: TestApp;
beforeEach(() => {
  t = createTestApp({ DIAGNOSTICS_MAX_BYTES: '4096', DIAGNOSTICS_RETENTION_DAYS: '90' });
});
afterEach(() => t.close());

const DAY = 86_400_000;
const rowsOf = (accountId: string) => t.deps.db.select().from(diagnostics).where(eq(diagnostics.accountId, accountId));
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

describe('happy', () => {
  it('with consent, a crash report is stored without the client address, in the row, the log or the database file', async () => {
    const m = await signUpAndLogIn(t);
    await setConsent(t, m, 'diagnostics', true);
    const phone = await registerPhone(t, m);
    const address = '203.0.113.77';
    const linesBefore = t.logLines.length;
    const res = await postDeviceReport(t, phone.token, crash(), { 'X-Forwarded-For': address });
    expect(res.status).toBe(201);
    const accepted = await json(res);

    const [row] = await rowsOf(m.accountId);
    expect(row).toMatchObject({ id: accepted.id, deviceId: phone.deviceId, kind: 'crash', appVersion: '1.4.2', size: accepted.size });
    expect(JSON.parse(row!.body)).toEqual(crash().report);
    expect(JSON.stringify(row)).not.toContain(address);
    const lines = t.logLines.slice(linesBefore);
    expect(lines.some((line) => line.includes('diagnostics received'))).toBe(true);
    expect(lines.filter((line) => line.includes(address))).toEqual([]);
    checkpoint(t);
    expect(readFileSync(join(t.dir, 'homing.db')).includes(Buffer.from(address))).toBe(false);
  });

  it('usage events need the experience consent, not the diagnostics one', async () => {
    const m = await signUpAndLogIn(t);
    await setConsent(t, m, 'diagnostics', true);
    const phone = await registerPhone(t, m);
    const usage = { kind: 'usage', report: { events: [{ name: 'screen.open', count: 3 }] } };
    await expectConsentRequired(postDeviceReport(t, phone.token, usage), 'experience');
    await setConsent(t, m, 'experience', true);
    expect((await postDeviceReport(t, phone.token, usage)).status).toBe(201);
    expect((await rowsOf(m.accountId)).map((r) => r.kind)).toEqual(['usage']);
  });

  it("the web page files its own crash report through its session, with no device", async () => {
    const m = await signUpAndLogIn(t);
    await setConsent(t, m, 'diagnostics', true);
    const accepted = await m.api.sendDiagnostics(crash());
    const [row] = await rowsOf(m.accountId);
    expect(row).toMatchObject({ id: accepted.id, deviceId: null });
  });

  it('the user reads their reports newest first, a page at a time', async () => {
    const m = await signUpAndLogIn(t);
    await setConsent(t, m, 'diagnostics', true);
    const phone = await registerPhone(t, m);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await phone.api.sendDeviceDiagnostics(crash({ n: i }))).id);
      t.clock.advance(1000);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await m.api.diagnostics({ cursor, limit: 2 });
      seen.push(...page.reports.map((r) => r.id));
      cursor = page.cursor ?? undefined;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(ids.reverse());
    const [newest] = (await m.api.diagnostics({ limit: 1 })).reports;
    expect(newest).toMatchObject({ kind: 'crash', deviceId: phone.deviceId, appVersion: '1.4.2', report: crash({ n: 4 }).report });
  });

  it('the user deletes everything with a signed receipt that verifies offline, and the audit log records it', async () => {
    const m = await signUpAndLogIn(t);
    await setConsent(t, m, 'diagnostics', true);
    const phone = await registerPhone(t, m);
    for (let i = 0; i < 3; i++) await phone.api.sendDeviceDiagnostics(crash());
    await m.api.sendDiagnostics(crash());

    const { deleted, receipt } = await m.api.deleteDiagnostics();
    expect(deleted).toBe(4);
    const { publicKey } = await json(await t.request('GET', '/v1/receipts/key'));
    const payload = verifyReceipt(receipt, publicKey);
    expect(payload).toMatchObject({ accountId: m.accountId, scope: { type: 'diagnostics' }, counts: { diagnostics: 4 } });
    expect(() => verifyReceipt({ ...receipt, payload: receipt.payload.replace('"diagnostics":4', '"diagnostics":0') }, publicKey)).toThrow();
    expect(await rowsOf(m.accountId)).toEqual([]);
    expect((await m.api.diagnostics()).reports).toEqual([]);
    const audit = await json(await t.request('GET', '/v1/account/audit', { headers: bearer(m.token) }));
    expect(audit.entries.map((e: { action: string }) => e.action)).toContain('diagnostics.deleted');
  });

  it('the export reader yields every report, oldest first, across its pages', async () => {
    const m = await signUpAndLogIn(t);
    await setConsent(t, m, 'diagnostics', true);
    for (let i = 0; i < 230; i++) {
      await fileReport(t.deps, { accountId: m.accountId }, crash({ n: i }));
      // Several in one millisecond, too: within one, the order is by id (the export's keyset).
      if (i % 7 === 0) t.clock.advance(1);
    }
    const other = await signUpAndLogIn(t);
    await setConsent(t, other, 'diagnostics', true);
    await fileReport(t.deps, { accountId: other.accountId }, crash());
    const seen: { n: number; receivedAt: number; id: string }[] = [];
    for await (const row of listDiagnostics(t.deps, m.accountId)) seen.push({ n: row.report.n as number, receivedAt: row.receivedAt, id: row.id });
    expect(seen.map((r) => r.n).sort((a, b) => a - b)).toEqual([...Array(230).keys()]);
    const sorted = [...seen].sort((a, b) => a.receivedAt - b.receivedAt || (a.id < b.id ? -1 : 1));
    expect(seen).toEqual(sorted);
  });

  it("deletion by device takes that phone's reports only; by purpose, only that purpose's kind", async () => {
    const m = await signUpAndLogIn(t);
    await setConsent(t, m, 'diagnostics', true);
    await setConsent(t, m, 'experience', true);
    const a = await registerPhone(t, m);
    const b = await registerPhone(t, m);
    await a.api.sendDeviceDiagnostics(crash());
    await a.api.sendDeviceDiagnostics({ kind: 'usage', report: { events: [] } });
    await b.api.sendDeviceDiagnostics(crash());
    expect(await deleteDiagnosticsOf(t.deps, m.accountId, a.deviceId)).toBe(2);
    expect((await rowsOf(m.accountId)).map((r) => r.deviceId)).toEqual([b.deviceId]);
    await b.api.sendDeviceDiagnostics({ kind: 'usage', report: { events: [] } });
    expect(await deleteDiagnosticsOfPurpose(t.deps, m.accountId, 'experience')).toBe(1);
    expect((await rowsOf(m.accountId)).map((r) => r.kind)).toEqual(['crash']);
  });

  it("removing a device removes its reports", async () => {
    const m = await signUpAndLogIn(t);
    await setConsent(t, m, 'diagnostics', true);
    const phone = await registerPhone(t, m);
    await phone.api.sendDeviceDiagnostics(crash());
    await m.api.removeDevice(phone.deviceId);
    expect(await rowsOf(m.accountId)).toEqual([]);
  });
});

describe('retention', () => {
  it('reports are kept for DIAGNOSTICS_RETENTION_DAYS and purged after, by the maintenance job', async () => {
    const m = await signUpAndLogIn(t);
    await setConsent(t, m, 'diagnostics', true);
    const phone = await registerPhone(t, m);
    await phone.api.sendDeviceDiagnostics(crash());
    t.clock.advance(30 * DAY);
    await phone.api.sendDeviceDiagnostics(crash());

    t.clock.advance(60 * DAY - 1); // the first is 90 days old less 1 ms
    expect(await purgeOldDiagnostics(t.deps)).toEqual({ diagnostics: 0 });
    t.clock.advance(2);
    const outcomes = (await runMaintenance(t.deps)) as unknown as { name: string; status: string; counts?: unknown }[];
    expect(outcomes.find((o) => o.name === 'diagnostics')).toMatchObject({ status: 'ok', counts: { diagnostics: 1 } });
    expect(await rowsOf(m.accountId)).toHaveLength(1);
    expect(await purgeOldDiagnostics(t.deps)).toEqual({ diagnostics: 0 }); // idempotent
    t.clock.advance(30 * DAY);
    expect(await purgeOldDiagnostics(t.deps)).toEqual({ diagnostics: 1 });
    expect(await rowsOf(m.accountId)).toEqual([]);
  });
});

describe('errors', () => {
  it('without consent a crash report is refused and nothing is stored', async () => {
    const m = await signUpAndLogIn(t);
    const phone = await registerPhone(t, m);
    await expectConsentRequired(postDeviceReport(t, phone.token, crash()), 'diagnostics');
    await expectConsentRequired(t.request('POST', '/v1/account/diagnostics', { body: crash(), headers: bearer(m.token) }), 'diagnostics');
    expect(await rowsOf(m.accountId)).toEqual([]);
  });

  it('a body one byte over DIAGNOSTICS_MAX_BYTES is 413, one at the limit is stored', async () => {
    const m = await signUpAndLogIn(t);
    await setConsent(t, m, 'diagnostics', true);
    const phone = await registerPhone(t, m);
    const sized = (bytes: number) => {
      const base = JSON.stringify({ kind: 'crash', report: { pad: '' } });
      return JSON.stringify({ kind: 'crash', report: { pad: 'x'.repeat(bytes - base.length) } });
    };
    const at = (raw: string) => t.request('POST', '/v1/device/diagnostics', { raw, headers: bearer(phone.token) });
    expect((await at(sized(4096))).status).toBe(201);
    await expectError(at(sized(4097)), 413, 'payload_too_large');
    expect(await rowsOf(m.accountId)).toHaveLength(1);
  });

  it('a report nested deeper than the limit, or with too many entries, is 400 and is not stored', async () => {
    const m = await signUpAndLogIn(t);
    await setConsent(t, m, 'diagnostics', true);
    const phone = await registerPhone(t, m);
    const nest = (depth: number) => {
      let value: Record<string, unknown> = {};
      for (let i = 1; i < depth; i++) value = { a: value };
      return value;
    };
    expect((await postDeviceReport(t, phone.token, { kind: 'crash', report: nest(REPORT_MAX_DEPTH) })).status).toBe(201);
    await expectError(postDeviceReport(t, phone.token, { kind: 'crash', report: nest(REPORT_MAX_DEPTH + 1) }), 400, 'validation_failed');
    // 1,000 levels of arrays fit in 4 KiB of JSON.
    const deep = `{"kind":"crash","report":{"a":${'['.repeat(1000)}${']'.repeat(1000)}}}`;
    await expectError(t.request('POST', '/v1/device/diagnostics', { raw: deep, headers: bearer(phone.token) }), 400, 'validation_failed');
    const wide = `{"kind":"crash","report":{"a":[${Array(REPORT_MAX_NODES).fill('0').join(',')}]}}`;
    expect(wide.length).toBeGreaterThan(4096);
    const t2 = createTestApp({ DIAGNOSTICS_MAX_BYTES: String(64 * 1024) });
    try {
      const m2 = await signUpAndLogIn(t2);
      await t2.request('PUT', '/v1/account/consents/diagnostics', { body: { granted: true }, headers: bearer(m2.token) });
      const res = await t2.request('POST', '/v1/account/diagnostics', { raw: wide, headers: bearer(m2.token) });
      await expectError(res, 400, 'validation_failed');
    } finally {
      t2.close();
    }
    expect(await rowsOf(m.accountId)).toHaveLength(1);
  });

  it('malformed JSON, an unknown kind, a bad app version or a report that is not an object is 400', async () => {
    const m = await signUpAndLogIn(t);
    await setConsent(t, m, 'diagnostics', true);
    const phone = await registerPhone(t, m);
    await expectError(t.request('POST', '/v1/device/diagnostics', { raw: '{"kind":', headers: bearer(phone.token) }), 400, 'malformed_json');
    await expectError(postDeviceReport(t, phone.token, { kind: 'location', report: {} }), 400, 'validation_failed');
    await expectError(postDeviceReport(t, phone.token, { ...crash(), appVersion: '1.0\n<script>' }), 400, 'validation_failed');
    await expectError(postDeviceReport(t, phone.token, { kind: 'crash', report: ['a'] }), 400, 'validation_failed');
    expect(await rowsOf(m.accountId)).toEqual([]);
  });

  it('a made-up cursor is 400', async () => {
    const m = await signUpAndLogIn(t);
    await expectError(t.request('GET', '/v1/account/diagnostics?cursor=drop%20table', { headers: bearer(m.token) }), 400, 'validation_failed');
  });
});

describe('operator aggregates', () => {
  it(`show counts per day, kind and version only for cells of ${K_ANONYMITY}+ accounts, and no ids or bodies`, async () => {
    const members = [];
    for (let i = 0; i < K_ANONYMITY; i++) {
      const m = await signUpAndLogIn(t);
      await setConsent(t, m, 'diagnostics', true);
      members.push(m);
    }
    // Five accounts on 1.4.2 (one of them twice); four on 2.0.0: that cell is too small to show.
    for (const m of members) await fileReport(t.deps, { accountId: m.accountId }, crash({ secret: `body-of-${m.accountId}` }));
    await fileReport(t.deps, { accountId: members[0]!.accountId }, crash());
    for (const m of members.slice(1)) await fileReport(t.deps, { accountId: m.accountId }, { kind: 'crash', appVersion: '2.0.0', report: {} });
    t.clock.advance(DAY);
    for (const m of members.slice(0, 4)) await fileReport(t.deps, { accountId: m.accountId }, crash());

    const cells = await diagnosticsAggregates(t.deps, { since: 0 });
    const today = new Date(t.clock.now() - DAY).toISOString().slice(0, 10);
    expect(cells).toEqual([{ day: today, kind: 'crash', appVersion: '1.4.2', reports: 6, accounts: 5 }]);
    const text = JSON.stringify(cells);
    for (const m of members) expect(text).not.toContain(m.accountId);
    expect(text).not.toContain('body-of');
    // since: leaves the first day out, and the second day's cell has only four accounts.
    expect(await diagnosticsAggregates(t.deps, { since: t.clock.now() - 1000 })).toEqual([]);
  });
});
