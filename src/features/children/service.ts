import type { z } from 'zod';
import { maskEmail } from '../../adapters/email.js';
import { maskNumber } from '../../adapters/sms.js';
import type { Deps } from '../../deps.js';
import { AppError } from '../../http/app-error.js';
import type { guardianContact } from '../../protocol/api/accounts.js';
import {
  assertSignupFree,
  emailIndexOf,
  findAccountByEmailIndex,
  type GuardianConsent,
  normalizeEmail,
  type PendingSignup,
  signUp,
  signupTaken,
  type SignupInput,
} from '../accounts/service.js';
import { scheduleAccountDeletion } from '../deletion/service.js';
import type { RateLimit, Throttles } from '../throttles/service.js';
import { checkCode, deleteCodesOf, sendCode } from '../verification/service.js';
import { consentGiven, consentRequest, consentRequestSms, deletionRequest } from './messages.js';
import * as repo from './repo.js';

// Children under 14 (privacy policy, "children"). Until a guardian consents, the only thing kept
// is one pending row: the whole sign-up sealed under the server key, the e-mail's blind index and
// an expiry. No account row exists, so login fails exactly as for an unknown e-mail, and when the
// row expires nothing of the request is left. A guardian reached by the code the child was given
// can later have the account deleted.

type GuardianContact = z.infer<typeof guardianContact>;

const PENDING = 'pending-signup';
const GUARDIAN = 'guardian';
const DAY = 86_400_000;

// One sign-up gets its first code and four resends a day; one guardian at most ten codes a day,
// however many sign-ups name them, so the flow cannot be used to flood someone's inbox or phone.
const CODES_PER_SIGNUP: RateLimit = { limit: 5, windowMs: DAY };
const CODES_PER_GUARDIAN: RateLimit = { limit: 10, windowMs: DAY };
// Deletion requests name a child's e-mail; counted before anything is looked up (see below), so
// a stranger meets the limit alike for every e-mail, and a guardian retrying has room.
const DELETION_REQUESTS_PER_CHILD: RateLimit = { limit: 10, windowMs: DAY };

interface Contact {
  channel: 'email' | 'sms';
  target: string;
  index: string;
}

function contactOf(deps: Deps, guardian: GuardianContact): Contact {
  if ('email' in guardian) {
    const target = normalizeEmail(guardian.email);
    return { channel: 'email', target, index: deps.secrets.blindIndex(GUARDIAN, `email:${target}`) };
  }
  return { channel: 'sms', target: guardian.phoneNumber, index: deps.secrets.blindIndex(GUARDIAN, `sms:${guardian.phoneNumber}`) };
}

const masked = (contact: Contact) => (contact.channel === 'email' ? maskEmail(contact.target) : maskNumber(contact.target));

const openRequest = (deps: Deps, row: repo.PendingSignupRow) => JSON.parse(deps.secrets.openPersonal(PENDING, row.requestSealed)) as SignupInput;

const policyContext = (deps: Deps, childEmail: string) => ({
  childEmail,
  origin: deps.config.publicOrigin,
  policyVersion: deps.config.policy.version,
});

/** The children feature's part in POST /v1/accounts, for app.ts to hand to the accounts feature. */
export const guardianConsent = (deps: Deps, throttles: Throttles): GuardianConsent => ({
  startPendingSignup: (input) => startPendingSignup(deps, throttles, input),
  isEmailPending: (email) => repo.isEmailPending(deps.db, emailIndexOf(deps, email), deps.clock.now()),
});

/**
 * Keeps an under-14 sign-up as one sealed pending row and sends the guardian a code. An e-mail
 * that an account or another live pending sign-up holds is refused with sign-up's one "taken"
 * answer. If the code cannot be sent, nothing is kept.
 */
