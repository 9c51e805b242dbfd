import { MIN_PASSWORD_LENGTH } from '../client/account.js';
import { mayBeUnder14 } from '../protocol/age.js';
import type { GuardianContact, SessionSummary } from './api.js';
import { dateTime, timeAgo } from './format.js';

// Pure text and input helpers for the account screens (sign-up, recovery, password, sessions,
// device removal): no DOM, so they are unit-tested in Node (test/web/account-format.test.ts).

/** A problem with a new password and its confirmation, in words, and the field at fault; null when both are fine. */
export function newPasswordProblem(password: string, confirmation: string): { problem: string; field: 'password' | 'confirmation' } | null {
  if (password.length < MIN_PASSWORD_LENGTH) return { problem: `Choose a password of at least ${MIN_PASSWORD_LENGTH} characters.`, field: 'password' };
  if (password !== confirmation) return { problem: 'The two passwords do not match. Type the same password in both fields.', field: 'confirmation' };
  return null;
}

/** The birth year typed in, or the reason it cannot be one. */
export function parseBirthYear(text: string, now: number): { year: number } | { problem: string } {
  const thisYear = new Date(now).getUTCFullYear();
  const trimmed = text.trim();
  if (!/^[0-9]{4}$/.test(trimmed)) return { problem: 'Enter the year you were born, with four digits (for example 1990).' };
  const year = Number(trimmed);
  if (year < 1900 || year > thisYear) return { problem: `Enter a birth year between 1900 and ${thisYear}.` };
  return { year };
}

/** Whether the server will ask for a guardian: the one rule both sides share. */
export const needsGuardian = (birthYear: number, now: number) => mayBeUnder14(birthYear, now);

/** A parent's or guardian's e-mail address or mobile number (E.164, spaces and dashes allowed). */
export function parseGuardianContact(text: string): { contact: GuardianContact } | { problem: string } {
  const trimmed = text.trim();
  if (trimmed.includes('@')) {
    return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(trimmed)
      ? { contact: { email: trimmed } }
      : { problem: "The guardian's e-mail address does not look right." };
  }
  const number = trimmed.replace(/[\s().-]/g, '');
  if (/^\+[1-9][0-9]{6,14}$/.test(number)) return { contact: { phoneNumber: number } };
  return { problem: "Enter a parent's or guardian's e-mail address, or their mobile number with the country code (for example +49 151 2345678)." };
}

/** The .txt the recovery key is downloaded as: enough to know, years later, what it opens. */
export function recoveryKeyFile(input: { email: string; server: string; recoveryKey: string; createdAt: number }): string {
  return [
    'homing recovery key',
    '',
    `Account: ${input.email}`,
    `Server: ${input.server}`,
    `Created: ${new Date(input.createdAt).toISOString()}`,
    '',
    input.recoveryKey,
    '',
    'This key opens your account and your encrypted data if you forget your password: on the',
    'log-in page, choose "Log in with your recovery key" and set a new password.',
    'Anyone who has it and your e-mail address can do the same, so keep it offline and private.',
    'The server cannot show it to you again.',
    '',
  ].join('\n');
}

const KIND_TEXT: Record<SessionSummary['kind'], string> = { cookie: 'browser', bearer: 'app or device CLI' };

/** One session in the list: what it is, when it began and was last used. */
export function sessionFacts(session: SessionSummary, now: number, deviceName?: string) {
  const where = session.deviceId ? ` on ${deviceName ?? 'a registered phone'}` : '';
  return {
    title: session.label ?? 'Unnamed session',
    kind: `${KIND_TEXT[session.kind] ?? session.kind}${where}`,
    times: `logged in ${dateTime(session.createdAt)} · last used ${timeAgo(session.lastUsedAt, now)}`,
  };
}

/**
 * What removing a device does, exactly as the server does it (src/features/devices: the device
 * row goes, and the database's cascade takes everything bound to it in the same statement).
 */
export function deviceRemovalText(name: string): string {
  return [
    `Remove ${name} from your account?`,
    'The server deletes at once: its stored locations and last-known location, its commands (pending or done), its SIM events and SIM checks, its push subscription, its diagnostics reports, its Find Device setting, its messaging (its number in the directory and the messages still waiting for it), the spam reports made from it, and every session opened on it.',
    'The phone can no longer sync, report where it is, take commands or be found: its token stops working until it is registered again.',
    'Your synced data (contacts, photos, notes and the rest) belongs to your account, not to the phone: it stays on the server and on your other devices. Your activity log and consent history keep their entries.',
  ].join(' ');
}
