// npm run bench: measures the performance targets on real parts and writes BENCHMARKS.md.
//   1. delta-sync page cost at 1 thousand, 100 thousand and 1 million items;
//   2. server memory while 16 MiB, 256 MiB and 1 GiB blobs stream through the real server;
//   3. blob encryption throughput, pure-JS cipher against Node's native one;
//   4. login timing and shapes for known and unknown emails;
//   5. idle RSS and spawn → first 200 of the built server against the tsx one;
//   6. a soak: 200 simulated phones against the built server for 60 s (errors, latency, RSS);
//   7. server memory while the built server streams the export of a 64 MiB and a 1 GiB account;
//   8 and on: the performance sections of issue 15 (RATIO_SECTIONS below), each a ratio against a
//      ceiling measured in the same run.
// `npm run bench -- --quick` (what CI runs) takes every section's code path at small sizes and
// prints the report to stdout, leaving BENCHMARKS.md as it is; it never fails on speed.
// Progress goes to stderr as it runs; the report is computed from this run's measurements only.
// `npm run bench -- --only startup` runs section 5 alone and prints it to stdout, leaving
// BENCHMARKS.md (one whole run) as it is; `-- --only soak` runs section 6 alone and replaces that
// section of BENCHMARKS.md, stamped with when and how it was measured; `-- --only export` does the same
// for section 7, and `-- --only <name>` for each of RATIO_SECTIONS.
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type as osType } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { benchBlobCipher } from './blob-cipher.js';
import { benchBlobMemory } from './blob-memory.js';
import { benchBlobStreaming, renderBlobStreaming } from './blob-streaming.js';
import { benchBrowserKdf, renderBrowserKdf } from './browser-kdf.js';
import { benchExportMemory, renderExportMemory } from './export-memory.js';
import { benchIngest, renderIngest } from './ingest.js';
import { benchLoginTiming, renderLoginTiming } from './login-timing.js';
import { renderReport, spliceSection } from './report.js';
import { REPO } from './server-process.js';
import { benchSoak, renderSoak } from './soak.js';
import { benchStartup, renderStartup } from './startup.js';
import { benchSync } from './sync-pages.js';
import { benchSyncPush, renderSyncPush } from './sync-push.js';
import { elapsedSeconds, progress, runCleanups } from './util.js';
import { benchWorkerSize, renderWorkerSize } from './worker-size.js';

const SYNC_SIZES = [1_000, 100_000, 1_000_000];
const COMMAND = 'npm run bench';

process.on('exit', runCleanups);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    progress(`${signal}: cleaning up`);
    runCleanups();
    process.exit(130);
  });
}

async function section<T>(name: string, work: () => Promise<T>) {
  progress(`== ${name}`);
  const t0 = performance.now();
  const result = await work();
  const seconds = (performance.now() - t0) / 1000;
  progress(`== ${name}: done in ${seconds.toFixed(1)} s`);
  return { result, seconds };
}

interface RatioSection {
  name: string;
  number: number;
  title: string;
  run(quick: boolean): Promise<string>;
}

/** Sections with a quick mode, each rendered as one Markdown section from its own measurements. */
const RATIO_SECTIONS: RatioSection[] = [
  {
    name: 'ingest',
    number: 8,
    title: 'location ingest and /healthz against a bare Hono route',
    run: async (quick) => {
      const { result, seconds } = await section('8. location ingest and /healthz', () => benchIngest({ quick }));
      return renderIngest(result, seconds);
    },
  },
  {
    name: 'sync-push',
    number: 9,
    title: 'sync push against a plain better-sqlite3 insert loop',
    run: async (quick) => {
      const { result, seconds } = await section('9. sync push', () => benchSyncPush({ quick }));
      return renderSyncPush(result, seconds);
    },
  },
  {
    name: 'blobs',
    number: 10,
    title: 'blob streaming against direct transfers to the same S3 store',
    run: async (quick) => {
      const { result, seconds } = await section('10. blob streaming', () => benchBlobStreaming({ quick }));
      return renderBlobStreaming(result, seconds);
    },
  },
  {
    name: 'browser-kdf',
    number: 11,
    title: 'Argon2id in the browser: WebAssembly in a worker against noble',
    run: async (quick) => {
      const { result, seconds } = await section('11. browser Argon2id', () => benchBrowserKdf({ quick }));
      return renderBrowserKdf(result, seconds);
    },
  },
  {
    name: 'worker-size',
    number: 12,
    title: 'Worker bundle size and idle memory of the built server',
    run: async (quick) => {
      const { result, seconds } = await section('12. Worker size and idle memory', () => benchWorkerSize({ quick }));
      return renderWorkerSize(result, seconds);
    },
  },
];

const SECTIONS_ALONE = ['startup', 'soak', 'export', ...RATIO_SECTIONS.map((s) => s.name)];
const QUICK_SYNC_SIZES = [1_000, 10_000];

