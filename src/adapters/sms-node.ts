import type { Logger } from './log.js';
import type { SmsSender } from './sms.js';
import { createLogSmsSender } from './sms-log.js';
import { createTwilioSmsSender, type TwilioHttpClient, validateTwilioWebhook } from './sms-twilio.js';
import type { TwilioSmsConfig } from './sms-twilio-common.js';

/** What SMS_PROVIDER and its settings parse to (src/config.ts). */
export type SmsConfig = { provider: 'log'; outboxPath: string } | ({ provider: 'twilio' } & TwilioSmsConfig);

/**
 * The SMS sender the configuration names. Twilio signs inbound webhooks with the account's auth
 * token, so inbound verification is available only when that token is configured.
 */
export function createNodeSmsSender(
  config: SmsConfig,
  log: Logger,
  options: { httpClient?: TwilioHttpClient; timeoutMs?: number } = {},
): SmsSender {
  if (config.provider === 'log') return createLogSmsSender({ outboxPath: config.outboxPath, log });
  const sender = createTwilioSmsSender(config, options);
  const { authToken } = config;
  if (!authToken) return sender;
  return { ...sender, verifyWebhook: (input) => validateTwilioWebhook({ authToken, ...input }) };
}
