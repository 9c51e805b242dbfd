import type { Logger } from './log.js';
import type { Random } from './random.js';
import { assertE164, maskNumber, type SmsSender } from './sms.js';

/**
 * The log provider on Workers, which has no file system for an outbox: it sends nothing and logs
 * the masked number only. Guarantee: neither the full number nor the body (it carries a code)
 * reaches the log.
 */
export function createConsoleSmsSender(log: Logger, random: Random): SmsSender {
  return {
    name: 'log',
    async send({ to }) {
      assertE164(to);
      const id = `log_${random.id()}`;
      log.info('sms not sent (SMS_PROVIDER=log)', { id, to: maskNumber(to) });
      return { id };
    },
  };
}
