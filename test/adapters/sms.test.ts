import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import twilio from 'twilio';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createJsonLogger } from '../../src/adapters/log.js';
import { maskNumber, SmsError, type SmsFailure } from '../../src/adapters/sms.js';
import { createLogSmsSender } from '../../src/adapters/sms-log.js';
import { createTwilioSmsSender, type TwilioSmsConfig, validateTwilioWebhook } from '../../src/adapters/sms-twilio.js';
import { startTwilioFake, type TwilioFake, twilioError } from '../fakes/twilio-fake.js';
import { RedirectingTwilioHttpClient } from '../fakes/twilio-http-client.js';
import { ACCOUNT_SID, API_KEY_SECRET, API_KEY_SID, AUTH_TOKEN, basic, FROM, hex, SERVICE_SID, TO } from '../fakes/twilio-fixtures.js';

const messagesUrl = (host: string) => `https://${host}/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`;

/** Rejects with the SmsError the promise throws, failing the test if it resolves or throws something else. */
async function smsErrorOf(promise: Promise<unknown>): Promise<SmsError> {
  const error = await promise.then(
    () => expect.unreachable('send resolved'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SmsError);
  return error as SmsError;
}

/** Nothing secret anywhere in the error, including anything it links to. */
function expectNoSecrets(error: Error) {
  const everything = `${error.message}\n${inspect(error, { depth: 20, showHidden: true })}`;
  for (const secret of [AUTH_TOKEN, API_KEY_SECRET, TO, TO.slice(1), basic(ACCOUNT_SID, AUTH_TOKEN).slice(6)]) {
    expect(everything).not.toContain(secret);
  }
}

describe('Twilio SMS sender, through the real twilio SDK to a local fake', () => {
  let fake: TwilioFake;
  beforeAll(async () => {
    fake = await startTwilioFake();
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.requests.length = 0;
  });

  const senderWith = (config: Partial<TwilioSmsConfig>, http = new RedirectingTwilioHttpClient(fake.url)) => ({
    http,
    sender: createTwilioSmsSender({ accountSid: ACCOUNT_SID, ...config }, { httpClient: http }),
  });

  describe('happy', () => {
    it('sends from a number with the auth token: exact form fields, Basic auth, Twilio host', async () => {
      const { sender, http } = senderWith({ authToken: AUTH_TOKEN, fromNumber: FROM });
      const body = 'Your Homing code is 123456. Ne le partagez pas ✓';
      const result = await sender.send({ to: TO, body });

      expect(sender.name).toBe('twilio');
      expect(result.id).toMatch(/^SM[0-9a-f]{32}$/);
      expect(http.requested).toEqual([{ method: 'post', uri: messagesUrl('api.twilio.com') }]);
      expect(fake.requests).toHaveLength(1);
      const [request] = fake.requests;
      expect(request!.method).toBe('POST');
      expect(request!.path).toBe(`/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`);
      expect(request!.headers.authorization).toBe(basic(ACCOUNT_SID, AUTH_TOKEN));
      expect(request!.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(request!.form).toEqual({ To: TO, From: FROM, Body: body });
    });

    it('sends through a Messaging Service with an API key, and asks for status callbacks when set', async () => {
      const { sender } = senderWith({
        apiKeySid: API_KEY_SID,
        apiKeySecret: API_KEY_SECRET,
        messagingServiceSid: SERVICE_SID,
        statusCallbackUrl: 'https://homing.example/sms/status',
      });
      const result = await sender.send({ to: TO, body: 'code 654321' });

      expect(result.id).toMatch(/^SM[0-9a-f]{32}$/);
      const [request] = fake.requests;
      // The key authenticates; the account SID still names the account in the path.
      expect(request!.path).toBe(`/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`);
      expect(request!.headers.authorization).toBe(basic(API_KEY_SID, API_KEY_SECRET));
      expect(request!.form).toEqual({
        To: TO,
        MessagingServiceSid: SERVICE_SID,
        Body: 'code 654321',
        StatusCallback: 'https://homing.example/sms/status',
      });
    });

    it('prefers the API key when an auth token is also configured (the token then only checks webhooks)', async () => {
      const { sender } = senderWith({ authToken: AUTH_TOKEN, apiKeySid: API_KEY_SID, apiKeySecret: API_KEY_SECRET, fromNumber: FROM });
      await sender.send({ to: TO, body: 'x' });
      expect(fake.requests[0]!.headers.authorization).toBe(basic(API_KEY_SID, API_KEY_SECRET));
    });

    it.each([
      { region: 'ie1', edge: 'dublin', host: 'api.dublin.ie1.twilio.com' },
      { region: 'au1', edge: undefined, host: 'api.au1.twilio.com' },
      { region: undefined, edge: 'sydney', host: 'api.sydney.us1.twilio.com' },
    ])('region $region and edge $edge make the SDK ask for $host', async ({ region, edge, host }) => {
      const { sender, http } = senderWith({ authToken: AUTH_TOKEN, fromNumber: FROM, region, edge });
      await sender.send({ to: TO, body: 'hello' });
      expect(http.requested.map((r) => r.uri)).toEqual([messagesUrl(host)]);
      expect(fake.requests[0]!.form).toEqual({ To: TO, From: FROM, Body: 'hello' });
    });

    it('takes region and edge from its config only, never from TWILIO_* variables in the environment', async () => {
      vi.stubEnv('TWILIO_REGION', 'au1');
      vi.stubEnv('TWILIO_EDGE', 'sydney');
      try {
        const { sender, http } = senderWith({ authToken: AUTH_TOKEN, fromNumber: FROM });
        await sender.send({ to: TO, body: 'hello' });
        expect(http.requested.map((r) => r.uri)).toEqual([messagesUrl('api.twilio.com')]);
      } finally {
        vi.unstubAllEnvs();
      }
    });
  });

  describe('errors', () => {
    const longMessage = (text: string) => text.replace('{to}', TO);
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
      [429, 20429, 'Too Many Requests', 'rate_limited'],
      [429, undefined, 'Too Many Requests', 'rate_limited'],
      [401, 20003, 'Authenticate', 'auth_failed'],
      [401, undefined, 'Unauthorized', 'auth_failed'],
      [500, 20500, 'Internal Server Error', 'unavailable'],
      [503, 20503, 'Service Unavailable', 'unavailable'],
    ])('HTTP %i code %s → %s, with the number masked and no secret', async (status, code, message, failure) => {
      const { sender } = senderWith({ authToken: AUTH_TOKEN, fromNumber: FROM });
      fake.failNext(status, code === undefined ? { message: longMessage(message), status } : twilioError(code, longMessage(message), status));
      const error = await smsErrorOf(sender.send({ to: TO, body: 'code 111111' }));
      expect(error.failure).toBe(failure);
      expect(error.message).toContain(maskNumber(TO));
      expect(error.message).toContain(`HTTP ${status}`);
      expectNoSecrets(error);
      expect(fake.requests).toHaveLength(1);
    });

    it('maps an RFC 9457 problem body (TwilioServiceException) by its code', async () => {
      const { sender } = senderWith({ authToken: AUTH_TOKEN, fromNumber: FROM });
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
      const { sender } = senderWith({ authToken: AUTH_TOKEN, fromNumber: FROM });
      fake.failNext(502, {});
      const error = await smsErrorOf(sender.send({ to: TO, body: 'x' }));
      expect(error.failure).toBe('unavailable');
      expectNoSecrets(error);
    });

    it('redacts the number and credentials even when Twilio quotes them back', async () => {
      const { sender } = senderWith({ apiKeySid: API_KEY_SID, apiKeySecret: API_KEY_SECRET, messagingServiceSid: SERVICE_SID });
      fake.failNext(400, twilioError(21606, `From ${TO.slice(1)} with secret ${API_KEY_SECRET} is not valid for 'code 947201'`, 400));
      const error = await smsErrorOf(sender.send({ to: TO, body: 'code 947201' }));
      expect(error.message).not.toContain('947201');
      expect(error.failure).toBe('unavailable');
      expect(error.message).toContain('code 21606');
      expectNoSecrets(error);
    });

    it('a Twilio that cannot be reached is unavailable', async () => {
      const closed = await startTwilioFake();
      await closed.close();
      const { sender } = senderWith({ authToken: AUTH_TOKEN, fromNumber: FROM }, new RedirectingTwilioHttpClient(closed.url));
      const error = await smsErrorOf(sender.send({ to: TO, body: 'x' }));
      expect(error.failure).toBe('unavailable');
      expect(error.message).toContain(maskNumber(TO));
      expectNoSecrets(error);
    });

    it('a Twilio that never answers is unavailable once the client times out', async () => {
      const { sender } = senderWith({ authToken: AUTH_TOKEN, fromNumber: FROM }, new RedirectingTwilioHttpClient(fake.url, { timeoutMs: 200 }));
      fake.hangNext();
      const error = await smsErrorOf(sender.send({ to: TO, body: 'x' }));
      expect(error.failure).toBe('unavailable');
      expect(error.message).toMatch(/timeout/i);
      expectNoSecrets(error);
    });

    it('refuses a number that is not E.164 without calling Twilio', async () => {
      const { sender, http } = senderWith({ authToken: AUTH_TOKEN, fromNumber: FROM });
      for (const to of ['07700900123', '+44 7700 900123', '+0447700900123', '']) {
        const error = await smsErrorOf(sender.send({ to, body: 'x' }));
        expect(error.failure).toBe('invalid_number');
      }
      expect(http.requested).toEqual([]);
    });

    it.each<[string, Partial<TwilioSmsConfig>, RegExp]>([
      ['both senders', { authToken: AUTH_TOKEN, fromNumber: FROM, messagingServiceSid: SERVICE_SID }, /exactly one of messagingServiceSid and fromNumber/],
      ['no sender', { authToken: AUTH_TOKEN }, /exactly one of messagingServiceSid and fromNumber/],
      ['no credentials', { fromNumber: FROM }, /authToken, or apiKeySid with apiKeySecret/],
      ['a key without its secret', { apiKeySid: API_KEY_SID, fromNumber: FROM }, /apiKeySid and apiKeySecret together/],
      ['a secret without its key', { apiKeySecret: API_KEY_SECRET, fromNumber: FROM }, /apiKeySid and apiKeySecret together/],
      ['a key SID that is not one', { apiKeySid: ACCOUNT_SID, apiKeySecret: API_KEY_SECRET, fromNumber: FROM }, /apiKeySid must start with "SK"/],
      ['an account SID that is not one', { accountSid: API_KEY_SID, authToken: AUTH_TOKEN, fromNumber: FROM }, /accountSid must be set and start with "AC"/],
    ])('config with %s is refused at creation with a clear Error', (_, config, message) => {
      let thrown: unknown;
      try {
        createTwilioSmsSender({ accountSid: ACCOUNT_SID, ...config });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(Error);
      expect((thrown as Error).message).toMatch(message);
      expectNoSecrets(thrown as Error);
    });
  });
});

describe('validateTwilioWebhook, against twilio’s own signatures', () => {
  const url = 'https://homing.example/sms/inbound?tenant=1';
  const params = { AccountSid: ACCOUNT_SID, MessageSid: `SM${hex(16)}`, From: TO, To: FROM, Body: 'VERIFY abc123' };
  const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, params);

  it('accepts a request Twilio signed', () => {
    expect(validateTwilioWebhook({ authToken: AUTH_TOKEN, signature, url, params })).toBe(true);
  });

  const { Body: _dropped, ...withoutBody } = params;
  type Change = Partial<Parameters<typeof validateTwilioWebhook>[0]>;
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
    expect(validateTwilioWebhook({ authToken: AUTH_TOKEN, signature, url, params, ...change })).toBe(false);
  });
});

