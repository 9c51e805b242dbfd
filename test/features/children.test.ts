import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { logIn, signUp } from '../../src/client/account.js';
import { HomingApiError } from '../../src/client/api.js';
import { guardianships, pendingSignups } from '../../src/db/schema.js';
import { purgeExpiredSignups } from '../../src/features/children/service.js';
import { JOBS } from '../../src/jobs.js';
import { TEST_KDF, uniqueEmail } from '../harness.js';
import { apiAt, freshAddress, json } from '../security/helpers.js';
import { CHILD_YEAR, type ChildWorld, childSignsUp, codeIn, createChildWorld, latestCode, rowCounts, waitForMail } from './children-helpers.js';

// Issue 12 item 7, end to end with a real SMTP server: an under-14 sign-up keeps nothing but a
// pending record until the guardian's code confirms it; the record expires; a guardian can later
// have the account deleted.

let world: ChildWorld;
beforeEach(async () => {
  world = await createChildWorld();
});
afterEach(() => world.close());

const loginError = async (email: string, password: string) => {
  try {
    await logIn(world.t.api(), { email, password });
  } catch (err) {
    return { status: (err as HomingApiError).status, code: (err as HomingApiError).code };
  }
  throw new Error('login succeeded');
};

describe('children: happy', () => {
  it('an under-14 sign-up mails the guardian a code that says who asks, what it consents to and what ignoring it does; only the pending row exists', async () => {
    const before = await rowCounts(world.t);
    const child = await childSignsUp(world);
    expect(child.pending).toMatchObject({ guardian: expect.stringMatching(/^p•••@example\.org$/), pendingSignupId: expect.any(String) });
    expect(child.pending.expiresAt).toBe(world.t.clock.now() + world.t.deps.config.pendingSignupMs);

    const [mail] = world.mailTo(child.guardianEmail);
    expect(mail!.subject).toMatch(/consent/i);
    expect(mail!.text).toContain('c•••@example.org');
    expect(mail!.text).not.toContain(child.email);
    expect(mail!.text).toContain(`version ${world.t.deps.config.policy.version}`);
    expect(mail!.text).toContain('http://localhost:8787/v1/policy');
    expect(mail!.text).toMatch(/If you do nothing, no account is created/);
    expect(codeIn(mail!.text)).toMatch(/^\d{6}$/);

    expect(await rowCounts(world.t)).toEqual({ ...before, pending: 1, codes: before.codes + 1 });
    const [row] = await world.t.deps.db.select().from(pendingSignups);
    // The request is sealed: neither the e-mail nor the guardian's address is readable in the row.
    expect(JSON.stringify(row)).not.toContain(child.email);
    expect(JSON.stringify(row)).not.toContain(child.guardianEmail);
    // Login fails exactly as for an address nobody has.
    expect(await loginError(child.email, child.password)).toEqual(await loginError(uniqueEmail('nobody'), 'whatever'));
  });

  it("the code from the guardian's mail creates the account, which logs in; the guardian is told, and the pending row and its code are gone", async () => {
    const child = await childSignsUp(world);
    const code = latestCode(world, child.guardianEmail);
    const api = apiAt(world.t, child.address);
    expect(await api.confirmPendingSignup(child.pending.pendingSignupId, { verificationId: child.pending.verificationId, code })).toEqual({
      accountId: child.accountId,
    });

    const { response } = await logIn(world.t.api(), { email: child.email, password: child.password });
    expect(response.accountId).toBe(child.accountId);
    expect(await rowCounts(world.t, child.pending.pendingSignupId)).toMatchObject({ accounts: 1, pending: 0, guardianships: 1, codes: 0 });
    const [guardianship] = await world.t.deps.db.select().from(guardianships);
    expect(guardianship).toMatchObject({ accountId: child.accountId, channel: 'email', birthYear: CHILD_YEAR, consentedAt: world.t.clock.now() });
    expect(JSON.stringify(guardianship)).not.toContain(child.guardianEmail);

    const mails = await waitForMail(world, child.guardianEmail, 2);
    expect(mails[1]!.subject).toMatch(/created/);
    expect(mails[1]!.text).toContain('c•••@example.org');
  });

  it("a guardian reached by SMS confirms with the texted code", async () => {
    const email = uniqueEmail('child');
    const api = apiAt(world.t, freshAddress());
    const { accountId, pending } = await signUp(api, { email, password: 'pw', birthYear: CHILD_YEAR, guardian: { phoneNumber: '+447700900555' }, kdf: TEST_KDF });
    expect(pending!.guardian).toBe('+44••••••••55');
    const sms = world.t.outbox().filter((m) => m.to === '+447700900555');
    expect(sms).toHaveLength(1);
    expect(sms[0]!.body).toContain('c•••@example.org');
    await api.confirmPendingSignup(pending!.pendingSignupId, { verificationId: pending!.verificationId, code: codeIn(sms[0]!.body) });
    expect((await logIn(world.t.api(), { email, password: 'pw' })).response.accountId).toBe(accountId);
    expect(world.t.outbox().filter((m) => m.to === '+447700900555')).toHaveLength(2);
  });

  it('resend mails a new code; the earlier one stops working', async () => {
    const child = await childSignsUp(world);
    const first = latestCode(world, child.guardianEmail);
    const api = apiAt(world.t, child.address);
    const sent = await api.resendPendingSignupCode(child.pending.pendingSignupId);
    await waitForMail(world, child.guardianEmail, 2);
    const second = latestCode(world, child.guardianEmail);
    await expect(
      api.confirmPendingSignup(child.pending.pendingSignupId, { verificationId: child.pending.verificationId, code: first }),
    ).rejects.toMatchObject({ code: 'verification_failed' });
    await api.confirmPendingSignup(child.pending.pendingSignupId, { verificationId: sent.verificationId, code: second });
    expect((await rowCounts(world.t)).accounts).toBe(1);
  });

  it('a birth year exactly 14 years back still needs a guardian; one 15 years back does not', async () => {
    const api = apiAt(world.t, freshAddress());
    const fourteen = await signUp(api, { email: uniqueEmail(), password: 'pw', birthYear: 2012, guardian: { email: uniqueEmail('parent') }, kdf: TEST_KDF });
    expect(fourteen.pending).toBeDefined();
    const fifteen = await signUp(api, { email: uniqueEmail(), password: 'pw', birthYear: 2011, kdf: TEST_KDF });
    expect(fifteen.pending).toBeUndefined();
  });
});

