import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BlobStore } from '../../src/adapters/blob-store.js';
import { createFsBlobStore } from '../../src/adapters/blob-store-fs.js';
import { logIn, logInWithRecoveryKey } from '../../src/client/account.js';
import { HomingApiError } from '../../src/client/api.js';
import { purgeDueAccounts } from '../../src/features/deletion/account-purge.js';
import { verifyReceipt } from '../../src/protocol/receipts.js';
import { createTestApp, type TestApp } from '../harness.js';
import { expectError, signUpAndLogIn } from '../security/helpers.js';
import { DAY, populate, proofOf, rowsHolding, sqlite, storeHolding, unrecordedMultipart } from './deletion-helpers.js';
import { newId } from './sync-helpers.js';

// Account deletion end to end on the fs store: the grace period on the injected clock, the
// purge job, and what is left afterwards (nothing but the receipt and the tombstone).

let t: TestApp;
// Sessions outlive the clock moves, so a test can still look through the owner's eyes afterwards.
const LONG_SESSIONS = { SESSION_IDLE_HOURS: '2000', SESSION_TTL_HOURS: '2000' };
afterEach(() => t.close());

describe('account deletion: the grace period', () => {
  beforeEach(() => {
    t = createTestApp(LONG_SESSIONS);
  });

  it('schedules after a fresh proof, e-mails the owner, and nothing is deleted before the due time', async () => {
    const { member, itemId } = await populate(t);
    const { deletion } = await member.api.requestAccountDeletion(await proofOf(member));
    expect(deletion).toMatchObject({ requestedBy: 'owner', purgeStarted: false, dueAt: t.clock.now() + 7 * DAY });
    expect((await member.api.accountDeletion()).deletion?.dueAt).toBe(deletion!.dueAt);
    const mail = t.emailOutbox().filter((m) => m.to === member.email).at(-1)!;
    expect(mail.subject).toMatch(/will be deleted/);
    expect(mail.text).toContain('/v1/account/deletion');
    expect(mail.text).toMatch(/cancel/i);

    t.clock.advance(7 * DAY - 1000);
    expect(await purgeDueAccounts(t.deps)).toMatchObject({ accounts: 0, failed: 0 });
    expect((await member.api.item(itemId)).state).toBe('live');
    // Asking again keeps the first due time.
    await member.api.requestAccountDeletion(await proofOf(member));
    expect((await member.api.accountDeletion()).deletion?.dueAt).toBe(deletion!.dueAt);
  });

  it('the owner cancels by logging in and saying so; the purge then never runs; a confirmation is e-mailed', async () => {
    const { member, itemId } = await populate(t);
    await member.api.requestAccountDeletion(await proofOf(member));
    await member.api.cancelAccountDeletion();
    expect((await member.api.accountDeletion()).deletion).toBeNull();
    expect(t.emailOutbox().filter((m) => m.to === member.email).at(-1)!.subject).toMatch(/will not be deleted/);
    t.clock.advance(30 * DAY);
    expect((await purgeDueAccounts(t.deps)).accounts).toBe(0);
    expect((await member.api.item(itemId)).state).toBe('live');
    await expectError(t.request('DELETE', '/v1/account/deletion', { headers: { Authorization: `Bearer ${member.token}` } }), 404, 'not_found');
    const actions = (sqlite(t).prepare('SELECT action FROM audit_log WHERE account_id = ?').all(member.accountId) as { action: string }[]).map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['account.deletion.requested', 'account.deletion.cancelled']));
  });

  it('after the due time the purge runs once; running it twice is harmless; the old session and login both stop working', async () => {
    const { member } = await populate(t);
    await member.api.requestAccountDeletion(await proofOf(member));
    t.clock.advance(7 * DAY);
    const first = await purgeDueAccounts(t.deps);
    expect(first).toMatchObject({ accounts: 1, failed: 0 });
    expect(first.objects).toBeGreaterThanOrEqual(1);
    expect(await purgeDueAccounts(t.deps)).toMatchObject({ accounts: 0, failed: 0, objects: 0 });
    await expect(member.api.account()).rejects.toMatchObject({ status: 401 });
    await expect(signUpAndLogIn(t, { email: member.email, password: member.password })).resolves.toBeDefined(); // the e-mail is free again
  });
});