describe('log SMS sender (embedded default)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'homing-sms-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('appends each SMS to a 0600 outbox, readable back, and logs only the masked number', async () => {
    const outboxPath = join(dir, 'data', 'sms-outbox.jsonl');
    const lines: string[] = [];
    const now = Date.UTC(2026, 2, 4, 5, 6, 7);
    const sender = createLogSmsSender({ outboxPath, log: createJsonLogger('debug', (l) => lines.push(l)), now: () => now });

    expect(sender.name).toBe('log');
    expect(sender.readOutbox()).toEqual([]);
    const first = await sender.send({ to: TO, body: 'Your code is 482913' });
    const second = await sender.send({ to: '+15005550001', body: 'two\nlines' });

    expect(first.id).toMatch(/^log_[A-Za-z0-9_-]{16}$/);
    expect(second.id).not.toBe(first.id);
    expect((await stat(outboxPath)).mode & 0o777).toBe(0o600);
    expect((await readFile(outboxPath, 'utf8')).split('\n')).toHaveLength(3); // two lines and the final newline
    expect(sender.readOutbox()).toEqual([
      { id: first.id, at: '2026-03-04T05:06:07.000Z', to: TO, body: 'Your code is 482913' },
      { id: second.id, at: '2026-03-04T05:06:07.000Z', to: '+15005550001', body: 'two\nlines' },
    ]);

    expect(lines).toHaveLength(2);
    const logged = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(logged).toMatchObject({ level: 'info', message: 'sms written to outbox', id: first.id, to: maskNumber(TO), outbox: outboxPath });
    for (const line of lines) {
      expect(line).not.toContain('482913');
      expect(line).not.toContain('lines');
      expect(line).not.toContain(TO);
      expect(line).not.toContain('+15005550001');
    }
  });

  it('a second sender on the same file appends rather than overwrites', async () => {
    const outboxPath = join(dir, 'shared-outbox.jsonl');
    const log = createJsonLogger('silent');
    await createLogSmsSender({ outboxPath, log }).send({ to: TO, body: 'one' });
    const again = createLogSmsSender({ outboxPath, log });
    await again.send({ to: TO, body: 'two' });
    expect(again.readOutbox().map((e) => e.body)).toEqual(['one', 'two']);
  });
});
