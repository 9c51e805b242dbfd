import type { Config } from '../config.js';
import type { Logger } from './log.js';
import type { SmsSender } from './sms.js';
import { createLogSmsSender } from './sms-log.js';
import { createTwilioSmsSender, type TwilioHttpClient, validateTwilioWebhook } from './sms-twilio.js';

/**
 * The SMS sender the configuration names. Twilio signs inbound webhooks with the account's auth
 * token, so inbound verification is available only when that token is configured.
 */
export function createNodeSmsSender(config: Config['sms'], log: Logger, options: { httpClient?: TwilioHttpClient } = {}): SmsSender {
  if (config.provider === 'log') return createLogSmsSender({ outboxPath: config.outboxPath, log });
  const sender = createTwilioSmsSender(config, options);
  const { authToken } = config;
  if (!authToken) return sender;
  return { ...sender, verifyWebhook: (input) => validateTwilioWebhook({ authToken, ...input }) };
}
