import { randomBytes } from 'node:crypto';
import twilio from 'twilio';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createJsonLogger } from '../../src/adapters/log.js';
import { createNodeSmsSender } from '../../src/adapters/sms-node.js';
import { toBase64Url } from '../../src/protocol/encoding.js';
import { parseConfig } from '../../src/config.js';
import { startTwilioFake, type TwilioFake, twilioError } from '../fakes/twilio-fake.js';
import { RedirectingTwilioHttpClient } from '../fakes/twilio-http-client.js';
import { createTestApp, TEST_ORIGIN, type TestApp } from '../harness.js';
import { owner, type Owner } from './find-helpers.js';

// The real twilio SDK, talking to a local Twilio-compatible HTTP fake: the one fake this project
// allows. Webhooks are signed with twilio's own getExpectedTwilioSignature.

const ENV = {
  SMS_PROVIDER: 'twilio',
  TWILIO_ACCOUNT_SID: `AC${'1'.repeat(32)}`,
  TWILIO_AUTH_TOKEN: 'test-auth-token-0123456789',
  TWILIO_FROM_NUMBER: '+15005550006',
  SMS_INBOUND_NUMBER: '+15005550001',
};
const WEBHOOK = `${TEST_ORIGIN}/v1/sms/inbound`;

let fake: TwilioFake;
let t: TestApp;
beforeEach(async () => {
  fake = await startTwilioFake({ accountSid: ENV.TWILIO_ACCOUNT_SID, authToken: ENV.TWILIO_AUTH_TOKEN });
  const sms = createNodeSmsSender(parseConfig(ENV).sms, createJsonLogger('silent'), { httpClient: new RedirectingTwilioHttpClient(fake.url) });
  t = createTestApp(ENV, { sms });
});
afterEach(async () => {
  t.close();
  await fake.close().catch(() => undefined); // one test closes it early on purpose
});

const simEvent = (extra: Record<string, unknown> = {}) => ({
  eventId: toBase64Url(randomBytes(16)),
  kind: 'inserted',
  simIdHash: toBase64Url(randomBytes(32)),
  claimedNumber: '+447700900123',
  method: 'outbound',
  ...extra,
});
const report = (o: Owner, body: Record<string, unknown>) => o.asDevice(o.device.auth, 'POST', '/v1/device/sim-events', body);

function webhook(params: Record<string, string>, signature: string | null = twilio.getExpectedTwilioSignature(ENV.TWILIO_AUTH_TOKEN, WEBHOOK, params)) {
  return t.app.request(WEBHOOK, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...(signature === null ? {} : { 'X-Twilio-Signature': signature }) },
    body: new URLSearchParams(params).toString(),
  });
}

