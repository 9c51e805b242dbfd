import twilio from 'twilio';
import { maskNumber, SmsError, type SmsSender } from './sms.js';
import { twilioFailure, twilioRedactor } from './sms-twilio-fetch.js';

export interface TwilioSmsConfig {
  accountSid: string;
  /** Either the auth token, or an API key: apiKeySid with apiKeySecret. The key wins when both are set. */
  authToken?: string;
  apiKeySid?: string;
  apiKeySecret?: string;
  /** Exactly one of messagingServiceSid and fromNumber. */
  messagingServiceSid?: string;
  fromNumber?: string;
  /** Twilio region (e.g. ie1) and edge (e.g. dublin); the SDK turns them into the API host. */
  region?: string;
  edge?: string;
  statusCallbackUrl?: string;
}

/** What the SDK calls on its http client: twilio's own RequestClient, or anything with its request(). */
export type TwilioHttpClient = Pick<twilio.RequestClient, 'request'>;

// The error mapping and redaction are shared with the fetch sender used on Workers.

/**
 * Sends SMS through Twilio's Messages API with the official SDK. Errors become SmsError with a
 * message safe to log: the number is masked and no credential appears. The SDK's own error is
 * deliberately not kept as `cause`: axios errors carry the Authorization header, and Twilio's
 * messages quote the full number.
 */
export function createTwilioSmsSender(config: TwilioSmsConfig, options: { httpClient?: TwilioHttpClient } = {}): SmsSender {
  const { accountSid, authToken, apiKeySid, apiKeySecret, messagingServiceSid, fromNumber } = config;
  if (!accountSid?.startsWith('AC')) throw new Error('Twilio: accountSid must be set and start with "AC"');
  if (Boolean(apiKeySid) !== Boolean(apiKeySecret)) {
    throw new Error('Twilio: set apiKeySid and apiKeySecret together');
  }
  if (apiKeySid && !apiKeySid.startsWith('SK')) throw new Error('Twilio: apiKeySid must start with "SK"');
  if (!authToken && !apiKeySid) throw new Error('Twilio: set authToken, or apiKeySid with apiKeySecret');
  if (Boolean(messagingServiceSid) === Boolean(fromNumber)) {
    throw new Error('Twilio: set exactly one of messagingServiceSid and fromNumber');
  }

  const [username, password] = apiKeySid ? [apiKeySid, apiKeySecret!] : [accountSid, authToken!];
  const client = twilio(username, password, {
    accountSid,
    // '' rather than undefined: the SDK otherwise falls back to process.env TWILIO_REGION,
    // TWILIO_EDGE and TWILIO_LOG_LEVEL (debug prints requests with console.log), and only the
    // parsed config should decide.
    region: config.region ?? '',
    edge: config.edge ?? '',
    logLevel: '',
    // The SDK only ever calls request(); its option is typed as the whole RequestClient class.
    httpClient: options.httpClient as twilio.RequestClient | undefined,
  });
  const secrets = [authToken, apiKeySecret].filter((s): s is string => Boolean(s));

  return {
    name: 'twilio',
    async send({ to, body }) {
      const masked = maskNumber(to);
      if (!/^\+[1-9]\d{6,14}$/.test(to)) throw new SmsError('invalid_number', `not an E.164 number: ${masked}`);
      const redact = twilioRedactor(to, body, secrets);
      try {
        const message = await client.messages.create({
          to,
          body,
          ...(messagingServiceSid ? { messagingServiceSid } : { from: fromNumber! }),
          ...(config.statusCallbackUrl ? { statusCallback: config.statusCallbackUrl } : {}),
        });
        return { id: message.sid };
      } catch (error) {
        throw toSmsError(error, masked, redact);
      }
    },
  };
}

function toSmsError(error: unknown, masked: string, redact: (text: string) => string): SmsError {
  const refusal = twilioRefusal(error);
  if (refusal) {
    const { status, code, message } = refusal;
    const detail = message ? `: ${redact(message)}` : '';
    return new SmsError(twilioFailure(status, code), `Twilio refused the SMS to ${masked} (HTTP ${status}, code ${code ?? 'none'})${detail}`);
  }
  const e = error as { name?: unknown; code?: unknown; message?: unknown } | undefined;
  const what = [e?.name, e?.code].filter((part) => typeof part === 'string' && part).join(' ');
  const message = typeof e?.message === 'string' ? `: ${redact(e.message)}` : '';
  return new SmsError('unavailable', `Twilio could not be reached for the SMS to ${masked} (${what || 'error'})${message}`);
}

/**
 * A RestException, or the SDK's RFC 9457 TwilioServiceException, which the package does not
 * export: recognised by its fields, since a bundler may rename the class.
 */
function twilioRefusal(error: unknown): { status: number; code: number | undefined; message: string | undefined } | undefined {
  if (error instanceof twilio.RestException) {
    return { status: error.status, code: error.code, message: error.message };
  }
  const e = error as { status?: unknown; title?: unknown; type?: unknown; code?: unknown; detail?: unknown } | undefined;
  if (error instanceof Error && typeof e?.status === 'number' && typeof e.title === 'string' && typeof e.type === 'string') {
    return {
      status: e.status,
      code: typeof e.code === 'number' && e.code !== 0 ? e.code : undefined,
      message: typeof e.detail === 'string' ? e.detail : e.title,
    };
  }
  return undefined;
}

/**
 * Checks the X-Twilio-Signature of a webhook Twilio sent us, with twilio's own validateRequest:
 * an HMAC of the URL and the sorted form params under the auth token, compared in constant time.
 * url must be the exact public URL configured at Twilio, not one rebuilt from proxied headers.
 */
export function validateTwilioWebhook(input: {
  authToken: string;
  signature: string | undefined;
  url: string;
  params: Record<string, string>;
}): boolean {
  if (!input.signature || !input.authToken) return false;
  return twilio.validateRequest(input.authToken, input.signature, input.url, input.params);
}
