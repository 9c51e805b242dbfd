import type { Deps } from '../../deps.js';
import { notFound } from '../../http/app-error.js';
import { toBase64Url } from '../../protocol/encoding.js';
import { type Receipt, receiptMessage, type ReceiptPayload, type ReceiptScope } from '../../protocol/receipts.js';
import { ed25519PublicKeyFromSeed, signDetached } from '../../protocol/signing.js';
import * as repo from './repo.js';

// The server's receipt key is derived from the server key, so it needs no file of its own and
// survives a restore from backup; it signs nothing but receipts.
const signingSeed = (deps: Deps) => deps.secrets.derive('receipt-signing', 'v1', 32);

export const receiptPublicKey = (deps: Deps) => toBase64Url(ed25519PublicKeyFromSeed(signingSeed(deps)));

export interface ReceiptInput {
  accountId: string;
  scope: ReceiptScope;
  requestedAt: number;
  counts: Record<string, number>;
}

/**
 * Signs a receipt and returns it with the statement that stores it, so a caller can commit the
 * receipt in the same atomic write as the deletion it records (or alone, after a purge).
 */
export function signReceipt(deps: Deps, input: ReceiptInput) {
  const id = deps.random.id();
  const completedAt = deps.clock.now();
  const body: ReceiptPayload = {
    version: 1,
    receiptId: id,
    accountId: input.accountId,
    server: deps.config.publicOrigin,
    scope: input.scope,
    requestedAt: input.requestedAt,
    completedAt,
    counts: input.counts,
  };
  const payload = JSON.stringify(body);
  const signature = toBase64Url(signDetached(signingSeed(deps), receiptMessage(payload)));
  const receipt: Receipt = { id, payload, signature, publicKey: receiptPublicKey(deps) };
  const statement = repo.insertReceipt(deps.db, { id, accountId: input.accountId, payload, signature, createdAt: completedAt });
  return { receipt, statement };
}

/** Signs and stores a receipt on its own. */
export async function issueReceipt(deps: Deps, input: ReceiptInput): Promise<Receipt> {
  const { receipt, statement } = signReceipt(deps, input);
  await statement;
  return receipt;
}

const toReceipt = (deps: Deps, row: repo.ReceiptRow): Receipt => ({
  id: row.id,
  payload: row.payload,
  signature: row.signature,
  publicKey: receiptPublicKey(deps),
});

export async function getReceipt(deps: Deps, id: string) {
  const row = await repo.findReceipt(deps.db, id);
  if (!row) throw notFound('receipt');
  return toReceipt(deps, row);
}

export async function listReceipts(deps: Deps, accountId: string) {
  return (await repo.receiptsOf(deps.db, accountId)).map((row) => toReceipt(deps, row));
}