describe('webhook input', () => {
  it('a malformed form body is a 400 in the one error shape, not a 500', async () => {
    const res = await t.app.request(WEBHOOK, {
      method: 'POST',
      headers: { 'Content-Type': 'multipart/form-data; boundary=x', 'X-Twilio-Signature': 'AAAA' },
      body: '--x\r\nnot a part',
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe('validation_failed');
  });
});

describe('outbound verification through Twilio', () => {
  it('sends exactly the expected form to Twilio, and the texted code verifies', async () => {
    const o = await owner(t);
    const event = simEvent();
    expect((await report(o, event)).status).toBe(201);
    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request!.path).toBe(`/2010-04-01/Accounts/${ENV.TWILIO_ACCOUNT_SID}/Messages.json`);
    expect(Object.keys(request!.form).sort()).toEqual(['Body', 'From', 'To']);
    expect(request!.form).toMatchObject({ To: '+447700900123', From: ENV.TWILIO_FROM_NUMBER });
    expect(request!.form.Body).toMatch(/^homing: your SIM verification code is \d{6}\. It expires in 10 minutes\.$/);

    const code = request!.form.Body!.match(/\d{6}/)![0];
    expect((await o.asDevice(o.device.auth, 'POST', `/v1/device/sim-events/${event.eventId}/verify`, { code })).body.status).toBe('verified');
  });

  it('turns Twilio errors into clear API errors and marks nothing verified', async () => {
    const o = await owner(t);
    const cases: [number, object, number, string][] = [
      [400, twilioError(21211, "The 'To' number +447700900123 is not a valid phone number.", 400), 400, 'invalid_phone_number'],
      [400, twilioError(21612, 'The To phone number is not currently reachable via SMS.', 400), 422, 'sms_undeliverable'],
      [429, twilioError(20429, 'Too Many Requests', 429), 429, 'rate_limited'],
      [401, twilioError(20003, 'Authenticate', 401), 503, 'service_unavailable'],
    ];
    for (const [status, body, apiStatus, code] of cases) {
      fake.failNext(status, body);
      const event = simEvent();
      const res = await report(o, event);
      expect({ status: res.status, code: res.body.error.code }).toEqual({ status: apiStatus, code });
      expect(JSON.stringify(res.body)).not.toContain(ENV.TWILIO_AUTH_TOKEN);
      // Nothing could verify: no code exists for the failed event.
      const guess = await o.asDevice(o.device.auth, 'POST', `/v1/device/sim-events/${event.eventId}/verify`, { code: '123456' });
      expect(guess.body.error.code).toBe('verification_failed');
    }
    const history = await o.asOwner('GET', `/v1/devices/${o.device.id}/sim-events`);
    expect(history.body.events.every((e: any) => e.status === 'failed' && e.verifiedNumber === null)).toBe(true);

    await fake.close();
    const unreachable = await report(o, simEvent({ claimedNumber: '+447700900124' }));
    expect(unreachable).toMatchObject({ status: 503, body: { error: { code: 'service_unavailable' } } });
  });
});

describe('inbound verification: the phone texts a token to our Twilio number', () => {
  it('records the carrier-asserted sender as verified when the webhook is genuine', async () => {
    const o = await owner(t);
    const started = await report(o, simEvent({ method: 'inbound', claimedNumber: undefined }));
    expect(started.body.inbound).toMatchObject({ token: expect.stringMatching(/^HOMING [A-Z2-9]{8}$/), sendTo: ENV.SMS_INBOUND_NUMBER });

    const params = { MessageSid: `SM${'a'.repeat(32)}`, From: '+447700900999', To: ENV.SMS_INBOUND_NUMBER, Body: started.body.inbound.token };
    const res = await webhook(params);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<Response/>');
    const [event] = (await o.asOwner('GET', `/v1/devices/${o.device.id}/sim-events`)).body.events;
    expect(event).toMatchObject({ status: 'verified', verifiedNumber: '+447700900999', method: 'inbound' });
  });

  it("another device of the same account cannot take over an inbound event's id: 409, and the first device's token still verifies", async () => {
    const o = await owner(t);
    const event = simEvent({ method: 'inbound', claimedNumber: undefined });
    const started = await report(o, event);
    const sibling = await o.register('tablet');
    await o.asOwner('PUT', `/v1/devices/${sibling.id}/find`, { enabled: true });

    const hijack = await o.asDevice(sibling.auth, 'POST', '/v1/device/sim-events', event);
    expect(hijack).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
    expect(hijack.body.inbound).toBeUndefined();

    const params = { MessageSid: `SM${'d'.repeat(32)}`, From: '+447700900999', To: ENV.SMS_INBOUND_NUMBER, Body: started.body.inbound.token };
    expect((await webhook(params)).status).toBe(200);
    const [mine] = (await o.asOwner('GET', `/v1/devices/${o.device.id}/sim-events`)).body.events;
    expect(mine).toMatchObject({ status: 'verified', verifiedNumber: '+447700900999' });
    expect((await o.asOwner('GET', `/v1/devices/${sibling.id}/sim-events`)).body.events).toEqual([]);
  });

  it('a forged, unsigned or replayed webhook changes nothing', async () => {
    const o = await owner(t);
    const started = await report(o, simEvent({ method: 'inbound', claimedNumber: undefined }));
    const params = { MessageSid: `SM${'b'.repeat(32)}`, From: '+447700900999', To: ENV.SMS_INBOUND_NUMBER, Body: started.body.inbound.token };
    const status = async () => (await o.asOwner('GET', `/v1/devices/${o.device.id}/sim-events`)).body.events[0];

    const forged = await webhook(params, twilio.getExpectedTwilioSignature('not-the-auth-token-at-all', WEBHOOK, params));
    expect(forged.status).toBe(403);
    expect((await forged.json()).error.code).toBe('forbidden');
    expect((await webhook(params, null)).status).toBe(403);
    const tampered = await webhook({ ...params, From: '+15551234567' }, twilio.getExpectedTwilioSignature(ENV.TWILIO_AUTH_TOKEN, WEBHOOK, params));
    expect(tampered.status).toBe(403);
    expect(await status()).toMatchObject({ status: 'pending', verifiedNumber: null });

    expect((await webhook(params)).status).toBe(200);
    const replayedFrom = { ...params, From: '+15551234567', MessageSid: `SM${'c'.repeat(32)}` };
    expect((await webhook(replayedFrom)).status).toBe(200);
    expect(await status()).toMatchObject({ status: 'verified', verifiedNumber: '+447700900999' });
  });
});
