// 10. Blob streaming: uploads and downloads through the built server to an S3 store, against the
// same transfers straight to that store with the AWS SDK (the ceiling), interleaved, medians of
// the rounds, with the server's RSS sampled throughout its transfers. Both routes send from the
// same generated bodies (test/bench/pattern.ts) over node:http and hash downloads as they arrive
// (test/bench/node-transfer.ts).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { logIn, signUp } from '../../src/client/account.js';
import { createApiClient } from '../../src/client/api.js';
import { SHA256_HEADER } from '../../src/protocol/headers.js';
import { nodeBody, send } from './node-transfer.js';
import { patternSha256, patternStream } from './pattern.js';
import { openS3Target, type S3Target } from './s3-direct.js';
import { benchServerEnv, freePort, type RssSamples, type RunningServer, sampleRss, startServer } from './server-process.js';
import { BENCH_KDF } from './sync-pages.js';
import { GiB, mbPerSecond, median, MiB, mib, progress, ratio, registerCleanup, sizeLabel, table } from './util.js';

/** Targets of issue 15: through homing at least this share of direct-to-S3 (uploads at the largest size). */
export const UPLOAD_TARGET = 0.8;
export const DOWNLOAD_TARGET = 0.9;
const FULL_SIZES = [256 * MiB, 1 * GiB];
const QUICK_SIZES = [16 * MiB, 64 * MiB];
/** Bounds full mode: a transfer slower than this fails the section instead of hanging it. */
const TRANSFER_TIMEOUT_MS = 10 * 60_000;
const RSS_INTERVAL_MS = 50;
/** USER_HZ: Linux reports process times in these ticks on every architecture Node runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

type Route = 'homing' | 'direct';
type Direction = 'up' | 'down';

interface Transfer {
  route: Route;
  direction: Direction;
  size: number;
  seconds: number;
  /** Highest server VmRSS sampled during a transfer through homing (undefined for direct ones). */
  serverPeakRss?: number;
  /** CPU time (user + system) the server spent on a transfer through homing, in seconds. */
  serverCpuSeconds?: number;
}

export interface BlobStreamingResult {
  quick: boolean;
  store: string;
  sizes: number[];
  rounds: number;
  transfers: Transfer[];
  serverBaselineRss: number;
}

