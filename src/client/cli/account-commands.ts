import { removePhone, startEmailChange, startPhoneChange } from '../account.js';
import { type ApiClient, HomingApiError, type VerificationStarted } from '../api.js';
import { ask, closePrompts, readSecret } from './prompt.js';

// `account`: the personal data the server holds (e-mail, phone number), and changing it. Every
// change proves the password first (a fresh signed challenge), then a code sent to the new
// address or number confirms it.

export interface AccountFlags {
  code?: string;
  remove?: boolean;
}

const MAX_TRIES = 5;

/** The password: $HOMING_PASSWORD, a hidden prompt on a terminal, or the next line of stdin. */
const password = async () =>
  process.env.HOMING_PASSWORD || (process.stdin.isTTY ? readSecret('Password (to prove it is you)', 'HOMING_PASSWORD') : ask('Password: '));

/** Asks for the code (or takes --code) and confirms; a wrong code may be typed again, up to the server's five tries. */
async function confirmWithCode<T>(flags: AccountFlags, confirm: (code: string) => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    const code = flags.code ?? (await ask('Code: '));
    try {
      return await confirm(code);
    } catch (err) {
      const retry = err instanceof HomingApiError && err.code === 'verification_failed' && !flags.code && tries < MAX_TRIES;
      if (!retry) throw err;
      console.log(`${err.message}; try again`);
    }
  }
}

function sentTo(where: string, started: VerificationStarted, outbox: string) {
  console.log(`A code was sent to ${where}; it works until ${new Date(started.expiresAt).toISOString()}.`);
  console.log(`(on the embedded default the message is in the outbox file, ${outbox})`);
}

export async function runAccountCommand(
  api: ApiClient,
  args: { sub?: string; value?: string },
  flags: AccountFlags,
): Promise<{ email?: string }> {
  try {
    const account = await api.account();
    if (args.sub === undefined) {
      console.log(`account  ${account.accountId}`);
      console.log(`e-mail   ${account.email}`);
      console.log(`phone    ${account.phoneNumber ?? '(none)'}`);
      console.log(`since    ${new Date(account.createdAt).toISOString()}`);
      return {};
    }
    if (args.sub === 'email') {
      if (!args.value) throw new Error('say the new address: account email NEW@EXAMPLE.ORG');
      const started = await startEmailChange(api, { currentEmail: account.email, newEmail: args.value, password: await password() });
      sentTo(args.value, started, 'data/email-outbox.jsonl');
      const changed = await confirmWithCode(flags, (code) => api.confirmEmailChange(started.verificationId, code));
      console.log(`e-mail changed to ${changed.email}; a notice went to the old address. Log in with the new one from now on.`);
      return { email: changed.email };
    }
    if (args.sub === 'phone') {
      if (flags.remove) {
        if (args.value) throw new Error('say either a new number or --remove');
        await removePhone(api, { email: account.email, password: await password() });
        console.log('phone number removed');
        return {};
      }
      if (!args.value) throw new Error('say the new number (account phone +447700900123) or --remove');
      const started = await startPhoneChange(api, { email: account.email, phoneNumber: args.value, password: await password() });
      sentTo(args.value, started, 'data/sms-outbox.jsonl');
      const changed = await confirmWithCode(flags, (code) => api.confirmPhoneChange(started.verificationId, code));
      console.log(`phone number changed to ${changed.phoneNumber}`);
      return {};
    }
    throw new Error(`unknown account command "${args.sub}": say email or phone`);
  } finally {
    closePrompts();
  }
}
