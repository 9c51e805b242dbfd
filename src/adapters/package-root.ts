import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * The nearest folder at or above `from` whose package.json is homing's, or undefined. Callers
 * pass their own module's folder (src/adapters/ under tsx, dist/ once built), so the built server
 * finds the package's files from whatever folder it is started in, never from the working one.
 */
export function findPackageRoot(from: string): string | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'homing') return dir;
    if (dirname(dir) === dir) return undefined;
  }
}
