import { beforeEach, describe, expect, it } from 'vitest';
import { EmailError, type EmailSender, maskEmail } from '../../src/adapters/email.js';
import { sendErrorOf, watchSenderOutput } from './sender-output.js';

export interface EmailSubject {
  sender: EmailSender;
  /**
   * What reached the far side, in order: the SMTP server's parsed messages, or the outbox.
   * Absent for a sender whose far side the test cannot read (the console sender; the Workers binding).
   */
  delivered?: () => Array<{ to: string; subject: string; text: string }> | Promise<Array<{ to: string; subject: string; text: string }>>;
  /** Every line the sender wrote to its logger, if it has one. */
  logged?: () => string[];
  /** Values the sender holds that must never appear in an error, a log line or the console. */
  secrets: string[];
}

export const TO = 'ada.lovelace@example.org';

export const emailErrorOf = (promise: Promise<unknown>) => sendErrorOf(promise, EmailError);

// Header injection and address lists: each must be refused before a byte leaves.
const NOT_ONE_ADDRESS = [
  'ada@example.org, eve@evil.example',
  'ada@example.org; eve@evil.example',
  'Ada <ada@example.org>',
  'ada@example.org\r\nBcc: eve@evil.example',
  'ada@example.org\nBcc: eve@evil.example',
  'ada@example.org\u0000',
  'ada@@example.org',
  'ada example@example.org',
  'not-an-address',
  '',
  `${'a'.repeat(250)}@example.org`,
];
const BAD_SUBJECTS = ['code\r\nBcc: eve@evil.example', 'code\nX-Injected: 1', 'code\rX: 1', 'tab\tis a control character too'];

/**
 * The behaviour every EmailSender shares, run against each implementation (as the SMS contract
 * is): verification codes and notices rely on exactly this and nothing more.
 */
export function testEmailSenderContract(make: () => EmailSubject | Promise<EmailSubject>) {
  let subject: EmailSubject;
  beforeEach(async () => {
    subject = await make();
  });
  const expectNowhere = watchSenderOutput(() => subject);

  const delivered = async () => (subject.delivered ? await subject.delivered() : []);

  describe('EmailSender contract', () => {
    it('sends to one address and answers an id; recipient, UTF-8 subject and body arrive intact', async () => {
      const message = {
        to: TO,
        subject: 'homing: votre code ✓ — 🔒 Größe',
        text: 'Your code is 482913.\nNe le partagez pas ✓ — 🔒\n\nÄÖÜ ß 日本語',
      };
      const { id } = await subject.sender.send(message);
      expect(id).toEqual(expect.any(String));
      expect(id.length).toBeGreaterThan(8);
      if (subject.delivered) expect(await delivered()).toEqual([message]);
    });

    it('a burst of concurrent sends is delivered once each, under distinct ids', async () => {
      const messages = Array.from({ length: 6 }, (_, i) => ({ to: `user${i}@example.org`, subject: `code ${i}`, text: `code 10000${i}` }));
      const ids = (await Promise.all(messages.map((m) => subject.sender.send(m)))).map((r) => r.id);
      expect(new Set(ids).size).toBe(messages.length);
      if (subject.delivered) expect([...(await delivered())].sort((a, b) => a.to.localeCompare(b.to))).toEqual(messages);
    });

    it.each(NOT_ONE_ADDRESS)('refuses %j (header injection, a list, not one address) before sending anything', async (to) => {
      const error = await emailErrorOf(subject.sender.send({ to, subject: 'code', text: 'code 555111' }));
      expect(error.failure).toBe('rejected');
      expect(await delivered()).toEqual([]);
      expectNowhere(['code 555111', ...(to.length > 8 ? [to] : [])], [error]);
    });

    it.each(BAD_SUBJECTS)('refuses the subject %j (CR, LF, control characters) before sending anything', async (badSubject) => {
      const error = await emailErrorOf(subject.sender.send({ to: TO, subject: badSubject, text: 'code 555112' }));
      expect(error.failure).toBe('rejected');
      expect(await delivered()).toEqual([]);
    });

    it('its log and the console carry the masked address only: never the address, the text or a credential', async () => {
      await subject.sender.send({ to: TO, subject: 'homing code', text: 'code 947201' });
      expectNowhere([TO, 'ada.lovelace', '947201']);
      if (subject.logged) expect(subject.logged().join('\n')).toContain(maskEmail(TO));
    });
  });
}
