import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { proveIdentity } from '../../src/client/account.js';
import { toBase64Url } from '../../src/protocol/encoding.js';
import { textFingerprint } from '../../src/protocol/spam-fingerprint.js';
import { runMaintenance } from '../../src/jobs.js';
import { createTestApp, type TestApp } from '../harness.js';
import { signUpAndLogIn } from '../security/helpers.js';
import { SPAM_REWORDINGS, UNRELATED_TEXTS } from '../protocol/spam-texts.js';
import { uniqueNumber } from './messaging-helpers.js';
import { blocklist, DAY, listedValues, publish, report, reporters } from './spam-helpers.js';

// Spam reports and the published blocklist end to end: reports through the API, the
// 'spam-blocklist' job as the scheduler runs it, and the delta phones fetch.

let t: TestApp;
afterEach(() => t.close());
// Accounts count in full from their first day unless a test says otherwise.
const ESTABLISHED = { SPAM_NEW_ACCOUNT_DAYS: '0' };

describe('happy: reports become the blocklist', () => {
  it('a number reported by k accounts is listed after the job; by k−1 it is not; the delta from 0 and from an older version', async () => {
    t = createTestApp(ESTABLISHED);
    const [a, b, c, d] = await reporters(t, 4);
    const spammer = uniqueNumber();
    const other = uniqueNumber();
    for (const o of [a!, b!]) expect((await report(o, spammer)).status).toBe(201);
    expect((await publish(t)).numbersListed).toBe(0);
    expect(await blocklist(d!)).toEqual({ version: 0, reset: false, changes: [] });

    await report(c!, spammer);
    expect(await publish(t)).toMatchObject({ numbersListed: 1, numbersUnlisted: 0 });
    const first = await blocklist(d!);
    expect(first).toEqual({ version: 1, reset: false, changes: [{ kind: 'number', value: spammer, listed: true }] });

    for (const o of [a!, b!, c!]) await report(o, other);
    await publish(t);
    expect(await blocklist(d!, first.version)).toEqual({ version: 2, reset: false, changes: [{ kind: 'number', value: other, listed: true }] });
    expect(await blocklist(d!, 2)).toEqual({ version: 2, reset: false, changes: [] });
    expect(await listedValues(d!)).toEqual([`number:${other}`, `number:${spammer}`].sort());
    // A second pass with nothing new changes nothing, and takes no version.
    expect(await publish(t)).toMatchObject({ numbersListed: 0, numbersUnlisted: 0 });
    expect((await blocklist(d!)).version).toBe(2);
  });

  it('the reporter sees its own reports, the number opened and the fingerprint of the text', async () => {
    t = createTestApp(ESTABLISHED);
    const [a] = await reporters(t, 1);
    const number = uniqueNumber();
    const made = await report(a!, number, SPAM_REWORDINGS[0]);
    expect(made).toMatchObject({ status: 201, body: { number, fingerprint: textFingerprint(SPAM_REWORDINGS[0]!), createdAt: t.clock.now() } });
    const withoutText = await report(a!, uniqueNumber());
    expect(withoutText.body.fingerprint).toBeNull();
    const list = await a!.asDevice(a!.device.auth, 'GET', '/v1/device/spam-reports');
    expect(list.status).toBe(200);
    expect(list.body.reports.map((r: { id: string }) => r.id).sort()).toEqual([made.body.id, withoutText.body.id].sort());
    expect(list.body.reports.find((r: { id: string }) => r.id === made.body.id)).toEqual(made.body);
    // A text too short to tell spam from a greeting gives no fingerprint.
    expect((await report(a!, uniqueNumber(), 'see you at 5')).body.fingerprint).toBeNull();
  });

  it('new accounts count half: 3 new accounts publish nothing; once they are older than SPAM_NEW_ACCOUNT_DAYS their new reports publish', async () => {
    t = createTestApp({ SPAM_NEW_ACCOUNT_DAYS: '7' });
    const accounts = await reporters(t, 6);
    const number = uniqueNumber();
    for (const o of accounts.slice(0, 3)) await report(o, number);
    await publish(t);
    expect((await blocklist(accounts[5]!)).changes).toEqual([]);
    // Six new accounts weigh as much as three established ones.
    for (const o of accounts.slice(3)) await report(o, number);
    await publish(t);
    expect(await listedValues(accounts[0]!)).toEqual([`number:${number}`]);

    const later = uniqueNumber();
    t.clock.advance(7 * DAY);
    for (const o of accounts.slice(0, 2)) await report(o, later);
    await publish(t);
    expect(await listedValues(accounts[0]!)).toEqual([`number:${number}`]);
    await report(accounts[2]!, later);
    await publish(t);
    expect(await listedValues(accounts[0]!)).toEqual([`number:${later}`, `number:${number}`].sort());
  });

  it('rewordings of one spam text (other words, links, amounts) from k accounts publish ONE fingerprint; unrelated texts publish none', async () => {
    t = createTestApp(ESTABLISHED);
    const accounts = await reporters(t, 4);
    // Each account reports a different sender number: only the text joins them.
    for (const [i, o] of accounts.entries()) {
      t.clock.advance(1000); // so that "earliest" is one report
      await report(o, uniqueNumber(), SPAM_REWORDINGS[i]);
    }
    const [x, y, z] = await reporters(t, 3);
    for (const [i, o] of [x!, y!, z!].entries()) await report(o, uniqueNumber(), UNRELATED_TEXTS[i]);
    expect(await publish(t)).toMatchObject({ numbersListed: 0, textsListed: 1 });
    const { changes } = await blocklist(x!);
    // The earliest report's fingerprint stands for the cluster.
    expect(changes).toEqual([{ kind: 'text', value: textFingerprint(SPAM_REWORDINGS[0]!), listed: true }]);
    // Another rewording reported later adds no second entry.
    const [late] = await reporters(t, 1);
    await report(late!, uniqueNumber(), `${SPAM_REWORDINGS[1]} Thank you.`);
    expect((await publish(t)).textsListed).toBe(0);
  });
});

