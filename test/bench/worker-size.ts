// 12. The Worker's bundle by part against its gzip target, and the built server's idle memory on
// the embedded defaults against its target and against a bare Hono route (the ceiling), all
// measured in this run. The bundle is what `wrangler deploy` would upload (a dry run, bundled by
// wrangler itself, scripts/check-worker-size.mjs); the memory is VmRSS from /proc, taken the way
// section 5 takes it, the two kinds of process started in turn.
import { type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measureWorker, TARGET_GZIP_KIB, type WorkerSize } from '../../scripts/check-worker-size.mjs';
import { ensureBuilt } from '../process/spawn.js';
import { startBare } from './ingest.js';
import { benchServerEnv, freePort, REPO, RUNTIME_COMMAND, type RunningServer, startServer, statusBytes } from './server-process.js';
import { IDLE_MS, TARGET_IDLE_MIB } from './startup.js';
import { median, mib, progress, ratio, registerCleanup, table } from './util.js';

const KiB = 1024;

export interface IdleSample {
  rss: number;
  /** Anonymous pages (the JavaScript heap, malloc, stacks) and file-backed ones (the node binary, libraries). */
  anon: number;
  file: number;
}

export interface WorkerSizeResult {
  quick: boolean;
  worker: WorkerSize;
  /** The Worker for BLOB_STORE=s3 (src/worker-s3.ts), which bundles the AWS SDK. */
  s3Worker: WorkerSize;
  built: IdleSample[];
  /** The same processes as `built`, sampled again once idle for SETTLED_MS: after V8 has shrunk what start-up grew. */
  settled: IdleSample[];
  /** The same server with V8's young generation capped (SMALL_YOUNG_GENERATION): what its growth during start-up costs. */
  smallYoung: IdleSample[];
  bare: IdleSample[];
}

/** Not what `npm start` runs: an experiment row, to show how much of the idle heap is young generation. */
const SMALL_YOUNG_GENERATION = '--max-semi-space-size=2';

// V8 gives back the young generation it grew during start-up only once the process has been quiet
// for a while (its memory reducer); a server idles for hours, so this is its idle footprint.
const SETTLED_MS = 30_000;
const SETTLED_SAMPLES = { quick: 1, full: 3 };

const sampleOf = (pid: number): IdleSample => ({
  rss: statusBytes(pid, 'VmRSS') ?? 0,
  anon: statusBytes(pid, 'RssAnon') ?? 0,
  file: statusBytes(pid, 'RssFile') ?? 0,
});

const idle = () => new Promise((resolve) => setTimeout(resolve, IDLE_MS));

/**
 * The built server on a fresh data folder, IDLE_MS after its first 200 on /healthz, and with
 * `settle` once more SETTLED_MS after that.
 */