export async function startPendingSignup(deps: Deps, throttles: Throttles, input: SignupInput): Promise<PendingSignup> {
  if (!input.guardian) throw new AppError('validation_failed', 'body.guardian: required under 14');
  const contact = contactOf(deps, input.guardian);
  if (contact.channel === 'email' && contact.target === normalizeEmail(input.email)) {
    throw new AppError('validation_failed', "body.guardian: must be a parent's or guardian's address, not the child's own");
  }
  await assertSignupFree(deps, input);
  const now = deps.clock.now();
  const emailIndex = emailIndexOf(deps, input.email);
  await repo.deleteExpiredPendingFor(deps.db, emailIndex, now);
  const row = {
    id: deps.random.id(),
    accountId: input.accountId,
    emailIndex,
    requestSealed: deps.secrets.sealPersonal(PENDING, JSON.stringify(input)),
    createdAt: now,
    expiresAt: now + deps.config.pendingSignupMs,
  };
  if (!(await repo.insertPending(deps.db, row))) throw signupTaken();
  try {
    const sent = await sendConsentCode(deps, throttles, row, input, contact);
    deps.log.info('pending sign-up waits for its guardian', { pendingSignupId: row.id, channel: contact.channel });
    return { pendingSignupId: row.id, verificationId: sent.verificationId, expiresAt: row.expiresAt, codeExpiresAt: sent.expiresAt, guardian: masked(contact) };
  } catch (err) {
    await repo.deletePending(deps.db, row.id);
    await deleteCodesOf(deps, row.id);
    throw err;
  }
}

async function sendConsentCode(deps: Deps, throttles: Throttles, row: repo.PendingSignupRow, input: SignupInput, contact: Contact) {
  await throttles.hit(throttles.keyOf('guardian-codes:signup', row.id), CODES_PER_SIGNUP);
  await throttles.hit(throttles.keyOf('guardian-codes:guardian', contact.index), CODES_PER_GUARDIAN);
  const context = { ...policyContext(deps, input.email), pendingSignupId: row.id, forgottenAt: row.expiresAt };
  return sendCode(deps, {
    purpose: 'guardian_consent',
    subjectId: row.id,
    channel: contact.channel,
    target: contact.target,
    targetIndex: contact.index,
    message: contact.channel === 'email' ? consentRequest(context) : consentRequestSms(context),
  });
}

/** A fresh code for a live pending sign-up; the earlier one stops working. */
export async function resendConsentCode(deps: Deps, throttles: Throttles, pendingSignupId: string) {
  const row = await repo.findLivePending(deps.db, pendingSignupId, deps.clock.now());
  if (!row) throw new AppError('not_found', 'this sign-up is unknown or has expired; sign up again');
  const input = openRequest(deps, row);
  return sendConsentCode(deps, throttles, row, input, contactOf(deps, input.guardian!));
}

/**
 * The guardian's code turns the pending sign-up into the account, exactly as an adult's sign-up
 * makes one (the same signUp), in one write with the guardianship and the pending row's removal.
 * The code is bound to this pending sign-up (subjectId), is consumed by the check, and dies after
 * five wrong tries, so one code cannot confirm another sign-up and a used one cannot be replayed.
 */
export async function confirmPendingSignup(deps: Deps, pendingSignupId: string, proof: { verificationId: string; code: string }) {
  const row = await repo.findLivePending(deps.db, pendingSignupId, deps.clock.now());
  if (!row) throw new AppError('verification_failed', 'this sign-up is unknown or has expired; sign up again');
  await checkCode(deps, { ...proof, purpose: 'guardian_consent', subjectId: row.id });
  const input = openRequest(deps, row);
  const contact = contactOf(deps, input.guardian!);
  const consentedAt = deps.clock.now();
  const guardianship = {
    accountId: input.accountId,
    channel: contact.channel,
    guardianSealed: deps.secrets.sealPersonal(GUARDIAN, contact.target),
    guardianIndex: contact.index,
    birthYear: input.birthYear,
    consentedAt,
  };
  const { accountId } = await signUp(deps, input, [repo.insertGuardianship(deps.db, guardianship), repo.deletePending(deps.db, row.id)]);
  await deleteCodesOf(deps, row.id);
  await tellGuardian(deps, contact, consentGiven({ ...policyContext(deps, input.email), consentedAt, sms: contact.channel === 'sms' }));
  return { accountId };
}

