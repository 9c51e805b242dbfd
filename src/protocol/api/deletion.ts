import { z } from 'zod';
import { receipt } from '../receipts.js';
import { proof } from './accounts.js';
import { id, timestamp } from './common.js';
import { kind } from './sync.js';

// Deleting data. Parts of it (an item, a collection, a data kind, a device with its data) go at
// once; the whole account waits out a grace period. Each deletion ends in a signed receipt.

export const purgeScope = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('item'), itemId: id('The item to delete now, with its blob') }),
    z.strictObject({ type: z.literal('collection'), collectionId: id('The collection to delete with every item in it') }),
    z.strictObject({ type: z.literal('data-kind'), kind }),
    z.strictObject({ type: z.literal('device'), deviceId: id('The device to remove with its locations, commands, SIM events and more') }),
  ])
  .meta({ id: 'PurgeScope' });

export const purgeBody = z.strictObject({ scope: purgeScope }).meta({ id: 'PurgeRequest' });

export const purgeResponse = z.object({ receipt }).meta({ id: 'PurgeResponse' });

export const accountDeletionBody = z
  .strictObject({
    proof: proof.meta({ description: 'A fresh login challenge signed with the password or the recovery key' }),
  })
  .meta({ id: 'AccountDeletionRequest' });

export const accountDeletion = z
  .object({
    requestedBy: z.enum(['owner', 'guardian']),
    requestedAt: timestamp('When it was asked for'),
    dueAt: timestamp('When the purge may begin; until then it can be cancelled'),
    purgeStarted: z.boolean().meta({ description: 'Once true, it can no longer be cancelled' }),
  })
  .meta({ id: 'AccountDeletion' });

export const accountDeletionStatus = z
  .object({ deletion: accountDeletion.nullable().meta({ description: 'null when no deletion is scheduled' }) })
  .meta({ id: 'AccountDeletionStatus' });

export type PurgeScope = z.infer<typeof purgeScope>;
export type AccountDeletion = z.infer<typeof accountDeletion>;
