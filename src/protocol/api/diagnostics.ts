import { z } from 'zod';
import { timestamp } from './common.js';
import { receipt } from '../receipts.js';

// Crash reports and usage events (the User Experience Program). The server stores the report as
// the app sent it: an app must put no content, no contact details and no addresses in it.

/** Deepest nesting of objects and arrays a report may have: a stack trace of frames fits easily. */
export const REPORT_MAX_DEPTH = 12;
/** Most keys and array entries a report may hold, counted over the whole tree. */
export const REPORT_MAX_NODES = 5_000;

/**
 * Whether a parsed JSON value stays within the depth and size limits. Iterative, and it stops at
 * the first value past a limit, so a hostile document costs at most REPORT_MAX_NODES steps.
 */
export function reportWithinLimits(value: unknown): boolean {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 1 }];
  let nodes = 0;
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth > REPORT_MAX_DEPTH) return false;
    for (const inner of Object.values(current)) {
      if (++nodes > REPORT_MAX_NODES) return false;
      stack.push({ value: inner, depth: depth + 1 });
    }
  }
  return true;
}

export const diagnosticsKind = z.enum(['crash', 'usage']).meta({
  description: 'crash: a crash report (needs consent "diagnostics"); usage: usage events of the User Experience Program (needs consent "experience")',
});

export const appVersion = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._+-]{0,39}$/, 'must be a version like 1.4.2 or 2.0.0-beta.3 (letters, digits, . _ + -; at most 40)')
  .meta({ example: '1.4.2' });

export const diagnosticsReportBody = z
  .strictObject({
    kind: diagnosticsKind,
    appVersion: appVersion.optional(),
    report: z
      .record(z.string(), z.unknown())
      .refine(reportWithinLimits, `must nest at most ${REPORT_MAX_DEPTH} deep and hold at most ${REPORT_MAX_NODES} keys and entries`)
      .meta({ description: 'The report as the app builds it. Stored as sent: it must hold no content, contact details or addresses.' }),
  })
  .meta({ id: 'DiagnosticsReportBody' });

export const diagnosticsAccepted = z
  .object({ id: z.string(), receivedAt: timestamp('Stored at'), size: z.number().int().meta({ description: 'Bytes stored' }) })
  .meta({ id: 'DiagnosticsAccepted' });

export const diagnosticsReport = z
  .object({
    id: z.string(),
    kind: diagnosticsKind,
    deviceId: z.string().nullable().meta({ description: 'The phone that sent it; null for the web page' }),
    appVersion: z.string().nullable(),
    size: z.number().int(),
    receivedAt: timestamp('Received'),
    report: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'DiagnosticsReport' });

/** `<receivedAt>.<id>` of the last report of a page: the next page starts after it. */
export const DIAGNOSTICS_CURSOR = /^(0|[1-9][0-9]{0,15})\.([A-Za-z0-9_-]{22})$/;

export const diagnosticsQuery = z.object({
  cursor: z.string().regex(DIAGNOSTICS_CURSOR, 'must be the cursor of an earlier page').optional().meta({ description: 'From the previous page' }),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const diagnosticsPage = z
  .object({
    reports: z.array(diagnosticsReport),
    cursor: z.string().nullable().meta({ description: 'Pass as cursor= for the next (older) page; null on the last page' }),
  })
  .meta({ id: 'DiagnosticsPage' });

export const diagnosticsDeleted = z
  .object({
    deleted: z.number().int().meta({ description: 'Reports removed' }),
    receipt,
  })
  .meta({ id: 'DiagnosticsDeleted' });
