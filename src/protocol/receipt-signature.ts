import { fromBase64Url, utf8 } from './encoding.js';
import { verifyDetached } from './signing.js';

// The signed form of a deletion receipt, without the schemas of receipts.ts: the web page checks
// receipts with this alone, so its bundle does not carry zod.

export const RECEIPT_CONTEXT = 'homing-deletion-receipt-v1\n';

export const receiptMessage = (payload: string) => utf8(RECEIPT_CONTEXT + payload);

/** Whether the trusted key (not the key the receipt names) signed this payload. */
export function receiptSignedBy(r: { payload: string; signature: string; publicKey: string }, trustedPublicKey: string): boolean {
  if (r.publicKey !== trustedPublicKey) return false;
  try {
    return verifyDetached(fromBase64Url(trustedPublicKey), receiptMessage(r.payload), fromBase64Url(r.signature));
  } catch {
    return false;
  }
}
