import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPackageRoot } from './package-root.js';

/** The policy shipped with the package, relative to its root. */
export const SHIPPED_POLICY = 'docs/privacy-policy.txt';

/** The package's root, found the way the migrations are (src/adapters/package-root.ts): never from the working directory. */
function packageRoot(from: string): string {
  const root = findPackageRoot(from);
  if (!root) throw new Error(`no package.json named "homing" at or above ${from}: set POLICY_FILE to the privacy policy text`);
  return root;
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
