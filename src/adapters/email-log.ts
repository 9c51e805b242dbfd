import { appendOutboxEntry, outboxId, readOutboxEntries } from './outbox-file.js';
import { assertSendable, type EmailSender, maskEmail } from './email.js';
import type { Logger } from './log.js';

export interface EmailOutboxEntry {
  id: string;
  /** ISO 8601. */
  at: string;
  to: string;
  subject: string;
  text: string;
}

/**
 * The embedded default, like the SMS outbox: each message becomes one JSON line in a file an
 * operator reads in development (`cat data/email-outbox.jsonl`). It holds codes and addresses,
 * so it is owner-only (0600); the log gets the masked address only.
 */
export function createLogEmailSender(input: {
  outboxPath: string;
  log: Logger;
  now?: () => number;
}): EmailSender & { readOutbox(): EmailOutboxEntry[] } {
  const { outboxPath, log, now = Date.now } = input;
  return {
    name: 'log',

    async send(message) {
      assertSendable(message);
      const entry: EmailOutboxEntry = {
        id: outboxId(),
        at: new Date(now()).toISOString(),
        ...message,
      };
      await appendOutboxEntry(outboxPath, entry);
      log.info('email written to outbox', { id: entry.id, to: maskEmail(message.to), outbox: outboxPath });
      return { id: entry.id };
    },

    readOutbox: () => readOutboxEntries<EmailOutboxEntry>(outboxPath),
  };
}
