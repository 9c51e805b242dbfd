import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
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
        id: `log_${randomBytes(12).toString('base64url')}`,
        at: new Date(now()).toISOString(),
        ...message,
      };
      await mkdir(dirname(outboxPath), { recursive: true, mode: 0o700 });
      // One O_APPEND write per message, so concurrent sends never interleave within a line.
      await appendFile(outboxPath, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
      log.info('email written to outbox', { id: entry.id, to: maskEmail(message.to), outbox: outboxPath });
      return { id: entry.id };
    },

    readOutbox() {
      let text: string;
      try {
        text = readFileSync(outboxPath, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw error;
      }
      return text
        .split('\n')
        .filter((line) => line.trim())
        .map((line) => JSON.parse(line) as EmailOutboxEntry);
    },
  };
}
