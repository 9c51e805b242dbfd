import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Gives the run a folder for its server logs and the secrets the tests handled
// (test/log-scan/capture.ts), which scripts/scan-test-logs.mjs reads after vitest. `npm test`
// names it in HOMING_TEST_LOG_DIR; otherwise each run gets a fresh one, named in LATEST_POINTER
// so a scan run by hand finds it. Test workers inherit the variable. Fresh folders are left for
// the scan; those a day old are removed (a newer one may belong to a run still going).

const FRESH_PREFIX = 'homing-test-logs-';
const LATEST_POINTER = join(tmpdir(), 'homing-test-logs.latest');
const DAY_MS = 24 * 60 * 60 * 1000;

function removeOldFreshFolders() {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(FRESH_PREFIX)) continue;
    const path = join(tmpdir(), name);
    try {
      if (Date.now() - statSync(path).mtimeMs > DAY_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // gone already
    }
  }
}

export default function setup() {
  if (!process.env.HOMING_TEST_LOG_DIR) {
    removeOldFreshFolders();
    process.env.HOMING_TEST_LOG_DIR = mkdtempSync(join(tmpdir(), FRESH_PREFIX));
    writeFileSync(LATEST_POINTER, `${process.env.HOMING_TEST_LOG_DIR}\n`);
  }
  mkdirSync(process.env.HOMING_TEST_LOG_DIR, { recursive: true });
}
