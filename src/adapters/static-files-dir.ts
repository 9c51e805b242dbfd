import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPackageRoot } from './package-root.js';
import type { StaticFiles } from './static-files.js';

/** The package's dist/public/, which `npm run build` (or build:web) writes. */
export function packagePublicFolder(from = dirname(fileURLToPath(import.meta.url))): string {
  const root = findPackageRoot(from);
  if (!root) throw new Error(`no package.json named "homing" at or above ${from}: the page's files (dist/public/) cannot be found`);
  return join(root, 'dist', 'public');
}

/**
 * Reads each file when it is asked for, keeping none in memory: the page's and Redoc's scripts
 * (about 2 MiB) would otherwise sit in the idle server's heap, while the OS's file cache keeps
 * them at hand once read.
 */
export function createDirStaticFiles(dir: string): StaticFiles {
  return {
    async read(path) {
      try {
        return await readFile(join(dir, path));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    },
  };
}
