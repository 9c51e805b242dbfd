import { z } from 'zod';
import { timestamp } from './common.js';

export const session = z
  .object({
    id: z.string(),
    kind: z.enum(['bearer', 'cookie']),
    label: z.string().nullable(),
    createdAt: timestamp('Logged in at'),
    lastUsedAt: timestamp('Last used at (to the minute)'),
    expiresAt: timestamp('Absolute expiry'),
    deviceId: z.string().nullable().meta({ description: 'The phone this session was opened on; removing that device ends the session' }),
    current: z.boolean().meta({ description: 'The session making this request' }),
  })
  .meta({ id: 'Session' });

export const sessionList = z.object({ sessions: z.array(session) }).meta({ id: 'SessionList' });
