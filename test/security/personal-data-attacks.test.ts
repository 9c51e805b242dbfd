import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { proveIdentity, signUp, startEmailChange, startPhoneChange } from '../../src/client/account.js';
import { createTestApp, TEST_KDF, type TestApp, uniqueEmail } from '../harness.js';
import { auditActions, codeIn, mailTo } from '../features/personal-data-helpers.js';
import { expectError, json, signUpAndLogIn, type Member } from './helpers.js';

// The attacker's side of changing the e-mail address and phone number
// (src/features/personal-data/service.ts states the guarantees).

let t: TestApp;
beforeEach(() => {
  t = createTestApp();
});
afterEach(() => t.close());

const asMember = (m: Member) => ({ Authorization: `Bearer ${m.token}` });
const post = (m: Member, path: string, body: unknown) => t.request('POST', path, { body, headers: asMember(m) });

describe('personal data: a session alone is not enough', () => {
  it('a stolen session without a fresh proof cannot start an e-mail change (no proof, a forged signature, the wrong password)', async () => {
    const alice = await signUpAndLogIn(t);
    await expectError(post(alice, '/v1/account/email', { email: 'thief@evil.example' }), 400, 'validation_failed');
    const challenge = await alice.api.challenge(alice.email);
    const forged = { challengeId: challenge.challengeId, signature: 'A'.repeat(86) };
    await expectError(post(alice, '/v1/account/email', { proof: forged, email: 'thief@evil.example' }), 401, 'invalid_credentials');
    const wrong = await proveIdentity(t.api(), { email: alice.email, password: 'not the password' });
    await expectError(post(alice, '/v1/account/email', { proof: wrong, email: 'thief@evil.example' }), 401, 'invalid_credentials');
    await expectError(t.request('DELETE', '/v1/account/phone', { body: { proof: forged }, headers: asMember(alice) }), 401, 'challenge_invalid');
    expect(t.emailOutbox()).toEqual([]);
    expect((await alice.api.account()).email).toBe(alice.email);
  });

  it("a proof made for another account (the attacker's own password) does not open the victim's session", async () => {
    const alice = await signUpAndLogIn(t, { phoneNumber: '+447700901001' });
    const mallory = await signUpAndLogIn(t);
    const mallorysProof = await proveIdentity(t.api(), { email: mallory.email, password: mallory.password });
    await expectError(post(alice, '/v1/account/email', { proof: mallorysProof, email: 'thief@evil.example' }), 401, 'invalid_credentials');
    const another = await proveIdentity(t.api(), { email: mallory.email, password: mallory.password });
    await expectError(t.request('DELETE', '/v1/account/phone', { body: { proof: another }, headers: asMember(alice) }), 401, 'invalid_credentials');
    expect(t.emailOutbox()).toEqual([]);
    expect(await alice.api.account()).toMatchObject({ email: alice.email, phoneNumber: '+447700901001' });
  });

  it('a replayed proof fails: the challenge is single-use', async () => {
    const alice = await signUpAndLogIn(t);
    const proof = await proveIdentity(alice.api, { email: alice.email, password: alice.password });
    expect((await post(alice, '/v1/account/email', { proof, email: uniqueEmail('first') })).status).toBe(200);
    await expectError(post(alice, '/v1/account/email', { proof, email: uniqueEmail('again') }), 401, 'challenge_invalid');
    await expectError(post(alice, '/v1/account/phone', { proof, phoneNumber: '+447700901002' }), 401, 'challenge_invalid');
    expect(t.emailOutbox()).toHaveLength(1);
  });
});

