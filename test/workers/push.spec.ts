import { env, SELF } from 'cloudflare:test';
import { describe, expect, inject, it } from 'vitest';
import { logIn, signUp } from '../../src/client/account.js';
import { createApiClient } from '../../src/client/api.js';
import { signCommand } from '../../src/client/crypto/commands.js';
import { notifyDevice } from '../../src/features/push/service.js';
import { randomBytes, toBase64Url } from '../../src/protocol/encoding.js';
import { createWorkerDeps } from '../../src/worker.js';
import { describePushSenderContract } from '../adapters/push-contract.js';
import { pushServiceControl } from '../fakes/push-service-client.js';

// Web Push from inside workerd: the same sender contract the Node suite runs, against the
// loopback push service in Node (which checks VAPID and decrypts with http_ece), then a phone's
// subscription registered through the Worker and a push delivered to it from the Worker's Deps.

const service = () => pushServiceControl(inject('pushServiceOrigin'));

describePushSenderContract('workerd', service);

const viaWorker = (input: string, init: RequestInit) => SELF.fetch(input, { ...init, redirect: 'manual' });

describe('push on Workers', () => {
  it('a phone registers its subscription through the Worker and is woken from the Worker\'s Deps', async () => {
    const owner = createApiClient({ baseUrl: 'http://homing.test', fetch: viaWorker });
    const email = `push-${toBase64Url(randomBytes(8))}@example.org`;
    const { accountId } = await signUp(owner, { birthYear: 1990, email, password: 'pw', kdf: { opsLimit: 1, memLimit: 8192 } });
    await logIn(owner, { email, password: 'pw' });
    const { device, token } = await owner.registerDevice({ name: 'Pixel', model: 'Pixel 9', platform: 'android', identifierHash: toBase64Url(randomBytes(32)) });
    const phone = createApiClient({ baseUrl: 'http://homing.test', deviceToken: token, fetch: viaWorker });

    const { publicKey } = await owner.vapidKey();
    const subscription = await service().subscribe({ applicationServerKey: publicKey });
    const saved = await phone.setThisDevicePush({ endpoint: subscription.endpoint, keys: subscription.keys });
    expect(saved).toMatchObject({ deviceId: device.id, pushService: inject('pushServiceOrigin') });

    notifyDevice(createWorkerDeps(env), { accountId, deviceId: device.id }, { fetch: 'commands' });
    let received: Awaited<ReturnType<ReturnType<typeof service>['received']>> = [];
    for (let i = 0; i < 100 && received.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      received = await service().received(subscription.id);
    }
    expect(received).toEqual([expect.objectContaining({ payload: { fetch: 'commands' }, topic: 'commands', vapidKey: publicKey })]);
    expect((await owner.pushSubscriptions()).subscriptions[0]).toMatchObject({ failures: 0, lastSuccessAt: expect.any(Number) });
  });

  it("a command created through the Worker's own fetch handler wakes the phone by push, after the request answered", async () => {
    const owner = createApiClient({ baseUrl: 'http://homing.test', fetch: viaWorker });
    const email = `push-cmd-${toBase64Url(randomBytes(8))}@example.org`;
    await signUp(owner, { birthYear: 1990, email, password: 'pw', kdf: { opsLimit: 1, memLimit: 8192 } });
    const { keys } = await logIn(owner, { email, password: 'pw' });
    const { device, token } = await owner.registerDevice({ name: 'Pixel', model: 'Pixel 9', platform: 'android', identifierHash: toBase64Url(randomBytes(32)) });
    await owner.setFindEnabled(device.id, true);
    const phone = createApiClient({ baseUrl: 'http://homing.test', deviceToken: token, fetch: viaWorker });
    const { publicKey } = await owner.vapidKey();
    const subscription = await service().subscribe({ applicationServerKey: publicKey });
    await phone.setThisDevicePush({ endpoint: subscription.endpoint, keys: subscription.keys });

    const now = Date.now();
    await owner.sendCommand(device.id, signCommand({ deviceId: device.id, type: 'ring', args: {}, issuedAt: now, counter: now }, keys.ed25519Seed));
    let received: Awaited<ReturnType<ReturnType<typeof service>['received']>> = [];
    for (let i = 0; i < 100 && received.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      received = await service().received(subscription.id);
    }
    expect(received).toEqual([expect.objectContaining({ payload: { fetch: 'commands' }, topic: 'commands' })]);
  });
});