async function builtIdle(extraEnv: Record<string, string> = {}, settle = false): Promise<{ started: IdleSample; settled?: IdleSample }> {
  const dir = mkdtempSync(join(tmpdir(), 'homing-bench-idle-'));
  let server: RunningServer | undefined;
  const unregister = registerCleanup(() => {
    if (server) process.kill(server.pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  try {
    server = await startServer(benchServerEnv(await freePort(), dir, extraEnv), dir);
    await idle();
    const started = sampleOf(server.pid);
    if (!settle) return { started };
    await new Promise((resolve) => setTimeout(resolve, SETTLED_MS));
    return { started, settled: sampleOf(server.pid) };
  } finally {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
    unregister();
  }
}

/** The bare Hono route, IDLE_MS after its first answer. */
async function bareIdle(): Promise<IdleSample> {
  let bare: ChildProcess | undefined;
  const unregister = registerCleanup(() => bare?.kill('SIGKILL'));
  try {
    const port = await freePort();
    bare = await startBare(port);
    await (await fetch(`http://127.0.0.1:${port}/bare`)).arrayBuffer();
    await idle();
    return sampleOf(bare.pid!);
  } finally {
    bare?.kill('SIGKILL');
    unregister();
  }
}

export async function benchWorkerSize(options: { quick: boolean }): Promise<WorkerSizeResult> {
  // The page's files, the manifests wrangler bundles, and dist/node.js.
  ensureBuilt();
  const outdir = mkdtempSync(join(tmpdir(), 'homing-bench-worker-'));
  const unregister = registerCleanup(() => rmSync(outdir, { recursive: true, force: true }));
  let worker: WorkerSize;
  let s3Worker: WorkerSize;
  try {
    worker = measureWorker({ root: REPO, outdir });
    progress(`  worker: ${(worker.gzipBytes / KiB).toFixed(1)} KiB gzip (${worker.wrangler})`);
    s3Worker = measureWorker({ root: REPO, outdir, script: 'src/worker-s3.ts' });
    progress(`  worker-s3: ${(s3Worker.gzipBytes / KiB).toFixed(1)} KiB gzip`);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
    unregister();
  }

  const samples = options.quick ? 1 : 5;
  const settledSamples = options.quick ? SETTLED_SAMPLES.quick : SETTLED_SAMPLES.full;
  const measured = { built: [] as IdleSample[], settled: [] as IdleSample[], smallYoung: [] as IdleSample[], bare: [] as IdleSample[] };
  const take = {
    built: async () => {
      const { started, settled } = await builtIdle({}, measured.settled.length < settledSamples);
      if (settled) {
        measured.settled.push(settled);
        progress(`  settled #${measured.settled.length}: built ${mib(settled.rss)} MiB after ${SETTLED_MS / 1000} s more`);
      }
      return started;
    },
    smallYoung: async () => (await builtIdle({ NODE_OPTIONS: SMALL_YOUNG_GENERATION })).started,
    bare: bareIdle,
  };
  const kinds = ['built', 'bare', 'smallYoung'] as const;
  for (let i = 0; i < samples; i++) {
    // Rotating which goes first, so none always meets a machine another just loaded.
    for (const kind of [...kinds.slice(i % kinds.length), ...kinds.slice(0, i % kinds.length)]) {
      const sample = await take[kind]();
      measured[kind].push(sample);
      progress(`  idle #${i + 1}: ${kind} ${mib(sample.rss)} MiB (anon ${mib(sample.anon)}, file ${mib(sample.file)})`);
    }
  }
  return { quick: options.quick, worker, s3Worker, ...measured };
}

export function renderWorkerSize(r: WorkerSizeResult, seconds: number): string {
  const kib = (bytes: number) => (bytes / KiB).toFixed(1);
  const gzipRatio = r.worker.gzipBytes / (TARGET_GZIP_KIB * KiB);
  const partRows = r.worker.parts.map((part) => [part.name, kib(part.bytes), kib(part.gzipBytes)]);
  const of = (list: IdleSample[], field: keyof IdleSample) => median(list.map((s) => s[field]));
  const range = (list: IdleSample[]) => `${mib(Math.min(...list.map((s) => s.rss)))}–${mib(Math.max(...list.map((s) => s.rss)))}`;
  const builtRss = of(r.built, 'rss');
  const settledRss = of(r.settled, 'rss');
  const bareRss = of(r.bare, 'rss');
  const idleRow = (name: string, list: IdleSample[]) => [name, `**${mib(of(list, 'rss'))}** (${range(list)})`, mib(of(list, 'anon')), mib(of(list, 'file')), ratio(of(list, 'rss') / bareRss)];
  const met = (ok: boolean) => (ok ? 'met' : '**not met**');
  const gzipMet = r.worker.gzipBytes <= TARGET_GZIP_KIB * KiB;
  const idleMet = settledRss <= TARGET_IDLE_MIB * 2 ** 20;
  const largest = r.worker.parts[0]!;
  const extraAnon = of(r.built, 'anon') - of(r.bare, 'anon');
  const extraFile = of(r.built, 'file') - of(r.bare, 'file');
  return `
## 12. Worker bundle and idle memory

Targets: *the Worker at most ${TARGET_GZIP_KIB} KiB gzip, as \`npm run check:worker\` reports it; the built
server idles at most ${TARGET_IDLE_MIB} MiB RSS on the embedded defaults*.

The Worker is what \`wrangler deploy\` would upload, from a dry run of wrangler.toml (so bundled,
minified and with its Static Assets left out exactly as a deploy does it): its total and gzip size
as wrangler counts them (every module, concatenated, gzipped), and by part from esbuild's metafile,
each part's gzip being its own text cut out of the bundle along the source map and gzipped alone
(parts compress a little worse alone than together, so they sum to more than the whole). The
page's script, stylesheet and map data and Redoc are not in it: they are Static Assets, served
through the Worker from dist/public/. The same dry run of \`src/worker-s3.ts\`, the Worker for
BLOB_STORE=s3, bundles the AWS SDK. Idle memory is VmRSS from /proc ${IDLE_MS / 1000} s after the first
answer, for \`${RUNTIME_COMMAND.built}\` on a fresh data folder with the embedded defaults (SQLite, file
blob store, log SMS and e-mail) and for the ceiling, one Hono route on @hono/node-server
(test/bench/bare-hono.mjs), and once more for the built server with a smaller young generation, ${r.built.length} start${r.built.length === 1 ? '' : 's'} of each,
taking turns${r.quick ? ' (quick mode)' : ''}; medians,
with VmRSS split into anonymous pages (heap, malloc, stacks) and file-backed ones (the node binary
and its libraries). Section time: ${seconds.toFixed(0)} s.

${table(['Part of src/worker.ts', 'Bundled (KiB)', 'gzip alone (KiB)'], [
    ...partRows,
    ['**the Worker, as uploaded**', `**${kib(r.worker.bytes)}**`, `**${kib(r.worker.gzipBytes)}**`],
    [`**÷ the ${TARGET_GZIP_KIB} KiB target**`, '', `**${ratio(gzipRatio)}**`],
    ['src/worker-s3.ts, as uploaded (BLOB_STORE=s3)', kib(r.s3Worker.bytes), kib(r.s3Worker.gzipBytes)],
  ])}

${table(['Process, idle', 'VmRSS: median (range) (MiB)', 'Anonymous (MiB)', 'File-backed (MiB)', 'Of the bare route'], [
    idleRow('bare Hono route (ceiling)', r.bare),
    idleRow('the built server, embedded defaults', r.built),
    idleRow(`the same processes, idle ${SETTLED_MS / 1000} s more`, r.settled),
    idleRow(`the same, \`NODE_OPTIONS=${SMALL_YOUNG_GENERATION}\` (experiment)`, r.smallYoung),
  ])}

