import type { EmailSender } from './email.js';
import { createLogEmailSender } from './email-log.js';
import type { Logger } from './log.js';

/** The e-mail sender the configuration names, for Node. nodemailer is loaded only when used. */
export async function createNodeEmailSender(
  config: { provider: 'log' | 'smtp' | 'cloudflare'; outboxPath: string; from: string; smtpUrl?: string },
  log: Logger,
): Promise<EmailSender> {
  if (config.provider === 'smtp') {
    const { createSmtpEmailSender } = await import('./email-smtp.js');
    return createSmtpEmailSender({ url: config.smtpUrl!, from: config.from });
  }
  if (config.provider === 'cloudflare') log.warn('EMAIL_PROVIDER=cloudflare works on Workers only; writing e-mail to the outbox');
  return createLogEmailSender({ outboxPath: config.outboxPath, log });
}