describe('personal data: codes', () => {
  it("another account cannot confirm the victim's change, even with the right verificationId and code", async () => {
    const alice = await signUpAndLogIn(t);
    const mallory = await signUpAndLogIn(t);
    const newEmail = uniqueEmail('alice-next');
    const started = await startEmailChange(alice.api, { currentEmail: alice.email, newEmail, password: alice.password });
    const code = codeIn(mailTo(t, newEmail)[0]!.text);
    await expectError(post(mallory, '/v1/account/email/confirm', { verificationId: started.verificationId, code }), 400, 'verification_failed');
    expect((await mallory.api.account()).email).toBe(mallory.email);
    // The code still works for its owner.
    expect((await alice.api.confirmEmailChange(started.verificationId, code)).email).toBe(newEmail);
  });

  it('a brute-force loop: five wrong codes kill the code, and the right one is refused after', async () => {
    const alice = await signUpAndLogIn(t);
    const newEmail = uniqueEmail('alice-brute');
    const started = await startEmailChange(alice.api, { currentEmail: alice.email, newEmail, password: alice.password });
    const code = codeIn(mailTo(t, newEmail)[0]!.text);
    const wrong = (i: number) => String((Number(code) + 1 + i) % 1_000_000).padStart(6, '0');
    for (let i = 0; i < 5; i++) {
      const res = await post(alice, '/v1/account/email/confirm', { verificationId: started.verificationId, code: wrong(i) });
      expect(res.status).toBe(400);
      expect((await json(res)).error.code).toBe('verification_failed');
    }
    await expectError(post(alice, '/v1/account/email/confirm', { verificationId: started.verificationId, code }), 400, 'verification_failed');
    expect((await alice.api.account()).email).toBe(alice.email);
  });

  it('a code sent for an e-mail change cannot confirm a phone change (nor the reverse)', async () => {
    const alice = await signUpAndLogIn(t);
    const newEmail = uniqueEmail('alice-purpose');
    const email = await startEmailChange(alice.api, { currentEmail: alice.email, newEmail, password: alice.password });
    const emailCode = codeIn(mailTo(t, newEmail)[0]!.text);
    await expectError(post(alice, '/v1/account/phone/confirm', { verificationId: email.verificationId, code: emailCode }), 400, 'verification_failed');
    const phone = await startPhoneChange(alice.api, { email: alice.email, phoneNumber: '+447700901003', password: alice.password });
    const smsCode = codeIn(t.outbox()[0]!.body);
    await expectError(post(alice, '/v1/account/email/confirm', { verificationId: phone.verificationId, code: smsCode }), 400, 'verification_failed');
    expect(await alice.api.account()).toMatchObject({ email: alice.email, phoneNumber: null });
    // Each still confirms what it was sent for.
    expect((await alice.api.confirmEmailChange(email.verificationId, emailCode)).email).toBe(newEmail);
    expect((await alice.api.confirmPhoneChange(phone.verificationId, smsCode)).phoneNumber).toBe('+447700901003');
  });

  it('a used code cannot be confirmed twice (two racing confirms: one wins)', async () => {
    const alice = await signUpAndLogIn(t);
    const newEmail = uniqueEmail('alice-twice');
    const started = await startEmailChange(alice.api, { currentEmail: alice.email, newEmail, password: alice.password });
    const code = codeIn(mailTo(t, newEmail)[0]!.text);
    const answers = await Promise.all([0, 1].map(() => post(alice, '/v1/account/email/confirm', { verificationId: started.verificationId, code })));
    expect(answers.map((r) => r.status).sort()).toEqual([200, 400]);
    expect((await auditActions(t, alice.token)).filter((a) => a === 'email.changed')).toHaveLength(1);
  });
});

