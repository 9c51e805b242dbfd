import { z } from 'zod';
import { fromBase64Url } from './encoding.js';
import { RECEIPT_CONTEXT, receiptMessage } from './receipt-signature.js';
import { verifyDetached } from './signing.js';

export { RECEIPT_CONTEXT, receiptMessage };

// Deletion receipts: what was deleted, when, and how much, signed by the server's Ed25519 receipt
// key. The payload travels as the exact JSON string that was signed, so nobody has to agree on a
// canonical form; a client verifies it offline with the key from GET /v1/receipts/key.

export const receiptScope = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('item'), collectionId: z.string(), itemId: z.string() }),
    z.object({ type: z.literal('collection'), collectionId: z.string() }),
    z.object({ type: z.literal('data-kind'), kind: z.string() }),
    z.object({ type: z.literal('device'), deviceId: z.string() }),
    z.object({ type: z.literal('account') }),
    z.object({ type: z.literal('diagnostics') }),
  ])
  .meta({ id: 'ReceiptScope' });

export const receiptPayload = z
  .object({
    version: z.literal(1),
    receiptId: z.string(),
    accountId: z.string(),
    /** The server's public origin, so a receipt names who signed it. */
    server: z.string(),
    scope: receiptScope,
    requestedAt: z.number().int(),
    completedAt: z.number().int(),
    /** What was removed, e.g. { items: 12, blobs: 3, objects: 3, bytes: 10485760 }. */
    counts: z.record(z.string(), z.number().int().min(0)),
  })
  .meta({ id: 'ReceiptPayload' });

export type ReceiptPayload = z.infer<typeof receiptPayload>;
export type ReceiptScope = z.infer<typeof receiptScope>;

export const receipt = z
  .object({
    id: z.string(),
    payload: z.string().meta({ description: 'The signed JSON (a ReceiptPayload), byte for byte' }),
    signature: z.string().meta({ description: 'Ed25519 over "homing-deletion-receipt-v1\\n" + payload, base64url' }),
    publicKey: z.string().meta({ description: 'The server receipt key that signed it, base64url' }),
  })
  .meta({ id: 'DeletionReceipt' });

export type Receipt = z.infer<typeof receipt>;

/**
 * Checks a receipt against the server key the caller trusts (not the key inside the receipt)
 * and returns its payload; throws when the signature, the key or the payload's shape is wrong.
 */
export function verifyReceipt(r: Receipt, trustedPublicKey: string): ReceiptPayload {
  if (r.publicKey !== trustedPublicKey) throw new Error('receipt signed by a different key');
  if (!verifyDetached(fromBase64Url(trustedPublicKey), receiptMessage(r.payload), fromBase64Url(r.signature))) {
    throw new Error('receipt signature does not verify');
  }
  const payload = receiptPayload.parse(JSON.parse(r.payload));
  if (payload.receiptId !== r.id) throw new Error('receipt id does not match its payload');
  return payload;
}
