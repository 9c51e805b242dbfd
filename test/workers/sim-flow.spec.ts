import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { logIn, signUp } from '../../src/client/account.js';
import { createApiClient, HomingApiError } from '../../src/client/api.js';
import { randomBytes, toBase64Url } from '../../src/protocol/encoding.js';
import { createApp } from '../../src/app.js';
import { createWorkerDeps } from '../../src/worker.js';

// SIM-change verification on D1 inside workerd, with the Worker's own Deps in Twilio mode: the
// inbound webhook (signed as Twilio signs it, computed here with WebCrypto) verifies a number;
// an outbound code that cannot reach Twilio fails cleanly and verifies nothing.

const TOKEN = 'w'.repeat(32);
const PUBLIC_URL = 'http://homing.test';
const TWILIO = {
  PUBLIC_URL,
  SMS_PROVIDER: 'twilio',
  TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`,
  TWILIO_AUTH_TOKEN: TOKEN,
  TWILIO_FROM_NUMBER: '+15005550006',
  SMS_INBOUND_NUMBER: '+15005550001',
};

async function twilioSignature(url: string, params: Record<string, string>) {
  const data = url + Object.keys(params).sort().map((k) => k + params[k]).join('');
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(TOKEN), { name: 'HMAC', hash: 'SHA-1' }, false, ['sign']);
  return btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(data)))));
}

describe('SIM change on D1', () => {
  it('verifies a number by inbound SMS, and a failed outbound send verifies nothing', async () => {
    const app = createApp(createWorkerDeps({ ...env, ...TWILIO }));
    const viaApp = (input: string, init: RequestInit) => app.request(input, { ...init, redirect: 'manual' });
    const owner = createApiClient({ baseUrl: PUBLIC_URL, fetch: viaApp });
    const email = `sim-${toBase64Url(randomBytes(8))}@example.org`;
    await signUp(owner, { birthYear: 1990, email, password: 'pw', kdf: { opsLimit: 1, memLimit: 8192 } });
    await logIn(owner, { email, password: 'pw' });
    const { device, token } = await owner.registerDevice({ name: 'Pixel', model: 'Pixel 9', platform: 'android', identifierHash: toBase64Url(randomBytes(32)) });
    await owner.setFindEnabled(device.id, true);
    const phone = createApiClient({ baseUrl: PUBLIC_URL, deviceToken: token, fetch: viaApp });

    const started = await phone.reportSimEvent({ eventId: toBase64Url(randomBytes(16)), kind: 'replaced', simIdHash: toBase64Url(randomBytes(32)), method: 'inbound' });
    expect(started.inbound).toMatchObject({ sendTo: TWILIO.SMS_INBOUND_NUMBER });
    const params = { MessageSid: `SM${'a'.repeat(32)}`, From: '+447700900999', To: TWILIO.SMS_INBOUND_NUMBER, Body: started.inbound!.token };
    const webhook = (signature: string) =>
      app.request(`${PUBLIC_URL}/v1/sms/inbound`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': signature },
        body: new URLSearchParams(params).toString(),
      });
    expect((await webhook('forged')).status).toBe(403);
    expect((await webhook(await twilioSignature(`${PUBLIC_URL}/v1/sms/inbound`, params))).status).toBe(200);
    expect((await owner.simEvents(device.id)).events[0]).toMatchObject({ status: 'verified', verifiedNumber: '+447700900999' });

    // No network to Twilio here: the send fails, the API says so, and nothing is verified.
    const outbound = phone.reportSimEvent({ eventId: toBase64Url(randomBytes(16)), kind: 'inserted', simIdHash: toBase64Url(randomBytes(32)), claimedNumber: '+447700900123', method: 'outbound' });
    await expect(outbound).rejects.toBeInstanceOf(HomingApiError);
    await expect(outbound).rejects.toMatchObject({ status: 503, code: 'service_unavailable' });
    const [failed] = (await owner.simEvents(device.id)).events;
    expect(failed).toMatchObject({ kind: 'inserted', status: 'failed', verifiedNumber: null });
  });
});
