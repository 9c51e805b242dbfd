import { z } from 'zod';
import { id, timestamp } from './common.js';
import { BUILT_IN_KINDS } from './sync.js';
import { receipt } from '../receipts.js';

// The purposes a user consents to, one ledger per account. Each data kind is its own purpose,
// custom kinds included (sync:custom:<name>), so withdrawing one never touches another.
//   sync:<kind>   keeping that kind of data in sync (the service signed up for): on by default
//   find          Find Device, per device (deviceId): off by default
//   sim_sms       SIM-change verification by SMS: on by default
//   experience    the User Experience Program (usage events): off by default
//   diagnostics   crash reports: off by default
//   messaging     device-to-device messages, per device (deviceId): off by default; turned on only
//                 by the phone (PUT /v1/device/messaging, which brings its number and keys),
//                 withdrawn here or there

export const ACCOUNT_PURPOSES = ['sim_sms', 'experience', 'diagnostics'] as const;
/** Purposes chosen per device: each ledger row names the device. */
export const DEVICE_PURPOSES = ['find', 'messaging'] as const;
export const SYNC_PURPOSE_PREFIX = 'sync:';

export const PURPOSE = new RegExp(`^(sync:(${BUILT_IN_KINDS.join('|')}|custom:[a-z0-9-]{1,32})|${DEVICE_PURPOSES.join('|')}|${ACCOUNT_PURPOSES.join('|')})$`);
export const isDevicePurpose = (purpose: Purpose) => (DEVICE_PURPOSES as readonly string[]).includes(purpose);

export type Purpose = string;

/** What a purpose is when the account has never chosen: what sign-up grants. */
export function defaultGranted(purpose: Purpose): boolean {
  return purpose.startsWith(SYNC_PURPOSE_PREFIX) || purpose === 'sim_sms';
}

/** The data kind a sync purpose is about, or undefined for other purposes. */
export const kindOfPurpose = (purpose: Purpose) => (purpose.startsWith(SYNC_PURPOSE_PREFIX) ? purpose.slice(SYNC_PURPOSE_PREFIX.length) : undefined);
export const purposeOfKind = (kind: string) => `${SYNC_PURPOSE_PREFIX}${kind}`;

export const purpose = z
  .string()
  .regex(PURPOSE, `must be sync:<kind> (${BUILT_IN_KINDS.join(', ')} or custom:<name>), ${DEVICE_PURPOSES.join(', ')}, ${ACCOUNT_PURPOSES.join(', ')}`)
  .meta({ example: 'sync:contacts' });

export const purposeParam = z.object({ purpose });

export const consentState = z
  .object({
    purpose: z.string(),
    granted: z.boolean().meta({
      description: 'Whether the server acts on it now: false when withdrawn, or when given under a policy version older than the newest one that reduced rights',
    }),
    isDefault: z.boolean().meta({ description: 'Never chosen: what sign-up grants (sync and SIM SMS on, everything else off)' }),
    since: timestamp('When it was last chosen').nullable(),
    policyVersion: z.number().int().meta({ description: 'The policy version it was given under (for a default: the version last accepted; 0 before any)' }),
    needsReacceptance: z.boolean().meta({
      description: 'Given, but under a policy version older than the newest rights-reducing one: off until granted again (PUT, or POST /v1/account/policy/accept with regrant)',
    }),
  })
  .meta({ id: 'ConsentState' });

export const findConsentState = consentState
  .extend({ deviceId: z.string(), deviceName: z.string() })
  .meta({ id: 'FindConsentState' });

export const consentsResponse = z
  .object({
    policyVersion: z.number().int().meta({ description: 'The policy version in force' }),
    consents: z.array(consentState).meta({ description: 'Every built-in purpose, and each custom data kind the account has chosen for' }),
    find: z.array(findConsentState).meta({ description: 'Find Device, per device of the account' }),
    messaging: z.array(findConsentState).meta({ description: 'Messages, per device of the account (on while the device has messaging on)' }),
  })
  .meta({ id: 'Consents' });

export const STORED_CHOICES = ['keep', 'delete'] as const;

export const putConsentBody = z
  .strictObject({
    granted: z.boolean(),
    deviceId: id('The device, for find and messaging (and only for those)').optional(),
    stored: z.enum(STORED_CHOICES).optional().meta({
      description:
        'Required when turning a data kind (sync:<kind>) off: keep what is stored, or delete it (every collection, item and blob of the kind) with a signed receipt',
    }),
  })
  .meta({ id: 'ConsentChange' });

export const putConsentResponse = z
  .object({
    consent: consentState,
    receipt: receipt
      .nullable()
      .meta({ description: 'The deletion receipt when stored: delete was asked for (GET /v1/receipts/{id})' }),
  })
  .meta({ id: 'ConsentChanged' });

export const consentEvent = z
  .object({
    id: z.string(),
    purpose: z.string(),
    deviceId: z.string().nullable(),
    granted: z.boolean(),
    policyVersion: z.number().int(),
    actorSessionId: z.string().nullable(),
    actorDeviceId: z.string().nullable(),
    actor: z.enum(['session', 'device', 'system']),
    stored: z.enum(STORED_CHOICES).nullable(),
    receiptId: z.string().nullable(),
    at: timestamp('When'),
  })
  .meta({ id: 'ConsentEvent' });

export const CONSENT_CURSOR = /^[1-9][0-9]{0,15}$/;

export const consentHistoryQuery = z.object({
  cursor: z.string().regex(CONSENT_CURSOR, 'must be a cursor from an earlier page').optional().meta({ description: 'From the previous page' }),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const consentHistoryResponse = z
  .object({
    events: z.array(consentEvent).meta({ description: 'Newest first' }),
    nextCursor: z.string().nullable().meta({ description: 'Pass as cursor= for older events; null at the end' }),
  })
  .meta({ id: 'ConsentHistory' });
