import { hmac } from '@noble/hashes/hmac.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { constantTimeEqual, utf8 } from '../protocol/encoding.js';
import { assertE164, type SmsSender } from './sms.js';
import { checkTwilioConfig, TWILIO_TIMEOUT_MS, type TwilioSmsConfig, twilioSendErrors } from './sms-twilio-common.js';

// Twilio's Messages API as one form POST through fetch, for Workers: the twilio package needs
// nodejs_compat and adds about 544 KiB gzip. Settings, error mapping and redaction are shared with
// the SDK sender through sms-twilio-common.ts, so both senders fail alike.

/** The API host the twilio SDK would pick for a region and edge. */
const apiHost = ({ region, edge }: TwilioSmsConfig) =>
  region || edge ? `api.${[edge, region || 'us1'].filter(Boolean).join('.')}.twilio.com` : 'api.twilio.com';

/**
 * Sends SMS with a plain form POST. Errors become SmsError with a message safe to log (see
 * twilioSendErrors). The request is aborted after timeoutMs, so a Twilio that never answers fails
 * the send as unavailable. Twilio signs inbound webhooks with the auth token, so verifyWebhook
 * exists only when that token is set.
 */
export function createTwilioFetchSmsSender(
  config: TwilioSmsConfig,
  options: { fetch?: (url: string, init: RequestInit) => Promise<Response>; timeoutMs?: number } = {},
): SmsSender {
  const { accountSid, authToken, messagingServiceSid, fromNumber } = config;
  const { username, password, hidden } = checkTwilioConfig(config);
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const timeoutMs = options.timeoutMs ?? TWILIO_TIMEOUT_MS;
  const authorization = `Basic ${btoa(`${username}:${password}`)}`;
  const url = `https://${apiHost(config)}/2010-04-01/Accounts/${accountSid}/Messages.json`;

  const sender: SmsSender = {
    name: 'twilio',
    async send({ to, body }) {
      assertE164(to);
      const errors = twilioSendErrors(hidden, { to, body });
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
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        const e = error as { name?: unknown; message?: unknown };
        throw errors.unreachable(typeof e?.name === 'string' ? e.name : '', typeof e?.message === 'string' ? e.message : undefined);
      }
      const answer = (await response.json().catch(() => ({}))) as { sid?: unknown; code?: unknown; message?: unknown; detail?: unknown; title?: unknown };
      if (response.ok && typeof answer.sid === 'string') return { id: answer.sid };
      const code = typeof answer.code === 'number' && answer.code !== 0 ? answer.code : undefined;
      const text = [answer.message, answer.detail, answer.title].find((t): t is string => typeof t === 'string');
      throw errors.refused(response.ok ? 502 : response.status, code, text);
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
