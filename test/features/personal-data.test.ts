import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { logIn, removePhone, startEmailChange, startPhoneChange } from '../../src/client/account.js';
import { HomingApiError } from '../../src/client/api.js';
import { maskEmail } from '../../src/adapters/email.js';
import { createSmtpEmailSender } from '../../src/adapters/email-smtp.js';
import { startSmtpServer } from '../adapters/smtp-server.js';
import { createTestApp, type TestApp, uniqueEmail } from '../harness.js';
import { signUpAndLogIn } from '../security/helpers.js';
import { auditActions, codeIn, mailTo } from './personal-data-helpers.js';

let t: TestApp;
afterEach(() => t.close());

describe('personal data: read and correct the e-mail address and phone number (happy path)', () => {
  beforeEach(() => {
    t = createTestApp();
  });

  it('changes the e-mail: code to the new address, one write, audit entry, notice to the old address, login moves with it', async () => {
    const alice = await signUpAndLogIn(t, { phoneNumber: '+447700900111' });
    const newEmail = uniqueEmail('alice-new');
    const started = await startEmailChange(alice.api, { currentEmail: alice.email, newEmail, password: alice.password });
    expect(started).toEqual({ verificationId: expect.any(String), expiresAt: t.clock.now() + t.deps.config.verificationCodeMs });

    const [codeMail] = mailTo(t, newEmail);
    expect(codeMail!.subject).toBe('homing: confirm your new e-mail address');
    const account = await alice.api.confirmEmailChange(started.verificationId, codeIn(codeMail!.text));
    expect(account).toMatchObject({ accountId: alice.accountId, email: newEmail, phoneNumber: '+447700900111' });
    expect(await alice.api.account()).toMatchObject({ email: newEmail });

    await t.settle();
    const [notice] = mailTo(t, alice.email);
    expect(notice!.subject).toBe('homing: your e-mail address was changed');
    expect(notice!.text).toContain(`changed to ${maskEmail(newEmail)} at 2026-11-01 12:00 UTC`);
    expect(notice!.text).toContain('If this was not you');
    expect(notice!.text).not.toContain(newEmail);

    expect(await auditActions(t, alice.token)).toContain('email.changed');

    // The blind index moved: the new address logs in, the old one is nobody's.
    expect((await logIn(t.api(), { email: newEmail, password: alice.password })).response.accountId).toBe(alice.accountId);
    const old = await logIn(t.api(), { email: alice.email, password: alice.password }).catch((e: unknown) => e);
    expect(old).toBeInstanceOf(HomingApiError);
    expect((old as HomingApiError).code).toBe('invalid_credentials');
  });

  it('accepts the recovery key as the proof, and the address in any case and spacing (stored normalized)', async () => {
    const alice = await signUpAndLogIn(t);
    const newEmail = uniqueEmail('alice-case');
    const started = await startEmailChange(alice.api, { currentEmail: alice.email, newEmail: `  ${newEmail.toUpperCase()} `, recoveryKey: alice.recoveryKey });
    const account = await alice.api.confirmEmailChange(started.verificationId, codeIn(mailTo(t, newEmail)[0]!.text));
    expect(account.email).toBe(newEmail);
  });

  it('changes the phone number: code by SMS, audit entry, notice by e-mail', async () => {
    const alice = await signUpAndLogIn(t, { phoneNumber: '+447700900222' });
    const started = await startPhoneChange(alice.api, { email: alice.email, phoneNumber: '+447700900333', password: alice.password });
    const [sms] = t.outbox().filter((m) => m.to === '+447700900333');
    const account = await alice.api.confirmPhoneChange(started.verificationId, codeIn(sms!.body));
    expect(account).toMatchObject({ email: alice.email, phoneNumber: '+447700900333' });
    await t.settle();
    const [notice] = mailTo(t, alice.email);
    expect(notice!.subject).toBe('homing: your phone number was changed');
    expect(notice!.text).toContain('changed to +44••••••••33');
    expect(await auditActions(t, alice.token)).toContain('phone.changed');
  });

  it('adds a phone number to an account that had none, and removes it again', async () => {
    const alice = await signUpAndLogIn(t);
    const started = await startPhoneChange(alice.api, { email: alice.email, phoneNumber: '+447700900444', password: alice.password });
    await alice.api.confirmPhoneChange(started.verificationId, codeIn(t.outbox()[0]!.body));
    expect((await alice.api.account()).phoneNumber).toBe('+447700900444');

    await removePhone(alice.api, { email: alice.email, password: alice.password });
    expect((await alice.api.account()).phoneNumber).toBeNull();
    await t.settle();
    expect(mailTo(t, alice.email).map((m) => m.text).join('\n')).toContain('was removed at');
    // Removed means free: another account can now take the number.
    const bob = await signUpAndLogIn(t);
    const bobs = await startPhoneChange(bob.api, { email: bob.email, phoneNumber: '+447700900444', password: bob.password });
    await bob.api.confirmPhoneChange(bobs.verificationId, codeIn(t.outbox().at(-1)!.body));
    expect((await bob.api.account()).phoneNumber).toBe('+447700900444');
  });

  it('refuses the address or number the account already has, as a validation error', async () => {
    const alice = await signUpAndLogIn(t, { phoneNumber: '+447700900555' });
    const same = await startEmailChange(alice.api, { currentEmail: alice.email, newEmail: alice.email, password: alice.password }).catch((e: unknown) => e);
    expect((same as HomingApiError).code).toBe('validation_failed');
    const samePhone = await startPhoneChange(alice.api, { email: alice.email, phoneNumber: '+447700900555', password: alice.password }).catch((e: unknown) => e);
    expect((samePhone as HomingApiError).code).toBe('validation_failed');
    expect(t.emailOutbox()).toEqual([]);
  });
});

describe('personal data: configuration', () => {
  it('honours SMS_ALLOWED_PREFIXES: a number elsewhere is refused before any SMS', async () => {
    t = createTestApp({ SMS_ALLOWED_PREFIXES: '+44' });
    const alice = await signUpAndLogIn(t);
    const error = await startPhoneChange(alice.api, { email: alice.email, phoneNumber: '+15005550006', password: alice.password }).catch((e: unknown) => e);
    expect((error as HomingApiError).code).toBe('invalid_phone_number');
    expect(t.outbox()).toEqual([]);
  });
});

describe('personal data over a real SMTP server', () => {
  it('the whole e-mail change: the code is read from the message the server received, the notice arrives too', async () => {
    const smtp = await startSmtpServer();
    const sender = createSmtpEmailSender({ url: smtp.url, from: 'homing@homing.test' });
    t = createTestApp({}, { email: sender });
    try {
      const alice = await signUpAndLogIn(t);
      const newEmail = uniqueEmail('alice-smtp');
      const started = await startEmailChange(alice.api, { currentEmail: alice.email, newEmail, password: alice.password });
      const [codeMail] = await smtp.waitFor(1);
      expect(codeMail!.to).toEqual([newEmail]);
      expect(codeMail!.from).toBe('homing@homing.test');
      await alice.api.confirmEmailChange(started.verificationId, codeIn(codeMail!.text));
      await t.settle();
      const [, notice] = await smtp.waitFor(2);
      expect(notice!.to).toEqual([alice.email]);
      expect(notice!.subject).toBe('homing: your e-mail address was changed');
      expect((await alice.api.account()).email).toBe(newEmail);
    } finally {
      sender.close();
      await smtp.close();
    }
  });
});
