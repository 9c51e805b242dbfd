import { beforeEach, describe, expect, it } from 'vitest';
import { SmsError, type SmsSender } from '../../src/adapters/sms.js';
import { TO } from '../fakes/twilio-fixtures.js';
import { sendErrorOf, watchSenderOutput } from './sender-output.js';

export interface SmsSubject {
  sender: SmsSender;
  /**
   * What reached the far side, in order: the Twilio fake's received messages, or the outbox.
   * Absent for a sender that by design delivers nothing (the console sender on Workers).
   */
  delivered?: () => Array<{ to: string; body: string }>;
  /** Every line the sender wrote to its logger, if it has one. */
  logged?: () => string[];
  /** Values the sender holds that must never appear in an error, a log line or the console. */
  secrets: string[];
}

const NOT_E164 = ['07700900123', '447700900123', '+44 7700 900123', '+0447700900123', '+4477009001234567', '+44770090012x', ''];

export const smsErrorOf = (promise: Promise<unknown>) => sendErrorOf(promise, SmsError);

/**
 * The behaviour every SmsSender shares, run against each implementation (as the blob-store
 * contract is): the SIM-change feature relies on exactly this and nothing more.
 */
export function testSmsSenderContract(make: () => SmsSubject | Promise<SmsSubject>) {
  let subject: SmsSubject;
  beforeEach(async () => {
    subject = await make();
  });
  const expectNowhere = watchSenderOutput(() => subject);

  describe('SmsSender contract', () => {
    it('sends to an E.164 number and answers an id; the text arrives byte for byte', async () => {
      const body = 'homing: code 482913.\nNe le partagez pas ✓ — 🔒';
      const { id } = await subject.sender.send({ to: TO, body });
      expect(id).toEqual(expect.any(String));
      expect(id.length).toBeGreaterThan(8);
      if (subject.delivered) expect(subject.delivered()).toEqual([{ to: TO, body }]);
    });

    it('a burst of concurrent sends is delivered once each, under distinct ids', async () => {
      const messages = Array.from({ length: 8 }, (_, i) => ({ to: `+1500555000${i}`, body: `code 10000${i}` }));
      const ids = (await Promise.all(messages.map((m) => subject.sender.send(m)))).map((r) => r.id);
      expect(new Set(ids).size).toBe(messages.length);
      if (subject.delivered) expect([...subject.delivered()].sort((a, b) => a.to.localeCompare(b.to))).toEqual(messages);
    });

    it.each(NOT_E164)('refuses %j as invalid_number before sending anything, and never repeats it whole', async (to) => {
      const error = await smsErrorOf(subject.sender.send({ to, body: 'code 555111' }));
      expect(error.failure).toBe('invalid_number');
      expect(subject.delivered?.() ?? []).toEqual([]);
      expectNowhere(to.length > 5 ? [to, 'code 555111'] : ['code 555111'], [error]);
    });

    it('neither its log nor the console holds the full number, the body or a credential', async () => {
      await subject.sender.send({ to: TO, body: 'code 947201' });
      expectNowhere([TO, TO.slice(1), '947201']);
    });
  });
}