describe('children: expiry', () => {
  it('the pending sign-up expires with the injected clock, and every trace with it; the e-mail is free again', async () => {
    const child = await childSignsUp(world);
    const code = latestCode(world, child.guardianEmail);
    const api = apiAt(world.t, child.address);
    world.t.clock.advance(world.t.deps.config.pendingSignupMs);

    // Expired but not yet purged: it counts for nothing.
    await expect(
      api.confirmPendingSignup(child.pending.pendingSignupId, { verificationId: child.pending.verificationId, code }),
    ).rejects.toMatchObject({ code: 'verification_failed' });
    expect(JOBS.some((job) => job.run === purgeExpiredSignups)).toBe(true);
    expect(await purgeExpiredSignups(world.t.deps)).toEqual({ pendingSignups: 1 });
    expect(await rowCounts(world.t)).toEqual({ accounts: 0, pending: 0, guardianships: 0, codes: 0 });
    expect(await purgeExpiredSignups(world.t.deps)).toEqual({ pendingSignups: 0 });

    // Nothing of it holds the e-mail any more.
    const again = await signUp(api, { email: child.email, password: 'pw', birthYear: 1990, kdf: TEST_KDF });
    expect(again.pending).toBeUndefined();
  });

  it('a pending sign-up one millisecond before expiry is kept and still confirms', async () => {
    const child = await childSignsUp(world);
    world.t.clock.advance(world.t.deps.config.pendingSignupMs - world.t.deps.config.verificationCodeMs);
    const sent = await apiAt(world.t, child.address).resendPendingSignupCode(child.pending.pendingSignupId);
    world.t.clock.advance(world.t.deps.config.verificationCodeMs - 1);
    expect(await purgeExpiredSignups(world.t.deps)).toEqual({ pendingSignups: 0 });
    await waitForMail(world, child.guardianEmail, 2);
    const code = latestCode(world, child.guardianEmail);
    await apiAt(world.t, child.address).confirmPendingSignup(child.pending.pendingSignupId, { verificationId: sent.verificationId, code });
    expect((await rowCounts(world.t)).accounts).toBe(1);
  });
});

describe('children: guardian deletion', () => {
  it("the guardian has the child's account deleted: a code by mail, then the deletion is scheduled as the guardian's", async () => {
    const child = await childSignsUp(world);
    await apiAt(world.t, child.address).confirmPendingSignup(child.pending.pendingSignupId, {
      verificationId: child.pending.verificationId,
      code: latestCode(world, child.guardianEmail),
    });
    await waitForMail(world, child.guardianEmail, 2);

    const guardian = apiAt(world.t, freshAddress());
    const sent = await guardian.requestGuardianDeletion({ childEmail: child.email, guardian: { email: child.guardianEmail } });
    const mails = await waitForMail(world, child.guardianEmail, 3);
    expect(mails[2]!.subject).toMatch(/deleting/);
    expect(mails[2]!.text).toContain('c•••@example.org');
    const { dueAt } = await guardian.confirmGuardianDeletion({ verificationId: sent.verificationId, code: codeIn(mails[2]!.text) });
    expect(dueAt).toBe(world.t.clock.now() + world.t.deps.config.deletionGraceMs);

    const { response } = await logIn(world.t.api(), { email: child.email, password: child.password });
    const status = await json<{ deletion: { requestedBy: string; dueAt: number } }>(
      await world.t.request('GET', '/v1/account/deletion', { headers: { Authorization: `Bearer ${response.session.token}` } }),
    );
    expect(status.deletion).toMatchObject({ requestedBy: 'guardian', dueAt });
  });
});