/** `--quick`: every section that has a quick mode, at small sizes, printed and not written. */
async function quickRun() {
  const sync = await section('1. delta sync page vs account size (quick)', () => benchSync(QUICK_SYNC_SIZES));
  const login = await section('4. login timing, known and unknown emails', benchLoginTiming);
  const startup = await section('5. start-up, built against tsx', benchStartup);
  let out = `# Benchmarks, quick mode (\`${COMMAND} -- --quick\`: small sizes, nothing written)\n`;
  out += `Sections 1 (at ${QUICK_SYNC_SIZES.join(' and ')} items), 4, 5 and ${RATIO_SECTIONS.map((r) => r.number).join(', ')}; 2, 3, 6 and 7 need minutes and run only in the full \`${COMMAND}\`.\n`;
  out += `\nDelta sync, median page (three cursors pooled): ${sync.result.map((r) => `${r.items} items ${r.pooledMedianMs.toFixed(3)} ms (HTTP ${r.http.medianMs.toFixed(3)} ms)`).join(', ')}.\n`;
  out += renderLoginTiming(login.result, login.seconds) + renderStartup(startup.result, startup.seconds);
  for (const ratioSection of RATIO_SECTIONS) out += await ratioSection.run(true);
  process.stdout.write(out);
  progress(`bench --quick: done in ${elapsedSeconds().toFixed(0)} s`);
}

/** Replaces one section of BENCHMARKS.md with what `--only` just measured, and prints it. */
function replaceSection(number: number, rendered: string) {
  const path = join(REPO, 'BENCHMARKS.md');
  writeFileSync(path, spliceSection(readFileSync(path, 'utf8'), rendered));
  process.stdout.write(rendered);
  progress(`bench: replaced section ${number} of ${path}`);
}

async function main() {
  const loadBefore = loadavg();
  const cpu = cpus();
  progress(`bench: Node ${process.version}, ${cpu[0]?.model ?? 'unknown CPU'} × ${cpu.length}, load ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`);

  const args = process.argv.slice(2);
  if (args.length === 1 && args[0] === '--quick') return quickRun();
  if (args.length > 0) {
    if (args.length !== 2 || args[0] !== '--only' || !SECTIONS_ALONE.includes(args[1]!)) {
      throw new Error(`usage: npm run bench [-- --quick | -- --only ${SECTIONS_ALONE.join('|')}]`);
    }
    const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(' / ');
    const measuredBy = () =>
      `Measured by \`${COMMAND} -- --only ${args[1]}\` on ${new Date().toISOString()}, Node ${process.version}, ` +
      `${cpu[0]?.model ?? 'unknown CPU'} × ${cpu.length}, load ${load(loadBefore)} — ${load(loadavg())}.`;
    const ratioSection = RATIO_SECTIONS.find((r) => r.name === args[1]);
    if (ratioSection) {
      replaceSection(ratioSection.number, `${await ratioSection.run(false)}\n${measuredBy()}\n`);
      return;
    }
    if (args[1] === 'export') {
      const exported = await section('7. export memory', benchExportMemory);
      replaceSection(7, renderExportMemory(exported.result, exported.seconds, measuredBy()));
      return;
    }
    if (args[1] === 'soak') {
      const soak = await section('6. soak', benchSoak);
      replaceSection(6, renderSoak(soak.result, soak.seconds, measuredBy()));
      return;
    }
    const startup = await section('5. start-up, built against tsx', benchStartup);
    process.stdout.write(`${measuredBy()}\n${renderStartup(startup.result, startup.seconds)}`);
    return;
  }

  const sync = await section('1. delta sync page vs account size', () => benchSync(SYNC_SIZES));
  const blobs = await section('2. server memory vs blob size', benchBlobMemory);
  const cipher = await section('3. blob encryption throughput', benchBlobCipher);
  const login = await section('4. login timing, known and unknown emails', benchLoginTiming);
  const startup = await section('5. start-up, built against tsx', benchStartup);
  const soak = await section('6. soak', benchSoak);
  const exported = await section('7. export memory', benchExportMemory);
  let ratios = '';
  for (const ratioSection of RATIO_SECTIONS) ratios += await ratioSection.run(false);

  const report = renderReport({
    env: {
      date: new Date().toISOString(),
      node: process.version,
      cpu: cpu[0]?.model ?? 'unknown',
      cores: cpu.length,
      memoryGiB: totalmem() / 2 ** 30,
      os: `${osType()} ${release()}`,
      command: COMMAND,
      loadBefore,
      loadAfter: loadavg(),
    },
    totalSeconds: elapsedSeconds(),
    sync: { results: sync.result, seconds: sync.seconds },
    blobs: { result: blobs.result, seconds: blobs.seconds },
    cipher: { result: cipher.result, seconds: cipher.seconds },
  });
  const path = join(REPO, 'BENCHMARKS.md');
  writeFileSync(path, report + renderLoginTiming(login.result, login.seconds) + renderStartup(startup.result, startup.seconds) + renderSoak(soak.result, soak.seconds) + renderExportMemory(exported.result, exported.seconds) + ratios);
  progress(`bench: wrote ${path} (total ${elapsedSeconds().toFixed(0)} s)`);
}

main().catch((err: unknown) => {
  progress(`bench FAILED: ${(err as Error).stack ?? String(err)}`);
  runCleanups();
  process.exit(1);
});
