// 8. The request path under load: location ingest and /healthz on the built server against a bare
// Hono route on @hono/node-server (the ceiling), each driven by autocannon at 50 connections from
// this process, interleaved, medians of the rounds. While ingest runs, a probe asks /healthz every
// 50 ms, to see whether other requests wait behind the writes.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { enrollAccount, sealedReport, type SimulatedAccount } from '../faults/fleet.js';
import { benchServerEnv, freePort, REPO, type RunningServer, startServer } from './server-process.js';
import { count, median, ms, percentile, progress, ratio, registerCleanup, table } from './util.js';

export const CONNECTIONS = 50;
/** Targets of issue 15: ingest at least this share of the bare route, p99 under this; /healthz this share. */
export const INGEST_TARGET = 0.25;
export const INGEST_P99_TARGET_MS = 50;
export const HEALTHZ_TARGET = 0.6;
const DEVICES_PER_ACCOUNT = 10;
const PROBE_EVERY_MS = 50;

interface Run {
  /** 2xx answers per second. */
  rate: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

export interface IngestResult {
  quick: boolean;
  seconds: number;
  rounds: number;
  devices: number;
  bare: Run[];
  /** The same route sending the headers the server's /healthz sends (all but Date, Connection and the body's own). */
  bareWithHeaders: Run[];
  healthz: Run[];
  ingest: Run[];
  /** /healthz latencies (ms) asked one at a time while ingest ran. */
  probe: number[];
  /** /healthz latencies (ms) asked one at a time with the server idle. */
  idleProbe: number[];
}

async function load(url: string, seconds: number, request?: (i: number) => { path: string; headers: Record<string, string>; body: string }): Promise<Run> {
  let n = 0;
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    ...(request
      ? {
          requests: [
            {
              method: 'POST',
              setupRequest: (req: Record<string, unknown>) => ({ ...req, ...request(n++) }),
            },
          ],
        }
      : {}),
  } as autocannon.Options);
  return {
    rate: result['2xx'] / (result.duration || seconds),
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

/** /healthz asked one at a time every PROBE_EVERY_MS until `until` resolves. */
async function probe(url: string, until: Promise<unknown>): Promise<number[]> {
  const latencies: number[] = [];
  let done = false;
  void until.finally(() => (done = true));
  while (!done) {
    const t0 = performance.now();
    await (await fetch(`${url}/healthz`)).arrayBuffer();
    latencies.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, PROBE_EVERY_MS));
  }
  return latencies;
}

/**
 * The bare Hono route (test/bench/bare-hono.mjs) on `port`, once it listens; also section 12's
 * idle-memory ceiling. With `headers`, it also serves them on /bare-with-headers.
 */
export function startBare(port: number, headers?: Record<string, string>): Promise<ChildProcess> {
  const args = [join(REPO, 'test/bench/bare-hono.mjs'), String(port), ...(headers ? [JSON.stringify(headers)] : [])];
  const child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('listening') && resolve(child));
    child.once('exit', (code) => reject(new Error(`the bare Hono server exited (${code})`)));
  });
}

/** The headers a response of the server carries that are not about its body or connection. */
async function headersOf(url: string): Promise<Record<string, string>> {
  const res = await fetch(url);
  await res.arrayBuffer();
  const own = new Set(['date', 'connection', 'keep-alive', 'content-type', 'content-length', 'transfer-encoding']);
  return Object.fromEntries([...res.headers].filter(([name]) => !own.has(name)));
}