describe('errors: support that goes away unlists', () => {
  it('reports older than the window stop counting: unlisted at the next job with a new version; the delta says listed:false; a version from the future resets', async () => {
    t = createTestApp({ ...ESTABLISHED, SPAM_WINDOW_DAYS: '30' });
    const accounts = await reporters(t, 3);
    const number = uniqueNumber();
    for (const o of accounts) await report(o, number, SPAM_REWORDINGS[0]);
    await publish(t);
    const listed = await blocklist(accounts[0]!);
    expect(listed.changes.map((c) => c.kind).sort()).toEqual(['number', 'text']);
    expect(listed.version).toBe(2);

    t.clock.advance(30 * DAY - 1000);
    expect(await publish(t)).toMatchObject({ numbersUnlisted: 0, textsUnlisted: 0 });
    t.clock.advance(2000);
    expect(await publish(t)).toMatchObject({ numbersUnlisted: 1, textsUnlisted: 1, reportsExpired: 3 });
    const delta = await blocklist(accounts[0]!, listed.version);
    expect(delta.version).toBe(4);
    expect(delta.reset).toBe(false);
    expect(delta.changes).toEqual(
      expect.arrayContaining([
        { kind: 'number', value: number, listed: false },
        { kind: 'text', value: textFingerprint(SPAM_REWORDINGS[0]!), listed: false },
      ]),
    );
    expect(await blocklist(accounts[0]!)).toEqual({ version: 4, reset: false, changes: [] });
    expect(await blocklist(accounts[0]!, 99)).toEqual({ version: 4, reset: true, changes: [] });
    // The reporters' own lists lost the expired reports too.
    expect((await accounts[0]!.asDevice(accounts[0]!.device.auth, 'GET', '/v1/device/spam-reports')).body.reports).toEqual([]);
  });

  it('a withdrawn report (DELETE) stops counting: the number is unlisted at the next job', async () => {
    t = createTestApp(ESTABLISHED);
    const accounts = await reporters(t, 3);
    const number = uniqueNumber();
    const made = [];
    for (const o of accounts) made.push((await report(o, number)).body);
    await publish(t);
    expect(await listedValues(accounts[0]!)).toEqual([`number:${number}`]);
    const withdrawn = await accounts[1]!.asDevice(accounts[1]!.device.auth, 'DELETE', `/v1/device/spam-reports/${made[1].id}`);
    expect(withdrawn.status).toBe(204);
    // Until the job runs, the list stands: withdrawing does not publish a change at request time.
    expect(await listedValues(accounts[0]!)).toEqual([`number:${number}`]);
    expect(await publish(t)).toMatchObject({ numbersUnlisted: 1 });
    expect(await listedValues(accounts[0]!)).toEqual([]);
    expect((await blocklist(accounts[0]!, 1)).changes).toEqual([{ kind: 'number', value: number, listed: false }]);
    // Reported again by a third account, it is listed again with a newer version.
    await report(accounts[1]!, number);
    await publish(t);
    expect(await blocklist(accounts[0]!, 2)).toEqual({ version: 3, reset: false, changes: [{ kind: 'number', value: number, listed: true }] });
  });

  it('removing the reporting device takes its report: unlisted at the next job', async () => {
    t = createTestApp(ESTABLISHED);
    const accounts = await reporters(t, 3);
    const number = uniqueNumber();
    for (const o of accounts) await report(o, number);
    await publish(t);
    const removed = await accounts[2]!.asOwner('DELETE', `/v1/devices/${accounts[2]!.device.id}`);
    expect(removed.status).toBe(204);
    expect(await publish(t)).toMatchObject({ numbersUnlisted: 1 });
    expect(await listedValues(accounts[0]!)).toEqual([]);
  });

  it('a deleted account takes its reports: unlisted at the pass that purges it', async () => {
    t = createTestApp({ ...ESTABLISHED, SESSION_IDLE_HOURS: '2000', SESSION_TTL_HOURS: '2000' });
    const accounts = await reporters(t, 2);
    const member = await signUpAndLogIn(t);
    const { token } = await member.api.registerDevice({ name: 'phone', model: 'Pixel', platform: 'android', identifierHash: toBase64Url(randomBytes(32)) });
    const number = uniqueNumber();
    for (const o of accounts) await report(o, number, SPAM_REWORDINGS[0]);
    const reported = await t.request('POST', '/v1/device/spam-reports', { headers: { Authorization: `Bearer ${token}` }, body: { number, text: SPAM_REWORDINGS[2] } });
    expect(reported.status).toBe(201);
    await publish(t);
    expect((await listedValues(accounts[0]!)).length).toBe(2);

    await member.api.requestAccountDeletion(await proveIdentity(member.api, { email: member.email, password: member.password }));
    t.clock.advance(7 * DAY + 1000);
    // One whole maintenance pass: account-purge runs before spam-blocklist.
    const outcomes = await runMaintenance(t.deps);
    expect(outcomes.find((o) => o.name === 'account-purge')).toMatchObject({ status: 'ok', counts: { accounts: 1 } });
    expect(await listedValues(accounts[0]!)).toEqual([]);
  });
});
