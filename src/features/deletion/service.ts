import type { Deps } from '../../deps.js';
import type { Receipt } from '../../protocol/receipts.js';

// PLACEHOLDER signatures, replaced by the deletion feature's real code (helper D).

/** Deletes every collection, item, blob row and stored object of one data kind; returns its receipt. */
export async function purgeKind(
  _deps: Deps,
  _input: { accountId: string; kind: string; requestedAt: number; actor: { sessionId?: string; deviceId?: string } },
): Promise<Receipt> {
  throw new Error('purgeKind: not built yet');
}

/** Schedules the whole account for deletion after the grace period; e-mails the owner. */
export async function scheduleAccountDeletion(
  _deps: Deps,
  _input: { accountId: string; requestedBy: 'owner' | 'guardian' },
): Promise<{ dueAt: number }> {
  throw new Error('scheduleAccountDeletion: not built yet');
}
