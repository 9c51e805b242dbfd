import { z } from 'zod';
import { timestamp } from './common.js';

/** `<at>.<id>` of the last entry of a page; clients treat it as opaque and pass it back. */
export const AUDIT_CURSOR = /^(0|[1-9][0-9]{0,15})\.([A-Za-z0-9_-]{22})$/;

export const auditQuery = z.object({
  cursor: z
    .string()
    .regex(AUDIT_CURSOR, 'must be a nextCursor from an earlier page')
    .optional()
    .meta({ description: 'nextCursor of the previous page; omit for the newest entries' }),
  limit: z.coerce.number().int().min(1).max(500).default(100).meta({ description: 'Most entries in the page' }),
});

export const auditEntry = z
  .object({
    id: z.string(),
    at: timestamp('When'),
    action: z.string().meta({ example: 'location.read' }),
    deviceId: z.string().nullable().meta({ description: 'The device the action was about or done by' }),
    sessionId: z.string().nullable().meta({ description: 'The session that did it' }),
    detail: z.string().nullable().meta({ description: 'What it was about, never content: a command type, a purpose, counts', example: 'locate' }),
  })
  .meta({ id: 'AuditEntry' });

export const auditLogPage = z
  .object({
    entries: z.array(auditEntry).meta({ description: 'Newest first' }),
    nextCursor: z.string().optional().meta({ description: 'Present when older entries remain: pass as cursor= for the next page' }),
  })
  .meta({ id: 'AuditLog' });
