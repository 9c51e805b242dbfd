import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO } from '../process/spawn.js';

// The scan run after vitest (npm test) proves itself here: on a folder laid out as the capture
// writes it, a planted secret fails it, with the place named and the secret itself left out.

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const EMAIL = 'ada.1764000000000.7@example.org';
const TOKEN = 'hs_Q2hlY2tUaGVTY2FubmVyV29ya3NOb3dPSw';
const CODE = '493817';
const PHONE = '+447700900123';

function folder(logs: Record<string, string[]>, secrets: string[]) {
  dir = mkdtempSync(join(tmpdir(), 'homing-scan-test-'));
  writeFileSync(join(dir, 'secrets-1.txt'), secrets.map((s) => `${JSON.stringify(s)}\n`).join(''));
  for (const [name, lines] of Object.entries(logs)) writeFileSync(join(dir, name), lines.map((l) => `${l}\n`).join(''));
}

const line = (fields: Record<string, unknown>) => JSON.stringify({ time: '2026-11-01T12:00:00.000Z', level: 'info', ...fields });

function scan() {
  const run = spawnSync(process.execPath, [join(REPO, 'scripts/scan-test-logs.mjs'), dir], { encoding: 'utf8' });
  return { status: run.status, output: run.stdout + run.stderr };
}

describe('scripts/scan-test-logs.mjs', () => {
  it('passes clean logs and says how many lines and secrets it checked', () => {
    folder({ 'app-a-1.log': [line({ message: 'blob stored', size: Number(CODE) }), line({ message: 'device registered', deviceId: 'q3XbUoXQk0Rk2xXm3oQy1A' })] }, [EMAIL, TOKEN, CODE, PHONE]);
    const { status, output } = scan();
    expect(output).toContain('checked 2 log lines in 1 files against 4 secrets');
    expect(status).toBe(0);
  });

  it.each([
    ['an e-mail, in another case', line({ message: 'signup', email: EMAIL.toUpperCase() }), 'e-mail'],
    ['a session token inside a longer string', line({ message: `bearer ${TOKEN}!` }), 'session token'],
    ['an SMS code in a message', line({ message: `sent code ${CODE} to the phone` }), 'SMS code'],
    ['a phone number without its +', line({ message: 'sms', to: PHONE.slice(1) }), 'phone number'],
    ['a secret on a line that is not JSON (a stack trace)', `Error: could not reach ${EMAIL}`, 'e-mail'],
  ])('fails on %s, naming the file and line and redacting the secret', (_what, leaked, kind) => {
    folder({ 'process-b-1-2.log': [line({ message: 'homing listening' }), leaked] }, [EMAIL, TOKEN, CODE, PHONE, PHONE.slice(1)]);
    const { status, output } = scan();
    expect(status).toBe(1);
    expect(output).toContain(`${join(dir, 'process-b-1-2.log')}:2: a ${kind} in a log line`);
    expect(output.toLowerCase()).not.toContain(EMAIL.toLowerCase());
    expect(output).not.toContain(TOKEN);
    expect(output).not.toContain(PHONE.slice(1));
    if (kind === 'SMS code') expect(output).not.toContain(CODE);
  });

  it('refuses to pass when nothing was captured, since a scan of nothing proves nothing', () => {
    folder({}, []);
    const { status, output } = scan();
    expect(output).toContain('nothing to check');
    expect(status).toBe(1);
  });
});
