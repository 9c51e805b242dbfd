import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../harness.js';
import { SPAM_REWORDINGS } from '../protocol/spam-texts.js';
import { uniqueNumber } from '../features/messaging-helpers.js';
import { blocklist, DAY, listedValues, publish, report, reporters, sqlite } from '../features/spam-helpers.js';

// What a hostile reporter, a nosy device or a copy of the database can get out of spam reports.

let t: TestApp;
afterEach(() => t.close());
const ESTABLISHED = { SPAM_NEW_ACCOUNT_DAYS: '0' };

/** Every byte SQLite holds for the app: the database file and its write-ahead log. */
function databaseBytes(t: TestApp) {
  sqlite(t).pragma('wal_checkpoint(TRUNCATE)');
  const files = readdirSync(t.dir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.(db|sqlite)(-wal|-shm)?$/.test(f));
  expect(files.length).toBeGreaterThan(0);
  return Buffer.concat(files.map((f) => readFileSync(join(t.dir, f))));
}

describe('security: one account cannot publish', () => {
  it('one account reporting the same number 10 times from 3 devices counts once: never listed, even with k = 2', async () => {
    t = createTestApp({ ...ESTABLISHED, SPAM_MIN_ACCOUNTS: '2' });
    const [attacker] = await reporters(t, 1);
    const devices = [attacker!.device, await attacker!.register('tablet'), await attacker!.register('watch')];
    const victim = uniqueNumber();
    for (let i = 0; i < 10; i++) expect((await report(attacker!, victim, SPAM_REWORDINGS[i % 4], devices[i % 3]!.auth)).status).toBe(201);
    const own = await attacker!.asDevice(attacker!.device.auth, 'GET', '/v1/device/spam-reports');
    expect(own.body.reports).toHaveLength(1);
    // Ten more numbers with the same text: one account still weighs as one for the text.
    for (let i = 0; i < 10; i++) await report(attacker!, uniqueNumber(), SPAM_REWORDINGS[i % 4], devices[i % 3]!.auth);
    expect(await publish(t)).toMatchObject({ numbersListed: 0, textsListed: 0 });
    expect(await listedValues(attacker!)).toEqual([]);
    // A second account is what k = 2 takes.
    const [second] = await reporters(t, 1);
    await report(second!, victim);
    await publish(t);
    expect(await listedValues(attacker!)).toEqual([`number:${victim}`]);
  });
});

describe('security: the reported text and number stay out of storage and logs', () => {
  it('with SPAM_TEXT_RETENTION_HOURS=0 the reported text and the number appear nowhere in the database file or the log', async () => {
    t = createTestApp(ESTABLISHED);
    const accounts = await reporters(t, 3);
    const number = uniqueNumber();
    const text = `${SPAM_REWORDINGS[0]} ref ZQXJ-secret-marker`;
    for (const o of accounts) await report(o, number, text);
    // Not even sealed: nothing of the text is written, before any job runs.
    expect(sqlite(t).prepare('SELECT count(*) AS n FROM spam_reports WHERE text_sealed IS NOT NULL OR text_expires_at IS NOT NULL').get()).toEqual({ n: 0 });
    await publish(t);
    const bytes = databaseBytes(t);
    for (const needle of ['ZQXJ-secret-marker', 'redelivery fee', 'royal-mail-redeliver']) {
      expect(bytes.includes(Buffer.from(needle))).toBe(false);
      expect(t.logLines.some((line) => line.includes(needle))).toBe(false);
    }
    // The number is published on the list (that is the point), but no report row holds it raw.
    expect(sqlite(t).prepare('SELECT count(*) AS n FROM spam_reports WHERE number_sealed LIKE ? OR number_index LIKE ?').get(`%${number}%`, `%${number}%`)).toEqual({ n: 0 });
    expect(t.logLines.some((line) => line.includes(number))).toBe(false);
  });

  it('with SPAM_TEXT_RETENTION_HOURS=2 the text is kept sealed (never raw) and is gone after the job past expiry', async () => {
    t = createTestApp({ ...ESTABLISHED, SPAM_TEXT_RETENTION_HOURS: '2' });
    const [a] = await reporters(t, 1);
    const text = `${SPAM_REWORDINGS[1]} ref WVUT-kept-marker`;
    await report(a!, uniqueNumber(), text);
    const row = sqlite(t).prepare('SELECT text_sealed, text_expires_at, fingerprint FROM spam_reports').get() as Record<string, unknown>;
    expect(row.text_sealed).toEqual(expect.any(String));
    expect(row.text_expires_at).toBe(t.clock.now() + 2 * 3_600_000);
    expect(databaseBytes(t).includes(Buffer.from('WVUT-kept-marker'))).toBe(false);
    expect(t.deps.secrets.openPersonal('spam-text', row.text_sealed as string)).toBe(text);

    t.clock.advance(2 * 3_600_000 - 1000);
    expect((await publish(t)).textsDropped).toBe(0);
    t.clock.advance(1000);
    expect((await publish(t)).textsDropped).toBe(1);
    expect(sqlite(t).prepare('SELECT text_sealed, text_expires_at, fingerprint FROM spam_reports').get()).toEqual({ text_sealed: null, text_expires_at: null, fingerprint: row.fingerprint });
    expect(t.logLines.some((line) => line.includes('WVUT-kept-marker'))).toBe(false);
  });
});

