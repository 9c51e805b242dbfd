import { createECDH, createHmac, hkdfSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveVapidKeys, vapidAuthorization } from '../../src/adapters/push.js';
import { ConfigError, parseConfig } from '../../src/config.js';
import { createWebPushSender } from '../../src/adapters/push-web.js';
import { createServerSecrets } from '../../src/adapters/server-secrets.js';
import { randomBytes, toBase64Url } from '../../src/protocol/encoding.js';
import { type PushService, startPushService } from '../fakes/push-service.js';
import { pushServiceControl } from '../fakes/push-service-client.js';
import { describePushSenderContract } from './push-contract.js';

let service: PushService;
beforeAll(async () => {
  service = await startPushService();
});
afterAll(() => service.close());

describePushSenderContract('Node', () => pushServiceControl(service.origin));

const serverKey = () => randomBytes(32);
const vapidFor = (key: Uint8Array) => deriveVapidKeys(createServerSecrets(key, randomBytes));
const SUBJECT = 'mailto:operator@homing.test';

/** A POST as a push service sees it, with a hand-made Authorization header. */
const postWith = (endpoint: string, authorization: string) =>
  fetch(endpoint, { method: 'POST', headers: { Authorization: authorization, 'Content-Encoding': 'aes128gcm', TTL: '60' }, body: new Uint8Array(100) });

describe('VAPID keys', () => {
  it('derive from the server key: the same key gives the same VAPID key after a restart, another key another', () => {
    const key = serverKey();
    expect(toBase64Url(vapidFor(key).publicKey)).toBe(toBase64Url(vapidFor(new Uint8Array(key)).publicKey));
    expect(toBase64Url(vapidFor(serverKey()).publicKey)).not.toBe(toBase64Url(vapidFor(key).publicKey));
    const { publicKey } = vapidFor(key);
    expect([publicKey.length, publicKey[0]]).toEqual([65, 0x04]);
  });

  it('VAPID_SUBJECT must be a contact a push service accepts; unset, it is the public origin', () => {
    for (const bad of ['ops@example.org', 'http://example.org', 'mailto:nobody']) expect(() => parseConfig({ VAPID_SUBJECT: bad })).toThrow(ConfigError);
    expect(parseConfig({ VAPID_SUBJECT: 'mailto:ops@example.org' }).push.subject).toBe('mailto:ops@example.org');
    expect(parseConfig({ PUBLIC_URL: 'https://homing.example.org/app' }).push).toEqual({ subject: 'https://homing.example.org', allowInsecureEndpoints: false });
  });
});

describe('VAPID key derivation (docs/CRYPTO.md §11), recomputed with node:crypto', () => {
  it('gives the documented key pair for the documented server key', () => {
    const serverKey = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
    const subkey = Buffer.from(hkdfSync('sha256', serverKey, Buffer.alloc(0), 'homing/server/derive/vapid', 32));
    const ikm = createHmac('sha256', subkey).update('p256').digest();
    const seed = Buffer.from(hkdfSync('sha256', ikm, Buffer.alloc(0), 'vapid', 48));
    const n = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
    const scalar = (BigInt(`0x${seed.toString('hex')}`) % (n - 1n)) + 1n;
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(Buffer.from(scalar.toString(16).padStart(64, '0'), 'hex'));

    const ours = vapidFor(new Uint8Array(serverKey));
    expect(Buffer.from(ours.secretKey).toString('hex')).toBe('d11c22e73515fefcee68707af150017e37042fce432be5a4e192f3191a98eca5');
    expect(Buffer.from(ours.secretKey).toString('hex')).toBe(ecdh.getPrivateKey('hex'));
    expect(toBase64Url(ours.publicKey)).toBe('BEybl_UYZtRG74iUD8VKYoCu-O4SUtdZtoR41S4u74s9yl-x1DzDlYfIyMEY9i0Pamf-V82_g0vsQwBnhnbdVYk');
    expect(toBase64Url(ours.publicKey)).toBe(ecdh.getPublicKey('base64url'));
  });
});

describe('the loopback push service refuses what a real one refuses (so the tests above can fail)', () => {
  it("a JWT signed by a forger but naming the server's key in k fails the signature check", async () => {
    const ours = vapidFor(serverKey());
    const forged = vapidAuthorization(vapidFor(serverKey()), service.origin, SUBJECT, Date.now()).replace(/k=[\w-]+$/, `k=${toBase64Url(ours.publicKey)}`);
    const subscription = service.subscribe();
    expect((await postWith(subscription.endpoint, forged)).status).toBe(403);
    expect(service.refusals(subscription.id)).toEqual([{ id: subscription.id, reason: 'the JWT signature does not verify with k' }]);
  });

  it('a JWT for another origin, one expired by a clock a day behind, and one without a contact are refused', async () => {
    const keys = vapidFor(serverKey());
    const subscription = service.subscribe();
    const cases = [
      vapidAuthorization(keys, 'https://push.other.example', SUBJECT, Date.now()),
      vapidAuthorization(keys, service.origin, SUBJECT, Date.now() - 25 * 3600_000),
      vapidAuthorization(keys, service.origin, 'operator@homing.test', Date.now()),
    ];
    for (const authorization of cases) expect((await postWith(subscription.endpoint, authorization)).status).toBe(403);
    expect(service.refusals(subscription.id).map((r) => r.reason)).toEqual([
      'aud is not this origin',
      'exp is not in the next 24 hours',
      'sub is not a mailto: or https: URL',
    ]);
    expect(service.received(subscription.id)).toEqual([]);
  });

  it('a body encrypted to other keys does not decrypt and is not taken as delivered', async () => {
    const sender = createWebPushSender({ vapid: vapidFor(serverKey()), subject: SUBJECT, clock: { now: Date.now, sleep: async () => {} } });
    const subscription = service.subscribe();
    const stranger = service.subscribe();
    const result = await sender.send({ endpoint: subscription.endpoint, ...stranger.keys }, { fetch: 'commands' }, { ttlSeconds: 60, urgency: 'normal' });
    expect(result.status).toBe(400);
    expect(service.received(subscription.id)).toEqual([]);
  });
});
