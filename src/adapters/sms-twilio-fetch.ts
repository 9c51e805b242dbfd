import { hmac } from '@noble/hashes/hmac.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { constantTimeEqual, utf8 } from '../protocol/encoding.js';
import { maskNumber, SmsError, type SmsFailure, type SmsSender } from './sms.js';
import type { TwilioSmsConfig } from './sms-twilio.js';

// Twilio's Messages API as one form POST through fetch, for Workers: the twilio package needs
// nodejs_compat and adds about 544 KiB gzip. The error mapping and redaction live here, free of
// the SDK, and src/adapters/sms-twilio.ts uses the same ones, so both senders fail alike.

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

export const twilioFailure = (status: number, code: number | undefined): SmsFailure => {
  const byCode = code === undefined ? undefined : failureByCode[code];
  if (byCode) return byCode;
  if (status === 429) return 'rate_limited';
  if (status === 401) return 'auth_failed';
  // 5xx, and any refusal we have no better name for (a misconfigured sender, say), is a provider failure.
  return 'unavailable';
};

/** Removes the number (Twilio's messages quote it), the body (it carries a code) and every secret. */
export function twilioRedactor(to: string, body: string, secrets: string[]) {
  const masked = maskNumber(to);
  return (text: string) => {
    let out = text.split(to).join(masked).split(to.slice(1)).join(masked);
    if (body.length >= 4) out = out.split(body).join('[body]');
    for (const secret of secrets) out = out.split(secret).join('[redacted]');
    return out;
  };
}

/** The API host the twilio SDK would pick for a region and edge. */
const apiHost = ({ region, edge }: TwilioSmsConfig) =>
  region || edge ? `api.${[edge, region || 'us1'].filter(Boolean).join('.')}.twilio.com` : 'api.twilio.com';

/**
 * Sends SMS with a plain form POST. Errors become SmsError with a message safe to log: the number
 * is masked and no credential appears. Checks the same settings as the SDK sender. Twilio signs
 * inbound webhooks with the auth token, so verifyWebhook exists only when that token is set.
 */
export function createTwilioFetchSmsSender(
  config: TwilioSmsConfig,
  options: { fetch?: (url: string, init: RequestInit) => Promise<Response> } = {},
): SmsSender {
  const { accountSid, authToken, apiKeySid, apiKeySecret, messagingServiceSid, fromNumber } = config;
  if (!accountSid?.startsWith('AC')) throw new Error('Twilio: accountSid must be set and start with "AC"');
  if (Boolean(apiKeySid) !== Boolean(apiKeySecret)) throw new Error('Twilio: set apiKeySid and apiKeySecret together');
  if (apiKeySid && !apiKeySid.startsWith('SK')) throw new Error('Twilio: apiKeySid must start with "SK"');
  if (!authToken && !apiKeySid) throw new Error('Twilio: set authToken, or apiKeySid with apiKeySecret');
  if (Boolean(messagingServiceSid) === Boolean(fromNumber)) throw new Error('Twilio: set exactly one of messagingServiceSid and fromNumber');

  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const [username, password] = apiKeySid ? [apiKeySid, apiKeySecret!] : [accountSid, authToken!];
  const authorization = `Basic ${btoa(`${username}:${password}`)}`;
  const url = `https://${apiHost(config)}/2010-04-01/Accounts/${accountSid}/Messages.json`;
  const secrets = [authToken, apiKeySecret].filter((s): s is string => Boolean(s));

  const sender: SmsSender = {
    name: 'twilio',
    async send({ to, body }) {
      const masked = maskNumber(to);
      if (!/^\+[1-9]\d{6,14}$/.test(to)) throw new SmsError('invalid_number', `not an E.164 number: ${masked}`);
      const redact = twilioRedactor(to, body, secrets);
      const form = new URLSearchParams({ To: to, Body: body });
      if (messagingServiceSid) form.set('MessagingServiceSid', messagingServiceSid);
      else form.set('From', fromNumber!);
      if (config.statusCallbackUrl) form.set('StatusCallback', config.statusCallbackUrl);

      let response: Response;
      try {
        response = await doFetch(url, {
          method: 'POST',
          headers: { Authorization: authorization, 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
          body: form.toString(),
          redirect: 'manual',
        });
      } catch (error) {
        const e = error as { name?: unknown; message?: unknown };
        const detail = typeof e?.message === 'string' ? `: ${redact(e.message)}` : '';
        throw new SmsError('unavailable', `Twilio could not be reached for the SMS to ${masked} (${typeof e?.name === 'string' ? e.name : 'error'})${detail}`);
      }
      const answer = (await response.json().catch(() => ({}))) as { sid?: unknown; code?: unknown; message?: unknown; detail?: unknown; title?: unknown };
      if (response.ok && typeof answer.sid === 'string') return { id: answer.sid };
      const code = typeof answer.code === 'number' && answer.code !== 0 ? answer.code : undefined;
      const text = [answer.message, answer.detail, answer.title].find((t): t is string => typeof t === 'string');
      const status = response.ok ? 502 : response.status;
      throw new SmsError(twilioFailure(status, code), `Twilio refused the SMS to ${masked} (HTTP ${status}, code ${code ?? 'none'})${text ? `: ${redact(text)}` : ''}`);
    },
  };
  if (authToken) sender.verifyWebhook = (input) => verifyTwilioSignature({ authToken, ...input });
  return sender;
}

/**
 * Checks an X-Twilio-Signature as twilio's validateRequest does for a URL that is already
 * normalized (ours comes from PUBLIC_URL): base64 HMAC-SHA1 under the auth token of the URL,
 * then each form field's name and value in sorted order; the URL is tried with and without its
 * default port, as Twilio may sign either. Compared in constant time; an empty token never passes.
 */
export function verifyTwilioSignature(input: { authToken: string; signature: string | undefined; url: string; params: Record<string, string> }) {
  const { authToken, signature, url, params } = input;
  if (!signature || !authToken) return false;
  const fields = Object.keys(params).sort().map((name) => name + params[name]).join('');
  return urlVariants(url).some((candidate) => {
    const expected = btoa(String.fromCharCode(...hmac(sha1, utf8(authToken), utf8(candidate + fields))));
    return constantTimeEqual(expected, signature);
  });
}

function urlVariants(url: string) {
  const parts = /^(https?:\/\/)([^/?#@]*@)?([^/?#:]+)(:\d+)?(.*)$/i.exec(url);
  if (!parts) return [url];
  const [, scheme, user = '', host, port, rest] = parts;
  const defaultPort = scheme!.toLowerCase() === 'https://' ? ':443' : ':80';
  return [scheme! + user + host + rest, scheme! + user + host + (port ?? defaultPort) + rest];
}
