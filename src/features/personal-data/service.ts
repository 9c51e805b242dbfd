import { maskEmail } from '../../adapters/email.js';
import { maskNumber } from '../../adapters/sms.js';
import { atomic, isUniqueViolation } from '../../db/client.js';
import type { Deps } from '../../deps.js';
import { AppError } from '../../http/app-error.js';
import {
  emailChangeStatement,
  emailIndexOf,
  findAccountByEmailIndex,
  findAccountByPhoneIndex,
  getAccount,
  normalizeEmail,
  phoneChangeStatement,
  phoneIndexOf,
} from '../accounts/service.js';
import { auditEntry } from '../audit/service.js';
import { verifyProof } from '../auth/service.js';
import type { Throttles } from '../throttles/service.js';
import { checkCode, sendCode } from '../verification/service.js';

// The user reads and corrects the e-mail address and phone number the server holds (policy:
// identity checks before updates). Guarantees:
// - A session alone changes nothing: each request carries a fresh, single-use login challenge
//   signed with the password or recovery key of the session's own account (auth's verifyProof).
// - The new address or number is proven by a code sent to it; the code is bound to the account
//   and the purpose (an e-mail code cannot confirm a phone change) and dies after 5 wrong tries.
// - Whether an address or number belongs to someone else is never told to the requester: the
//   answer and the work are the same; the message sent there says someone tried to use it and
//   carries no code, and the unique index makes any confirm fail as verification_failed.
// - The sealed value, its blind index and the audit entry change in one atomic write; the old
//   address is told of an e-mail change, the account's address of a phone change.
// - At most CODES_PER_ACCOUNT codes a day per account and CODES_PER_TARGET per address or number,
//   so the server cannot be used to flood someone's inbox or phone.

const DAY = 86_400_000;
export const CODES_PER_ACCOUNT = { limit: 5, windowMs: DAY };
export const CODES_PER_TARGET = { limit: 3, windowMs: DAY };

interface Session {
  accountId: string;
  sessionId: string;
}
interface Ctx {
  clientAddress: string;
}
type Proof = { challengeId: string; signature: string };

const when = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

async function limitCodes(deps: Deps, throttles: Throttles, accountId: string, targetIndex: string) {
  await throttles.hit(throttles.keyOf('personal-codes:account', accountId), CODES_PER_ACCOUNT);
  await throttles.hit(throttles.keyOf('personal-codes:target', targetIndex), CODES_PER_TARGET);
}

/** Sends a message after the change committed; a failure is logged, since the change stands. */
function notify(deps: Deps, to: string, message: { subject: string; text: string }, what: string) {
  deps.background(async () => {
    try {
      await deps.email.send({ to, ...message });
    } catch (error) {
      deps.log.warn('personal-data notice not sent', { what, to: maskEmail(to), error: String((error as Error).message ?? error) });
    }
  });
}

export async function startEmailChange(deps: Deps, throttles: Throttles, session: Session, input: { proof: Proof; email: string }, ctx: Ctx) {
  await verifyProof(deps, throttles, input.proof, { ...ctx, session });
  const email = normalizeEmail(input.email);
  const targetIndex = emailIndexOf(deps, email);
  const owner = await findAccountByEmailIndex(deps, targetIndex);
  if (owner?.id === session.accountId) throw new AppError('validation_failed', 'body.email: that is already the address of this account');
  await limitCodes(deps, throttles, session.accountId, targetIndex);
  const taken = owner !== undefined;
  const origin = deps.config.publicOrigin;
  const started = await sendCode(deps, {
    purpose: 'email_change',
    subjectId: session.accountId,
    channel: 'email',
    target: email,
    targetIndex,
    message: (code, minutes) =>
      taken
        ? {
            subject: 'homing: someone tried to use this address',
            text: `Someone asked to move a homing account at ${origin} to this e-mail address at ${when(deps.clock.now())}. This address already belongs to an account there, so nothing was changed and no code was issued.\n\nIf this was you, there is nothing to do. If not, you can ignore this message.`,
          }
        : {
            subject: 'homing: confirm your new e-mail address',
            text: `Your homing code is ${code}.\n\nEnter it to make this the e-mail address of your account at ${origin}. It expires in ${minutes} minutes.\n\nIf you did not ask for this, ignore this message: nothing changes without the code.`,
          },
  });
  deps.log.info('email change started', { accountId: session.accountId, verificationId: started.verificationId });
  return started;
}

