import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logIn } from '../../src/client/account.js';
import { createApiClient } from '../../src/client/api.js';
import { sealLockArgs, signCommand } from '../../src/client/crypto/commands.js';
import { openLocation } from '../../src/client/crypto/location.js';
import { run, startTestServer } from './spawn.js';

let dir: string;
let url: string;
let stop: () => Promise<void>;

beforeAll(async () => {
  ({ dir, url, stop } = await startTestServer('cli-find'));
});

afterAll(() => stop());

const cli = (args: string[]) =>
  run('src/client/cli/main.ts', {
    cwd: dir,
    args: [...args, '--server', url, '--state', join(dir, 'phone.json')],
    env: { HOMING_PASSWORD: 'a long password' },
  });

describe('device CLI: Find Device without a phone', () => {
  it('reports a walk, then verifies, carries out and acknowledges the owner’s signed commands', async () => {
    await cli(['signup', '--email', 'lost@example.org', '--birth-year', '1990', '--kdf-ops', '1', '--kdf-mem', '8192']);
    await cli(['login', '--email', 'lost@example.org']);
    await cli(['register', '--name', 'Lost phone', '--platform', 'android']);

    const refused = await cli(['locate', '--lat', '1', '--lon', '2']);
    expect(refused.output).toContain('Find Device is off for this device');
    expect((await cli(['find', '--on'])).output).toContain('Find Device is on for Lost phone');
    const walk = await cli(['locate', '--walk', '5', '--lat', '48.8584', '--lon', '2.2945']);
    expect(walk.output).toMatch(/reported 5 locations; last 48\.\d{5}, 2\.\d{5}/);

    // The owner, elsewhere: reads the location and sends signed commands.
    const owner = createApiClient({ baseUrl: url });
    const { keys } = await logIn(owner, { email: 'lost@example.org', password: 'a long password' });
    const [device] = (await owner.devices()).devices;
    const last = await owner.lastLocation(device!.id);
    expect(openLocation(last.report!.sealed, keys.x25519PublicKey, keys.x25519SecretKey).lat).toBeCloseTo(48.8584, 2);
    expect((await owner.locationHistory(device!.id)).reports).toHaveLength(5);

    const now = Date.now();
    await owner.sendCommand(device!.id, signCommand({ deviceId: device!.id, type: 'ring', args: {}, issuedAt: now, counter: now }, keys.ed25519Seed));
    const lock = sealLockArgs({ message: 'Please return me', callbackNumber: '+447700900123' }, keys.x25519PublicKey);
    await owner.sendCommand(device!.id, signCommand({ deviceId: device!.id, type: 'lock', args: lock, issuedAt: now, counter: now + 1 }, keys.ed25519Seed));

    const poll = await cli(['poll', '--once', '--wait', '2']);
    expect(poll.code, poll.output).toBe(0);
    expect(poll.output).toContain('RING! RING!');
    expect(poll.output).toContain('LOCKED. Lock screen: "Please return me" — call +447700900123');
    const statuses = (await owner.commands(device!.id)).commands.map((c) => [c.type, c.status]);
    expect(statuses).toEqual([
      ['lock', 'succeeded'],
      ['ring', 'succeeded'],
    ]);

    expect((await cli(['find', '--off'])).output).toContain('its stored locations were deleted');
    expect((await owner.lastLocation(device!.id)).report).toBeNull();
  });

  it('verifies a new SIM with the log provider: the code is in the outbox, the owner sees the number', async () => {
    await cli(['find', '--on']);
    const sim = await cli(['sim', '--event', 'replaced', '--number', '+447700900777', '--carrier', 'EE']);
    expect(sim.output).toContain('a code was texted to +447700900777');
    const outbox = readFileSync(join(dir, 'data', 'sms-outbox.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const code = outbox.at(-1).body.match(/\d{6}/)[0];
    expect((await cli(['sim-verify', '--code', code])).output).toContain('SIM number verified');

    const owner = createApiClient({ baseUrl: url });
    await logIn(owner, { email: 'lost@example.org', password: 'a long password' });
    const [device] = (await owner.devices()).devices;
    expect((await owner.simEvents(device!.id)).events[0]).toMatchObject({ kind: 'replaced', carrier: 'EE', verifiedNumber: '+447700900777', status: 'verified' });
  });

  it('takes negative coordinates as values, not as options: --lat -33.9 --lon -3.7 and --lon=-3.7', async () => {
    const spaced = await cli(['locate', '--lat', '-33.9', '--lon', '-3.7', '--accuracy', '5']);
    expect(spaced.code, spaced.output).toBe(0);
    expect(spaced.output).toContain('reported 1 location; last -33.90000, -3.70000 (±5 m)');
    const joined = await cli(['locate', '--lat=-0.5', '--lon=-3.7']);
    expect(joined.code, joined.output).toBe(0);
    expect(joined.output).toContain('last -0.50000, -3.70000');
    // An option after a numeric one is still an option, not its value.
    const missing = await cli(['locate', '--lat', '--lon', '-3.7']);
    expect(missing.code).not.toBe(0);
    expect(missing.output).toContain("error: Option '--lat' argument is ambiguous");

    const owner = createApiClient({ baseUrl: url });
    const { keys } = await logIn(owner, { email: 'lost@example.org', password: 'a long password' });
    const [device] = (await owner.devices()).devices;
    const { reports } = await owner.locationHistory(device!.id);
    const fixes = reports.map((r) => openLocation(r.sealed, keys.x25519PublicKey, keys.x25519SecretKey));
    expect(fixes.map((f) => [f.lat, f.lon])).toEqual(expect.arrayContaining([[-33.9, -3.7], [-0.5, -3.7]]));
  });
});
