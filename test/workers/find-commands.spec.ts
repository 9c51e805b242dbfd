import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { logIn, signUp } from '../../src/client/account.js';
import { createApiClient } from '../../src/client/api.js';
import { createCommandVerifier, signCommand } from '../../src/client/crypto/commands.js';
import { createManualClock } from '../../src/adapters/clock.js';
import { randomBytes, toBase64Url } from '../../src/protocol/encoding.js';
import { createApp } from '../../src/app.js';
import { atomic, isGuardFailure } from '../../src/db/client.js';
import { guardFindEnabled } from '../../src/features/devices/repo.js';
import { insertReport } from '../../src/features/find/repo.js';
import { runMaintenance } from '../../src/jobs.js';
import { createWorkerDeps } from '../../src/worker.js';

// The lease and expiry statements, and Lost Mode in the command's own write, on D1 (the same SQL
// as on SQLite, but through a D1 batch), with a clock the test moves.

const PUBLIC_URL = 'http://homing.test';
const HOUR = 3_600_000;

/** An account on the D1 app with one phone, Find Device on, and a clock the test moves. */
async function ownerWithPhone(emailPrefix: string) {
  const clock = createManualClock(Date.now());
  const deps = { ...createWorkerDeps(env), clock };
  const app = createApp(deps);
  const viaApp = (input: string, init: RequestInit) => app.request(input, { ...init, redirect: 'manual' });
  const owner = createApiClient({ baseUrl: PUBLIC_URL, fetch: viaApp });
  const email = `${emailPrefix}-${toBase64Url(randomBytes(8))}@example.org`;
  const { accountId } = await signUp(owner, { birthYear: 1990, email, password: 'pw', kdf: { opsLimit: 1, memLimit: 8192 } });
  const { keys } = await logIn(owner, { email, password: 'pw' });
  const { device, token } = await owner.registerDevice({ name: 'Pixel', model: 'Pixel 9', platform: 'android', identifierHash: toBase64Url(randomBytes(32)) });
  await owner.setFindEnabled(device.id, true);
  const phone = createApiClient({ baseUrl: PUBLIC_URL, deviceToken: token, fetch: viaApp });
  return { clock, deps, owner, accountId, keys, device, phone };
}

describe('Find Device commands on D1', () => {
  it('a lost poll reply is redelivered after the lease and acknowledged once; a command past its expiry ends expired; lock and unlock move Lost Mode', async () => {
    const { clock, deps, owner, keys, device, phone } = await ownerWithPhone('find');
    let counter = 0;
    const send = (type: 'ring' | 'lock' | 'unlock', lifetimeMs?: number) =>
      owner.sendCommand(
        device.id,
        signCommand(
          { deviceId: device.id, type, args: type === 'lock' ? { sealed: 'x'.repeat(80) } : {}, issuedAt: clock.now(), expiresAt: lifetimeMs && clock.now() + lifetimeMs, counter: ++counter },
          keys.ed25519Seed,
        ),
      );

    const ring = await send('ring');
    expect((await phone.pollCommands()).commands).toHaveLength(1);
    expect((await phone.pollCommands()).commands).toEqual([]);
    clock.advance(deps.config.commandLeaseMs);
    const [again] = (await phone.pollCommands()).commands;
    expect(again).toMatchObject({ id: ring.id, deliveries: 2 });
    const verifier = createCommandVerifier({ deviceId: device.id, ed25519PublicKey: keys.ed25519PublicKey, now: clock.now });
    expect(verifier.verify(again!).ok).toBe(true);
    const acked = await phone.ackCommand(ring.id, 'succeeded', 'rang');
    expect(await phone.ackCommand(ring.id, 'failed', 'again')).toEqual(acked);

    const lock = await send('lock', HOUR);
    expect((await owner.device(device.id)).lostMode).toEqual({ since: clock.now() });
    expect((await phone.thisDevice()).lostMode).toEqual({ since: clock.now() });
    clock.advance(HOUR);
    await runMaintenance(deps);
    expect((await phone.pollCommands()).commands).toEqual([]);
    const statuses = (await owner.commands(device.id)).commands.map((c) => [c.id, c.status]);
    expect(statuses).toEqual([
      [lock.id, 'expired'],
      [ring.id, 'succeeded'],
    ]);
    // Lost Mode is a state, not the lock command's status: it outlives the expired command.
    expect((await owner.device(device.id)).lostMode).not.toBeNull();
    await send('unlock');
    expect((await owner.device(device.id)).lostMode).toBeNull();
  });

  it('location reports are written by statements rendered once (reusableWrite) in one D1 batch: the last is the last-known location, a switched-off device is refused and stores nothing', async () => {
    const { clock, deps, owner, accountId, device, phone } = await ownerWithPhone('reports');
    const sealed = (n: number) => toBase64Url(randomBytes(60 + n));
    const first = [sealed(1), sealed(2)];
    expect(await phone.reportLocations(first)).toEqual({ accepted: 2 });
    clock.advance(1000);
    const second = [sealed(3)];
    await phone.reportLocations(second);
    expect((await owner.lastLocation(device.id)).report).toEqual({ sealed: second[0], receivedAt: clock.now() });
    expect((await owner.locationHistory(device.id)).reports.map((r) => r.sealed).sort()).toEqual([...first, ...second].sort());

    await owner.setFindEnabled(device.id, false);
    await expect(phone.reportLocations([sealed(4)])).rejects.toMatchObject({ code: 'find_disabled' });
    // The switch flipped between a report's read and its write: the rendered guard aborts the batch.
    const write = atomic(deps.db, [
      guardFindEnabled(deps.db, device.id),
      insertReport(deps.db, { accountId, deviceId: device.id, id: 'raced', sealed: sealed(5), receivedAt: clock.now() }),
    ]);
    await expect(write.catch((err: unknown) => (isGuardFailure(err) ? 'guard failed' : String(err)))).resolves.toBe('guard failed');
    await owner.setFindEnabled(device.id, true);
    expect((await owner.lastLocation(device.id)).report).toBeNull();
    expect((await owner.locationHistory(device.id)).reports).toEqual([]);
  });
});
