import { readFileSync, writeFileSync } from 'node:fs';
import { proveIdentity } from '../account.js';
import type { ApiClient, PurgeScope, Receipt } from '../api.js';
import { type ReceiptPayload, verifyReceipt } from '../../protocol/receipts.js';
import { table } from './format.js';
import { readSecret } from './prompt.js';
import type { CliState } from './state.js';

// Deleting data and checking the receipts. The server's receipt key is pinned in the state file
// the first time it is seen, so a receipt is later verified against the key this CLI trusted
// then, not against whatever a server (or a file) claims now; `receipt verify` works offline.

export interface DeletionFlags {
  cancel?: boolean;
  key?: string;
  out?: string;
}

/** The pinned receipt key, pinning the server's on first use; a different key later is refused. */
export async function trustedReceiptKey(api: ApiClient, state: CliState): Promise<{ key: string; pinned?: Partial<CliState> }> {
  const { publicKey } = await api.receiptKey();
  if (!state.receiptKey) return { key: publicKey, pinned: { receiptKey: publicKey } };
  if (state.receiptKey !== publicKey) {
    throw new Error(`the server's receipt key changed (pinned ${state.receiptKey}, now ${publicKey}): receipts are not verified against it`);
  }
  return { key: state.receiptKey };
}

const describeScope = (p: ReceiptPayload) => {
  const scope = p.scope;
  switch (scope.type) {
    case 'item':
      return `item ${scope.itemId}`;
    case 'collection':
      return `collection ${scope.collectionId}`;
    case 'data-kind':
      return `all ${scope.kind}`;
    case 'device':
      return `device ${scope.deviceId}`;
    default:
      return scope.type;
  }
};

const countsOf = (p: ReceiptPayload) =>
  Object.entries(p.counts)
    .filter(([, n]) => n > 0)
    .map(([name, n]) => `${n} ${name}`)
    .join(', ') || 'nothing stored';

/** `delete item|collection|kind|device ID`, `delete account [--cancel]`. Returns state to save. */
export async function runDelete(api: ApiClient, state: CliState, what: string | undefined, target: string | undefined, flags: DeletionFlags) {
  if (what === 'account') return deleteAccount(api, state, flags);
  const scope = scopeOf(what, target);
  const { key, pinned } = await trustedReceiptKey(api, state);
  const { receipt } = await api.purge(scope);
  const payload = verifyReceipt(receipt, key);
  console.log(`deleted ${describeScope(payload)}: ${countsOf(payload)}`);
  console.log(`receipt ${receipt.id} (signature verified)`);
  if (flags.out) writeReceipt(flags.out, receipt);
  return pinned ?? {};
}

function scopeOf(what: string | undefined, target: string | undefined): PurgeScope {
  if (!target) throw new Error('say what to delete: delete item|collection|kind|device ID');
  switch (what) {
    case 'item':
      return { type: 'item', itemId: target };
    case 'collection':
      return { type: 'collection', collectionId: target };
    case 'kind':
      return { type: 'data-kind', kind: target };
    case 'device':
      return { type: 'device', deviceId: target };
    default:
      throw new Error('delete takes item, collection, kind, device or account');
  }
}

async function deleteAccount(api: ApiClient, state: CliState, flags: DeletionFlags) {
  if (flags.cancel) {
    await api.cancelAccountDeletion();
    console.log('the deletion of this account is cancelled; nothing was deleted');
    return {};
  }
  const { pinned } = await trustedReceiptKey(api, state);
  const password = await readSecret('Password (to confirm the deletion of the whole account)', 'HOMING_PASSWORD');
  const email = state.email ?? (await api.account()).email;
  const { deletion } = await api.requestAccountDeletion(await proveIdentity(api, { email, password }));
  const due = new Date(deletion!.dueAt).toISOString();
  console.log(`the account and everything in it will be deleted on ${due}`);
  console.log('until then, `delete account --cancel` (logged in) cancels it; a signed receipt is e-mailed when it is done');
  console.log(`the server's receipt key is pinned in the state file: ${pinned?.receiptKey ?? state.receiptKey}`);
  return pinned ?? {};
}

/** `receipts`: every receipt of the account, each verified against the pinned key. */
export async function listReceipts(api: ApiClient, state: CliState) {
  const { key, pinned } = await trustedReceiptKey(api, state);
  const { receipts } = await api.receipts();
  if (receipts.length === 0) {
    console.log('no deletions yet');
    return pinned ?? {};
  }
  const rows = receipts.map((r) => {
    try {
      const p = verifyReceipt(r, key);
      return [new Date(p.completedAt).toISOString(), describeScope(p), countsOf(p), r.id, 'verified'];
    } catch (err) {
      return ['?', '?', '?', r.id, `NOT VERIFIED: ${(err as Error).message}`];
    }
  });
  console.log(table(['completed', 'deleted', 'counts', 'receipt', 'signature'], rows));
  return pinned ?? {};
}

/** `receipt get ID [--out FILE]` (works after the account is gone) and `receipt verify FILE` (offline). */
export async function runReceipt(api: ApiClient, state: CliState, action: string | undefined, arg: string | undefined, flags: DeletionFlags) {
  if (action === 'verify') {
    if (!arg) throw new Error('say which file: receipt verify FILE.json');
    const key = flags.key ?? state.receiptKey;
    if (!key) throw new Error('no pinned receipt key: run `receipts` once while online, or pass --key');
    let receipt: Receipt;
    try {
      receipt = JSON.parse(readFileSync(arg, 'utf8')) as Receipt;
    } catch (err) {
      throw new Error(`${arg} is not a receipt (JSON): ${(err as Error).message}`);
    }
    const payload = verifyReceipt(receipt, key);
    console.log(`valid receipt ${payload.receiptId} from ${payload.server}: deleted ${describeScope(payload)} of account ${payload.accountId}`);
    console.log(`requested ${new Date(payload.requestedAt).toISOString()}, completed ${new Date(payload.completedAt).toISOString()}; ${countsOf(payload)}`);
    return {};
  }
  if (action === 'get') {
    if (!arg) throw new Error('say which receipt: receipt get ID [--out FILE]');
    const { key, pinned } = await trustedReceiptKey(api, state);
    const receipt = await api.receipt(arg);
    const payload = verifyReceipt(receipt, key);
    console.log(`receipt ${receipt.id}: deleted ${describeScope(payload)}; ${countsOf(payload)} (signature verified)`);
    writeReceipt(flags.out ?? `receipt-${receipt.id}.json`, receipt);
    return pinned ?? {};
  }
  throw new Error('receipt takes get ID or verify FILE.json');
}

function writeReceipt(path: string, receipt: Receipt) {
  writeFileSync(path, `${JSON.stringify(receipt, null, 2)}\n`);
  console.log(`saved to ${path}`);
}
