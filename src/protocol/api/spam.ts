import { z } from 'zod';
import { phoneNumber } from './accounts.js';
import { id, shownMessage, timestamp } from './common.js';

// Spam reports and the published blocklist (features/spam; the fingerprint is
// src/protocol/spam-fingerprint.ts). Devices report; devices download the list and match it
// themselves, so no message a user did not report reaches the server.

export const MAX_REPORTED_TEXT = 4000;

export const spamReportBody = z
  .strictObject({
    number: phoneNumber,
    text: shownMessage(MAX_REPORTED_TEXT)
      .optional()
      .meta({ description: "The message's text, only if the user chose to include it: the server keeps its fingerprint and drops the text" }),
  })
  .meta({ id: 'SpamReportRequest' });

export const spamReport = z
  .object({
    id: z.string(),
    number: z.string(),
    fingerprint: z.string().nullable().meta({ description: 'Of the reported text; null without one (or too short to have one)' }),
    createdAt: timestamp('Reported (a second report of the same number replaces the first)'),
  })
  .meta({ id: 'SpamReport' });

export const spamReportList = z.object({ reports: z.array(spamReport) }).meta({ id: 'SpamReportList' });

export const reportIdParam = z.object({ reportId: id('Spam report id') });

export const blocklistQuery = z.object({
  since: z.coerce.number().int().min(0).default(0).meta({ description: 'The version the device has; 0 for the whole list' }),
});

export const blocklistEntry = z
  .object({
    kind: z.enum(['number', 'text']),
    value: z.string().meta({ description: 'An E.164 number, or a 16-hex-digit text fingerprint' }),
    listed: z.boolean().meta({ description: 'false: taken off the list since (reports withdrawn or out of the window)' }),
  })
  .meta({ id: 'BlocklistEntry' });

export const blocklistDelta = z
  .object({
    version: z.number().int().meta({ description: 'Keep it and send it as since next time' }),
    reset: z.boolean().meta({ description: 'true: forget the list you have and take this one whole (since was unknown to the server)' }),
    changes: z.array(blocklistEntry).meta({ description: 'Entries changed after since, each in its latest state' }),
  })
  .meta({ id: 'BlocklistDelta' });
