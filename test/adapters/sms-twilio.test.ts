import { inspect } from 'node:util';
import twilio from 'twilio';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { maskNumber, type SmsFailure } from '../../src/adapters/sms.js';
import type { TwilioSmsConfig } from '../../src/adapters/sms-twilio-common.js';
import { validateTwilioWebhook } from '../../src/adapters/sms-twilio.js';
import { verifyTwilioSignature } from '../../src/adapters/sms-twilio-fetch.js';
import { startTwilioFake, type TwilioFake, twilioError } from '../fakes/twilio-fake.js';
import { ACCOUNT_SID, API_KEY_SECRET, API_KEY_SID, AUTH_TOKEN, basic, FAKE_ACCOUNT, FROM, hex, SERVICE_SID, TO } from '../fakes/twilio-fixtures.js';
import { smsErrorOf } from './sms-contract.js';
import { TWILIO_SECRETS, twilioSenders } from './twilio-senders.js';

// What both Twilio senders must do beyond the SmsSender contract (sms.test.ts), each against the
// same local fake: the SDK sender through twilio's RequestClient, the fetch sender through fetch.

const messagesUrl = (host: string) => `https://${host}/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`;

/** Nothing secret anywhere in the error, including anything it links to. */
function expectNoSecrets(error: Error) {
  const everything = `${error.message}\n${inspect(error, { depth: 20, showHidden: true })}`;
  for (const secret of [...TWILIO_SECRETS, TO, TO.slice(1)]) expect(everything).not.toContain(secret);
}

