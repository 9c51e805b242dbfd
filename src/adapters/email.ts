// Sending e-mail: SMTP on Node (email-smtp.ts), the send_email binding on Workers
// (email-cloudflare.ts), and an outbox (email-log.ts) on the embedded default. Features see only
// EmailSender; test/adapters/email-contract.ts is the behaviour every implementation shares.
// Messages are plain text: codes, notices and receipts, nothing a client renders.

export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface EmailSender {
  readonly name: string;
  /** Sends one message; resolves with an id for the log, or throws EmailError. */
  send(message: EmailMessage): Promise<{ id: string }>;
}

export type EmailFailure =
  | 'rejected' // the server refused the recipient or the message
  | 'auth_failed' // our credentials were refused: an operator problem
  | 'unavailable'; // the mail server could not be reached or failed

export class EmailError extends Error {
  constructor(
    readonly failure: EmailFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EmailError';
  }
}

/** "ada.lovelace@example.org" → "a•••@example.org": enough to tell messages apart in a log. */
export function maskEmail(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 1) return '•••';
  return `${address[0]}•••${address.slice(at)}`;
}

const SINGLE_ADDRESS = /^[^@\s<>,;:"()[\]\\\p{Cc}]+@[^@\s<>,;:"()[\]\\\p{Cc}]+$/u;

/**
 * Refuses what no mail server should be handed, before anything is sent: header injection through
 * the address or the subject (CR, LF or any control character), a list of addresses where one is
 * meant, or an address longer than SMTP allows. Errors name the address only masked.
 */
export function assertSendable(message: EmailMessage) {
  if (message.to.length > 254 || !SINGLE_ADDRESS.test(message.to)) {
    throw new EmailError('rejected', `not a single plain address: ${maskEmail(message.to)}`);
  }
  if (/\p{Cc}/u.test(message.subject)) throw new EmailError('rejected', 'the subject must be one line without control characters');
  if (message.subject.length > 200) throw new EmailError('rejected', 'the subject is too long');
}