describe('personal data: no oracle for addresses and numbers taken by others', () => {
  it("an address another account holds gets the same answer shape and the same work; the mail there carries no code; confirm fails", async () => {
    const alice = await signUpAndLogIn(t);
    const bob = await signUpAndLogIn(t);
    const free = uniqueEmail('free');

    const answerFor = async (email: string) => {
      const before = t.emailOutbox().length;
      const proof = await proveIdentity(alice.api, { email: alice.email, password: alice.password });
      const res = await post(alice, '/v1/account/email', { proof, email });
      return { res, body: await json(res), sent: t.emailOutbox().length - before };
    };
    const toFree = await answerFor(free);
    const toTaken = await answerFor(bob.email);
    expect([toTaken.res.status, toTaken.sent]).toEqual([toFree.res.status, toFree.sent]);
    expect([toTaken.res.status, toTaken.sent]).toEqual([200, 1]);
    expect(Object.keys(toTaken.body).sort()).toEqual(Object.keys(toFree.body).sort());
    expect(toTaken.body.expiresAt).toBe(toFree.body.expiresAt);
    expect([...toTaken.res.headers.keys()].sort()).toEqual([...toFree.res.headers.keys()].sort());

    const [tried] = mailTo(t, bob.email);
    expect(tried!.subject).toBe('homing: someone tried to use this address');
    expect(tried!.text).toContain('nothing was changed and no code was issued');
    expect(tried!.text).not.toMatch(/\b\d{6}\b/);

    // Nobody has a code for it, and even every guess allowed fails the same way as a wrong code.
    for (const code of ['000000', '123456', '999999']) {
      const res = await post(alice, '/v1/account/email/confirm', { verificationId: toTaken.body.verificationId, code });
      expect([res.status, (await json(res)).error.code]).toEqual([400, 'verification_failed']);
    }
    expect((await alice.api.account()).email).toBe(alice.email);
    expect((await bob.api.account()).email).toBe(bob.email);
  });

  it('a number another account holds: same answer, the SMS there says someone tried and carries no code', async () => {
    const alice = await signUpAndLogIn(t);
    await signUpAndLogIn(t, { phoneNumber: '+447700901004' });
    const started = await startPhoneChange(alice.api, { email: alice.email, phoneNumber: '+447700901004', password: alice.password });
    expect(Object.keys(started).sort()).toEqual(['expiresAt', 'verificationId']);
    const [sms] = t.outbox();
    expect(sms!.body).toContain('someone tried');
    expect(sms!.body).not.toMatch(/\b\d{6}\b/);
  });

  it('a sign-up that takes the address between the code and the confirm makes the confirm fail cleanly (no 500), changing nothing', async () => {
    const alice = await signUpAndLogIn(t);
    const contested = uniqueEmail('contested');
    const started = await startEmailChange(alice.api, { currentEmail: alice.email, newEmail: contested, password: alice.password });
    const code = codeIn(mailTo(t, contested)[0]!.text);
    await signUp(t.api(), { birthYear: 1990, email: contested, password: 'racer', kdf: TEST_KDF });
    await expectError(post(alice, '/v1/account/email/confirm', { verificationId: started.verificationId, code }), 400, 'verification_failed');
    expect((await alice.api.account()).email).toBe(alice.email);
    expect(await auditActions(t, alice.token)).not.toContain('email.changed');
  });

  it('the same race for a phone number fails cleanly too', async () => {
    const alice = await signUpAndLogIn(t);
    const started = await startPhoneChange(alice.api, { email: alice.email, phoneNumber: '+447700901005', password: alice.password });
    const code = codeIn(t.outbox()[0]!.body);
    await signUp(t.api(), { birthYear: 1990, email: uniqueEmail('racer'), password: 'racer', phoneNumber: '+447700901005', kdf: TEST_KDF });
    await expectError(post(alice, '/v1/account/phone/confirm', { verificationId: started.verificationId, code }), 400, 'verification_failed');
    expect((await alice.api.account()).phoneNumber).toBeNull();
  });
});

describe('personal data: the server cannot be used to spam an address or number', () => {
  it('at most 5 codes a day per account: the sixth request is refused with 429 and sends nothing', async () => {
    const alice = await signUpAndLogIn(t);
    for (let i = 0; i < 5; i++) await startEmailChange(alice.api, { currentEmail: alice.email, newEmail: uniqueEmail(`spam${i}`), password: alice.password });
    const proof = await proveIdentity(alice.api, { email: alice.email, password: alice.password });
    await expectError(post(alice, '/v1/account/email', { proof, email: uniqueEmail('spam5') }), 429, 'rate_limited');
    expect(t.emailOutbox()).toHaveLength(5);
    t.clock.advance(24 * 3_600_000 + 1);
    await startEmailChange(alice.api, { currentEmail: alice.email, newEmail: uniqueEmail('next-day'), password: alice.password });
    expect(t.emailOutbox()).toHaveLength(6);
  });

  it('at most 3 codes a day to one address, whichever accounts ask (many attacker accounts, one victim inbox)', async () => {
    const victim = uniqueEmail('victim-inbox');
    const attackers = await Promise.all([0, 1, 2, 3].map(() => signUpAndLogIn(t)));
    for (const a of attackers.slice(0, 3)) await startEmailChange(a.api, { currentEmail: a.email, newEmail: victim, password: a.password });
    const last = attackers[3]!;
    const proof = await proveIdentity(last.api, { email: last.email, password: last.password });
    await expectError(post(last, '/v1/account/email', { proof, email: victim }), 429, 'rate_limited');
    expect(mailTo(t, victim)).toHaveLength(3);
  });
});
