import { createTransport } from 'nodemailer';
import { assertSendable, EmailError, type EmailFailure, type EmailSender } from './email.js';

/** How long connecting, the greeting and each later step may take before the send fails as unavailable. */
const SMTP_TIMEOUT_MS = 15_000;

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/**
 * SMTP through nodemailer, for Node. SMTP_URL carries host, port and credentials; smtps:// is TLS
 * from the first byte, smtp:// must upgrade with STARTTLS (required, so credentials and codes never
 * cross a network in clear), except to a relay on this machine's loopback. Responses map to
 * EmailFailure so features never see a library's error, and errors carry the SMTP codes only:
 * a server's reply often repeats the recipient's address.
 */
export function createSmtpEmailSender(input: { url: string; from: string; timeoutMs?: number }): EmailSender & { close(): void } {
  const url = new URL(input.url);
  const timeout = input.timeoutMs ?? SMTP_TIMEOUT_MS;
  const secure = url.protocol === 'smtps:';
  const transport = createTransport({
    host: url.hostname,
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    requireTLS: !secure && !LOOPBACK.has(url.hostname),
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
    // EHLO names the sending domain rather than this machine's host name.
    name: input.from.slice(input.from.lastIndexOf('@') + 1),
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
  });
  return {
    name: 'smtp',
    async send(message) {
      assertSendable(message);
      try {
        const info = await transport.sendMail({
          from: input.from,
          to: message.to,
          subject: message.subject,
          text: message.text,
          // One recipient, named in the envelope exactly as checked above.
          envelope: { from: input.from, to: [message.to] },
        });
        return { id: info.messageId };
      } catch (error) {
        const { code, responseCode } = error as { code?: string; responseCode?: number };
        const failure = failureOf(code, responseCode);
        throw new EmailError(failure, `smtp ${failure}: ${[code, responseCode].filter(Boolean).join(' ') || 'error'}`);
      }
    },
    close: () => transport.close(),
  };
}

function failureOf(code: string | undefined, responseCode: number | undefined): EmailFailure {
  // No STARTTLS (or a failed handshake) says nothing about the message: the server is unusable.
  if (code === 'ETLS' || code === 'ESOCKET' || code === 'ECONNECTION' || code === 'ETIMEDOUT' || code === 'EDNS') return 'unavailable';
  if (code === 'EAUTH' || responseCode === 535 || responseCode === 534 || responseCode === 530) return 'auth_failed';
  if (code === 'EENVELOPE' || (responseCode !== undefined && responseCode >= 500)) return 'rejected';
  return 'unavailable';
}