export async function confirmEmailChange(deps: Deps, session: Session, input: { verificationId: string; code: string }) {
  const checked = await checkCode(deps, { ...input, purpose: 'email_change', subjectId: session.accountId });
  const before = await getAccount(deps, session.accountId);
  try {
    await atomic(deps.db, [
      emailChangeStatement(deps, session.accountId, checked.target),
      auditEntry(deps, session.accountId, 'email.changed', { sessionId: session.sessionId }),
    ]);
  } catch (error) {
    // Another account took the address since the code was sent (a sign-up racing this change).
    if (isUniqueViolation(error)) throw new AppError('verification_failed', 'this address cannot be used; ask for a new code with another address');
    throw error;
  }
  deps.log.info('email changed', { accountId: session.accountId, to: maskEmail(checked.target) });
  notify(
    deps,
    before.email,
    {
      subject: 'homing: your e-mail address was changed',
      text: `The e-mail address of your homing account at ${deps.config.publicOrigin} was changed to ${maskEmail(checked.target)} at ${when(deps.clock.now())}.\n\nIf this was not you, log in with your password or recovery key, change the password, and change the address back. Messages about the account now go to the new address.`,
    },
    'email.changed',
  );
  return getAccount(deps, session.accountId);
}

function checkNumberAllowed(deps: Deps, number: string) {
  const allowed = deps.config.smsAllowedPrefixes;
  if (allowed.length > 0 && !allowed.some((prefix) => number.startsWith(prefix))) {
    throw new AppError('invalid_phone_number', 'this server does not send SMS to that country');
  }
}

export async function startPhoneChange(
  deps: Deps,
  throttles: Throttles,
  session: Session,
  input: { proof: Proof; phoneNumber: string },
  ctx: Ctx,
) {
  await verifyProof(deps, throttles, input.proof, { ...ctx, session });
  checkNumberAllowed(deps, input.phoneNumber);
  const targetIndex = phoneIndexOf(deps, input.phoneNumber);
  const owner = await findAccountByPhoneIndex(deps, targetIndex);
  if (owner?.id === session.accountId) throw new AppError('validation_failed', 'body.phoneNumber: that is already the number of this account');
  await limitCodes(deps, throttles, session.accountId, targetIndex);
  const taken = owner !== undefined;
  const started = await sendCode(deps, {
    purpose: 'phone_change',
    subjectId: session.accountId,
    channel: 'sms',
    target: input.phoneNumber,
    targetIndex,
    message: (code, minutes) => ({
      subject: '',
      text: taken
        ? `homing: someone tried to add this number to an account at ${deps.config.publicOrigin}. It is already in use there, so nothing changed. You can ignore this.`
        : `homing code ${code}: enter it to add this number to your account. It expires in ${minutes} minutes. Didn't ask? Ignore this.`,
    }),
  });
  deps.log.info('phone change started', { accountId: session.accountId, verificationId: started.verificationId });
  return started;
}

export async function confirmPhoneChange(deps: Deps, session: Session, input: { verificationId: string; code: string }) {
  const checked = await checkCode(deps, { ...input, purpose: 'phone_change', subjectId: session.accountId });
  try {
    await atomic(deps.db, [
      phoneChangeStatement(deps, session.accountId, checked.target),
      auditEntry(deps, session.accountId, 'phone.changed', { sessionId: session.sessionId, detail: 'changed' }),
    ]);
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError('verification_failed', 'this number cannot be used; ask for a new code with another number');
    throw error;
  }
  const account = await getAccount(deps, session.accountId);
  deps.log.info('phone changed', { accountId: session.accountId, to: maskNumber(checked.target) });
  notifyPhoneChange(deps, account.email, `changed to ${maskNumber(checked.target)}`);
  return account;
}

export async function removePhone(deps: Deps, throttles: Throttles, session: Session, input: { proof: Proof }, ctx: Ctx) {
  await verifyProof(deps, throttles, input.proof, { ...ctx, session });
  const before = await getAccount(deps, session.accountId);
  if (before.phoneNumber === null) return;
  await atomic(deps.db, [
    phoneChangeStatement(deps, session.accountId, null),
    auditEntry(deps, session.accountId, 'phone.changed', { sessionId: session.sessionId, detail: 'removed' }),
  ]);
  deps.log.info('phone removed', { accountId: session.accountId });
  notifyPhoneChange(deps, before.email, 'removed');
}

function notifyPhoneChange(deps: Deps, email: string, what: string) {
  notify(
    deps,
    email,
    {
      subject: 'homing: your phone number was changed',
      text: `The phone number of your homing account at ${deps.config.publicOrigin} was ${what} at ${when(deps.clock.now())}.\n\nIf this was not you, log in with your password or recovery key and change the password.`,
    },
    'phone.changed',
  );
}