const withTimeout = <T>(what: string, work: Promise<T>) =>
  Promise.race([
    work,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} took over ${TRANSFER_TIMEOUT_MS / 60_000} minutes`)), TRANSFER_TIMEOUT_MS).unref()),
  ]);

/** User + system CPU seconds of a process so far, from /proc/<pid>/stat (fields 14 and 15, in ticks). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

async function timed(work: () => Promise<void>, pid?: number): Promise<{ seconds: number; peakRss?: number; cpuSeconds?: number }> {
  const sampler = pid === undefined ? undefined : await sampleRss([pid], RSS_INTERVAL_MS);
  const cpu0 = pid === undefined ? 0 : cpuSeconds(pid);
  const t0 = performance.now();
  const done = await work().then(
    () => undefined,
    (error: unknown) => ({ error }),
  );
  const seconds = (performance.now() - t0) / 1000;
  // Stopped either way, so the sampling thread does not keep the process alive.
  const samples = (await sampler?.stop()) as [RssSamples] | undefined;
  if (done) throw done.error;
  return { seconds, peakRss: samples?.[0].peak, cpuSeconds: pid === undefined ? undefined : cpuSeconds(pid) - cpu0 };
}

/** A new account's session, as the Authorization header. */
async function openAccount(url: string): Promise<string> {
  const api = createApiClient({ baseUrl: url });
  const email = `bench.streaming.${Date.now()}@example.org`;
  const password = 'correct horse battery staple';
  await signUp(api, { birthYear: 1990, email, password, kdf: BENCH_KDF });
  const { response } = await logIn(api, { email, password, label: 'bench' });
  return `Bearer ${response.session.token!}`;
}

async function uploadThroughHoming(server: RunningServer, authorization: string, body: ReadableStream<Uint8Array>, size: number, sha256: string) {
  const headers = { authorization, 'content-type': 'application/octet-stream', 'content-length': String(size), [SHA256_HEADER]: sha256 };
  const answer = await send(`${server.url}/v1/blobs`, { method: 'POST', headers, body: nodeBody(body) });
  if (answer.status !== 201) throw new Error(`upload through homing answered ${answer.status}: ${answer.text}`);
  return JSON.parse(answer.text) as { blobId: string; size: number; sha256: string };
}

async function downloadThroughHoming(server: RunningServer, authorization: string, blobId: string) {
  const answer = await send(`${server.url}/v1/blobs/${blobId}`, { method: 'GET', headers: { authorization }, hashBody: true });
  if (!answer.digest) throw new Error(`download through homing answered ${answer.status}: ${answer.text}`);
  return answer.digest;
}

/** One round at one size: up then down, through homing and direct, in the order given. */
async function round(authorization: string, s3: S3Target, server: RunningServer, size: number, seed: number, order: Route[]) {
  const sha256 = patternSha256(seed, size);
  const out: Transfer[] = [];
  const check = (what: string, got: { bytes: number; sha256: string }) => {
    if (got.bytes !== size || got.sha256 !== sha256) throw new Error(`${what} gave ${got.bytes} bytes, SHA-256 ${got.sha256}`);
  };
  let blobId = '';
  const directKey = `bench/${seed}`;
  for (const route of order) {
    const up = await timed(async () => {
      if (route === 'direct') return withTimeout('direct upload', s3.upload(directKey, nodeBody(patternStream(seed, size)), size));
      const blob = await withTimeout('upload through homing', uploadThroughHoming(server, authorization, patternStream(seed, size), size, sha256));
      check('upload through homing', { bytes: blob.size, sha256: blob.sha256 });
      blobId = blob.blobId;
    }, route === 'homing' ? server.pid : undefined);
    out.push({ route, direction: 'up', size, seconds: up.seconds, serverPeakRss: up.peakRss, serverCpuSeconds: up.cpuSeconds });
  }
  for (const route of order) {
    const down = await timed(async () => {
      const got = await withTimeout(
        `download ${route}`,
        route === 'direct' ? s3.download(directKey) : downloadThroughHoming(server, authorization, blobId),
      );
      check(`download ${route}`, got);
    }, route === 'homing' ? server.pid : undefined);
    out.push({ route, direction: 'down', size, seconds: down.seconds, serverPeakRss: down.peakRss, serverCpuSeconds: down.cpuSeconds });
  }
  await s3.remove(directKey);
  return out;
}

export async function benchBlobStreaming(options: { quick: boolean }): Promise<BlobStreamingResult> {
  const sizes = options.quick ? QUICK_SIZES : FULL_SIZES;
  const rounds = options.quick ? 1 : 3;
  const dir = mkdtempSync(join(tmpdir(), 'homing-bench-streaming-'));
  let server: RunningServer | undefined;
  let s3: S3Target | undefined;
  const unregister = registerCleanup(() => {
    if (server) process.kill(server.pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  try {
    s3 = await openS3Target();
    progress(`  streaming: store ${s3.label}, bucket ${s3.config.bucket}`);
    const port = await freePort();
    server = await startServer(benchServerEnv(port, dir, s3.serverEnv), dir);
    const authorization = await openAccount(server.url);
    const idle = await sampleRss([server.pid], RSS_INTERVAL_MS);
    await new Promise((r) => setTimeout(r, 500));
    const [baseline] = (await idle.stop()) as [RssSamples];
    const result: BlobStreamingResult = {
      quick: options.quick,
      store: s3.label,
      sizes,
      rounds,
      transfers: [],
      serverBaselineRss: median(baseline.samples),
    };
    for (let r = 0; r < rounds; r++) {
      for (const [i, size] of sizes.entries()) {
        // Alternating which goes first cancels a drift in the machine's load between the two.
        const order: Route[] = (r + i) % 2 === 0 ? ['homing', 'direct'] : ['direct', 'homing'];
        progress(`  streaming: round ${r + 1}/${rounds}, ${sizeLabel(size)}, ${order.join(' then ')}`);
        const transfers = await round(authorization, s3, server, size, 0x5a00 + r * 16 + i, order);
        for (const t of transfers) {
          progress(`  streaming:   ${t.route} ${t.direction} ${(mbPerSecond(size, t.seconds * 1000)).toFixed(0)} MB/s${t.serverPeakRss ? `, server peak ${mib(t.serverPeakRss)} MiB` : ''}`);
        }
        result.transfers.push(...transfers);
      }
    }
    return result;
  } finally {
    try {
      await server?.stop();
    } finally {
      await s3?.close();
      rmSync(dir, { recursive: true, force: true });
      unregister();
    }
  }
}

/** Median MB/s of the matching transfers. */
function rate(r: BlobStreamingResult, route: Route, direction: Direction, size: number) {
  return median(r.transfers.filter((t) => t.route === route && t.direction === direction && t.size === size).map((t) => mbPerSecond(size, t.seconds * 1000)));
}

/** Median CPU seconds per GiB the server spent on the matching transfers through homing. */
function serverCpuPerGiB(r: BlobStreamingResult, direction: Direction, size: number) {
  return median(r.transfers.filter((t) => t.route === 'homing' && t.direction === direction && t.size === size).map((t) => (t.serverCpuSeconds! * GiB) / size));
}

const peakRss = (r: BlobStreamingResult, size: number) =>
  Math.max(...r.transfers.filter((t) => t.size === size && t.serverPeakRss !== undefined).map((t) => t.serverPeakRss!));

export function renderBlobStreaming(r: BlobStreamingResult, seconds: number): string {
  const largest = r.sizes.at(-1)!;
  const rows: (string | number)[][] = [];
  for (const size of r.sizes) {
    for (const direction of ['up', 'down'] as const) {
      const homing = rate(r, 'homing', direction, size);
      const direct = rate(r, 'direct', direction, size);
      rows.push([
        sizeLabel(size),
        direction === 'up' ? 'upload' : 'download',
        direct.toFixed(0),
        homing.toFixed(0),
        ratio(homing / direct),
        serverCpuPerGiB(r, direction, size).toFixed(1),
      ]);
    }
  }
  const up = rate(r, 'homing', 'up', largest) / rate(r, 'direct', 'up', largest);
  const down = rate(r, 'homing', 'down', largest) / rate(r, 'direct', 'down', largest);
  const met = (ok: boolean) => (ok ? 'met' : '**not met**');
  const rssGrowth = peakRss(r, largest) - peakRss(r, r.sizes[0]!);
  return `
## 10. Blob streaming through homing against direct to S3

Targets: *uploads through homing at least ${UPLOAD_TARGET} of direct-to-S3 at ${sizeLabel(largest)}, downloads at least
${DOWNLOAD_TARGET}, server RSS flat*.

The store: ${r.store}, on loopback. The ceiling: this process sending the same bytes straight to the
same bucket with the AWS SDK (\`PutObject\` with a streamed body and its \`Content-Length\`, as the
server's store does; \`GetObject\` for downloads). Through homing: \`POST /v1/blobs\` and
\`GET /v1/blobs/{id}\` on the built server (\`dist/node.js\`, \`BLOB_STORE=s3\`), which counts and hashes
the body on its way to the store and commits the blob only once the store holds it whole. Both
routes send over node:http (the SDK's own HTTP client on Node) from bodies generated as they are
sent, and hash every download as it arrives and check it. ${r.rounds} round${r.rounds === 1 ? '' : 's'}${r.quick ? ' (quick mode)' : ''}, the two routes interleaved (which goes first alternates);
the table gives median MB/s (decimal), and the CPU time (user + system, from \`/proc\`) the server
spent per GiB it passed on. The server's RSS was sampled every ${RSS_INTERVAL_MS} ms during its
transfers. Each transfer is bounded by ${TRANSFER_TIMEOUT_MS / 60_000} minutes. Section time: ${seconds.toFixed(0)} s.

${table(['Size', 'Transfer', 'Direct to S3 (MB/s, ceiling)', 'Through homing (MB/s)', 'Of direct', 'Server CPU (s per GiB)'], rows)}

${table(
  ['Size', 'Server peak RSS (MiB)'],
  [['idle, before', mib(r.serverBaselineRss)], ...r.sizes.map((size) => [sizeLabel(size), mib(peakRss(r, size))])],
)}

At ${sizeLabel(largest)} uploads through homing reached ${ratio(up)} of direct (target ${UPLOAD_TARGET}: ${met(up >= UPLOAD_TARGET)}) and
downloads ${ratio(down)} (target ${DOWNLOAD_TARGET}: ${met(down >= DOWNLOAD_TARGET)}); the server's peak RSS was ${mib(peakRss(r, largest))} MiB at
${sizeLabel(largest)}, ${rssGrowth >= 0 ? `${mib(rssGrowth)} MiB above` : `${mib(-rssGrowth)} MiB below`} its peak at ${sizeLabel(r.sizes[0]!)}.
`;
}
