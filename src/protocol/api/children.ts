import { z } from 'zod';
import { email, guardianContact } from './accounts.js';
import { id, timestamp } from './common.js';

// Children under 14: a sign-up that waits for a guardian's consent, and a guardian's request to
// delete the child's account. Codes go to the guardian by e-mail or SMS.


const code = z.string().regex(/^[0-9]{6}$/, 'must be the 6-digit code sent to the guardian').meta({ example: '042317' });

export const pendingSignupResponse = z
  .object({
    pendingSignupId: z.string().meta({ description: 'Names the pending sign-up in confirm and resend' }),
    verificationId: z.string().meta({ description: 'The code sent to the guardian; confirm with it' }),
    expiresAt: timestamp('The pending sign-up, and everything it holds, is forgotten'),
    codeExpiresAt: timestamp('The code sent stops working (resend for a new one)'),
    guardian: z.string().meta({ description: 'Where the code went, masked', example: 'g•••@example.org' }),
  })
  .meta({ id: 'PendingSignup' });

export const guardianCodeBody = z
  .strictObject({ verificationId: id('From the pending sign-up, a resend or a deletion request'), code })
  .meta({ id: 'GuardianCode' });

export const guardianCodeSent = z
  .object({
    verificationId: z.string(),
    expiresAt: timestamp('The code stops working'),
  })
  .meta({ id: 'GuardianCodeSent' });

export const guardianDeletionBody = z
  .strictObject({
    childEmail: email,
    guardian: guardianContact,
  })
  .meta({ id: 'GuardianDeletionRequest', description: "The child's account e-mail and the contact the guardian consented from" });

export const guardianDeletionScheduled = z
  .object({ dueAt: timestamp('When the account and all its data are purged (the grace period)') })
  .meta({ id: 'GuardianDeletionScheduled' });

export const pendingSignupIdParam = z.object({ pendingSignupId: id('From the 202 answer of POST /v1/accounts') });
