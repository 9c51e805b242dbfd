import { createTransport } from 'nodemailer';
import { assertSendable, EmailError, type EmailSender } from './email.js';

/** How long one delivery to the SMTP server may take before it fails as unavailable. */
const SMTP_TIMEOUT_MS = 15_000;

/**
 * SMTP through nodemailer, for Node. SMTP_URL carries host, port and credentials; smtps:// is TLS
 * from the first byte, smtp:// upgrades with STARTTLS when the server offers it. Responses map to
 * EmailFailure so features never see a library's error.
 */
export function createSmtpEmailSender(input: { url: string; from: string }): EmailSender & { close(): void } {
  const url = new URL(input.url);
  const transport = createTransport({
    host: url.hostname,
    port: url.port ? Number(url.port) : url.protocol === 'smtps:' ? 465 : 587,
    secure: url.protocol === 'smtps:',
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
    connectionTimeout: SMTP_TIMEOUT_MS,
    greetingTimeout: SMTP_TIMEOUT_MS,
    socketTimeout: SMTP_TIMEOUT_MS,
  });
  return {
    name: 'smtp',
    async send(message) {
      assertSendable(message);
      try {
        const info = await transport.sendMail({ from: input.from, to: message.to, subject: message.subject, text: message.text });
        return { id: info.messageId };
      } catch (error) {
        throw new EmailError(failureOf(error), `smtp: ${(error as Error).message}`, { cause: error });
      }
    },
    close: () => transport.close(),
  };
}

function failureOf(error: unknown): 'rejected' | 'auth_failed' | 'unavailable' {
  const { code, responseCode } = error as { code?: string; responseCode?: number };
  if (code === 'EAUTH' || responseCode === 535) return 'auth_failed';
  if (code === 'EENVELOPE' || (responseCode !== undefined && responseCode >= 500)) return 'rejected';
  return 'unavailable';
}
