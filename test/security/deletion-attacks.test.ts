import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { logIn } from '../../src/client/account.js';
import type { Challenge } from '../../src/client/api.js';
import { purgeDueAccounts } from '../../src/features/deletion/account-purge.js';
import { toBase64Url } from '../../src/protocol/encoding.js';
import { verifyReceipt } from '../../src/protocol/receipts.js';
import { DAY, populate, proofOf, sqlite } from '../features/deletion-helpers.js';
import { createTestApp, type TestApp } from '../harness.js';
import { apiAt, expectError, freshAddress, json, randomSeed, requestChallenge, signFor, signUpAndLogIn } from './helpers.js';

// Who may delete what. Deleting part of an account needs its session; scheduling the whole
// account needs a fresh proof of the password or recovery key; cancelling needs its session.

let t: TestApp;
beforeEach(() => {
  t = createTestApp({ SESSION_IDLE_HOURS: '2000', SESSION_TTL_HOURS: '2000' });
});
afterEach(() => t.close());

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const scheduled = (accountId: string) => sqlite(t).prepare('SELECT count(*) AS n FROM account_deletions WHERE account_id = ?').get(accountId) as { n: number };

describe('deleting parts of an account', () => {
  it("another account cannot delete the victim's item, collection or device: 404 like an unknown id, and nothing of the victim's changes", async () => {
    const victim = await populate(t);
    const attacker = await signUpAndLogIn(t);
    for (const scope of [
      { type: 'item', itemId: victim.itemId },
      { type: 'collection', collectionId: victim.collectionId },
      { type: 'device', deviceId: victim.deviceId },
    ]) {
      await expectError(t.request('POST', '/v1/account/purge', { body: { scope }, headers: bearer(attacker.token) }), 404, 'not_found');
    }
    // Naming the victim's kind deletes the attacker's own (empty) kind, never the victim's.
    await attacker.api.purge({ type: 'data-kind', kind: 'photos' });
    expect((await victim.member.api.item(victim.itemId)).state).toBe('live');
    expect((await victim.member.api.collections()).collections.map((c) => c.id)).toEqual([victim.collectionId]);
    expect((await victim.member.api.devices()).devices.map((d) => d.id)).toContain(victim.deviceId);
    expect((await victim.member.api.receipts()).receipts).toEqual([]);
  });

  it('another device of the same account deleting a device is recorded as that actor (its session and its phone)', async () => {
    const { member, deviceId } = await populate(t);
    const tabletApi = apiAt(t, freshAddress());
    const { response } = await logIn(tabletApi, { email: member.email, password: member.password });
    const tablet = await tabletApi.registerDevice({ name: 'tablet', model: 'Tab', platform: 'android', identifierHash: toBase64Url(randomBytes(32)) });
    const { receipt } = await tabletApi.purge({ type: 'device', deviceId });
    const entry = sqlite(t)
      .prepare("SELECT session_id AS sessionId, device_id AS deviceId, detail FROM audit_log WHERE account_id = ? AND action = 'data.deleted'")
      .get(member.accountId);
    expect(entry).toEqual({ sessionId: response.session.id, deviceId: tablet.device.id, detail: `device receipt=${receipt.id}` });
  });

  it('a device token is not a session: it cannot delete anything, not even its own device', async () => {
    const { deviceId, deviceToken } = await populate(t);
    const res = await t.request('POST', '/v1/account/purge', { body: { scope: { type: 'device', deviceId } }, headers: bearer(deviceToken) });
    expect(res.status).toBe(401);
  });
});

