// 6. Soak: many phones syncing, reporting locations and now and then uploading a small blob
// against the built server for a bounded time. Every request is timed; any answer but a 2xx is
// an error (a documented 429 is counted apart, as the abuse limits' doing); the server's RSS is
// read from /proc every few seconds to see whether memory levels off.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type ApiClient, HomingApiError, type ItemChange } from '../../src/client/api.js';
import { deviceClient, enrollAccount, newItemChange, ownerClient, sealedReport, type SimulatedAccount } from '../faults/fleet.js';
import { fakeSealed, sha256Hex } from '../features/sync-helpers.js';
import { benchServerEnv, freePort, RUNTIME_COMMAND, type RunningServer, startServer, statusBytes } from './server-process.js';
import { count, mib, ms, percentile, progress, ratio, registerCleanup, table } from './util.js';

// HOMING_SOAK_SECONDS runs it longer, to see where memory settles.
export const SOAK_SECONDS = Number(process.env.HOMING_SOAK_SECONDS) || 60;
export const ACCOUNTS = 50;
export const DEVICES_PER_ACCOUNT = 4;
/** Each phone acts once per tick: a sync batch and a location report take turns. */
export const TICK_MS = 4_000;
/** Every PULL_EVERY-th tick a phone also pulls changes; every BLOB_EVERY-th it uploads a blob. */
export const PULL_EVERY = 4;
export const BLOB_EVERY = 15;
export const BLOB_BYTES = 16 * 1024;
export const RSS_EVERY_MS = 3_000;

type Kind = 'sync batch' | 'location report' | 'changes pull' | 'blob upload';
const KINDS: Kind[] = ['sync batch', 'location report', 'changes pull', 'blob upload'];

