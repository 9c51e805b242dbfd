import { createECDH } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/adapters/clock.js';
import { deriveVapidKeys } from '../../src/adapters/push.js';
import { createWebPushSender } from '../../src/adapters/push-web.js';
import { createServerSecrets } from '../../src/adapters/server-secrets.js';
import { logIn } from '../../src/client/account.js';
import { createApiClient } from '../../src/client/api.js';
import { signCommand } from '../../src/client/crypto/commands.js';
import { fromBase64Url, randomBytes } from '../../src/protocol/encoding.js';
import { killIfRunning, run, type Running, start, startTestServer } from './spawn.js';

// `poll --push` against the built server: the CLI listens on 127.0.0.1 as its own push endpoint,
// registers it, and sleeps until a push wakes it: the one the server sends when the owner creates
// a command. A push forged with the server's own sender and VAPID key (derived from the server
// key file) but encrypted to other keys must wake nothing.

const PASSWORD = 'a long password';
const SUBJECT = 'mailto:operator@homing.test';

let server: Awaited<ReturnType<typeof startTestServer>> | undefined;
let poller: Running | undefined;
afterEach(async () => {
  await killIfRunning(poller);
  await server?.stop();
  poller = server = undefined;
});

async function phoneWithFindOn(env: Record<string, string>) {
  server = await startTestServer('cli-push', { VAPID_SUBJECT: SUBJECT, ...env });
  const { dir, url } = server;
  const cli = (args: string[]) => run('src/client/cli/main.ts', { cwd: dir, args: [...args, '--server', url, '--state', join(dir, 'phone.json')], env: { HOMING_PASSWORD: PASSWORD } });
  await cli(['signup', '--email', 'pushed@example.org', '--birth-year', '1990', '--kdf-ops', '1', '--kdf-mem', '8192']);
  await cli(['login', '--email', 'pushed@example.org']);
  await cli(['register', '--name', 'Pushed phone', '--platform', 'android']);
  await cli(['find', '--on']);
  const owner = createApiClient({ baseUrl: url });
  const { keys } = await logIn(owner, { email: 'pushed@example.org', password: PASSWORD });
  const [device] = (await owner.devices()).devices;
  const ring = () => {
    const now = Date.now();
    return owner.sendCommand(device!.id, signCommand({ deviceId: device!.id, type: 'ring', args: {}, issuedAt: now, counter: now }, keys.ed25519Seed));
  };
  const startPolling = (args: string[]) =>
    (poller = start('src/client/cli/main.ts', { cwd: dir, args: ['poll', ...args, '--server', url, '--state', join(dir, 'phone.json')], env: { HOMING_PASSWORD: PASSWORD } }));
  return { dir, owner, device: device!, ring, startPolling };
}

async function waitForOutput(running: Running, text: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!running.output().includes(text)) {
    if (Date.now() > deadline || running.child.exitCode !== null) throw new Error(`no "${text}" in:\n${running.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The server's own sender: its VAPID key is derived from the server key file, as in src/node-deps.ts. */
function serverPushSender(dir: string) {
  const serverKey = fromBase64Url(readFileSync(join(dir, 'data', 'server.key'), 'utf8').trim());
  return createWebPushSender({ vapid: deriveVapidKeys(createServerSecrets(serverKey, randomBytes)), subject: SUBJECT, clock: systemClock });
}

function subscriptionRow(dir: string) {
  const db = new Database(join(dir, 'data', 'homing.db'), { readonly: true });
  try {
    return db.prepare('SELECT endpoint, p256dh, auth, device_id AS deviceId FROM push_subscriptions').all() as { endpoint: string; p256dh: string; auth: string; deviceId: string }[];
  } finally {
    db.close();
  }
}

describe('device CLI: poll --push', () => {
  it('a sleeping CLI is woken by a push, not by a long-poll; a push not encrypted to its keys wakes nothing', async () => {
    const { dir, owner, device, ring, startPolling } = await phoneWithFindOn({ PUSH_ALLOW_INSECURE_ENDPOINTS: 'true' });
    // --wait 600: without a push the CLI would sleep far past this test's timeout.
    const polling = startPolling(['--push', '--once', '--wait', '600']);
    await waitForOutput(polling, 'push endpoint registered on 127.0.0.1:');
    expect((await owner.pushSubscriptions()).subscriptions).toEqual([expect.objectContaining({ deviceId: device.id })]);
    const [row] = subscriptionRow(dir);
    expect(row!.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/push\/[\w-]{22}$/);

    const sender = serverPushSender(dir);
    const stranger = createECDH('prime256v1');
    stranger.generateKeys();
    const forged = await sender.send({ ...row!, p256dh: stranger.getPublicKey().toString('base64url') }, { fetch: 'commands' }, { ttlSeconds: 60, urgency: 'high' });
    expect(forged.status).toBe(400);
    await new Promise((r) => setTimeout(r, 300));
    expect(polling.output()).not.toContain('woken');

    // The owner's command: the server pushes to the phone, which wakes at once.
    await ring();
    expect(await polling.exited, polling.output()).toBe(0);
    expect(polling.output()).toContain('woken by a push: fetch commands');
    expect(polling.output()).toContain('RING! RING!');
    expect((await owner.commands(device.id)).commands.map((c) => c.status)).toEqual(['succeeded']);
    // The endpoint died with the process, so the CLI took its subscription with it.
    expect((await owner.pushSubscriptions()).subscriptions).toEqual([]);
  });

  it('a server that refuses loopback endpoints (the default) leaves the CLI long-polling, and commands still arrive', async () => {
    const { owner, device, ring, startPolling } = await phoneWithFindOn({});
    const polling = startPolling(['--push', '--once', '--wait', '5']);
    await waitForOutput(polling, 'long-polling instead');
    expect(polling.output()).toContain('body.endpoint: must be https');
    await ring();
    expect(await polling.exited, polling.output()).toBe(0);
    expect(polling.output()).toContain('RING! RING!');
    expect((await owner.commands(device.id)).commands.map((c) => c.status)).toEqual(['succeeded']);
  });
});
