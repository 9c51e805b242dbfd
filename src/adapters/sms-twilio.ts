import { createRequire } from 'node:module';
import type twilioModule from 'twilio';
import { assertE164, type SmsSender } from './sms.js';
import { checkTwilioConfig, TWILIO_TIMEOUT_MS, type TwilioSmsConfig, twilioSendErrors } from './sms-twilio-common.js';

// The SDK is required when a Twilio sender is first made, not imported with this module: it adds
// several MiB to an idle server, and most servers run the log provider and never need it.
let loaded: typeof twilioModule | undefined;
const sdk = () => (loaded ??= createRequire(import.meta.url)('twilio') as typeof twilioModule);

/** What the SDK calls on its http client: twilio's own RequestClient, or anything with its request(). */
export type TwilioHttpClient = Pick<twilioModule.RequestClient, 'request'>;

/**
 * Sends SMS through Twilio's Messages API with the official SDK. Errors become SmsError with a
 * message safe to log (see twilioSendErrors); the SDK's own error is deliberately not kept.
 * Each request carries timeoutMs, so a Twilio that never answers fails the send as unavailable.
 */
export function createTwilioSmsSender(
  config: TwilioSmsConfig,
  options: { httpClient?: TwilioHttpClient; timeoutMs?: number } = {},
): SmsSender {
  const { messagingServiceSid, fromNumber } = config;
  const { username, password, hidden } = checkTwilioConfig(config);
  const timeout = options.timeoutMs ?? TWILIO_TIMEOUT_MS;
  const twilio = sdk();
  const http = options.httpClient ?? new twilio.RequestClient({ timeout });
  const client = twilio(username, password, {
    accountSid: config.accountSid,
    // '' rather than undefined: the SDK otherwise falls back to process.env TWILIO_REGION,
    // TWILIO_EDGE and TWILIO_LOG_LEVEL (debug prints requests with console.log), and only the
    // parsed config should decide.
    region: config.region ?? '',
    edge: config.edge ?? '',
    logLevel: '',
    // The SDK only ever calls request(); its option is typed as the whole RequestClient class.
    httpClient: { request: (opts) => http.request({ ...opts, timeout }) } satisfies TwilioHttpClient as twilioModule.RequestClient,
  });

  return {
    name: 'twilio',
    async send({ to, body }) {
      assertE164(to);
      const errors = twilioSendErrors(hidden, { to, body });
      try {
        const message = await client.messages.create({
          to,
          body,
          ...(messagingServiceSid ? { messagingServiceSid } : { from: fromNumber! }),
          ...(config.statusCallbackUrl ? { statusCallback: config.statusCallbackUrl } : {}),
        });
        return { id: message.sid };
      } catch (error) {
        const refusal = twilioRefusal(error);
        if (refusal) throw errors.refused(refusal.status, refusal.code, refusal.message);
        const e = error as { name?: unknown; code?: unknown; message?: unknown } | undefined;
        const what = [e?.name, e?.code].filter((part) => typeof part === 'string' && part).join(' ');
        throw errors.unreachable(what, typeof e?.message === 'string' ? e.message : undefined);
      }
    },
  };
}

/**
 * A RestException, or the SDK's RFC 9457 TwilioServiceException, which the package does not
 * export: recognised by its fields, since a bundler may rename the class.
 */
function twilioRefusal(error: unknown): { status: number; code: number | undefined; message: string | undefined } | undefined {
  if (error instanceof sdk().RestException) {
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
  return sdk().validateRequest(input.authToken, input.signature, input.url, input.params);
}
