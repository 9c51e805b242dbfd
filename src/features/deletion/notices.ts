import { maskEmail } from '../../adapters/email.js';
import type { Deps } from '../../deps.js';

export const DAY = 24 * 60 * 60 * 1000;

export const dateOf = (ms: number) => `${new Date(ms).toISOString().replace('T', ' ').slice(0, 16)} UTC`;

/** Sends a deletion notice; a mail failure is logged (masked), never fatal to the deletion. */
export async function notify(deps: Deps, email: string, message: { subject: string; text: string }) {
  try {
    await deps.email.send({ to: email, ...message });
  } catch (err) {
    deps.log.warn('deletion notice not sent', { to: maskEmail(email), error: String(err) });
  }
}
