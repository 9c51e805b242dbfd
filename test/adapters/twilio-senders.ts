import { createJsonLogger } from '../../src/adapters/log.js';
import type { SmsSender } from '../../src/adapters/sms.js';
import { createNodeSmsSender } from '../../src/adapters/sms-node.js';
import type { TwilioSmsConfig } from '../../src/adapters/sms-twilio-common.js';
import { createTwilioFetchSmsSender } from '../../src/adapters/sms-twilio-fetch.js';
import type { TwilioFake } from '../fakes/twilio-fake.js';
import { RedirectingTwilioHttpClient, redirectingFetch } from '../fakes/twilio-http-client.js';
import { ACCOUNT_SID, API_KEY_SECRET, AUTH_TOKEN, basic, API_KEY_SID } from '../fakes/twilio-fixtures.js';

export interface TwilioSenderUnderTest {
  sender: SmsSender;
  /** The URLs the sender meant to reach, before they were redirected to the fake. */
  requested: string[];
}

/**
 * Both Twilio senders, aimed at the Twilio fake at `target`: the SDK sender as Node wires it
 * (through twilio's own RequestClient), and the fetch sender Workers use (through Node's fetch).
 */
export const twilioSenders: Array<{
  kind: string;
  create(target: string, config: Partial<TwilioSmsConfig>, options?: { timeoutMs?: number }): TwilioSenderUnderTest;
}> = [
  {
    kind: 'twilio SDK sender',
    create(target, config, options = {}) {
      const httpClient = new RedirectingTwilioHttpClient(target);
      const sms = { provider: 'twilio' as const, accountSid: ACCOUNT_SID, ...config };
      const sender = createNodeSmsSender(sms, createJsonLogger('silent'), { httpClient, ...options });
      return { sender, requested: httpClient.requested };
    },
  },
  {
    kind: 'fetch sender',
    create(target, config, options = {}) {
      const requested: string[] = [];
      const sender = createTwilioFetchSmsSender({ accountSid: ACCOUNT_SID, ...config }, { fetch: redirectingFetch(target, requested), ...options });
      return { sender, requested };
    },
  },
];

/** What the fake was asked to send, in order. */
export const messagesSent = (fake: TwilioFake) =>
  fake.requests.filter((r) => r.path.endsWith('/Messages.json')).map(({ form }) => ({ to: form.To!, body: form.Body! }));

/** Every credential a Twilio sender holds, and the Basic encodings of both pairs. */
export const TWILIO_SECRETS = [AUTH_TOKEN, API_KEY_SECRET, ACCOUNT_SID, API_KEY_SID, basic(ACCOUNT_SID, AUTH_TOKEN).slice(6), basic(API_KEY_SID, API_KEY_SECRET).slice(6)];
