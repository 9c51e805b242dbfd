import { confirmSignup } from '../account.js';
import { type ApiClient, HomingApiError, type PendingSignup, type SignupRequest } from '../api.js';
import { mayBeUnder14 } from '../../protocol/age.js';
import { ask } from './prompt.js';

// Sign-up's age step and the guardian's side: under 14, a parent or guardian gets a code, and
// the account exists once it is entered; later the guardian can have the account deleted.
// Answers come from flags first, else one line each from the terminal (or stdin, for scripts
// that set the password through HOMING_PASSWORD).

export interface GuardianFlags {
  'birth-year'?: string;
  'guardian-email'?: string;
  'guardian-phone'?: string;
  code?: string;
}

type GuardianContact = NonNullable<SignupRequest['guardian']>;

export async function askBirthYear(flags: GuardianFlags): Promise<number> {
  const answer = flags['birth-year'] ?? (await ask('Year of birth (e.g. 1990): '));
  const year = Number(answer);
  if (!/^\d{4}$/.test(answer) || year > new Date().getUTCFullYear()) throw new Error('give the year of birth as four digits, e.g. --birth-year 1990');
  return year;
}

/** The guardian to ask, when the birth year says the user may be under 14 (the server's rule). */
export async function askGuardian(flags: GuardianFlags, birthYear: number): Promise<GuardianContact | undefined> {
  if (!mayBeUnder14(birthYear, Date.now())) return undefined;
  if (flags['guardian-email']) return { email: flags['guardian-email'] };
  if (flags['guardian-phone']) return { phoneNumber: flags['guardian-phone'] };
  console.log('Under 14, a parent or guardian must agree: they get a code by e-mail or SMS.');
  const answer = await ask("Parent's or guardian's e-mail address or mobile number (+44…): ");
  return answer.startsWith('+') ? { phoneNumber: answer } : { email: answer };
}

/**
 * Waits for the guardian's code and confirms the sign-up. A wrong code may be tried again (the
 * server allows five); "resend" asks for a new code.
 */
export async function waitForGuardian(api: ApiClient, pending: PendingSignup, flags: GuardianFlags) {
  console.log(`A code was sent to ${pending.guardian}. Ask them for it: nothing is kept until it is entered.`);
  console.log(`(If nobody enters it, the sign-up is forgotten on ${new Date(pending.expiresAt).toISOString().slice(0, 16)}Z.)`);
  let current = { pendingSignupId: pending.pendingSignupId, verificationId: pending.verificationId };
  let code = flags.code;
  for (;;) {
    code ??= await ask('Code from the guardian (or "resend"): ');
    if (code === 'resend') {
      const sent = await api.resendPendingSignupCode(pending.pendingSignupId);
      current = { ...current, verificationId: sent.verificationId };
      console.log(`a new code was sent to ${pending.guardian}`);
    } else {
      try {
        return await confirmSignup(api, current, code);
      } catch (err) {
        if (!(err instanceof HomingApiError) || err.code !== 'verification_failed' || flags.code) throw err;
        console.log(`not accepted: ${err.message}`);
      }
    }
    code = undefined;
  }
}

/** `guardian delete-child CHILD_EMAIL --guardian-email G | --guardian-phone N [--code C]` */
export async function deleteChild(api: ApiClient, childEmail: string | undefined, flags: GuardianFlags) {
  if (!childEmail) throw new Error("say whose account: guardian delete-child CHILD_EMAIL --guardian-email YOU");
  const guardian: GuardianContact | undefined = flags['guardian-email']
    ? { email: flags['guardian-email'] }
    : flags['guardian-phone']
      ? { phoneNumber: flags['guardian-phone'] }
      : undefined;
  if (!guardian) throw new Error('say who you are: --guardian-email ADDRESS or --guardian-phone +44…, as given at sign-up');
  const sent = await api.requestGuardianDeletion({ childEmail, guardian });
  console.log('If this is the contact you consented from, a code is on its way there.');
  const code = flags.code ?? (await ask('Code: '));
  const { dueAt } = await api.confirmGuardianDeletion({ verificationId: sent.verificationId, code });
  console.log(`The account is deleted on ${new Date(dueAt).toISOString()}, with all its data.`);
}
