import { createMimeMessage } from 'mimetext/browser';
import { assertSendable, EmailError, type EmailMessage, type EmailSender } from './email.js';

/** The part of a Workers send_email binding this sender uses. */
export interface SendEmailBinding {
  send(message: unknown): Promise<{ messageId?: string } | void>;
}

/** `EmailMessage` from cloudflare:email, passed in so this file loads outside workerd too. */
export type EmailMessageConstructor = new (from: string, to: string, raw: string) => unknown;

/**
 * The RFC 5322 message for one plain-text e-mail: UTF-8 subject (encoded word) and body
 * (base64, so no line of it can be read as a header or an SMTP command), CRLF line ends.
 */
export function mimeMessageOf(input: { from: string; message: EmailMessage }) {
  const mime = createMimeMessage();
  mime.setSender({ name: 'homing', addr: input.from });
  mime.setRecipient(input.message.to);
  mime.setSubject(input.message.subject);
  const messageId = `<${crypto.randomUUID()}@${input.from.slice(input.from.lastIndexOf('@') + 1)}>`;
  mime.setHeader('Message-ID', messageId);
  mime.addMessage({ contentType: 'text/plain', charset: 'UTF-8', encoding: 'base64', data: base64Lines(input.message.text) });
  return { raw: mime.asRaw(), messageId };
}

function base64Lines(text: string) {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return (btoa(binary).match(/.{1,76}/g) ?? []).join('\r\n');
}

/**
 * EMAIL_PROVIDER=cloudflare: Cloudflare's send_email binding (Email Service / Email Routing), for
 * Workers. The binding refuses recipients and senders its configuration does not allow; those
 * answers are 'rejected', anything else 'unavailable'. Errors name no address.
 */
export function createCloudflareEmailSender(input: {
  binding: SendEmailBinding;
  EmailMessage: EmailMessageConstructor;
  from: string;
}): EmailSender {
  return {
    name: 'cloudflare',
    async send(message) {
      assertSendable(message);
      const { raw, messageId } = mimeMessageOf({ from: input.from, message });
      let result: { messageId?: string } | void;
      try {
        result = await input.binding.send(new input.EmailMessage(input.from, message.to, raw));
      } catch (error) {
        const text = String((error as Error)?.message ?? error);
        const rejected = /not allowed|not verified|unverified|recipient|destination|sender|invalid/i.test(text);
        throw new EmailError(rejected ? 'rejected' : 'unavailable', `send_email binding: ${rejected ? 'refused the message' : 'failed'}`);
      }
      return { id: (result && result.messageId) || messageId };
    },
  };
}
