import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

// The embedded default's outboxes (SMS and e-mail): one JSON object a line in a file an operator
// reads in development. They hold codes, numbers and addresses, so folder and file are owner-only.

export const outboxId = () => `log_${randomBytes(12).toString('base64url')}`;

/** Appends one entry with a single O_APPEND write, so concurrent sends never interleave within a line. */
export async function appendOutboxEntry(path: string, entry: object) {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await appendFile(path, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
}

/** Every entry written so far; none when the file does not exist yet. */
export function readOutboxEntries<T>(path: string): T[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return text
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as T);
}