describe.each(twilioSenders)('$kind', ({ create }) => {
  let fake: TwilioFake;
  beforeAll(async () => {
    fake = await startTwilioFake(FAKE_ACCOUNT);
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    fake.requests.length = 0;
  });

  const senderWith = (config: Partial<TwilioSmsConfig>, options?: { timeoutMs?: number }) => create(fake.url, config, options);
  const byToken = { authToken: AUTH_TOKEN, fromNumber: FROM };

  describe('happy', () => {
    it('sends from a number with the auth token: exact form fields, Basic auth, Twilio host', async () => {
      const { sender, requested } = senderWith(byToken);
      const body = 'Your Homing code is 123456. Ne le partagez pas ✓';
      const result = await sender.send({ to: TO, body });

      expect(sender.name).toBe('twilio');
      expect(result.id).toMatch(/^SM[0-9a-f]{32}$/);
      expect(requested).toEqual([messagesUrl('api.twilio.com')]);
      expect(fake.requests).toHaveLength(1);
      const [request] = fake.requests;
      expect(request).toMatchObject({ method: 'POST', path: `/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json` });
      expect(request!.headers.authorization).toBe(basic(ACCOUNT_SID, AUTH_TOKEN));
      expect(request!.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(request!.form).toEqual({ To: TO, From: FROM, Body: body });
    });

    it('sends through a Messaging Service with an API key, and asks for status callbacks when set', async () => {
      const { sender } = senderWith({ apiKeySid: API_KEY_SID, apiKeySecret: API_KEY_SECRET, messagingServiceSid: SERVICE_SID, statusCallbackUrl: 'https://homing.example/sms/status' });
      const result = await sender.send({ to: TO, body: 'code 654321' });

      expect(result.id).toMatch(/^SM[0-9a-f]{32}$/);
      const [request] = fake.requests;
      // The key authenticates; the account SID still names the account in the path.
      expect(request!.path).toBe(`/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`);
      expect(request!.headers.authorization).toBe(basic(API_KEY_SID, API_KEY_SECRET));
      expect(request!.form).toEqual({ To: TO, MessagingServiceSid: SERVICE_SID, Body: 'code 654321', StatusCallback: 'https://homing.example/sms/status' });
    });

    it('prefers the API key when an auth token is also configured (the token then only checks webhooks)', async () => {
      await senderWith({ ...byToken, apiKeySid: API_KEY_SID, apiKeySecret: API_KEY_SECRET }).sender.send({ to: TO, body: 'x' });
      expect(fake.requests[0]!.headers.authorization).toBe(basic(API_KEY_SID, API_KEY_SECRET));
    });

    it.each([
      { region: 'ie1', edge: 'dublin', host: 'api.dublin.ie1.twilio.com' },
      { region: 'au1', edge: undefined, host: 'api.au1.twilio.com' },
      { region: undefined, edge: 'sydney', host: 'api.sydney.us1.twilio.com' },
    ])('region $region and edge $edge make it ask for $host', async ({ region, edge, host }) => {
      const { sender, requested } = senderWith({ ...byToken, region, edge });
      await sender.send({ to: TO, body: 'hello' });
      expect(requested).toEqual([messagesUrl(host)]);
      expect(fake.requests[0]!.form).toEqual({ To: TO, From: FROM, Body: 'hello' });
    });

    it('takes region and edge from its config only, never from TWILIO_* variables in the environment', async () => {
      vi.stubEnv('TWILIO_REGION', 'au1');
      vi.stubEnv('TWILIO_EDGE', 'sydney');
      try {
        const { sender, requested } = senderWith(byToken);
        await sender.send({ to: TO, body: 'hello' });
        expect(requested).toEqual([messagesUrl('api.twilio.com')]);
      } finally {
        vi.unstubAllEnvs();
      }
    });
  });

  describe('errors', () => {
    // Twilio's messages quote the number; each also echoes the bare number, the token and the body.
    const echoed = (text: string) => `${text.replace('{to}', TO)} (${TO.slice(1)}, ${AUTH_TOKEN}, 'code 947201')`;
    it.each<[number, number | undefined, string, SmsFailure]>([
      [400, 21211, "The 'To' number {to} is not a valid phone number.", 'invalid_number'],
      [400, 21614, "'To' number {to} is not a valid mobile number", 'invalid_number'],
      [400, 21217, 'Phone number {to} does not appear to be valid', 'invalid_number'],
      [400, 21408, "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: {to}.", 'unreachable'],
      [400, 21610, 'Attempt to send to unsubscribed recipient {to}', 'unreachable'],
      [400, 21612, "The 'To' phone number: {to}, is not currently reachable using the 'From' phone number via SMS.", 'unreachable'],
      [400, 30003, 'Unreachable destination handset', 'unreachable'],
      [400, 30004, 'Message blocked', 'unreachable'],
      [400, 30005, 'Unknown destination handset', 'unreachable'],
      [400, 30006, 'Landline or unreachable carrier', 'unreachable'],
      [400, 21606, "The From phone number is not a valid, SMS-capable inbound phone number for {to}", 'unavailable'],
      [429, 20429, 'Too Many Requests', 'rate_limited'],
      [429, undefined, 'Too Many Requests', 'rate_limited'],
      [401, 20003, 'Authenticate', 'auth_failed'],
      [401, undefined, 'Unauthorized', 'auth_failed'],
      [500, 20500, 'Internal Server Error', 'unavailable'],
      [500, undefined, 'Internal Server Error', 'unavailable'],
      [503, 20503, 'Service Unavailable', 'unavailable'],
    ])('HTTP %i code %s → %s, with the number masked and nothing secret echoed', async (status, code, message, failure) => {
      const { sender } = senderWith(byToken);
      fake.failNext(status, code === undefined ? { message: echoed(message), status } : twilioError(code, echoed(message), status));
      const error = await smsErrorOf(sender.send({ to: TO, body: 'code 947201' }));
      expect(error.failure).toBe(failure);
      expect(error.message).toContain(maskNumber(TO));
      expect(error.message).toContain(`HTTP ${status}`);
      expect(error.message).not.toContain('947201');
      expectNoSecrets(error);
      expect(fake.requests).toHaveLength(1);
    });

    it('maps an RFC 9457 problem body (TwilioServiceException) by its code', async () => {
      const { sender } = senderWith(byToken);
      fake.failNext(400, {
        type: 'https://www.twilio.com/docs/errors/21211',
        title: "Invalid 'To' Phone Number",
        status: 400,
        code: 21211,
        detail: `The 'To' number ${TO} is not a valid phone number.`,
      });
      const error = await smsErrorOf(sender.send({ to: TO, body: 'x' }));
      expect(error.failure).toBe('invalid_number');
      expectNoSecrets(error);
    });

    it('a 5xx without a Twilio error body is unavailable', async () => {
      fake.failNext(502, {});
      const error = await smsErrorOf(senderWith(byToken).sender.send({ to: TO, body: 'x' }));
      expect(error.failure).toBe('unavailable');
      expectNoSecrets(error);
    });

    it('a wrong auth token is refused by Twilio, and the send fails as auth_failed', async () => {
      const error = await smsErrorOf(senderWith({ authToken: hex(16), fromNumber: FROM }).sender.send({ to: TO, body: 'x' }));
      expect(error.failure).toBe('auth_failed');
      expect(error.message).toContain('code 20003');
      expectNoSecrets(error);
    });

    it('redacts the number, SIDs and credentials even when Twilio quotes them back', async () => {
      const { sender } = senderWith({ apiKeySid: API_KEY_SID, apiKeySecret: API_KEY_SECRET, messagingServiceSid: SERVICE_SID });
      const quoted = `From ${TO.slice(1)} on ${ACCOUNT_SID} by ${API_KEY_SID} with secret ${API_KEY_SECRET} (${basic(API_KEY_SID, API_KEY_SECRET)}) is not valid for 'code 947201'`;
      fake.failNext(400, twilioError(21606, quoted, 400));
      const error = await smsErrorOf(sender.send({ to: TO, body: 'code 947201' }));
      expect(error.message).not.toContain('947201');
      expect(error.failure).toBe('unavailable');
      expect(error.message).toContain('code 21606');
      expectNoSecrets(error);
    });

    it('a Twilio that cannot be reached is unavailable', async () => {
      const closed = await startTwilioFake(FAKE_ACCOUNT);
      await closed.close();
      const error = await smsErrorOf(create(closed.url, byToken).sender.send({ to: TO, body: 'x' }));
      expect(error.failure).toBe('unavailable');
      expect(error.message).toContain(maskNumber(TO));
      expectNoSecrets(error);
    });

    it('a Twilio that never answers is unavailable once the client times out', async () => {
      const { sender } = senderWith(byToken, { timeoutMs: 300 });
      fake.hangNext();
      const started = performance.now();
      const error = await smsErrorOf(sender.send({ to: TO, body: 'x' }));
      // Only the sender's 300 ms can end it this soon: the fake never answers, and no other timeout is shorter than 10 s.
      expect(performance.now() - started).toBeLessThan(3_000);
      expect(error.failure).toBe('unavailable');
      expect(error.message).toMatch(/timeout/i);
      expect(error.message).toContain(maskNumber(TO));
      expectNoSecrets(error);
    });

    it.each<[string, Partial<TwilioSmsConfig>, RegExp]>([
      ['both senders', { ...byToken, messagingServiceSid: SERVICE_SID }, /exactly one of messagingServiceSid and fromNumber/],
      ['no sender', { authToken: AUTH_TOKEN }, /exactly one of messagingServiceSid and fromNumber/],
      ['no credentials', { fromNumber: FROM }, /authToken, or apiKeySid with apiKeySecret/],
      ['a key without its secret', { apiKeySid: API_KEY_SID, fromNumber: FROM }, /apiKeySid and apiKeySecret together/],
      ['a secret without its key', { apiKeySecret: API_KEY_SECRET, fromNumber: FROM }, /apiKeySid and apiKeySecret together/],
      ['a key SID that is not one', { apiKeySid: ACCOUNT_SID, apiKeySecret: API_KEY_SECRET, fromNumber: FROM }, /apiKeySid must start with "SK"/],
      ['an account SID that is not one', { accountSid: API_KEY_SID, ...byToken }, /accountSid must be set and start with "AC"/],
    ])('config with %s is refused at creation with a clear Error', (_, config, message) => {
      let thrown: unknown;
      try {
        senderWith(config);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(Error);
      expect((thrown as Error).message).toMatch(message);
      expect(`${(thrown as Error).message}\n${inspect(thrown)}`).not.toMatch(new RegExp([AUTH_TOKEN, API_KEY_SECRET].join('|')));
    });
  });

  describe('security', () => {
    it('verifies inbound webhooks only when it holds the auth token', () => {
      const url = 'https://homing.example.org/v1/sim/inbound';
      const params = { From: TO, Body: 'HOMING abc123' };
      const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, params);
      const { sender } = senderWith(byToken);
      expect(sender.verifyWebhook?.({ signature, url, params })).toBe(true);
      expect(sender.verifyWebhook?.({ signature: twilio.getExpectedTwilioSignature(hex(16), url, params), url, params })).toBe(false);
      expect(senderWith({ apiKeySid: API_KEY_SID, apiKeySecret: API_KEY_SECRET, fromNumber: FROM }).sender.verifyWebhook).toBeUndefined();
    });
  });
});

describe.each([
  { checker: 'validateTwilioWebhook (twilio SDK)', verify: validateTwilioWebhook },
  { checker: 'verifyTwilioSignature (no SDK, for Workers)', verify: verifyTwilioSignature },
])('$checker, against twilio’s own signatures', ({ verify }) => {
  const url = 'https://homing.example/sms/inbound?tenant=1';
  const params = { AccountSid: ACCOUNT_SID, MessageSid: `SM${hex(16)}`, From: TO, To: FROM, Body: 'VERIFY abc123 ✓', b: '', a: 'x' };
  const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, params);

  it('accepts what Twilio signs, with or without the default port, as twilio.validateRequest does', () => {
    for (const signedUrl of [url, 'https://homing.example:443/sms/inbound?tenant=1']) {
      const signed = twilio.getExpectedTwilioSignature(AUTH_TOKEN, signedUrl, params);
      expect(verify({ authToken: AUTH_TOKEN, signature: signed, url, params })).toBe(true);
      expect(twilio.validateRequest(AUTH_TOKEN, signed, url, params)).toBe(true);
    }
  });

  const { Body: _dropped, ...withoutBody } = params;
  type Change = Partial<Parameters<typeof verify>[0]>;
  it.each<[string, Change]>([
    ['forged with another token', { signature: twilio.getExpectedTwilioSignature(hex(16), url, params) }],
    ['unsigned', { signature: undefined }],
    ['with an empty signature', { signature: '' }],
    ['with a tampered param', { params: { ...params, Body: 'VERIFY evil' } }],
    ['with an added param', { params: { ...params, Extra: '1' } }],
    ['with a dropped param', { params: withoutBody }],
    ['for a different path', { url: 'https://homing.example/sms/status?tenant=1' }],
    ['for a different query', { url: 'https://homing.example/sms/inbound?tenant=2' }],
    ['for a different host', { url: 'https://evil.example/sms/inbound?tenant=1' }],
    ['checked with no auth token', { authToken: '' }],
    // twilio alone would accept this: an HMAC under the empty key is still an HMAC.
    ['signed and checked with an empty auth token', { authToken: '', signature: twilio.getExpectedTwilioSignature('', url, params) }],
  ])('rejects a request %s', (_, change) => {
    expect(verify({ authToken: AUTH_TOKEN, signature, url, params, ...change })).toBe(false);
  });
});