The Worker is ${kib(r.worker.gzipBytes)} KiB gzip, ${ratio(gzipRatio)} of its ${TARGET_GZIP_KIB} KiB target (${met(gzipMet)}); its largest
part is ${largest.name} at ${kib(largest.gzipBytes)} KiB gzip alone, and the S3 Worker is ${kib(r.s3Worker.gzipBytes)} KiB. The
built server, idle, settled at ${mib(settledRss)} MiB, ${ratio(settledRss / (TARGET_IDLE_MIB * 2 ** 20))} of the ${TARGET_IDLE_MIB} MiB target (${met(idleMet)}; the
target is judged on this figure, a server's footprint over hours of idling). ${IDLE_MS / 1000} s after its first
answer it held ${mib(builtRss)} MiB, ${ratio(builtRss / bareRss)} of the bare route's ${mib(bareRss)} MiB; of the ${mib(builtRss - bareRss)} MiB more,
${mib(extraAnon)} MiB are anonymous pages and ${mib(extraFile)} MiB file-backed. With V8's young generation capped
at 2 MiB semi-spaces (not what \`npm start\` runs: a smaller young generation means more frequent
scavenges under load), the same server idled at ${mib(of(r.smallYoung, 'rss'))} MiB: ${mib(builtRss - of(r.smallYoung, 'rss'))} MiB of the gap is the young
generation V8 grows while the server starts, and that is what it gives back after ${SETTLED_MS / 1000} s of quiet
(${r.settled.length} of the starts ${r.settled.length === 1 ? 'was' : 'were'} sampled again then).
`;
}
