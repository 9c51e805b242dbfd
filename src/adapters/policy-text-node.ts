import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The policy shipped with the package, relative to its root. */
export const SHIPPED_POLICY = 'docs/privacy-policy.txt';

/**
 * The nearest folder at or above `from` (by default the running module's: src/adapters/ under
 * tsx, dist/ once built) whose package.json is homing's, the way the migrations are found: never
 * from the working directory.
 */
function packageRoot(from: string): string {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'homing') return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json named "homing" at or above ${from}: set POLICY_FILE to the privacy policy text`);
  }
}

/** The privacy policy text: POLICY_FILE when set, else the one shipped in the package. A missing or empty file stops start-up. */
export function readPolicyText(file?: string, from = dirname(fileURLToPath(import.meta.url))): string {
  const path = file ?? join(packageRoot(from), SHIPPED_POLICY);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`${file ? 'POLICY_FILE' : 'the shipped privacy policy'} ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  if (text.trim() === '') throw new Error(`the privacy policy ${path} is empty`);
  return text;
}
