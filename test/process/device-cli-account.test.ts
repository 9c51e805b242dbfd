import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeSentTo } from './outbox-code.js';
import { killIfRunning, run, start, startTestServer } from './spawn.js';

// `homing account`: the personal data the server holds, and changing it, as a person at a
// terminal does it (the code is typed after it arrives, read here from the server's outbox).

let dir: string;
let url: string;
let stop: () => Promise<void>;

beforeAll(async () => {
  ({ dir, url, stop } = await startTestServer('cli-account'));
});
afterAll(() => stop());

const PASSWORD = 'a long password';
const cli = (args: string[], state: string, stdin?: string) =>
  run('src/client/cli/main.ts', { cwd: dir, args: [...args, '--server', url, '--state', state], env: { HOMING_PASSWORD: PASSWORD }, stdin });

/** Runs an `account …` change and types the code once it has been sent. */
async function changeWithCode(args: string[], state: string, outbox: string, to: string, field: 'text' | 'body') {
  const running = start('src/client/cli/main.ts', { cwd: dir, args: [...args, '--server', url, '--state', state], env: { HOMING_PASSWORD: PASSWORD } });
  try {
    running.child.stdin!.write(`${await codeSentTo(outbox, to, field)}\n`);
    const code = await running.exited;
    return { code, output: running.output() };
  } finally {
    await killIfRunning(running);
  }
}

describe('homing account (device CLI against a running server)', () => {
  it('shows the e-mail and phone, changes both with the code that arrived, and removes the phone', async () => {
    const state = join(dir, 'owner.json');
    expect((await cli(['signup', '--email', 'grace@example.org', '--phone', '+447700902001', '--birth-year', '1990', '--kdf-ops', '1', '--kdf-mem', '8192'], state, `${PASSWORD}\n`)).code).toBe(0);
    expect((await cli(['login', '--email', 'grace@example.org'], state)).code).toBe(0);

    const shown = await cli(['account'], state);
    expect(shown.output).toMatch(/e-mail\s+grace@example\.org/);
    expect(shown.output).toMatch(/phone\s+\+447700902001/);

    const email = await changeWithCode(['account', 'email', 'grace.hopper@example.org'], state, join(dir, 'data', 'email-outbox.jsonl'), 'grace.hopper@example.org', 'text');
    expect(email.output).toContain('e-mail changed to grace.hopper@example.org');
    expect(email.code).toBe(0);
    // The saved e-mail moved too, so later proofs sign for the new address.
    const phone = await changeWithCode(['account', 'phone', '+447700902002'], state, join(dir, 'data', 'sms-outbox.jsonl'), '+447700902002', 'body');
    expect(phone.output).toContain('phone number changed to +447700902002');

    const removed = await cli(['account', 'phone', '--remove'], state);
    expect(removed.output).toContain('phone number removed');
    const after = await cli(['account'], state);
    expect(after.output).toMatch(/e-mail\s+grace\.hopper@example\.org/);
    expect(after.output).toMatch(/phone\s+\(none\)/);
    expect((await cli(['login', '--email', 'grace.hopper@example.org'], state)).code).toBe(0);
  }, 180_000);

  it('a wrong code is asked for again; usage errors are plain', async () => {
    const state = join(dir, 'typo.json');
    await cli(['signup', '--email', 'typo@example.org', '--birth-year', '1990', '--kdf-ops', '1', '--kdf-mem', '8192'], state, `${PASSWORD}\n`);
    await cli(['login', '--email', 'typo@example.org'], state);
    const running = start('src/client/cli/main.ts', { cwd: dir, args: ['account', 'email', 'typo2@example.org', '--server', url, '--state', state], env: { HOMING_PASSWORD: PASSWORD } });
    try {
      const code = await codeSentTo(join(dir, 'data', 'email-outbox.jsonl'), 'typo2@example.org', 'text');
      running.child.stdin!.write(`${code === '000000' ? '111111' : '000000'}\n${code}\n`);
      expect(await running.exited).toBe(0);
      expect(running.output()).toContain('wrong code; try again');
      expect(running.output()).toContain('e-mail changed to typo2@example.org');
    } finally {
      await killIfRunning(running);
    }
    expect((await cli(['account', 'phone'], state)).output).toContain('error: say the new number');
  }, 120_000);
});
