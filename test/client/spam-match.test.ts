// The phone's side of spam filtering (src/client/spam.ts): it keeps the published blocklist up to
// date from deltas of the real server (reports → the 'spam-blocklist' job → GET
// /v1/device/spam/blocklist) and matches numbers and texts against it locally.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/client/api.js';
import { emptyBlocklist, matchSpam, refreshBlocklist, type BlocklistCache } from '../../src/client/spam.js';
import { publishBlocklist } from '../../src/features/spam/publish.js';
import { textFingerprint } from '../../src/protocol/spam-fingerprint.js';
import { createTestApp, type TestApp } from '../harness.js';
import { owner } from '../features/find-helpers.js';
import { uniqueNumber } from '../features/messaging-helpers.js';

const SPAM = 'URGENT: your parcel is held at customs. Pay the £2.99 fee at https://bit.ly/xyz123 today';
const REWORDED = 'Your parcel is held at customs! Pay the fee of £1.50 now at www.parcel-fee.example/pay';
const UNRELATED = 'Running ten minutes late, save me a seat near the window please';

let t: TestApp;
// Two established accounts list an entry: the smallest threshold the configuration allows.
beforeEach(() => void (t = createTestApp({ SPAM_MIN_ACCOUNTS: '2', SPAM_NEW_ACCOUNT_DAYS: '0' })));
afterEach(() => t.close());

/** A phone of a fresh account, as an SDK client. */
async function phone(): Promise<ApiClient> {
  const o = await owner(t, { findEnabled: false });
  return t.api({ deviceToken: o.device.auth.Authorization.replace('Bearer ', '') });
}

describe('refreshBlocklist and matchSpam on the real server', () => {
  it('a number and a text reported by two accounts reach the phone, and a rewording of the text matches', async () => {
    const [a, b, reader] = [await phone(), await phone(), await phone()];
    const spammer = uniqueNumber();
    await a.reportSpam({ number: spammer, text: SPAM });
    // The cluster publishes its earliest report's fingerprint: make that SPAM's, whatever the clock's resolution.
    t.clock.advance(1000);
    await b.reportSpam({ number: spammer, text: REWORDED });
    await publishBlocklist(t.deps);

    const cache = await refreshBlocklist(reader, emptyBlocklist());
    expect(cache.version).toBeGreaterThan(0);
    expect(cache.numbers).toEqual([spammer]);
    expect(cache.fingerprints).toHaveLength(1);

    expect(matchSpam(cache, { number: spammer })).toEqual({ spam: true, byNumber: true, byText: false });
    // The rewording from another number is caught by its text alone.
    expect(matchSpam(cache, { number: uniqueNumber(), text: REWORDED })).toEqual({ spam: true, byNumber: false, byText: true });
    expect(matchSpam(cache, { number: uniqueNumber(), text: SPAM.replace('2.99', '4.75').replace('today', 'now') }).byText).toBe(true);
    expect(matchSpam(cache, { number: uniqueNumber(), text: UNRELATED })).toEqual({ spam: false, byNumber: false, byText: false });
    expect(matchSpam(cache, { text: 'hi' }).spam).toBe(false);
  });

  it('a number one account reported from several devices is not listed (hostile: one account alone)', async () => {
    const o = await owner(t, { findEnabled: false });
    const second = await o.register('tablet');
    const spammer = uniqueNumber();
    for (const auth of [o.device.auth, second.auth]) {
      await t.api({ deviceToken: auth.Authorization.replace('Bearer ', '') }).reportSpam({ number: spammer, text: SPAM });
    }
    await publishBlocklist(t.deps);
    const cache = await refreshBlocklist(await phone(), emptyBlocklist());
    expect(matchSpam(cache, { number: spammer, text: SPAM }).spam).toBe(false);
  });

  it('a delta adds what was listed since and takes off what was unlisted (reports withdrawn), keeping the rest', async () => {
    const [a, b, reader] = [await phone(), await phone(), await phone()];
    const first = uniqueNumber();
    const second = uniqueNumber();
    const reportA = await a.reportSpam({ number: first, text: SPAM });
    const reportB = await b.reportSpam({ number: first });
    await publishBlocklist(t.deps);
    const before = await refreshBlocklist(reader, emptyBlocklist());
    expect(before.numbers).toEqual([first]);
    expect(before.fingerprints).toEqual([]); // one account's text is not enough

    await a.withdrawSpamReport(reportA.id);
    await b.withdrawSpamReport(reportB.id);
    await a.reportSpam({ number: second, text: UNRELATED });
    await b.reportSpam({ number: second, text: UNRELATED });
    await publishBlocklist(t.deps);

    const delta = await reader.spamBlocklist(before.version);
    expect(delta.reset).toBe(false);
    const after = await refreshBlocklist(reader, before);
    expect(after.version).toBeGreaterThan(before.version);
    expect(after.numbers).toEqual([second]);
    expect(after.fingerprints).toEqual([textFingerprint(UNRELATED)]);
    expect(matchSpam(after, { number: first }).spam).toBe(false);
    expect(matchSpam(after, { number: second }).byNumber).toBe(true);
    expect(before.numbers).toEqual([first]); // the cache passed in is left as it was

    // Nothing changed since: the same list, the same version.
    expect(await refreshBlocklist(reader, after)).toEqual(after);
  });

  it('a cache the server cannot know (a version ahead of it, say after a restore) is replaced whole: reset', async () => {
    const [a, b, reader] = [await phone(), await phone(), await phone()];
    const spammer = uniqueNumber();
    await a.reportSpam({ number: spammer });
    await b.reportSpam({ number: spammer });
    await publishBlocklist(t.deps);

    const stale: BlocklistCache = { version: 1_000_000, numbers: ['+447700900999'], fingerprints: ['0123456789abcdef'] };
    expect((await reader.spamBlocklist(stale.version)).reset).toBe(true);
    const cache = await refreshBlocklist(reader, stale);
    expect(cache.numbers).toEqual([spammer]);
    expect(cache.fingerprints).toEqual([]);
    expect(cache.version).toBeLessThan(stale.version);
  });
});

describe('refreshBlocklist against a hostile delta', () => {
  it('a text entry that is not a 16-hex-digit fingerprint is ignored, so it cannot match every text', async () => {
    // Only the answer is hostile here; a real server never sends these values.
    const hostile = {
      spamBlocklist: async () => ({
        version: 7,
        reset: true,
        changes: [
          { kind: 'text' as const, value: 'zzzzzzzzzzzzzzzz', listed: true },
          { kind: 'text' as const, value: '', listed: true },
          { kind: 'text' as const, value: textFingerprint(SPAM)!, listed: true },
        ],
      }),
    } as unknown as ApiClient;
    const cache = await refreshBlocklist(hostile, emptyBlocklist());
    expect(cache).toEqual({ version: 7, numbers: [], fingerprints: [textFingerprint(SPAM)] });
    expect(matchSpam(cache, { text: UNRELATED }).spam).toBe(false);
    expect(matchSpam(cache, { text: REWORDED }).byText).toBe(true);
  });
});
