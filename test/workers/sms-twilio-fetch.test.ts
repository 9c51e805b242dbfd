import twilio from 'twilio';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SmsError } from '../../src/adapters/sms.js';
import { createTwilioFetchSmsSender, verifyTwilioSignature } from '../../src/adapters/sms-twilio-fetch.js';
import type { TwilioSmsConfig } from '../../src/adapters/sms-twilio.js';
import { startTwilioFake, type TwilioFake, twilioError } from '../fakes/twilio-fake.js';
import { ACCOUNT_SID, API_KEY_SECRET, API_KEY_SID, AUTH_TOKEN, basic, FROM, hex, SERVICE_SID, TO } from '../fakes/twilio-fixtures.js';

// The Workers SMS sender (a plain fetch form POST), against the same local Twilio fake as the
// SDK sender. It runs on Node: the fake is a Node server, and the sender uses only fetch.


async function smsErrorOf(promise: Promise<unknown>): Promise<SmsError> {
  const error = await promise.then(() => expect.unreachable('send resolved'), (e: unknown) => e);
  expect(error).toBeInstanceOf(SmsError);
  return error as SmsError;
}

describe('Twilio SMS sender over fetch, to a local fake', () => {
  let fake: TwilioFake;
  const requested: string[] = [];
  beforeAll(async () => {
    fake = await startTwilioFake();
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    fake.requests.length = 0;
    requested.length = 0;
  });

  /** Sends to the fake, keeping the URL the sender meant to reach. */
  const senderWith = (config: Partial<TwilioSmsConfig>) =>
    createTwilioFetchSmsSender({ accountSid: ACCOUNT_SID, ...config }, {
      fetch: (url, init) => {
        requested.push(url);
        const { pathname } = new URL(url);
        return fetch(`${fake.url}${pathname}`, init);
      },
    });

  it('sends from a number with the auth token: exact form fields, Basic auth, Twilio host', async () => {
    const body = 'Your Homing code is 123456. Ne le partagez pas ✓';
    const result = await senderWith({ authToken: AUTH_TOKEN, fromNumber: FROM }).send({ to: TO, body });
    expect(result.id).toMatch(/^SM[0-9a-f]{32}$/);
    expect(requested).toEqual([`https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`]);
    const [request] = fake.requests;
    expect(request).toMatchObject({ method: 'POST', path: `/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json` });
    expect(request!.headers.authorization).toBe(basic(ACCOUNT_SID, AUTH_TOKEN));
    expect(request!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request!.form).toEqual({ To: TO, From: FROM, Body: body });
  });

  it('sends through a Messaging Service with an API key, to the region and edge host', async () => {
    const sender = senderWith({ apiKeySid: API_KEY_SID, apiKeySecret: API_KEY_SECRET, messagingServiceSid: SERVICE_SID, region: 'ie1', edge: 'dublin', statusCallbackUrl: 'https://homing.example/sms/status' });
    await sender.send({ to: TO, body: 'code 654321' });
    expect(new URL(requested[0]!).host).toBe('api.dublin.ie1.twilio.com');
    expect(fake.requests[0]!.headers.authorization).toBe(basic(API_KEY_SID, API_KEY_SECRET));
    expect(fake.requests[0]!.form).toEqual({ To: TO, MessagingServiceSid: SERVICE_SID, Body: 'code 654321', StatusCallback: 'https://homing.example/sms/status' });
    await senderWith({ authToken: AUTH_TOKEN, fromNumber: FROM, region: 'au1' }).send({ to: TO, body: 'x' });
    await senderWith({ authToken: AUTH_TOKEN, fromNumber: FROM, edge: 'sydney' }).send({ to: TO, body: 'x' });
    expect(requested.slice(1).map((u) => new URL(u).host)).toEqual(['api.au1.twilio.com', 'api.sydney.us1.twilio.com']);
  });

  it.each([
    [400, 21211, 'invalid_number'],
    [400, 21610, 'unreachable'],
    [429, 20429, 'rate_limited'],
    [401, 20003, 'auth_failed'],
    [500, undefined, 'unavailable'],
    [400, 21606, 'unavailable'],
  ] as const)('maps HTTP %i, code %s to %s, with nothing secret in the message', async (status, code, failure) => {
    const text = `To ${TO} from ${TO.slice(1)} with ${AUTH_TOKEN} and body 'code 947201'`;
    fake.failNext(status, code === undefined ? { message: text, status } : twilioError(code, text, status));
    const error = await smsErrorOf(senderWith({ authToken: AUTH_TOKEN, fromNumber: FROM }).send({ to: TO, body: 'code 947201' }));
    expect(error.failure).toBe(failure);
    expect(error.message).toContain('+44••••••••23');
    for (const secret of [TO, TO.slice(1), AUTH_TOKEN, 'code 947201']) expect(error.message).not.toContain(secret);
  });

  it('reports an unreachable Twilio as unavailable, and refuses a number that is not E.164 unsent', async () => {
    const down = createTwilioFetchSmsSender({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, fromNumber: FROM }, { fetch: () => fetch('http://127.0.0.1:1/') });
    expect((await smsErrorOf(down.send({ to: TO, body: 'code 1' }))).failure).toBe('unavailable');
    expect((await smsErrorOf(senderWith({ authToken: AUTH_TOKEN, fromNumber: FROM }).send({ to: '07700900123', body: 'x' }))).failure).toBe('invalid_number');
    expect(fake.requests).toHaveLength(0);
  });

  it('verifies inbound webhooks only when it holds the auth token', () => {
    const url = 'https://homing.example.org/v1/sim/inbound';
    const params = { From: TO, Body: 'HOMING abc123' };
    const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, params);
    expect(senderWith({ authToken: AUTH_TOKEN, fromNumber: FROM }).verifyWebhook?.({ signature, url, params })).toBe(true);
    expect(senderWith({ apiKeySid: API_KEY_SID, apiKeySecret: API_KEY_SECRET, fromNumber: FROM }).verifyWebhook).toBeUndefined();
  });

  it('refuses a configuration the SDK sender would refuse', () => {
    expect(() => createTwilioFetchSmsSender({ accountSid: ACCOUNT_SID, fromNumber: FROM })).toThrow(/authToken/);
    expect(() => createTwilioFetchSmsSender({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN })).toThrow(/exactly one/);
  });
});

