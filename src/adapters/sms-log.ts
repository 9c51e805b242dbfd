import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
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
      const entry: OutboxEntry = { id: `log_${randomBytes(12).toString('base64url')}`, at: new Date(now()).toISOString(), to, body };
      await mkdir(dirname(outboxPath), { recursive: true, mode: 0o700 });
      // One write with O_APPEND, so concurrent sends never interleave within a line.
      await appendFile(outboxPath, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
      log.info('sms written to outbox', { id: entry.id, to: maskNumber(to), outbox: outboxPath });
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
        .map((line) => JSON.parse(line) as OutboxEntry);
    },
  };
}