describe('security: the blocklist names no reporter', () => {
  it('the answer holds no account id, device id, report id or time of anyone who reported', async () => {
    t = createTestApp(ESTABLISHED);
    const accounts = await reporters(t, 3);
    const number = uniqueNumber();
    const known: string[] = [];
    for (const [i, o] of accounts.entries()) {
      t.clock.advance(61_000);
      const made = await report(o, number, SPAM_REWORDINGS[i]);
      known.push(o.accountId, o.device.id, made.body.id, String(made.body.createdAt));
    }
    await publish(t);
    // Removing one report and listing again leaves unlisted rows in the history too.
    t.clock.advance(40 * DAY);
    await publish(t);
    for (const since of [0, 1, 2, 99]) {
      const answer = JSON.stringify(await blocklist(accounts[0]!, since));
      for (const value of known) expect(answer).not.toContain(value);
      expect(answer).not.toMatch(/\d{13}/);
    }
    expect(JSON.stringify(await blocklist(accounts[0]!, 1))).toContain(number);
  });
});

describe('security: another account cannot reach this account’s reports', () => {
  it('another account can neither list nor withdraw them (404, as for an id that never existed), and its attempt changes no count', async () => {
    t = createTestApp(ESTABLISHED);
    const accounts = await reporters(t, 3);
    const [stranger] = await reporters(t, 1);
    const number = uniqueNumber();
    const ids: string[] = [];
    for (const o of accounts) ids.push((await report(o, number)).body.id);

    expect((await stranger!.asDevice(stranger!.device.auth, 'GET', '/v1/device/spam-reports')).body).toEqual({ reports: [] });
    const theirs = await stranger!.asDevice(stranger!.device.auth, 'DELETE', `/v1/device/spam-reports/${ids[0]}`);
    const nobody = await stranger!.asDevice(stranger!.device.auth, 'DELETE', '/v1/device/spam-reports/AAAAAAAAAAAAAAAAAAAAAA');
    expect(theirs.status).toBe(404);
    expect(theirs.body.error).toMatchObject({ code: 'not_found' });
    expect(theirs.body.error.message).toBe(nobody.body.error.message);

    expect(sqlite(t).prepare('SELECT count(*) AS n FROM spam_reports').get()).toEqual({ n: 3 });
    await publish(t);
    expect(await listedValues(stranger!)).toEqual([`number:${number}`]);
    const owners = await accounts[0]!.asDevice(accounts[0]!.device.auth, 'GET', '/v1/device/spam-reports');
    expect(owners.body.reports.map((r: { id: string }) => r.id)).toEqual([ids[0]]);
  });

  it('a malformed number or a text with control characters is refused with the error shape, and nothing is stored', async () => {
    t = createTestApp(ESTABLISHED);
    const [a] = await reporters(t, 1);
    for (const body of [{ number: '07700 900123' }, { number: uniqueNumber(), text: 'pay now\u202Eeulav' }, { number: uniqueNumber(), text: 'x'.repeat(4001) }]) {
      const refused = await a!.asDevice(a!.device.auth, 'POST', '/v1/device/spam-reports', body);
      expect(refused.status).toBe(400);
      expect(refused.body.error.code).toBe('validation_failed');
    }
    expect(sqlite(t).prepare('SELECT count(*) AS n FROM spam_reports').get()).toEqual({ n: 0 });
  });
});
