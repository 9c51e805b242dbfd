import { appendOutboxEntry, outboxId, readOutboxEntries } from './outbox-file.js';
import type { Logger } from './log.js';
import { assertE164, maskNumber, type SmsSender } from './sms.js';

export interface OutboxEntry {
  id: string;
  /** ISO 8601. */
  at: string;
  to: string;
  body: string;
}

/**
 * The embedded default: each SMS becomes one JSON line in the outbox file, so an operator in
 * development reads codes with `cat data/sms-outbox.jsonl`. The file holds codes and numbers, so
 * it is created owner-only (0600); the log gets only the masked number, never the body.
 */
export function createLogSmsSender(input: {
  outboxPath: string;
  log: Logger;
  now?: () => number;
}): SmsSender & { readOutbox(): OutboxEntry[] } {
  const { outboxPath, log, now = Date.now } = input;
  return {
    name: 'log',

    async send({ to, body }) {
      assertE164(to);
      const entry: OutboxEntry = { id: outboxId(), at: new Date(now()).toISOString(), to, body };
      await appendOutboxEntry(outboxPath, entry);
      log.info('sms written to outbox', { id: entry.id, to: maskNumber(to), outbox: outboxPath });
      return { id: entry.id };
    },

    readOutbox: () => readOutboxEntries<OutboxEntry>(outboxPath),
  };
}
