import { z } from 'zod';
import { purpose } from './consents.js';
import { timestamp } from './common.js';

export const policyResponse = z
  .object({
    version: z.number().int(),
    text: z.string().meta({ description: 'The policy as published, plain UTF-8 text' }),
    sha256: z.string().meta({ description: 'SHA-256 of the text (UTF-8), hex' }),
    publishedAt: timestamp('When this server first published this version'),
    reducesRights: z.boolean().meta({ description: 'This version takes rights away: consents given under older versions count as off until granted again' }),
  })
  .meta({ id: 'Policy' });

export const accountPolicyResponse = z
  .object({
    acceptedVersion: z.number().int().meta({ description: 'The newest version this account accepted (at sign-up or later); 0 for none' }),
    acceptedAt: timestamp('When it was accepted').nullable(),
    currentVersion: z.number().int(),
    reducesRights: z.boolean().meta({ description: 'Whether the current version reduces rights' }),
    publishedAt: timestamp('When the current version was published'),
    sha256: z.string(),
    noticePending: z.boolean().meta({ description: 'The current version is newer than the one accepted: show the in-app notice' }),
    consentFloor: z.number().int().meta({ description: 'Consents given under a version older than this count as off' }),
  })
  .meta({ id: 'AccountPolicy' });

export const acceptPolicyBody = z
  .strictObject({
    version: z.number().int().min(1).meta({ description: 'The version the user read (must be the current one)' }),
    regrant: z.array(purpose).max(64).default([]).meta({
      description: 'Purposes to grant again under this version; "find" re-grants Find Device on each device where it is on. Consents not named stay as they are (off, if given under an older version than a rights-reducing one).',
    }),
  })
  .meta({ id: 'AcceptPolicy' });
