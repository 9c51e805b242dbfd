import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from '../../src/client/api.js';
import { codeSentTo } from './outbox-code.js';
import { run, startTestServer } from './spawn.js';

// Messages and spam reports through the built server and the built CLI, each phone its own
// process and state file, as issue #14 item 7 describes. One server for the whole file: slow.

const PASSWORD = 'a long password';
const ALICE = '+447700900301';
const BOB = '+447700900302';
const SPAMMER = '+447700900666';
// Every account counts in full at once, so three reports publish (the default k = 3).
const SERVER_ENV = { SPAM_NEW_ACCOUNT_DAYS: '0' };

let dir: string;
let url: string;
let stop: () => Promise<void>;

beforeAll(async () => {
  ({ dir, url, stop } = await startTestServer('cli-messages', SERVER_ENV));
});

afterAll(() => stop());

const statePath = (phone: string) => join(dir, `${phone}.json`);

const cli = (phone: string, args: string[]) =>
  run('src/client/cli/main.ts', { cwd: dir, args: [...args, '--server', url, '--state', statePath(phone)], env: { HOMING_PASSWORD: PASSWORD } });

/** Runs a CLI command that must succeed, and returns its output. */
async function ok(phone: string, args: string[]) {
  const result = await cli(phone, args);
  expect(result.code, `${args.join(' ')}:\n${result.output}`).toBe(0);
  return result.output;
}

async function signUp(phone: string, email: string) {
  await ok(phone, ['signup', '--email', email, '--birth-year', '1990', '--kdf-ops', '1', '--kdf-mem', '8192']);
}

async function registerPhone(phone: string, email: string) {
  await ok(phone, ['login', '--email', email]);
  await ok(phone, ['register', '--name', phone, '--platform', 'android']);
}

const outbox = () => join(dir, 'data', 'sms-outbox.jsonl');
const codesSentTo = (number: string) =>
  !existsSync(outbox()) ? 0 : readFileSync(outbox(), 'utf8').trim().split('\n').filter((line) => JSON.parse(line).to === number).length;

/** Verifies `number` on this phone with the code texted to it (read from the log provider's outbox), then turns messaging on. */
async function messagingOn(phone: string, number: string) {
  const before = codesSentTo(number);
  await ok(phone, ['find', '--on']);
  await ok(phone, ['sim', '--event', 'replaced', '--number', number]);
  await expect.poll(() => codesSentTo(number)).toBeGreaterThan(before);
  await ok(phone, ['sim-verify', '--code', await codeSentTo(outbox(), number, 'body')]);
  expect(await ok(phone, ['messages', 'on', '--number', number])).toContain(`messaging is on for ${number}`);
}

const deviceTokenOf = (phone: string) => (JSON.parse(readFileSync(statePath(phone), 'utf8')) as { deviceToken: string }).deviceToken;

