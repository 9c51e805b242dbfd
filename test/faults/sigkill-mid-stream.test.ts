import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, killIfRunning, type Running, start, waitForHealth } from '../process/spawn.js';
import { enrollAccount, type SimulatedAccount } from './fleet.js';
import { verifyBlobs, verifyItems, verifyLocations } from './verify.js';
import { blobStream, type Ledger, locationStream, newLedger, type Phase, seededRandom, syncStream } from './workload.js';

// The built server (dist/node.js, as `npm start` runs it) is SIGKILLed at a random moment while
// several phones sync item batches, report locations and upload blobs (in one request and in
// parts), and restarted on the same data folder, three times. Then, through the API only: every
// write it acknowledged is there, every write it never answered is all there or not at all, an
// upload the crash left open completes or is gone, and no blob is served short.

const ACCOUNTS = 3;
const DEVICES_PER_ACCOUNT = 2;
const KILLS = 3;
const SEED = Number(process.env.HOMING_FAULT_SEED ?? Date.now() % 2 ** 31);

const dir = mkdtempSync(join(tmpdir(), 'homing-sigkill-'));
let server: Running | undefined;

/** The server on a fresh port each time, so no client reuses a connection to the dead one. */
async function startServer() {
  const port = await freePort();
  const url = `http://localhost:${port}`;
  server = start('src/node.ts', { cwd: dir, env: { PORT: String(port), KDF_MIN_OPS_LIMIT: '1', KDF_MIN_MEM_LIMIT: '8192', LOG_LEVEL: 'info' } });
  await waitForHealth(url, server);
  return url;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(condition: () => boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await sleep(50);
}

/** Every phone's streams at once, while the phase runs. */
async function runStreams(phase: Phase, fleet: { account: SimulatedAccount; ledger: Ledger }[]) {
  await Promise.all(
    fleet.flatMap(({ account, ledger }) => [
      syncStream(phase, account, ledger),
      blobStream(phase, account, ledger),
      ...account.devices.map((_, i) => locationStream(phase, account, i, ledger)),
    ]),
  );
}

afterAll(async () => {
  await killIfRunning(server);
  rmSync(dir, { recursive: true, force: true });
});

describe(`SIGKILL mid-stream (seed ${SEED}; set HOMING_FAULT_SEED to repeat)`, () => {
  it('the server killed three times while phones write loses no acknowledged write and shows nothing half written', async () => {
    const random = seededRandom(SEED);
    let url = await startServer();
    const fleet: { account: SimulatedAccount; ledger: Ledger }[] = [];
    for (let i = 0; i < ACCOUNTS; i++) {
      const account = await enrollAccount(url, { devices: DEVICES_PER_ACCOUNT });
      fleet.push({ account, ledger: newLedger(account) });
    }

    for (let kill = 1; kill <= KILLS; kill++) {
      let running = true;
      const streams = runStreams({ url, running: () => running, random }, fleet);
      // A random moment once every phone has had a blob acknowledged in this phase (on a busy
      // machine an fsync can take a while), so each kill lands among writes of every kind.
      const blobsBefore = fleet.map((f) => f.ledger.blobs.size);
      await until(() => fleet.every((f, i) => f.ledger.blobs.size > blobsBefore[i]!), 15_000);
      await sleep(random() * 1500);
      running = false;
      server!.signal('SIGKILL');
      await server!.exited;
      await streams;
      url = await startServer();
    }

    const ledgers = fleet.map((f) => f.ledger);
    // Refusals the workload should never meet: anything but a documented 429.
    expect(ledgers.flatMap((l) => l.unexpected)).toEqual([]);
    // The workload did what it is for: writes were acknowledged, and some were cut off by a kill.
    expect(ledgers.reduce((n, l) => n + l.items.size, 0)).toBeGreaterThan(20);
    expect(ledgers.every((l) => l.blobs.size > 0)).toBe(true);
    expect(ledgers.some((l) => [...l.locations.values()].some((sent) => sent.some((r) => r.outcome === 'acked')))).toBe(true);
    expect(ledgers.some((l) => l.unknownBatches.length + l.openUploads.size > 0 || [...l.locations.values()].flat().some((r) => r.outcome === 'unknown'))).toBe(true);

    const problems: string[] = [];
    for (const { account, ledger } of fleet) {
      problems.push(...(await verifyItems(url, account, ledger)));
      problems.push(...(await verifyBlobs(url, account, ledger)));
      problems.push(...(await verifyLocations(url, account, ledger)));
    }
    expect(problems, server!.output().slice(-4000)).toEqual([]);
  }, 90_000);
});