describe('scheduling the account deletion', () => {
  it('a stolen session alone cannot: a proof signed with anything but the password fails and schedules nothing', async () => {
    const { member } = await populate(t);
    const challenge = await json<Challenge>(await requestChallenge(t, member.email, freshAddress()));
    const forged = signFor(challenge, randomSeed());
    await expectError(t.request('POST', '/v1/account/deletion', { body: { proof: forged }, headers: bearer(member.token) }), 401, 'invalid_credentials');
    expect(scheduled(member.accountId).n).toBe(0);
  });

  it('a replayed deletion proof fails: the challenge was used', async () => {
    const { member } = await populate(t);
    const proof = await proofOf(member);
    await member.api.requestAccountDeletion(proof);
    await member.api.cancelAccountDeletion();
    await expectError(t.request('POST', '/v1/account/deletion', { body: { proof }, headers: bearer(member.token) }), 401, 'challenge_invalid');
    expect(scheduled(member.accountId).n).toBe(0);
  });

  it("another account's session cannot use the victim's proof, nor schedule or cancel the victim's deletion", async () => {
    const victim = await populate(t);
    const attacker = await signUpAndLogIn(t);
    // A proof of the victim's password, presented on the attacker's session: refused, and it schedules nothing for either.
    await expectError(
      t.request('POST', '/v1/account/deletion', { body: { proof: await proofOf(victim.member) }, headers: bearer(attacker.token) }),
      401,
      'invalid_credentials',
    );
    expect(scheduled(attacker.accountId).n).toBe(0);
    expect(scheduled(victim.member.accountId).n).toBe(0);
    // The victim schedules; the attacker's cancel reaches only its own account (which has none).
    await victim.member.api.requestAccountDeletion(await proofOf(victim.member));
    await expectError(t.request('DELETE', '/v1/account/deletion', { headers: bearer(attacker.token) }), 404, 'not_found');
    expect(scheduled(victim.member.accountId).n).toBe(1);
    expect((await attacker.api.accountDeletion()).deletion).toBeNull();
  });

  it("a removed device's token cannot request or cancel a deletion, and the session opened on it died with it", async () => {
    const { member, deviceId, deviceToken } = await populate(t);
    const laptop = apiAt(t, freshAddress());
    await logIn(laptop, { email: member.email, password: member.password });
    await laptop.removeDevice(deviceId);
    const proof = await proofOf(member);
    expect((await t.request('POST', '/v1/account/deletion', { body: { proof }, headers: bearer(deviceToken) })).status).toBe(401);
    expect((await t.request('DELETE', '/v1/account/deletion', { headers: bearer(deviceToken) })).status).toBe(401);
    // member.token was opened on that phone (populate registered it from there).
    expect((await t.request('POST', '/v1/account/deletion', { body: { proof }, headers: bearer(member.token) })).status).toBe(401);
    expect(scheduled(member.accountId).n).toBe(0);
  });

  it('a stranger who knows only the e-mail can do nothing: no session, no proof, nothing scheduled, nothing sent', async () => {
    const { member } = await populate(t);
    const mails = t.emailOutbox().length;
    const address = freshAddress();
    const challenge = await json<Challenge>(await requestChallenge(t, member.email, address));
    const guess = signFor(challenge, randomSeed());
    expect((await t.request('POST', '/v1/account/deletion', { body: { proof: guess }, headers: { 'X-Forwarded-For': address } })).status).toBe(401);
    expect((await t.request('DELETE', '/v1/account/deletion', { headers: { 'X-Forwarded-For': address } })).status).toBe(401);
    expect((await t.request('GET', '/v1/account/deletion', { headers: { 'X-Forwarded-For': address } })).status).toBe(401);
    expect(scheduled(member.accountId).n).toBe(0);
    expect(t.emailOutbox().length).toBe(mails);
  });

  it('a brute-force loop of wrong proofs on a stolen session is slowed by the login limits (429), and never schedules', async () => {
    const { member } = await populate(t);
    const address = freshAddress();
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const challengeRes = await requestChallenge(t, member.email, address);
      if (challengeRes.status !== 200) {
        statuses.push(challengeRes.status);
        continue;
      }
      const proof = signFor(await json<Challenge>(challengeRes), randomSeed());
      const res = await t.request('POST', '/v1/account/deletion', { body: { proof }, headers: { ...bearer(member.token), 'X-Forwarded-For': address } });
      statuses.push(res.status);
    }
    expect(statuses).toContain(429);
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
    expect(scheduled(member.accountId).n).toBe(0);
  });

  it("a guardian's deletion cannot be cancelled by the child (403), and the purge then runs", async () => {
    const { member } = await populate(t);
    const { scheduleAccountDeletion } = await import('../../src/features/deletion/service.js');
    await scheduleAccountDeletion(t.deps, { accountId: member.accountId, requestedBy: 'guardian' });
    await expectError(t.request('DELETE', '/v1/account/deletion', { headers: bearer(member.token) }), 403, 'forbidden');
    t.clock.advance(7 * DAY);
    expect((await purgeDueAccounts(t.deps)).accounts).toBe(1);
  });
});

describe('receipts', () => {
  it('verify offline, and fail when any byte of the payload or signature is altered, or against another key', async () => {
    const { member, itemId } = await populate(t);
    const key = (await member.api.receiptKey()).publicKey;
    const { receipt } = await member.api.purge({ type: 'item', itemId });
    expect(verifyReceipt(receipt, key).receiptId).toBe(receipt.id);

    const flip = (text: string, i: number) => text.slice(0, i) + String.fromCharCode(text.charCodeAt(i) ^ 1) + text.slice(i + 1);
    for (let i = 0; i < receipt.payload.length; i += 7) {
      expect(() => verifyReceipt({ ...receipt, payload: flip(receipt.payload, i) }, key)).toThrow();
    }
    const signature = Buffer.from(receipt.signature, 'base64url');
    for (let i = 0; i < signature.length; i++) {
      const altered = Buffer.from(signature);
      altered[i]! ^= 0x01;
      expect(() => verifyReceipt({ ...receipt, signature: altered.toString('base64url') }, key)).toThrow();
    }
    const otherKey = toBase64Url(randomBytes(32));
    expect(() => verifyReceipt(receipt, otherKey)).toThrow();
    expect(() => verifyReceipt({ ...receipt, publicKey: otherKey }, otherKey)).toThrow();
    // Another receipt's id on this one's payload is refused too.
    expect(() => verifyReceipt({ ...receipt, id: toBase64Url(randomBytes(16)) }, key)).toThrow();
  });
});