export interface SoakResult {
  seconds: number;
  devices: number;
  accounts: number;
  enrolSeconds: number;
  /** Per kind: when each request was sent (seconds into the soak) and how long its answer took (ms). */
  latencies: Record<Kind, { at: number; ms: number }[]>;
  /** "kind status code" (or "kind network") → count: answers that were neither 2xx nor 429. */
  errors: Record<string, number>;
  limited: Record<string, number>;
  /** [seconds since the soak began, VmRSS bytes]. */
  rss: [number, number][];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One phone: its own items (it only ever updates those, so batches never conflict) and cursor. */
async function phone(account: SimulatedAccount, deviceIndex: number, url: string, begin: number, result: SoakResult) {
  const owner: ApiClient = ownerClient(url, account);
  const device = deviceClient(url, account, account.devices[deviceIndex]!);
  const versions = new Map<string, number>();
  let cursor = '0';
  let blobId: string | undefined;

  const timed = async <T>(kind: Kind, request: () => Promise<T>): Promise<T | undefined> => {
    const t0 = performance.now();
    try {
      const value = await request();
      result.latencies[kind].push({ at: (t0 - begin) / 1000, ms: performance.now() - t0 });
      return value;
    } catch (err) {
      const key = err instanceof HomingApiError ? `${kind} ${err.status} ${err.code}` : `${kind} network`;
      const tally = err instanceof HomingApiError && err.status === 429 ? result.limited : result.errors;
      tally[key] = (tally[key] ?? 0) + 1;
      return undefined;
    }
  };

  await sleep(Math.random() * TICK_MS);
  const until = begin + SOAK_SECONDS * 1000;
  for (let tick = 0; performance.now() < until; tick++) {
    const started = performance.now();
    if (tick % 2 === 0) {
      const changes: ItemChange[] = [newItemChange(account.collectionId, blobId), newItemChange(account.collectionId)];
      blobId = undefined;
      const own = [...versions.keys()];
      const target = own[Math.floor(Math.random() * own.length)];
      if (target) changes.push({ op: 'update', itemId: target, baseVersion: versions.get(target)!, encryptedMetadata: fakeSealed(100) });
      const applied = await timed('sync batch', () => owner.applyChanges(changes));
      for (const item of applied?.items ?? []) versions.set(item.id, item.version);
    } else {
      await timed('location report', () => device.reportLocations([sealedReport()]));
    }
    if (tick % PULL_EVERY === PULL_EVERY - 1) {
      const page = await timed('changes pull', () => owner.changes(cursor, 200));
      if (page) cursor = page.cursor;
    }
    if (tick % BLOB_EVERY === BLOB_EVERY - 1) {
      const bytes = new Uint8Array(randomBytes(BLOB_BYTES));
      blobId = (await timed('blob upload', () => owner.uploadBlob(bytes, bytes.length, sha256Hex(bytes))))?.blobId;
    }
    await sleep(Math.max(0, TICK_MS - (performance.now() - started)));
  }
}

export async function benchSoak(): Promise<SoakResult> {
  const dir = mkdtempSync(join(tmpdir(), 'homing-bench-soak-'));
  const port = await freePort();
  let server: RunningServer | undefined;
  const unregister = registerCleanup(() => {
    if (server) process.kill(server.pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  try {
    server = await startServer(
      benchServerEnv(port, dir, {
        // Each simulated account sends from its own address, as phones on their own networks do,
        // so the per-address sign-up and login limits see one phone owner each.
        TRUST_PROXY_HEADER: 'x-forwarded-for',
      }),
      dir,
    );
    const { url } = server;
    progress(`  soak: server up on ${url}; enrolling ${ACCOUNTS} accounts × ${DEVICES_PER_ACCOUNT} devices`);
    const t0 = performance.now();
    const accounts: SimulatedAccount[] = [];
    for (let i = 0; i < ACCOUNTS; i += 10) {
      const batch = Array.from({ length: Math.min(10, ACCOUNTS - i) }, (_, j) =>
        enrollAccount(url, { devices: DEVICES_PER_ACCOUNT, address: `10.77.${(i + j) >> 8}.${(i + j) & 255}` }),
      );
      accounts.push(...(await Promise.all(batch)));
    }
    const enrolSeconds = (performance.now() - t0) / 1000;
    progress(`  soak: enrolled in ${enrolSeconds.toFixed(1)} s; running ${SOAK_SECONDS} s`);

    const result: SoakResult = {
      seconds: SOAK_SECONDS,
      devices: ACCOUNTS * DEVICES_PER_ACCOUNT,
      accounts: ACCOUNTS,
      enrolSeconds,
      latencies: Object.fromEntries(KINDS.map((k) => [k, [] as { at: number; ms: number }[]])) as SoakResult['latencies'],
      errors: {},
      limited: {},
      rss: [],
    };
    const begin = performance.now();
    const pid = server.pid;
    const sample = () => result.rss.push([(performance.now() - begin) / 1000, statusBytes(pid, 'VmRSS') ?? 0]);
    sample();
    const sampler = setInterval(() => {
      sample();
      const done = KINDS.reduce((n, k) => n + result.latencies[k].length, 0);
      progress(`  soak: ${result.rss.at(-1)![0].toFixed(0)} s, ${count(done)} requests, RSS ${mib(result.rss.at(-1)![1])} MiB`);
    }, RSS_EVERY_MS);
    await Promise.all(accounts.flatMap((account) => account.devices.map((_, i) => phone(account, i, url, begin, result))));
    clearInterval(sampler);
    sample();
    return result;
  } finally {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
    unregister();
  }
}

/** Least-squares slope of RSS over time, in MiB per minute. */
function slopeMiBPerMinute(points: [number, number][]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return den === 0 ? 0 : (num / den / 2 ** 20) * 60;
}

export function renderSoak(r: SoakResult, seconds: number, measuredBy = ''): string {
  const all = KINDS.flatMap((k) => r.latencies[k]);
  const total = all.length;
  const firstTick = all.filter((l) => l.at < TICK_MS / 1000);
  const later = all.filter((l) => l.at >= TICK_MS / 1000);
  const errors = Object.values(r.errors).reduce((a, b) => a + b, 0);
  const limited = Object.values(r.limited).reduce((a, b) => a + b, 0);
  const cells = (timed: { ms: number }[]) => {
    const values = timed.map((l) => l.ms);
    return values.length ? [count(values.length), ms(percentile(values, 50)), ms(percentile(values, 99)), ms(Math.max(...values))] : ['0', '—', '—', '—'];
  };
  const rows = [
    ...KINDS.map((k) => [k, ...cells(r.latencies[k])]),
    ['**all**', ...cells(all)],
    [`all, sent in the first tick (${TICK_MS / 1000} s, every phone opening its connection)`, ...cells(firstTick)],
    ['all, sent after the first tick', ...cells(later)],
  ];

  const thirds = [0, 1, 2].map((i) => r.rss.filter(([t]) => t >= (i * r.seconds) / 3 && t < ((i + 1) * r.seconds) / 3 + (i === 2 ? 1 : 0)));
  const maxOf = (points: [number, number][]) => Math.max(...points.map(([, b]) => b));
  const middleMax = maxOf(thirds[1]!);
  const lastMax = maxOf(thirds[2]!);
  const levelRatio = lastMax / middleMax;
  const half = r.seconds / 2;
  const firstSlope = slopeMiBPerMinute(r.rss.filter(([t]) => t <= half));
  const lastSlope = slopeMiBPerMinute(r.rss.filter(([t]) => t >= half));
  const levelsOff = levelRatio <= 1.1;
  const rssRows = r.rss.map(([t, b]) => [t.toFixed(0), mib(b)]);
  const listed = (tally: Record<string, number>) =>
    Object.entries(tally)
      .map(([key, n]) => `${key}: ${count(n)}`)
      .join('; ');

  return `
## 6. Soak: ${count(r.devices)} phones for ${r.seconds} s

Target: *no errors, and server memory that levels off under a steady load*. The real server
(\`${RUNTIME_COMMAND.built}\`, embedded SQLite and file blob store, \`LOG_LEVEL=warn\`) ran on loopback with
${count(r.accounts)} accounts of ${DEVICES_PER_ACCOUNT} phones each, enrolled over HTTP with the SDK in ${r.enrolSeconds.toFixed(1)} s
(each account from its own client address, through \`TRUST_PROXY_HEADER\`). Then for ${r.seconds} s every phone acted
once every ${TICK_MS / 1000} s, sync batch and location report taking turns: a batch of two new items and an update of
one of its own (so batches never conflict), a sealed location report with its device token (${(60_000 / (2 * TICK_MS)).toFixed(0)} a minute,
under the per-device limit); every ${PULL_EVERY}th tick it also pulled its changes, and every ${BLOB_EVERY}th it uploaded a
${BLOB_BYTES / 1024} KiB blob, attached to its next batch. Latency is from the client, request sent to answer read,
the client sharing the machine's cores with the server. The server's VmRSS was read from /proc every
${RSS_EVERY_MS / 1000} s. Section time: ${seconds.toFixed(0)} s.${measuredBy ? `\n\n${measuredBy}` : ''}

${table(['Request', 'Done', 'p50 (ms)', 'p99 (ms)', 'max (ms)'], rows)}

${count(total)} requests answered 2xx (${(total / r.seconds).toFixed(0)} a second); **${count(errors)} errors**${errors ? ` (${listed(r.errors)})` : ''}; ${count(limited)} answered 429 by the abuse limits${limited ? ` (${listed(r.limited)})` : ''}.

Server RSS went from ${mib(r.rss[0]![1])} MiB at the start to ${mib(r.rss.at(-1)![1])} MiB at the end (peak ${mib(maxOf(r.rss))} MiB).
The peak of the last third of the run was ${ratio(levelRatio)} the peak of the middle third
(${mib(lastMax)} against ${mib(middleMax)} MiB), and RSS grew ${firstSlope.toFixed(1)} MiB/min over the first half
against ${lastSlope.toFixed(1)} MiB/min over the second: ${levelsOff ? 'memory levelled off (within 1.1× of the middle third)' : 'memory was STILL GROWING in the last third (above 1.1× of the middle third)'}.

<details><summary>RSS samples</summary>

${table(['Seconds into the soak', 'Server RSS (MiB)'], rssRows)}

</details>
`;
}
