import { maskNumber, SmsError, type SmsFailure } from './sms.js';

// What the two Twilio senders share: the SDK sender (sms-twilio.ts, Node) and the fetch sender
// (sms-twilio-fetch.ts, Workers) both import this module and never each other, so they accept
// the same settings and fail alike.

export interface TwilioSmsConfig {
  accountSid: string;
  /** Either the auth token, or an API key: apiKeySid with apiKeySecret. The key wins when both are set. */
  authToken?: string;
  apiKeySid?: string;
  apiKeySecret?: string;
  /** Exactly one of messagingServiceSid and fromNumber. */
  messagingServiceSid?: string;
  fromNumber?: string;
  /** Twilio region (e.g. ie1) and edge (e.g. dublin), which pick the API host. */
  region?: string;
  edge?: string;
  statusCallbackUrl?: string;
}

/** How long one request to Twilio may take before the send fails as unavailable. */
export const TWILIO_TIMEOUT_MS = 10_000;

/**
 * Refuses a configuration Twilio would refuse, at creation. Returns the Basic credentials to send,
 * and every value an error message must never show.
 */
export function checkTwilioConfig(config: TwilioSmsConfig): { username: string; password: string; hidden: string[] } {
  const { accountSid, authToken, apiKeySid, apiKeySecret, messagingServiceSid, fromNumber } = config;
  if (!accountSid?.startsWith('AC')) throw new Error('Twilio: accountSid must be set and start with "AC"');
  if (Boolean(apiKeySid) !== Boolean(apiKeySecret)) throw new Error('Twilio: set apiKeySid and apiKeySecret together');
  if (apiKeySid && !apiKeySid.startsWith('SK')) throw new Error('Twilio: apiKeySid must start with "SK"');
  if (!authToken && !apiKeySid) throw new Error('Twilio: set authToken, or apiKeySid with apiKeySecret');
  if (Boolean(messagingServiceSid) === Boolean(fromNumber)) throw new Error('Twilio: set exactly one of messagingServiceSid and fromNumber');
  const [username, password] = apiKeySid ? [apiKeySid, apiKeySecret!] : [accountSid, authToken!];
  const hidden = [authToken, apiKeySecret, accountSid, apiKeySid, btoa(`${username}:${password}`)].filter((v): v is string => Boolean(v));
  return { username, password, hidden };
}

// Codes from https://www.twilio.com/docs/api/errors. Anything not listed falls to its HTTP status.
const failureByCode: Record<number, SmsFailure> = {
  21211: 'invalid_number', // invalid 'To' phone number
  21217: 'invalid_number', // phone number does not appear to be valid
  21401: 'invalid_number', // invalid phone number
  21614: 'invalid_number', // 'To' number is not a valid mobile number
  21408: 'unreachable', // permission to send to the 'To' number's region is not enabled
  21610: 'unreachable', // the recipient replied STOP
  21612: 'unreachable', // 'To' number not reachable via SMS from this sender
  30003: 'unreachable', // unreachable handset
  30004: 'unreachable', // message blocked
  30005: 'unreachable', // unknown handset
  30006: 'unreachable', // landline or unreachable carrier
  20429: 'rate_limited',
  14107: 'rate_limited', // SMS send rate limit exceeded
  20003: 'auth_failed', // authentication error
};

export function twilioFailure(status: number, code: number | undefined): SmsFailure {
  const byCode = code === undefined ? undefined : failureByCode[code];
  if (byCode) return byCode;
  if (status === 429) return 'rate_limited';
  if (status === 401) return 'auth_failed';
  // 5xx, and any refusal we have no better name for (a misconfigured sender, say), is a provider failure.
  return 'unavailable';
}

/**
 * The errors of one send. Guarantee: their messages never hold the full number (Twilio's own
 * messages quote it, with or without the +), the body (it carries a code), nor any value in
 * `hidden` (SIDs, token, secret and their Basic encoding); only the masked number. Callers must
 * not attach the provider's error as `cause`: axios errors carry the Authorization header.
 */
export function twilioSendErrors(hidden: string[], message: { to: string; body: string }) {
  const { to, body } = message;
  const masked = maskNumber(to);
  const redact = (text: string) => {
    let out = text.split(to).join(masked).split(to.slice(1)).join(masked);
    if (body.length >= 4) out = out.split(body).join('[body]');
    for (const value of hidden) out = out.split(value).join('[redacted]');
    return out;
  };
  const detail = (text: string | undefined) => (text ? `: ${redact(text)}` : '');
  return {
    refused: (status: number, code: number | undefined, text: string | undefined) =>
      new SmsError(twilioFailure(status, code), `Twilio refused the SMS to ${masked} (HTTP ${status}, code ${code ?? 'none'})${detail(text)}`),
    unreachable: (what: string, text: string | undefined) =>
      new SmsError('unavailable', `Twilio could not be reached for the SMS to ${masked} (${what || 'error'})${detail(text)}`),
  };
}
