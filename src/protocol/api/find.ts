import { z } from 'zod';
import { COMMAND_TYPES, expiryProblem } from '../commands.js';
import { base64urlBytes, id, shownMessage, timestamp } from './common.js';

// A sealed fix is ~32 + 16 + ~150 bytes of JSON; 2 KiB of base64url leaves room without inviting abuse.
const sealed = z
  .string()
  .min(64)
  .max(2048)
  .regex(/^[A-Za-z0-9_-]+$/, 'must be base64url without padding')
  .meta({ description: 'crypto_box_seal of the location JSON to the account X25519 key' });

export const findToggleBody = z.strictObject({ enabled: z.boolean() }).meta({ id: 'FindToggle' });

export const reportLocationsBody = z
  .strictObject({ reports: z.array(z.strictObject({ sealed })).min(1).max(100) })
  .meta({ id: 'LocationReports' });

export const locationReport = z
  .object({ sealed: z.string(), receivedAt: timestamp('When the server received it') })
  .meta({ id: 'LocationReport' });

export const lastLocationResponse = z
  .object({ deviceId: z.string(), report: locationReport.nullable() })
  .meta({ id: 'LastLocation' });

export const historyQuery = z.object({
  from: z.coerce.number().int().min(0).optional().meta({ description: 'Unix ms; default 24 h ago' }),
  to: z.coerce.number().int().min(0).optional().meta({ description: 'Unix ms; default now' }),
});

export const historyResponse = z
  .object({ deviceId: z.string(), reports: z.array(locationReport) })
  .meta({ id: 'LocationHistory' });

export const COMMAND_STATUSES = ['pending', 'delivered', 'succeeded', 'failed', 'rejected', 'cancelled', 'expired'] as const;

const V1_REFUSED =
  'required: commands are signed in the v2 format, which includes expiresAt (docs/CRYPTO.md §10); the v1 format is no longer accepted';

export const createCommandBody = z
  .strictObject({
    type: z.enum(COMMAND_TYPES),
    args: z
      .string()
      .max(4096)
      .refine((text) => {
        try {
          return typeof JSON.parse(text) === 'object';
        } catch {
          return false;
        }
      }, 'must be a JSON object, as a string')
      .meta({ description: 'JSON string, signed exactly as sent', example: '{}' }),
    issuedAt: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    expiresAt: z
      .number({ error: (issue) => (issue.input === undefined ? V1_REFUSED : undefined) })
      .int()
      .min(0)
      .max(Number.MAX_SAFE_INTEGER)
      .meta({ description: 'Unix ms, signed: the device carries the command out until then. After issuedAt, at most 30 days later; clients default to 7 days.' }),
    counter: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    signature: base64urlBytes(64, 'Ed25519 signature by the account command key over the v2 message (docs/CRYPTO.md §10)'),
  })
  .superRefine((body, ctx) => {
    const problem = expiryProblem(body.issuedAt, body.expiresAt);
    if (problem) ctx.addIssue({ code: 'custom', path: ['expiresAt'], message: problem.replace(/^expiresAt /, '') });
  })
  .meta({ id: 'CreateCommand' });

export const command = z
  .object({
    id: z.string(),
    deviceId: z.string(),
    type: z.enum(COMMAND_TYPES),
    args: z.string(),
    issuedAt: z.number().int(),
    expiresAt: timestamp('Signed expiry: still open then, it becomes expired'),
    counter: z.number().int(),
    signature: z.string(),
    status: z.enum(COMMAND_STATUSES),
    result: z.string().nullable(),
    createdAt: timestamp('Created'),
    deliveredAt: timestamp('First handed to the device').nullable(),
    deliveries: z.number().int().meta({ description: 'How often a poll handed it out (again after each lease without an acknowledgement)' }),
    leaseUntil: timestamp('While delivered and unacknowledged: when a poll hands it out again').nullable(),
    acknowledgedAt: timestamp('Acknowledged by the device').nullable(),
  })
  .meta({ id: 'Command' });

export const commandList = z.object({ commands: z.array(command) }).meta({ id: 'CommandList' });

export const pollQuery = z.object({
  wait: z.coerce.number().int().min(0).max(25).default(0).meta({ description: 'Seconds to wait for a command (long poll)' }),
});

export const ackBody = z
  .strictObject({
    status: z.enum(['succeeded', 'failed', 'rejected']),
    result: shownMessage(1000).optional(),
  })
  .meta({ id: 'CommandAck' });

export const deviceIdParam = z.object({ deviceId: id('Device id') });
export const commandIdParam = z.object({ commandId: id('Command id') });