describe('verifyTwilioSignature (no SDK), against twilio’s own signatures and checker', () => {
  const url = 'https://homing.example.org/v1/sim/inbound';
  const params = { From: TO, To: FROM, Body: 'HOMING abc123 ✓', MessageSid: `SM${hex(16)}`, AccountSid: ACCOUNT_SID, b: '', a: 'x' };

  it('accepts what Twilio signs, with or without the default port, as twilio.validateRequest does', () => {
    for (const signedUrl of [url, 'https://homing.example.org:443/v1/sim/inbound']) {
      const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, signedUrl, params);
      expect(verifyTwilioSignature({ authToken: AUTH_TOKEN, signature, url, params })).toBe(true);
      expect(twilio.validateRequest(AUTH_TOKEN, signature, url, params)).toBe(true);
    }
  });

  it.each([
    ['another token', { signature: twilio.getExpectedTwilioSignature(hex(16), url, params) }],
    ['another URL', { url: 'https://homing.example.org/v1/sim/other' }],
    ['a changed field', { params: { ...params, Body: 'HOMING abc124 ✓' } }],
    ['an added field', { params: { ...params, Extra: '1' } }],
    ['no signature', { signature: undefined }],
    ['an empty auth token', { authToken: '', signature: twilio.getExpectedTwilioSignature('', url, params) }],
  ] as const)('refuses %s', (_, change) => {
    const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, params);
    expect(verifyTwilioSignature({ authToken: AUTH_TOKEN, signature, url, params, ...change })).toBe(false);
  });
});
