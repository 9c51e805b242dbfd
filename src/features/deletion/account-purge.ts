import { accountPrefix } from '../../adapters/blob-store.js';
import { atomic } from '../../db/client.js';
import type { Deps } from '../../deps.js';
import { deleteAccountStatement, findAccount, getAccount, lockOutStatement } from '../accounts/service.js';
import { forgetChallengesStatement } from '../auth/service.js';
import { abortAccountUploads, countBlobRows, forgetAccountStatements } from '../blobs/service.js';
import { listDevices } from '../devices/service.js';
import { signReceipt } from '../receipts/service.js';
import { endAllSessionsStatement } from '../sessions/service.js';
import { syncCounts } from '../sync/service.js';
import { RATE_BUCKETS } from '../throttles/policy.js';
import { forgetSubjectsStatements } from '../throttles/service.js';
import { deleteCodesOf } from '../verification/service.js';
import { notify } from './notices.js';
import * as repo from './repo.js';

// The purge of an account whose grace period is over. It runs from the housekeeping scheduler
// (src/jobs.ts) and is idempotent: every step can run again, and the rows go only in the last
// write, after the account's object prefix was listed empty. Until then a failure (the store
// down, an object that would not go) is recorded on the deletion and the next run retries.
//
// Order matters:
// 1. claim: purge_started_at is set (no cancel after that), every session ends and both login
//    keys are replaced, in one write, so no new request of the account's can store anything;
// 2. every object under accounts/<id>/ is deleted, page by page, its multipart uploads are
//    aborted (those the rows know and those only the store knows), and the fs store's temp files
//    and folders under the prefix go;
// 3. the prefix is listed again: anything there fails the attempt;
// 4. one write deletes the account row (most tables cascade from it), the rows no cascade reaches,
//    and writes the tombstone and the signed receipt; then the receipt is e-mailed.
// An upload already streaming at the claim can land its object after step 3: each run also lists
// the prefixes of accounts deleted within the upload expiry again (sweepLateObjects).

export interface PurgeCounts {
  accounts: number;
  failed: number;
  objects: number;
  bytes: number;
  lateObjects: number;
}

export async function purgeDueAccounts(deps: Deps, batch = 20): Promise<PurgeCounts> {
  const totals: PurgeCounts = { accounts: 0, failed: 0, objects: 0, bytes: 0, lateObjects: 0 };
  for (const row of await repo.dueDeletions(deps.db, deps.clock.now(), batch)) {
    try {
      const done = await purgeAccount(deps, row);
      totals.accounts++;
      totals.objects += done.objects;
      totals.bytes += done.bytes;
    } catch (err) {
      totals.failed++;
      await repo.recordAttempt(deps.db, row.accountId, String((err as Error)?.message ?? err).slice(0, 500));
      deps.log.warn('account purge failed; retried on the next run', { accountId: row.accountId, error: String(err) });
    }
  }
  totals.lateObjects = await sweepLateObjects(deps);
  return totals;
}