describe('account deletion leaves nothing of the account (fs store)', () => {
  beforeEach(() => {
    t = createTestApp(LONG_SESSIONS);
  });

  it('zero rows in every table and zero objects under its prefix, with an unfinished multipart upload, an unrecorded one and a temp file; only the receipt and tombstone remain', async () => {
    const victim = await populate(t, { phoneNumber: '+447700900777' });
    const bystander = await populate(t);
    const { accountId } = victim.member;
    await unrecordedMultipart(t, accountId);
    const folder = join(t.dir, 'blobs', 'accounts', accountId, 'blobs');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, '.tmp-0123456789abcdef'), 'half a write');
    expect(Object.keys(rowsHolding(t, [accountId])).length).toBeGreaterThan(10);
    expect((await storeHolding(t, accountId)).multipart.length).toBe(2);

    await victim.member.api.requestAccountDeletion(await proofOf(victim.member));
    t.clock.advance(7 * DAY);
    expect(await purgeDueAccounts(t.deps)).toMatchObject({ accounts: 1, failed: 0 });

    expect(rowsHolding(t, victim.ids)).toEqual({});
    expect(await storeHolding(t, accountId)).toEqual({ keys: [], multipart: [] });
    expect(existsSync(join(t.dir, 'blobs', 'accounts', accountId))).toBe(false);
    expect(readdirSync(join(t.dir, 'blobs', '.multipart')).length).toBe(1); // the bystander's upload
    const tombstone = sqlite(t).prepare('SELECT * FROM account_tombstones WHERE account_id = ?').get(accountId) as Record<string, unknown>;
    expect(Object.keys(tombstone).sort()).toEqual(['account_id', 'deleted_at', 'receipt_id']);
    const receipts = sqlite(t).prepare('SELECT id FROM deletion_receipts WHERE account_id = ?').all(accountId);
    expect(receipts).toHaveLength(1);

    // The bystander keeps everything.
    expect((await bystander.member.api.item(bystander.itemId)).blob?.id).toBe(bystander.blobId);
    expect((await storeHolding(t, bystander.member.accountId)).keys.length).toBe(1);
  });

  it('the final e-mail carries the receipt id; the receipt verifies offline and counts what went', async () => {
    const { member } = await populate(t);
    const key = (await member.api.receiptKey()).publicKey;
    await member.api.requestAccountDeletion(await proofOf(member));
    t.clock.advance(7 * DAY);
    await purgeDueAccounts(t.deps);
    const mail = t.emailOutbox().filter((m) => m.to === member.email).at(-1)!;
    expect(mail.subject).toMatch(/has been deleted/);
    const receiptId = /Receipt: (\S+)/.exec(mail.text)![1]!;
    const receipt = await t.api().receipt(receiptId);
    const payload = verifyReceipt(receipt, key);
    expect(payload).toMatchObject({ accountId: member.accountId, scope: { type: 'account' }, counts: { devices: 1, collections: 1, items: 3, objects: 1, bytes: 5000 } });
    expect(payload.counts.multipartAborted).toBeGreaterThanOrEqual(1);
  });

  it('sign-up with a deleted account id is refused (conflict)', async () => {
    const { member } = await populate(t);
    await member.api.requestAccountDeletion(await proofOf(member));
    t.clock.advance(7 * DAY);
    await purgeDueAccounts(t.deps);
    const { signupBody } = await import('../security/matrix-world.js');
    await expectError(t.request('POST', '/v1/accounts', { body: signupBody({ accountId: member.accountId }) }), 409, 'conflict');
    expect((await t.request('POST', '/v1/accounts', { body: signupBody({ accountId: newId() }) })).status).toBe(201);
  });
});

/** The real fs store, whose deletes throw while `failing` is set: the store dying mid-purge. */
function flakyStore(inner: BlobStore) {
  const state = { failing: false, deletes: 0 };
  const store: BlobStore = {
    ...inner,
    name: inner.name,
    async delete(keys) {
      state.deletes++;
      if (state.failing) throw new Error('the store went away');
      return inner.delete(keys);
    },
  };
  return { store, state };
}

describe('account deletion when the store dies mid-purge', () => {
  it('keeps every row, records the attempt, and finishes on a later run', async () => {
    let flaky!: ReturnType<typeof flakyStore>;
    t = createTestApp(LONG_SESSIONS, { blobs: (flaky = flakyStore(createFsBlobStore(join(process.env.TMPDIR ?? '/tmp', `homing-flaky-${newId()}`)))).store });
    const { member, itemId } = await populate(t);
    await member.api.requestAccountDeletion(await proofOf(member));
    t.clock.advance(7 * DAY);
    flaky.state.failing = true;
    expect(await purgeDueAccounts(t.deps)).toMatchObject({ accounts: 0, failed: 1 });
    expect(await purgeDueAccounts(t.deps)).toMatchObject({ accounts: 0, failed: 1 });
    const row = sqlite(t).prepare('SELECT * FROM account_deletions WHERE account_id = ?').get(member.accountId) as Record<string, unknown>;
    expect(row).toMatchObject({ attempts: 2, last_error: expect.stringContaining('went away') });
    expect(row.purge_started_at).not.toBeNull();
    const items = sqlite(t).prepare('SELECT count(*) AS n FROM items WHERE account_id = ? AND id = ?').get(member.accountId, itemId) as { n: number };
    expect(items.n).toBe(1);
    // Begun: no cancel now, the owner's sessions are over, and no login (password or recovery key) works.
    await expect(member.api.cancelAccountDeletion()).rejects.toBeInstanceOf(HomingApiError);
    await expect(logIn(t.api(), { email: member.email, password: member.password })).rejects.toMatchObject({ status: 401 });
    await expect(logInWithRecoveryKey(t.api(), { email: member.email, recoveryKey: member.recoveryKey })).rejects.toMatchObject({ status: 401 });

    flaky.state.failing = false;
    expect(await purgeDueAccounts(t.deps)).toMatchObject({ accounts: 1, failed: 0 });
    expect(rowsHolding(t, [member.accountId])).toEqual({});
    expect(await storeHolding(t, member.accountId)).toEqual({ keys: [], multipart: [] });
  });
});