/** A notice the guardian should get; the account exists either way, so a failure is only logged. */
async function tellGuardian(deps: Deps, contact: Contact, message: { subject: string; text: string }) {
  try {
    if (contact.channel === 'email') await deps.email.send({ to: contact.target, ...message });
    else await deps.sms.send({ to: contact.target, body: message.text });
  } catch (err) {
    deps.log.warn('guardian notice not sent', { channel: contact.channel, to: masked(contact), error: String(err) });
  }
}

/** Housekeeping: pending sign-ups past their expiry, with their codes. Safe to run again. */
export async function purgeExpiredSignups(deps: Deps) {
  const ids = await repo.deleteExpiredPending(deps.db, deps.clock.now());
  for (const id of ids) await deleteCodesOf(deps, id);
  return { pendingSignups: ids.length };
}

/**
 * A guardian asks to have a child's account deleted. The answer is the same, in shape and in
 * every field's form, whether or not the child's e-mail and the guardian's contact match a
 * guardianship: only a match stores and sends a code, and the limits are counted before the
 * lookup, so the request is no oracle for who has an account or who their guardian is.
 */
export async function requestGuardianDeletion(
  deps: Deps,
  throttles: Throttles,
  input: { childEmail: string; guardian: GuardianContact },
): Promise<{ verificationId: string; expiresAt: number }> {
  const childIndex = emailIndexOf(deps, input.childEmail);
  const contact = contactOf(deps, input.guardian);
  await throttles.hit(throttles.keyOf('guardian-deletion:child', childIndex), DELETION_REQUESTS_PER_CHILD);
  await throttles.hit(throttles.keyOf('guardian-codes:guardian', contact.index), CODES_PER_GUARDIAN);
  const unmatched = { verificationId: deps.random.id(), expiresAt: deps.clock.now() + deps.config.verificationCodeMs };
  const account = await findAccountByEmailIndex(deps, childIndex);
  const guardianship = account ? await repo.findGuardianship(deps.db, account.id) : undefined;
  if (!account || !guardianship || guardianship.channel !== contact.channel || guardianship.guardianIndex !== contact.index) {
    return unmatched;
  }
  try {
    return await sendCode(deps, {
      purpose: 'guardian_deletion',
      subjectId: account.id,
      channel: contact.channel,
      target: contact.target,
      targetIndex: contact.index,
      message: deletionRequest({
        ...policyContext(deps, input.childEmail),
        graceDays: Math.round(deps.config.deletionGraceMs / DAY),
        sms: contact.channel === 'sms',
      }),
    });
  } catch (err) {
    // Answering the failure would tell the caller the pair matched; the operator sees the log.
    if (!(err instanceof AppError)) throw err;
    deps.log.warn('guardian deletion code not sent', { accountId: account.id, channel: contact.channel });
    return unmatched;
  }
}

// One answer for a wrong, expired, used, spent or made-up code: "wrong code, 4 tries left" would
// tell whoever sent a request that its pair matched.
const DELETION_CODE_REFUSED = 'this code is wrong, has expired or was used; ask for a new one';

/** The guardian's code schedules the child's account for deletion (the grace period applies). */
export async function confirmGuardianDeletion(deps: Deps, proof: { verificationId: string; code: string }) {
  let subject: { subjectId: string; targetIndex: string };
  try {
    subject = await checkCode(deps, { ...proof, purpose: 'guardian_deletion' });
  } catch (err) {
    if (err instanceof AppError && err.code === 'verification_failed') throw new AppError('verification_failed', DELETION_CODE_REFUSED);
    throw err;
  }
  const guardianship = await repo.findGuardianship(deps.db, subject.subjectId);
  if (!guardianship || guardianship.guardianIndex !== subject.targetIndex) throw new AppError('verification_failed', DELETION_CODE_REFUSED);
  deps.log.info('guardian confirmed account deletion', { accountId: guardianship.accountId });
  return scheduleAccountDeletion(deps, { accountId: guardianship.accountId, requestedBy: 'guardian' });
}
