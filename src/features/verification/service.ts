import { EmailError } from '../../adapters/email.js';
import { SmsError } from '../../adapters/sms.js';
import type { Deps } from '../../deps.js';
import { AppError } from '../../http/app-error.js';
import { constantTimeEqual } from '../../protocol/encoding.js';
import * as repo from './repo.js';

// One-time codes sent to an address or number that must be proven: a new e-mail, a new phone
// number, a child's guardian. The code is stored only as a keyed hash bound to its row, the
// target sealed under the server key; a code dies when used, after MAX_CODE_CHECKS wrong tries,
// or after VERIFICATION_CODE_MINUTES.

export type CodePurpose = repo.CodePurpose;
export const MAX_CODE_CHECKS = 5;

const TARGET = 'verification-target';
const codeHash = (deps: Deps, id: string, code: string) => deps.secrets.blindIndex('verification-code', `${id}:${code}`);

/** Six digits, uniform: rejection sampling keeps the modulo from favouring low codes. */
export function newCode(random: Deps['random']) {
  for (;;) {
    const bytes = random.bytes(4);
    const value = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
    if (value < 4_294_000_000) return String(value % 1_000_000).padStart(6, '0');
  }
}

export interface CodeRequest {
  purpose: CodePurpose;
  /** The account or pending sign-up the code belongs to. */
  subjectId: string;
  channel: 'email' | 'sms';
  /** The e-mail address or E.164 number to prove. */
  target: string;
  /** The blind index the caller keys the target by (so checkCode can hand it back). */
  targetIndex: string;
  /** The message around the code: e-mail subject and text, or SMS body. */
  message(code: string, expiresInMinutes: number): { subject: string; text: string };
}

/**
 * Sends a fresh code and stores its hash, replacing any earlier open code for the same subject
 * and purpose. Throws AppError (sms_undeliverable / service_unavailable) when it cannot be sent;
 * the stored row then never verifies, because nobody has the code.
 */
export async function sendCode(deps: Deps, request: CodeRequest) {
  const id = deps.random.id();
  const code = newCode(deps.random);
  const now = deps.clock.now();
  const expiresAt = now + deps.config.verificationCodeMs;
  await repo.replaceCode(deps.db, {
    id,
    purpose: request.purpose,
    subjectId: request.subjectId,
    channel: request.channel,
    targetSealed: deps.secrets.sealPersonal(TARGET, request.target),
    targetIndex: request.targetIndex,
    codeHash: codeHash(deps, id, code),
    createdAt: now,
    expiresAt,
  });
  const message = request.message(code, Math.round(deps.config.verificationCodeMs / 60_000));
  try {
    if (request.channel === 'email') await deps.email.send({ to: request.target, ...message });
    else await deps.sms.send({ to: request.target, body: message.text });
  } catch (error) {
    if (error instanceof EmailError && error.failure === 'rejected') {
      throw new AppError('verification_failed', 'the mail server refused this address');
    }
    if (error instanceof SmsError && (error.failure === 'invalid_number' || error.failure === 'unreachable')) {
      throw new AppError('sms_undeliverable', 'an SMS cannot be delivered to this number');
    }
    deps.log.error('verification code not sent', { purpose: request.purpose, channel: request.channel, error: String(error) });
    throw new AppError('service_unavailable', `the ${request.channel === 'email' ? 'e-mail' : 'SMS'} could not be sent; try again later`);
  }
  return { verificationId: id, expiresAt };
}

export interface CheckedCode {
  subjectId: string;
  channel: 'email' | 'sms';
  target: string;
  targetIndex: string;
}

/**
 * Checks and consumes a code. The attempt is counted before the comparison (constant time, on
 * keyed hashes), and the subject must match, so a code for one account never serves another.
 */
export async function checkCode(
  deps: Deps,
  input: { verificationId: string; purpose: CodePurpose; subjectId?: string; code: string },
): Promise<CheckedCode> {
  const now = deps.clock.now();
  const row = await repo.takeAttempt(deps.db, input.verificationId, input.purpose, now, MAX_CODE_CHECKS);
  if (!row || (input.subjectId !== undefined && row.subjectId !== input.subjectId)) {
    throw new AppError('verification_failed', 'this code has expired, was used, or had too many wrong tries; ask for a new one');
  }
  if (!constantTimeEqual(row.codeHash, codeHash(deps, row.id, input.code))) {
    throw new AppError('verification_failed', 'wrong code', { details: { attemptsLeft: MAX_CODE_CHECKS - row.attempts } });
  }
  if (!(await repo.consume(deps.db, row.id, now))) throw new AppError('verification_failed', 'this code was already used');
  return {
    subjectId: row.subjectId,
    channel: row.channel,
    target: deps.secrets.openPersonal(TARGET, row.targetSealed),
    targetIndex: row.targetIndex,
  };
}

/** Housekeeping: codes past their expiry, used or not. */
export const purgeExpiredCodes = (deps: Deps) => repo.deleteExpired(deps.db, deps.clock.now());

/** Every code of an account or pending sign-up (deletion). */
export const deleteCodesOf = (deps: Deps, subjectId: string) => repo.deleteForSubject(deps.db, subjectId);