async function purgeAccount(deps: Deps, deletion: repo.AccountDeletionRow) {
  const { accountId } = deletion;
  const account = await findAccount(deps, accountId);
  if (!account) throw new Error('the account row is gone but its deletion is not');
  // Read first: the address is needed for the final notice, after the row is gone.
  const { email } = await getAccount(deps, accountId);
  if (deletion.purgeStartedAt === null) {
    await atomic(deps.db, [
      repo.claimPurge(deps.db, accountId, deps.clock.now()),
      repo.guardClaimed(accountId),
      endAllSessionsStatement(deps, accountId),
      lockOutStatement(deps, accountId),
    ]);
    deps.log.info('account purge started', { accountId });
  }

  const [sync, blobRows, devices] = await Promise.all([syncCounts(deps, accountId), countBlobRows(deps, accountId), listDevices(deps, accountId)]);
  const store = await emptyPrefix(deps, accountId);
  const left = await deps.blobs.list(accountPrefix(accountId));
  if (left.keys.length > 0) throw new Error(`${left.keys.length} objects are still under the account's prefix`);
  if ((await unfinishedUnder(deps, accountPrefix(accountId))).length > 0) throw new Error('multipart uploads are still open under the account\'s prefix');

  const counts = {
    ...sync,
    blobs: blobRows,
    devices: devices.length,
    objects: store.objects,
    bytes: store.bytes,
    multipartAborted: store.multipartAborted,
    tempFiles: store.tempFiles,
  };
  const { receipt, statement } = signReceipt(deps, { accountId, scope: { type: 'account' }, requestedAt: deletion.requestedAt, counts });
  await atomic(deps.db, [
    ...forgetAccountStatements(deps, accountId),
    forgetChallengesStatement(deps, accountId),
    deleteCodesOf(deps, accountId),
    ...forgetSubjectsStatements(deps, { accountId, emailIndex: account.emailIndex, deviceIds: devices.map((d) => d.id), buckets: RATE_BUCKETS }),
    deleteAccountStatement(deps, accountId),
    repo.insertTombstone(deps.db, { accountId, deletedAt: deps.clock.now(), receiptId: receipt.id }),
    statement,
  ]);
  deps.log.info('account purged', { accountId, receiptId: receipt.id, objects: store.objects, bytes: store.bytes });
  const origin = deps.config.publicOrigin;
  await notify(deps, email, {
    subject: 'Your homing account has been deleted',
    text: [
      'Everything this server held for your homing account has been deleted, and every stored object under it.',
      '',
      `Receipt: ${receipt.id}`,
      `Fetch it: ${origin}/v1/receipts/${receipt.id}`,
      `Verify it offline against the server's receipt key (${origin}/v1/receipts/key): homing receipt verify <file.json>`,
      '',
      'The receipt and a tombstone holding only the account id (so it is never reused) are all that remain.',
    ].join('\n'),
  });
  return store;
}

/** Deletes every object under the account's prefix and every multipart upload it has open. */
async function emptyPrefix(deps: Deps, accountId: string) {
  const prefix = accountPrefix(accountId);
  let objects = 0;
  let bytes = 0;
  let cursor: string | undefined;
  do {
    const page = await deps.blobs.list(prefix, cursor);
    if (page.keys.length > 0) await deps.blobs.delete(page.keys.map((k) => k.key));
    objects += page.keys.length;
    bytes += page.keys.reduce((sum, k) => sum + k.size, 0);
    cursor = page.cursor;
  } while (cursor);
  let multipartAborted = await abortAccountUploads(deps, accountId);
  for (const upload of await unfinishedUnder(deps, prefix)) {
    await deps.blobs.abortMultipart(upload.key, upload.uploadId);
    multipartAborted++;
  }
  const tempFiles = (await deps.blobs.list(prefix)).keys.length === 0 ? ((await deps.blobs.discardPrefix?.(prefix)) ?? 0) : 0;
  return { objects, bytes, multipartAborted, tempFiles };
}

/** Multipart uploads the store holds under prefix, whether or not a row knows them. */
async function unfinishedUnder(deps: Deps, prefix: string) {
  if (!deps.blobs.listMultipart) return [];
  const found = [];
  let cursor: string | undefined;
  do {
    const page = await deps.blobs.listMultipart(cursor);
    found.push(...page.uploads.filter((u) => u.key.startsWith(prefix)));
    cursor = page.cursor;
  } while (cursor);
  return found;
}

/** Objects that landed under a recently deleted account's prefix after its purge: they go too. */
async function sweepLateObjects(deps: Deps) {
  let late = 0;
  for (const { accountId } of await repo.tombstonesSince(deps.db, deps.clock.now() - deps.config.uploadExpiryMs, 100)) {
    const { objects, multipartAborted } = await emptyPrefix(deps, accountId);
    late += objects + multipartAborted;
  }
  if (late) deps.log.warn('objects found under deleted accounts and removed', { objects: late });
  return late;
}