export async function benchIngest(options: { quick: boolean }): Promise<IngestResult> {
  const seconds = options.quick ? 2 : 8;
  const rounds = options.quick ? 1 : 3;
  // Each device may report 60 times a minute (Find Device's own limit): enough devices that the
  // runs never meet it, so every request is a stored report.
  const accounts = options.quick ? 20 : 120;
  const dir = mkdtempSync(join(tmpdir(), 'homing-bench-ingest-'));
  let server: RunningServer | undefined;
  let bare: ChildProcess | undefined;
  const unregister = registerCleanup(() => {
    if (server) process.kill(server.pid, 'SIGKILL');
    bare?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  try {
    const port = await freePort();
    server = await startServer(benchServerEnv(port, dir, { TRUST_PROXY_HEADER: 'x-forwarded-for' }), dir);
    const barePort = await freePort();
    bare = await startBare(barePort, await headersOf(`${server.url}/healthz`));
    const bareUrl = `http://127.0.0.1:${barePort}/bare`;

    progress(`  ingest: enrolling ${accounts} accounts × ${DEVICES_PER_ACCOUNT} devices with Find Device on`);
    const fleet: SimulatedAccount[] = [];
    for (let i = 0; i < accounts; i += 10) {
      const batch = Array.from({ length: Math.min(10, accounts - i) }, (_, j) =>
        enrollAccount(server!.url, { devices: DEVICES_PER_ACCOUNT, address: `10.78.${(i + j) >> 8}.${(i + j) & 255}` }),
      );
      fleet.push(...(await Promise.all(batch)));
    }
    const tokens = fleet.flatMap((a) => a.devices.map((d) => `Bearer ${d.token}`));
    const body = JSON.stringify({ reports: [{ sealed: sealedReport() }] });
    const report = (i: number) => ({
      path: '/v1/device/locations',
      headers: { authorization: tokens[i % tokens.length]!, 'content-type': 'application/json' },
      body,
    });

    const result: IngestResult = { quick: options.quick, seconds, rounds, devices: tokens.length, bare: [], bareWithHeaders: [], healthz: [], ingest: [], probe: [], idleProbe: [] };
    result.idleProbe = await probe(server.url, new Promise((r) => setTimeout(r, 1000)));
    for (let round = 1; round <= rounds; round++) {
      progress(`  ingest: round ${round}/${rounds} (bare route, /healthz, ingest; ${seconds} s each)`);
      result.bare.push(await load(bareUrl, seconds));
      result.bareWithHeaders.push(await load(`${bareUrl}-with-headers`, seconds));
      result.healthz.push(await load(`${server.url}/healthz`, seconds));
      const ingest = load(server.url, seconds, report);
      const [run, latencies] = await Promise.all([ingest, probe(server.url, ingest)]);
      result.ingest.push(run);
      result.probe.push(...latencies);
    }
    return result;
  } finally {
    await server?.stop();
    bare?.kill('SIGTERM');
    unregister();
    rmSync(dir, { recursive: true, force: true });
  }
}

const med = (runs: Run[], key: keyof Run) => median(runs.map((r) => r[key]));

export function renderIngest(r: IngestResult, seconds: number): string {
  const bare = med(r.bare, 'rate');
  const healthz = med(r.healthz, 'rate') / bare;
  const withHeaders = med(r.bareWithHeaders, 'rate') / bare;
  const ingest = med(r.ingest, 'rate') / bare;
  const ingestP99 = med(r.ingest, 'p99');
  const probeP99 = percentile(r.probe, 99);
  const row = (name: string, runs: Run[]) => [
    name,
    count(Math.round(med(runs, 'rate'))),
    ratio(med(runs, 'rate') / bare),
    ms(med(runs, 'p50')),
    ms(med(runs, 'p99')),
    count(runs.reduce((n, x) => n + x.non2xx, 0)),
    count(runs.reduce((n, x) => n + x.errors, 0)),
  ];
  const met = (ok: boolean) => (ok ? 'met' : '**not met**');
  return `
## 8. The request path: location ingest and /healthz against a bare Hono route

Targets: *ingest at least ${INGEST_TARGET} of the bare route with p99 under ${INGEST_P99_TARGET_MS} ms at ${CONNECTIONS}
connections, /healthz fast while ingest runs; /healthz at least ${HEALTHZ_TARGET} of the bare route*.

Two processes: the ceiling, one Hono route on @hono/node-server answering
\`{"ok":true}\` (test/bench/bare-hono.mjs), and beside it the same route answering with the headers
a /healthz of the server carries (its security headers and a request id: what any route of
homing has to send, read from the running server); and the built server (\`dist/node.js\`, SQLite in WAL with
synchronous=FULL, so every commit is an fsync) for \`GET /healthz\` and for \`POST /v1/device/locations\`,
one sealed report per request, rotating over ${count(r.devices)} enrolled devices with Find Device on (so
no per-device limit is met and every 2xx is a stored report). autocannon drove each at
${CONNECTIONS} connections for ${r.seconds} s, the four interleaved, ${r.rounds} round${r.rounds === 1 ? '' : 's'}${r.quick ? ' (quick mode)' : ''};
the table gives medians. During each ingest run a probe asked \`/healthz\` one request at a time
every ${PROBE_EVERY_MS} ms. Section time: ${seconds.toFixed(0)} s.

${table(
  ['Route', '2xx per second', 'Of the bare route', 'p50 (ms)', 'p99 (ms)', 'Non-2xx', 'Errors'],
  [
    row('bare Hono route (ceiling)', r.bare),
    row('bare Hono route, with homing’s response headers', r.bareWithHeaders),
    row('GET /healthz', r.healthz),
    row('POST /v1/device/locations', r.ingest),
  ],
)}

| /healthz asked alone | median (ms) | p99 (ms) | asked |
| --- | --- | --- | --- |
| server idle | ${ms(median(r.idleProbe))} | ${ms(percentile(r.idleProbe, 99))} | ${r.idleProbe.length} |
| while ingest runs | ${ms(median(r.probe))} | ${ms(probeP99)} | ${r.probe.length} |

Ingest reached ${ratio(ingest)} of the bare route (target ${INGEST_TARGET}: ${met(ingest >= INGEST_TARGET)}) with a
p99 of ${ms(ingestP99)} ms (target under ${INGEST_P99_TARGET_MS} ms: ${met(ingestP99 < INGEST_P99_TARGET_MS)}); \`/healthz\`
under load reached ${ratio(healthz)} of it (target ${HEALTHZ_TARGET}: ${met(healthz >= HEALTHZ_TARGET)}), and asked alone while
ingest ran it answered in ${ms(median(r.probe))} ms at the median and ${ms(probeP99)} ms at p99. Sending homing's
response headers alone takes the bare route to ${ratio(withHeaders)} (the server writes them, autocannon, on the same
two cores, parses them), so against that route \`/healthz\` reached ${ratio(healthz / withHeaders)}: the rest is what the
app does per request. Writes commit in
groups, one fsync per event-loop turn for every request in it, each answered only after that commit
(src/adapters/sqlite-group-commit.ts).
`;
}
