import { z } from 'zod';
import { base64urlBytes, id, timestamp } from './common.js';
import { phoneNumber } from './accounts.js';

export const simEventBody = z
  .strictObject({
    eventId: id('Chosen by the device (16 random bytes); resending the same event is harmless'),
    kind: z.enum(['inserted', 'replaced', 'removed']),
    simIdHash: base64urlBytes(32, 'SHA-256 of the SIM identifier (ICCID), computed on the device'),
    carrier: z.string().trim().min(1).max(100).optional().meta({ example: 'Vodafone UK' }),
    claimedNumber: phoneNumber.optional().meta({ description: 'The number the phone believes it has (outbound verification)' }),
    method: z
      .enum(['outbound', 'inbound'])
      .optional()
      .meta({ description: 'outbound: we text a code to claimedNumber; inbound: the phone texts us a token. Omit for removal.' }),
  })
  .meta({ id: 'SimEventReport' });

export const simEventResponse = z
  .object({
    eventId: z.string(),
    status: z.enum(['recorded', 'pending', 'verified', 'failed']),
    expiresAt: timestamp('The code or token stops working').nullable(),
    inbound: z
      .object({ token: z.string(), sendTo: z.string() })
      .nullable()
      .meta({ description: 'Inbound method: text `token` from the phone to `sendTo`' }),
  })
  .meta({ id: 'SimEventAccepted' });

export const verifyBody = z
  .strictObject({ code: z.string().regex(/^[0-9]{6}$/, 'must be the 6-digit code from the SMS') })
  .meta({ id: 'SimVerifyRequest' });

export const simEvent = z
  .object({
    id: z.string(),
    kind: z.enum(['inserted', 'replaced', 'removed']),
    carrier: z.string().nullable(),
    claimedNumber: z.string().nullable(),
    verifiedNumber: z.string().nullable().meta({ description: 'The number now in the phone, as verified' }),
    method: z.enum(['outbound', 'inbound']).nullable(),
    status: z.enum(['recorded', 'pending', 'verified', 'failed']),
    alert: z.boolean().meta({ description: 'The SIM changed while the device was locked as lost' }),
    createdAt: timestamp('Reported'),
    verifiedAt: timestamp('Verified').nullable(),
  })
  .meta({ id: 'SimEvent' });

export const simEventIdParam = z.object({ eventId: id('SIM event id') });
export const deviceIdParam = z.object({ deviceId: id('Device id') });
