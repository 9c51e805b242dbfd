import { assertSendable, type EmailSender, maskEmail } from './email.js';
import type { Logger } from './log.js';
import type { Random } from './random.js';

/**
 * The log provider on Workers, which has no file for an outbox: nothing is sent, and the log
 * gets the masked address only, never the text (it may carry a code).
 */
export function createConsoleEmailSender(log: Logger, random: Random): EmailSender {
  return {
    name: 'log',
    async send(message) {
      assertSendable(message);
      const id = `log_${random.id()}`;
      log.info('email not sent (EMAIL_PROVIDER=log)', { id, to: maskEmail(message.to) });
      return { id };
    },
  };
}
