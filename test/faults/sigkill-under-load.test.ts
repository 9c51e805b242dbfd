import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, killIfRunning, type Running, start, waitForHealth } from '../process/spawn.js';
import { enrollAccount, type SimulatedAccount } from './fleet.js';
import { verifyItems, verifyLocations } from './verify.js';
import { type Ledger, locationStream, newLedger, type Phase, seededRandom, syncStream } from './workload.js';

// Group commit under load: the built server is SIGKILLed while dozens of phones write flat out,
// so every kill lands with a group of writes open (begun, not yet committed) and requests waiting
// for it. Restarted on the same data: every write it acknowledged is there, and every request it
// never answered is there whole or not at all. A server that answered before its group committed
// would lose acknowledged writes here.

const ACCOUNTS = 4;
const DEVICES_PER_ACCOUNT = 8;
const KILLS = 2;
const ACKS_PER_PHASE = 300;
const SEED = Number(process.env.HOMING_FAULT_SEED ?? Date.now() % 2 ** 31);

const dir = mkdtempSync(join(tmpdir(), 'homing-sigkill-load-'));
let server: Running | undefined;

async function startServer() {
  const port = await freePort();
  const url = `http://localhost:${port}`;
  server = start('src/node.ts', { cwd: dir, env: { PORT: String(port), KDF_MIN_OPS_LIMIT: '1', KDF_MIN_MEM_LIMIT: '8192', LOG_LEVEL: 'warn' } });
  await waitForHealth(url, server);
  return url;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Acknowledged writes so far: item batches (as item states) and location requests. */
const acked = (fleet: { ledger: Ledger }[]) =>
  fleet.reduce((n, { ledger }) => n + ledger.items.size + [...ledger.locations.values()].flat().filter((r) => r.outcome === 'acked').length, 0);

afterAll(async () => {
  await killIfRunning(server);
  rmSync(dir, { recursive: true, force: true });
});

describe(`SIGKILL under load (seed ${SEED}; set HOMING_FAULT_SEED to repeat)`, () => {
  it('killed twice while 36 streams write flat out, the server loses no acknowledged write and leaves nothing half written', async () => {
    const random = seededRandom(SEED);
    let url = await startServer();
    const fleet: { account: SimulatedAccount; ledger: Ledger }[] = [];
    for (let i = 0; i < ACCOUNTS; i++) {
      const account = await enrollAccount(url, { devices: DEVICES_PER_ACCOUNT });
      fleet.push({ account, ledger: newLedger(account) });
    }

    for (let kill = 1; kill <= KILLS; kill++) {
      let running = true;
      const phase: Phase = { url, running: () => running, random, busy: true };
      const streams = Promise.all(
        fleet.flatMap(({ account, ledger }) => [syncStream(phase, account, ledger), ...account.devices.map((_, i) => locationStream(phase, account, i, ledger))]),
      );
      const target = acked(fleet) + ACKS_PER_PHASE;
      const deadline = Date.now() + 20_000;
      while (acked(fleet) < target && Date.now() < deadline) await sleep(20);
      await sleep(random() * 300);
      running = false;
      server!.signal('SIGKILL');
      await server!.exited;
      await streams;
      url = await startServer();
    }

    const ledgers = fleet.map((f) => f.ledger);
    expect(ledgers.flatMap((l) => l.unexpected)).toEqual([]);
    // Load, and kills that cut requests off mid-flight.
    expect(acked(fleet)).toBeGreaterThanOrEqual(KILLS * ACKS_PER_PHASE);
    const unknown = ledgers.reduce((n, l) => n + l.unknownBatches.length + [...l.locations.values()].flat().filter((r) => r.outcome === 'unknown').length, 0);
    expect(unknown).toBeGreaterThan(0);

    const problems: string[] = [];
    for (const { account, ledger } of fleet) {
      problems.push(...(await verifyItems(url, account, ledger)));
      problems.push(...(await verifyLocations(url, account, ledger)));
    }
    expect(problems, server!.output().slice(-4000)).toEqual([]);
  }, 120_000);
});
