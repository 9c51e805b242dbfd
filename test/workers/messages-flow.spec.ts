import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { logIn, signUp } from '../../src/client/account.js';
import { type ApiClient, createApiClient } from '../../src/client/api.js';
import { memoryKeyBook, receiveMessages, sendText, turnOnMessaging } from '../../src/client/messaging.js';
import { emptyBlocklist, matchSpam, refreshBlocklist } from '../../src/client/spam.js';
import { createManualClock } from '../../src/adapters/clock.js';
import { randomBytes, toBase64Url } from '../../src/protocol/encoding.js';
import { createApp } from '../../src/app.js';
import { runMaintenance } from '../../src/jobs.js';
import { createWorkerDeps } from '../../src/worker.js';

// Messages and spam reports on D1 inside workerd, with the Worker's own Deps: numbers verified
// by the inbound SMS webhook (signed as Twilio signs it), messages sealed and opened by the SDK,
// the queue's multi-row write and acknowledgement, a block, and the blocklist published by the
// scheduled jobs — the same SQL as on SQLite, through D1 batches.

const TOKEN = 'w'.repeat(32);
const PUBLIC_URL = 'http://homing.test';
const TWILIO = {
  PUBLIC_URL,
  SMS_PROVIDER: 'twilio',
  TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`,
  TWILIO_AUTH_TOKEN: TOKEN,
  TWILIO_FROM_NUMBER: '+15005550006',
  SMS_INBOUND_NUMBER: '+15005550001',
  SPAM_MIN_ACCOUNTS: '2',
  SPAM_NEW_ACCOUNT_DAYS: '0',
};

async function twilioSignature(url: string, params: Record<string, string>) {
  const data = url + Object.keys(params).sort().map((k) => k + params[k]).join('');
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(TOKEN), { name: 'HMAC', hash: 'SHA-1' }, false, ['sign']);
  return btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(data)))));
}

describe('messages and spam reports on D1', () => {
  it('two phones verify their numbers, exchange a sealed message, block, and see a number published by two reporters', async () => {
    const clock = createManualClock(Date.now());
    const deps = { ...createWorkerDeps({ ...env, ...TWILIO }), clock };
    const app = createApp(deps);
    const viaApp = (input: string, init: RequestInit) => app.request(input, { ...init, redirect: 'manual' });

    /** An account with one phone that verified `number` by inbound SMS, with messaging on. */
    async function phone(number: string) {
      const owner = createApiClient({ baseUrl: PUBLIC_URL, fetch: viaApp });
      const email = `msg-${toBase64Url(randomBytes(8))}@example.org`;
      await signUp(owner, { birthYear: 1990, email, password: 'pw', kdf: { opsLimit: 1, memLimit: 8192 } });
      await logIn(owner, { email, password: 'pw' });
      const { device, token } = await owner.registerDevice({ name: 'Pixel', model: 'Pixel 9', platform: 'android', identifierHash: toBase64Url(randomBytes(32)) });
      await owner.setFindEnabled(device.id, true);
      const api: ApiClient = createApiClient({ baseUrl: PUBLIC_URL, deviceToken: token, fetch: viaApp });
      const started = await api.reportSimEvent({ eventId: toBase64Url(randomBytes(16)), kind: 'replaced', simIdHash: toBase64Url(randomBytes(32)), method: 'inbound' });
      const params = { MessageSid: `SM${'a'.repeat(32)}`, From: number, To: TWILIO.SMS_INBOUND_NUMBER, Body: started.inbound!.token };
      const webhook = await app.request(`${PUBLIC_URL}/v1/sms/inbound`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': await twilioSignature(`${PUBLIC_URL}/v1/sms/inbound`, params) },
        body: new URLSearchParams(params).toString(),
      });
      expect(webhook.status).toBe(200);
      const me = await turnOnMessaging(api, { deviceId: device.id, number });
      return { api, me, keyBook: memoryKeyBook(), seen: new Set<string>() };
    }

    const ada = await phone('+447700900201');
    const bob = await phone('+447700900202');
    const sent = await sendText(ada.api, ada.me, { to: bob.me.number, text: 'the kettle is on' }, ada.keyBook);
    expect(sent).toMatchObject({ reachable: true, queued: 1 });

    const inbox = await receiveMessages(bob.api, bob.me, { keyBook: bob.keyBook, seen: bob.seen });
    expect(inbox.rejected).toEqual([]);
    expect(inbox.messages).toEqual([expect.objectContaining({ from: ada.me.number, text: 'the kettle is on', outgoing: false })]);
    // Acknowledged: nothing waits any more.
    expect((await bob.api.fetchInbox()).messages).toEqual([]);

    // Blocked: the sender's answer is the same, and nothing arrives.
    await bob.api.blockNumber(ada.me.number);
    const again = await sendText(ada.api, ada.me, { to: bob.me.number, text: 'are you there?' }, ada.keyBook);
    expect(again).toMatchObject({ reachable: true, queued: 1 });
    expect((await receiveMessages(bob.api, bob.me, { keyBook: bob.keyBook, seen: bob.seen })).messages).toEqual([]);

    // Two accounts report one number; the scheduled jobs publish it; a third phone matches it locally.
    const spammer = '+447700900299';
    clock.advance(60_000);
    await ada.api.reportSpam({ number: spammer });
    await bob.api.reportSpam({ number: spammer });
    await runMaintenance(deps);
    const list = await refreshBlocklist(ada.api, emptyBlocklist());
    expect(list.numbers).toContain(spammer);
    expect(matchSpam(list, { number: spammer })).toMatchObject({ spam: true, byNumber: true });
    expect(matchSpam(list, { number: bob.me.number }).spam).toBe(false);
  });
});
