import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logIn } from '../../src/client/account.js';
import { createApiClient } from '../../src/client/api.js';
import { freePort, killIfRunning, run, type Running, start, waitForHealth } from './spawn.js';

// The phone keeps polling through a server crash: SIGKILL mid long-poll, a restart on the same
// port and data folder, and the owner's next command (signed by the CLI as the owner) still gets
// carried out. The built server and CLI run, as they ship.

const PASSWORD = 'a long password';
let dir: string;
let port: number;
let url: string;
let server: Running | undefined;
let poller: Running | undefined;

const startServer = async () => {
  const running = start('src/node.ts', {
    cwd: dir,
    // A short lease, so a redelivery comes within the test.
    env: { PORT: String(port), KDF_MIN_OPS_LIMIT: '1', KDF_MIN_MEM_LIMIT: '8192', LOG_LEVEL: 'warn', COMMAND_LEASE_SECONDS: '1' },
  });
  await waitForHealth(url, running);
  return running;
};

const cli = (state: string, args: string[]) =>
  run('src/client/cli/main.ts', { cwd: dir, args: [...args, '--server', url, '--state', join(dir, state)], env: { HOMING_PASSWORD: PASSWORD } });

async function until(what: string, check: () => boolean, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${poller?.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'homing-cli-restart-'));
  port = await freePort();
  url = `http://localhost:${port}`;
  server = await startServer();
}, 60_000);

afterAll(async () => {
  await killIfRunning(poller);
  await killIfRunning(server);
  rmSync(dir, { recursive: true, force: true });
});

describe('device CLI: poll through a server crash', () => {
  it('SIGKILL of the server mid long-poll, restart on the same port and data: the next command is still carried out', { timeout: 120_000 }, async () => {
    await cli('phone.json', ['signup', '--email', 'crash@example.org', '--birth-year', '1990', '--kdf-ops', '1', '--kdf-mem', '8192']);
    await cli('phone.json', ['login', '--email', 'crash@example.org']);
    await cli('phone.json', ['register', '--name', 'Crash phone', '--platform', 'android']);
    await cli('phone.json', ['find', '--on']);
    expect((await cli('owner.json', ['login', '--email', 'crash@example.org'])).code).toBe(0);
    const owner = createApiClient({ baseUrl: url });
    await logIn(owner, { email: 'crash@example.org', password: PASSWORD });
    const [device] = (await owner.devices()).devices;

    poller = start('src/client/cli/main.ts', {
      cwd: dir,
      args: ['poll', '--wait', '5', '--server', url, '--state', join(dir, 'phone.json')],
      env: { HOMING_PASSWORD: PASSWORD },
    });
    await until('the poller to start', () => poller!.output().includes('this device is not in Lost Mode'));
    await new Promise((r) => setTimeout(r, 500));

    server!.signal('SIGKILL');
    await server!.exited;
    await until('the poller to say it will retry', () => /cannot reach http:\/\/localhost:\d+: .*; will retry in 1 s/.test(poller!.output()));
    await new Promise((r) => setTimeout(r, 1500));
    expect(poller.child.exitCode).toBeNull();
    server = await startServer();

    const sent = await cli('owner.json', ['command', 'ring', '--device', device!.id]);
    expect(sent.output).toMatch(/sent ring to \S+ \(command \S+\); the phone carries it out if it checks in before 20\d\d-/);
    await until('the ring to be carried out', () => poller!.output().includes('acknowledged ring: ringing'));
    expect(poller.output()).toContain('RING! RING!');

    const locked = await cli('owner.json', ['command', 'lock', '--device', device!.id, '--expires', '2d', '--message', 'Call me', '--callback', '+447700900123']);
    expect(locked.code, locked.output).toBe(0);
    await until('the lock and Lost Mode', () => poller!.output().includes('this device is in Lost Mode since'));
    expect(poller.output()).toContain('LOCKED. Lock screen: "Call me" — call +447700900123');
    await cli('owner.json', ['command', 'unlock', '--device', device!.id]);
    await until('the unlock', () => poller!.output().includes('acknowledged unlock: unlocked'));
    expect(poller.child.exitCode).toBeNull();

    const commands = (await owner.commands(device!.id)).commands;
    expect(commands.map((c) => [c.type, c.status, c.deliveries])).toEqual([
      ['unlock', 'succeeded', 1],
      ['lock', 'succeeded', 1],
      ['ring', 'succeeded', 1],
    ]);
    const lock = commands[1]!;
    expect(lock.expiresAt - lock.issuedAt).toBe(2 * 86_400_000);
    expect((await owner.devices()).devices[0]!.lostMode).toBeNull();
    await killIfRunning(poller);
  });

  it('a phone that crashed after ringing but before acknowledging gets the ring again, and only acknowledges it', async () => {
    const phoneState = join(dir, 'phone.json');
    const owner = createApiClient({ baseUrl: url });
    await logIn(owner, { email: 'crash@example.org', password: PASSWORD });
    const [device] = (await owner.devices()).devices;
    expect((await cli('owner.json', ['command', 'ring', '--device', device!.id, '--expires', '1h'])).code).toBe(0);

    // What the CLI does before it rings (fetch, then save its counters), then the crash.
    const state = JSON.parse(readFileSync(phoneState, 'utf8'));
    const phone = createApiClient({ baseUrl: url, deviceToken: state.deviceToken });
    // (The killed poller's long poll may still be open on the server and take it first: a reply
    // lost in transit, which the lease hands out again.)
    const [ring] = (await phone.pollCommands(3)).commands;
    writeFileSync(phoneState, JSON.stringify({ ...state, commandCounter: ring!.counter, recentCommandCounters: [...state.recentCommandCounters, ring!.counter] }));
    await new Promise((r) => setTimeout(r, 1100));

    const restarted = await cli('phone.json', ['poll', '--once', '--wait', '2']);
    expect(restarted.code, restarted.output).toBe(0);
    expect(restarted.output).toContain(`already carried out ring (${ring!.id}); acknowledging it again`);
    expect(restarted.output).not.toContain('RING!');
    const [answered] = (await owner.commands(device!.id)).commands;
    expect(answered).toMatchObject({ id: ring!.id, status: 'succeeded', result: 'already carried out' });
    expect(answered!.deliveries).toBeGreaterThanOrEqual(2);
  });

  it("the owner's CLI re-authenticates with the password before sending a wipe", async () => {
    const owner = createApiClient({ baseUrl: url });
    await logIn(owner, { email: 'crash@example.org', password: PASSWORD });
    const [device] = (await owner.devices()).devices;
    const wiped = await cli('owner.json', ['command', 'wipe', '--device', device!.id]);
    expect(wiped.code, wiped.output).toBe(0);
    expect(wiped.output).toMatch(/^sent wipe to /m);
    expect((await owner.commands(device!.id)).commands[0]).toMatchObject({ type: 'wipe', status: 'pending' });
    const usage = await cli('owner.json', ['command', 'explode', '--device', device!.id]);
    expect(usage.output).toContain('say which command: ring, stop-ring, lock, unlock, locate or wipe');
  });
});
