// Sending SMS: Twilio in production, the log provider on the embedded default. All implement
// SmsSender; the SIM-change feature sees nothing else. test/adapters/sms-contract.ts is the
// behaviour every implementation shares.

export interface SmsMessage {
  /** E.164, e.g. +447700900123. */
  to: string;
  body: string;
}

export interface SmsSender {
  readonly name: string;
  /** Sends one SMS; resolves with the provider's message id, or throws SmsError. Numbers are E.164. */
  send(message: SmsMessage): Promise<{ id: string }>;
  /**
   * Checks that an inbound-SMS webhook really came from the provider (Twilio: X-Twilio-Signature
   * over the public URL and the form fields). Providers that cannot receive SMS leave it out.
   */
  verifyWebhook?(input: { signature: string | undefined; url: string; params: Record<string, string> }): boolean;
}

export type SmsFailure =
  | 'invalid_number' // the provider says the number cannot receive SMS
  | 'unreachable' // a valid number the provider could not deliver to (blocked, landline, region)
  | 'rate_limited' // the provider asks us to slow down
  | 'auth_failed' // our credentials were refused: an operator problem
  | 'unavailable'; // the provider could not be reached or failed

export class SmsError extends Error {
  constructor(
    readonly failure: SmsFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SmsError';
  }
}

/** "+447700900123" → "+44••••••••23": enough for an operator to tell messages apart, no more. */
export const maskNumber = (e164: string) => `${e164.slice(0, 3)}${'•'.repeat(Math.max(0, e164.length - 5))}${e164.slice(-2)}`;

/** Every sender refuses anything but E.164 before it sends, naming the number only masked. */
export function assertE164(to: string) {
  if (!/^\+[1-9]\d{6,14}$/.test(to)) throw new SmsError('invalid_number', `not an E.164 number: ${maskNumber(to)}`);
}