describe('device CLI: messages and spam reports between phones', () => {
  // Some forty CLI processes on a machine the other tests share.
  it('sends, shows once, blocks without the sender telling, shows sent messages on the sender’s other phone, and never lets a message drive the terminal', async () => {
    await signUp('alice', 'alice@example.org');
    await signUp('bob', 'bob@example.org');
    await registerPhone('alice', 'alice@example.org');
    await registerPhone('bob', 'bob@example.org');
    // Alice's second phone: the same account, its own state file, its own keys.
    await registerPhone('alice2', 'alice@example.org');

    const refused = await cli('alice', ['messages', 'on', '--number', ALICE]);
    expect(refused.code, 'a number this phone has not verified').not.toBe(0);
    expect(refused.output).toMatch(/^error: /m);

    await messagingOn('alice', ALICE);
    await messagingOn('bob', BOB);
    await messagingOn('alice2', ALICE);
    expect(await ok('alice', ['messages'])).toMatch(new RegExp(`messaging is on for \\${ALICE}[\\s\\S]*other devices with messaging on`));
    expect(await ok('alice', ['messages', 'on', '--number', ALICE]), 'keys are kept, so nobody is told they changed').toContain('already on');

    const sent = await ok('alice', ['send', '--to', BOB, '--text', 'Hello Bob, lunch at one?']);
    // Bob's phone and Alice's other phone.
    expect(sent).toContain('sent to 2 device(s)');

    const inbox = await ok('bob', ['inbox']);
    expect(inbox).toMatch(new RegExp(`\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC  \\${ALICE}: Hello Bob, lunch at one\\?`));
    // Shown, then acknowledged: nothing waits on the server any more.
    expect((await createApiClient({ baseUrl: url, deviceToken: deviceTokenOf('bob') }).fetchInbox()).messages).toEqual([]);
    expect(await ok('bob', ['inbox'])).toContain('no new messages');

    expect(await ok('bob', ['block', '--number', ALICE])).toContain(`blocked ${ALICE}`);
    expect(await ok('bob', ['blocks'])).toContain(ALICE);
    // A blocked sender cannot tell: the CLI says what it said before.
    expect(await ok('alice', ['send', '--to', BOB, '--text', 'Are you ignoring me?'])).toContain('sent to 2 device(s)');
    expect(await ok('bob', ['inbox'])).toContain('no new messages');

    const other = await ok('alice2', ['inbox']);
    expect(other).toContain(`you → ${BOB}: Hello Bob, lunch at one?`);
    expect(other).toContain(`you → ${BOB}: Are you ignoring me?`);

    // A hostile sender's text: clear the screen, retitle the window, reverse what follows.
    expect(await ok('bob', ['unblock', '--number', ALICE])).toContain(`unblocked ${ALICE}`);
    expect(await ok('bob', ['blocks'])).toContain('no blocked numbers');
    await ok('alice', ['send', '--to', BOB, '--text', '\u001b[2J\u001b]0;pwned\u0007 pay \u202eevil\rfake line\nsecond line']);
    const hostile = await ok('bob', ['inbox']);
    expect(hostile).not.toMatch(/[\u001b\u0007\u202e\r]/);
    expect(hostile).toContain(`${ALICE}: \\u{1b}[2J\\u{1b}]0;pwned\\u{7} pay \\u{202e}evil\\u{d}fake line\n    second line`);

    // Bob's keys change (off and on again, as a new phone would): Alice is told before her text goes.
    await ok('bob', ['messages', 'off']);
    await ok('bob', ['messages', 'on', '--number', BOB]);
    const afterChange = await ok('alice', ['send', '--to', BOB, '--text', 'New phone?']);
    expect(afterChange).toContain(`notice: ${BOB}'s messaging keys changed since last time`);
    expect(afterChange).toContain('sent to 2 device(s)');
    expect(await ok('bob', ['inbox'])).toContain(`${ALICE}: New phone?`);
    expect(await ok('alice', ['send', '--to', BOB, '--text', 'Got it'])).not.toContain('notice:');

    const unreachable = await cli('bob', ['send', '--to', '+447700900399', '--text', 'anyone there?']);
    expect(unreachable.code).toBe(1);
    expect(unreachable.output).toContain('error: +447700900399 does not have messaging on');

    expect(await ok('alice2', ['messages', 'off'])).toContain('messaging is off for this device');
    const off = await cli('alice2', ['inbox']);
    expect(off.code).toBe(1);
    expect(off.output).toContain('messaging is off on this device');
  }, 180_000);

  it('publishes a number three accounts reported, and a phone matches the number and a reworded text locally', async () => {
    const texts = [
      'Your parcel is held at the depot. Pay the 1.99 GBP redelivery fee now at https://royal-parcel.example/pay',
      'Your parcel is being held at the depot. Pay a 1.49 GBP redelivery fee now at www.redeliver.example',
      'Your parcel is held at the depot! Please pay the 3.99 GBP redelivery fee now: https://pay.example/abc',
    ];
    const reporters = ['r1', 'r2', 'r3'];
    await Promise.all([...reporters, 'checker'].map((phone) => signUp(phone, `${phone}@example.org`)));
    await Promise.all([...reporters, 'checker'].map((phone) => registerPhone(phone, `${phone}@example.org`)));

    const reports = await Promise.all(reporters.map((phone, i) => ok(phone, ['spam', 'report', '--number', SPAMMER, '--text', texts[i]!])));
    for (const report of reports) expect(report).toMatch(new RegExp(`reported \\${SPAMMER} as spam \\(report \\S+\\); the server keeps the text's fingerprint, not the text`));
    expect(await ok('r1', ['spam', 'reports'])).toMatch(new RegExp(`\\${SPAMMER}\\s+[0-9a-f]{16}`));

    // Until the job publishes, nothing is listed: no report shows up at the moment it is made.
    expect(await ok('checker', ['spam', 'check', '--number', SPAMMER])).toContain('not on the blocklist');

    const jobs = await run('src/admin.ts', { cwd: dir, args: ['run-jobs'], env: SERVER_ENV });
    expect(jobs.code, jobs.output).toBe(0);

    expect(await ok('checker', ['spam', 'check', '--number', SPAMMER])).toContain('spam (number listed)');
    const reworded = await ok('checker', ['spam', 'check', '--text', 'Your parcel is held at the depot. Kindly pay the 4.99 GBP redelivery fee now at https://x.example']);
    expect(reworded).toContain('spam (text matches a reported message)');
    const unrelated = await ok('checker', ['spam', 'check', '--number', BOB, '--text', 'Hi, are we still on for dinner at eight tonight? I booked the table by the window.']);
    expect(unrelated).toContain('not on the blocklist');
    expect(unrelated).not.toContain('spam (');
    // The list is kept on the phone, at the version the server gave.
    const cached = JSON.parse(readFileSync(statePath('checker'), 'utf8')).spamBlocklist;
    expect(cached).toMatchObject({ numbers: [SPAMMER] });
    expect(cached.version).toBeGreaterThan(0);

    const id = /report (\S+)\)/.exec(reports[0]!)![1]!;
    expect(await ok('r1', ['spam', 'withdraw', '--id', id])).toContain(`withdrew spam report ${id}`);
    expect(await ok('r1', ['spam', 'reports'])).toContain('no spam reports from this account');
    // Another account's report is not this one's to withdraw.
    const foreign = await cli('r1', ['spam', 'withdraw', '--id', /report (\S+)\)/.exec(reports[1]!)![1]!]);
    expect(foreign.code).toBe(1);
    expect(foreign.output).toMatch(/^error: .*\(not_found, HTTP 404/m);
    // --text is the message for send and spam, and still a switch for policy.
    const policy = await ok('checker', ['policy']);
    expect((await ok('checker', ['policy', '--text'])).length).toBeGreaterThan(policy.length + 500);
    const usage = await cli('checker', ['spam', 'check']);
    expect(usage.code).toBe(1);
    expect(usage.output).toContain('say what to check');
  }, 120_000);
});
