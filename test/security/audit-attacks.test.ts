import { count, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { logIn } from '../../src/client/account.js';
import { auditLog } from '../../src/db/schema.js';
import { auditEntry } from '../../src/features/audit/service.js';
import { createTestApp, type TestApp, uniqueEmail } from '../harness.js';
import { owner } from '../features/find-helpers.js';
import { attemptLogin, expectError, freshAddress, json, randomId, signUpAndLogIn } from './helpers.js';

// The audit log is the owner's alone: only a session of the account reads it, and a stranger
// learns nothing from it, nor from what logging in records.

let t: TestApp;
beforeEach(() => {
  t = createTestApp();
});
afterEach(() => t.close());

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const allRows = async () => (await t.deps.db.select({ n: count() }).from(auditLog))[0]!.n;
const rowsOf = async (accountId: string) => (await t.deps.db.select({ n: count() }).from(auditLog).where(eq(auditLog.accountId, accountId)))[0]!.n;

describe('security: who can read the log', () => {
  it('another account reads only its own log, and a cursor taken from a victim page shows it nothing of the victim', async () => {
    const victim = await signUpAndLogIn(t);
    const attacker = await signUpAndLogIn(t);
    for (let i = 0; i < 10; i++) await auditEntry(t.deps, victim.accountId, 'location.read', { detail: 'victim' });
    const victimPage = await victim.api.auditLog({ limit: 3 });
    expect(victimPage.nextCursor).toBeDefined();

    const own = await attacker.api.auditLog({ limit: 500 });
    expect(own.entries.map((e) => e.detail)).toEqual(['password']);
    const withVictimCursor = await attacker.api.auditLog({ cursor: victimPage.nextCursor!, limit: 500 });
    expect(withVictimCursor.entries.every((e) => e.detail !== 'victim')).toBe(true);
    expect(JSON.stringify(withVictimCursor)).not.toContain(victim.sessionId);
  });

  it('a device token cannot read the log: sessions only', async () => {
    const o = await owner(t);
    await expectError(t.request('GET', '/v1/account/audit', { headers: o.device.auth }), 401, 'unauthorized');
  });

  it('a revoked session cannot read it, and no credential at all cannot either', async () => {
    const m = await signUpAndLogIn(t);
    const other = await logIn(t.api(), { email: m.email, password: m.password });
    await m.api.revokeSession(other.response.session.id);
    await expectError(t.request('GET', '/v1/account/audit', { headers: bearer(other.response.session.token!) }), 401, 'unauthorized');
    await expectError(t.request('GET', '/v1/account/audit'), 401, 'unauthorized');
  });

  it('forged cursors (huge, negative, injected SQL) answer 400, never 500', async () => {
    const m = await signUpAndLogIn(t);
    const forged = [`99999999999999999.${randomId()}`, `-5.${randomId()}`, `1.${randomId()}' OR 1=1 --`, `1.${randomId()}.1`, `${'9'.repeat(400)}`];
    for (const cursor of forged) {
      await expectError(t.request('GET', `/v1/account/audit?cursor=${encodeURIComponent(cursor)}`, { headers: bearer(m.token) }), 400, 'validation_failed');
    }
    // A well-formed cursor that matches no entry is just an empty page.
    const res = await t.request('GET', `/v1/account/audit?cursor=0.${randomId()}`, { headers: bearer(m.token) });
    expect(await json(res)).toEqual({ entries: [] });
  });
});

describe('security: what logging in records', () => {
  it('a failed login on an unknown e-mail records nothing and answers exactly like one on a real account', async () => {
    const real = await signUpAndLogIn(t);
    const before = await allRows();
    const unknown = await attemptLogin(t, { email: uniqueEmail('nobody'), password: 'guess', address: freshAddress() });
    expect(await allRows()).toBe(before);

    const known = await attemptLogin(t, { email: real.email, password: 'guess', address: freshAddress() });
    expect(await rowsOf(real.accountId)).toBe(2); // the login and this failure
    const shape = async (res: Response) => {
      const body = await json(res);
      return { status: res.status, code: body.error.code, message: body.error.message, keys: Object.keys(body.error).sort() };
    };
    expect(await shape(unknown)).toEqual(await shape(known));
  });

  it('a guessing loop against a real account leaves one entry per attempt the owner can see', async () => {
    const m = await signUpAndLogIn(t);
    for (let i = 0; i < 3; i++) {
      expect((await attemptLogin(t, { email: m.email, password: `guess ${i}`, address: freshAddress() })).status).toBe(401);
    }
    const page = await m.api.auditLog();
    expect(page.entries.filter((e) => e.action === 'login.failed')).toHaveLength(3);
  });
});

describe('security: the page cannot flood the log', () => {
  it('two location polls by one session arriving together add one entry, not two', async () => {
    const o = await owner(t);
    const reads = await Promise.all(
      Array.from({ length: 8 }, () => t.request('GET', `/v1/devices/${o.device.id}/location`, { headers: o.session })),
    );
    for (const res of reads) expect(res.status).toBe(200);
    const { body } = await o.asOwner('GET', '/v1/account/audit');
    expect(body.entries.filter((e: { action: string }) => e.action === 'location.read')).toHaveLength(1);
  });
});
