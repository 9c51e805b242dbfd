// 5. The built server against the tsx one: idle memory and the time from spawn to the first 200.
// Both start side by side in this run, alternating which goes first, each on a fresh data folder
// (so each start creates the database, applies the migrations and makes a server key).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ensureBuilt } from '../process/spawn.js';
import {
  freePort,
  processTree,
  REPO,
  RUNTIME_COMMAND,
  type Runtime,
  type RunningServer,
  startServer,
  statusBytes,
} from './server-process.js';
import { median, mib, ms, progress, ratio, registerCleanup, table } from './util.js';

export const STARTS = 5;
export const IDLE_MS = 2_000;
export const POLL_MS = 5;
/** Issue 15's target (it was 100 MiB before); section 12 holds the built server to it too. */
export const TARGET_IDLE_MIB = 80;

const RUNTIMES: Runtime[] = ['built', 'tsx'];

export interface StartSample {
  startupMs: number;
  /** VmRSS of the process that runs the app, IDLE_MS after its first 200. */
  appRss: number;
  /** VmRSS of tsx's wrapper process (the one started); 0 for the built server, which has none. */
  wrapperRss: number;
  /** VmRSS summed over the whole process tree (shared pages counted in each process). */
  treeRss: number;
  processes: number;
}

export interface StartupResult {
  samples: Record<Runtime, StartSample[]>;
  /** One full `node scripts/build.mjs`, and the `--if-stale` check `npm start` makes before starting. */
  buildMs: number;
  staleCheckMs: number;
}

const timed = (args: string[]) => {
  const t0 = performance.now();
  const run = spawnSync(process.execPath, [`${REPO}scripts/build.mjs`, ...args], { cwd: REPO, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`node scripts/build.mjs ${args.join(' ')} failed:\n${run.stdout}${run.stderr}`);
  return performance.now() - t0;
};

async function startOnce(runtime: Runtime): Promise<StartSample> {
  const dir = mkdtempSync(join(tmpdir(), `homing-bench-start-${runtime}-`));
  let server: RunningServer | undefined;
  const unregister = registerCleanup(() => {
    if (server) for (const pid of processTree(server.child.pid!).reverse()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });
  try {
    const port = await freePort();
    server = await startServer({ PORT: String(port), HOMING_DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'warn' }, dir, { runtime, pollMs: POLL_MS });
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const tree = processTree(server.child.pid!);
    const rss = (pid: number) => statusBytes(pid, 'VmRSS') ?? 0;
    return {
      startupMs: server.startupMs,
      appRss: rss(server.pid),
      wrapperRss: server.pid === server.child.pid ? 0 : rss(server.child.pid!),
      treeRss: tree.reduce((sum, pid) => sum + rss(pid), 0),
      processes: tree.length,
    };
  } finally {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
    unregister();
  }
}

export async function benchStartup(): Promise<StartupResult> {
  ensureBuilt();
  const buildMs = timed([]);
  const staleCheckMs = timed(['--if-stale']);
  progress(`  startup: full build ${ms(buildMs)} ms, up-to-date check ${ms(staleCheckMs)} ms`);
  const samples: Record<Runtime, StartSample[]> = { built: [], tsx: [] };
  for (let round = 0; round < STARTS; round++) {
    for (const runtime of round % 2 === 0 ? RUNTIMES : [...RUNTIMES].reverse()) {
      const sample = await startOnce(runtime);
      samples[runtime].push(sample);
      progress(
        `  startup: ${runtime} #${round + 1}: first 200 after ${ms(sample.startupMs)} ms; idle RSS ${mib(sample.appRss)} MiB` +
          (sample.wrapperRss ? ` (+ wrapper ${mib(sample.wrapperRss)} MiB; tree of ${sample.processes}: ${mib(sample.treeRss)} MiB)` : ''),
      );
    }
  }
  return { samples, buildMs, staleCheckMs };
}

export function renderStartup(r: StartupResult, seconds: number): string {
  const of = (runtime: Runtime, field: keyof StartSample) => median(r.samples[runtime].map((s) => s[field]));
  const range = (runtime: Runtime) => {
    const times = r.samples[runtime].map((s) => s.startupMs);
    return `${ms(Math.min(...times))}–${ms(Math.max(...times))}`;
  };
  const row = (runtime: Runtime) => [
    `\`${RUNTIME_COMMAND[runtime]}\``,
    `**${ms(of(runtime, 'startupMs'))}** (${range(runtime)})`,
    `**${mib(of(runtime, 'appRss'))}**`,
    runtime === 'tsx' ? mib(of(runtime, 'wrapperRss')) : '— (none)',
    `${mib(of(runtime, 'treeRss'))} (${of(runtime, 'processes')})`,
  ];
  const startRatio = of('built', 'startupMs') / of('tsx', 'startupMs');
  const appRatio = of('built', 'appRss') / of('tsx', 'appRss');
  const treeRatio = of('built', 'treeRss') / of('tsx', 'treeRss');
  const builtMib = of('built', 'appRss') / 2 ** 20;
  const verdict =
    builtMib < TARGET_IDLE_MIB
      ? `under the ${TARGET_IDLE_MIB} MiB target`
      : `above the ${TARGET_IDLE_MIB} MiB target this soon after starting (section 12 judges it once the server has been quiet for longer, as it idles over hours)`;
  return `
## 5. Start-up: the built server against tsx

Target: *the built server idles under ${TARGET_IDLE_MIB} MiB RSS*, judged in section 12; here RSS is
taken soon after start-up, while V8 still holds the young generation that loading the app grew. \`npm start\` runs
\`${RUNTIME_COMMAND.built}\` (bundled by \`npm run build\`, every package external); \`npm run dev\`
runs the sources under tsx. Each was started ${STARTS} times, alternating which went first, with
\`LOG_LEVEL=warn\` on a fresh data folder (so every start created the database, applied the
migrations and made a server key). Start-up is from just before the spawn to the first 200 on
\`/healthz\`, asked every ${POLL_MS} ms; idle RSS is VmRSS from /proc ${IDLE_MS / 1000} s after that
first 200. tsx runs the app in a child process of its own: its RSS is the app column, the wrapper
tsx started it from is counted apart, and the tree column sums every process (shared pages are
counted in each). Medians over the ${STARTS} starts. A full \`node scripts/build.mjs\` took
${ms(r.buildMs)} ms; the \`--if-stale\` check \`npm start\` makes first took ${ms(r.staleCheckMs)} ms
on an up-to-date \`dist/\`. Section time: ${seconds.toFixed(0)} s.

${table(['Server', 'Spawn → first 200: median (range) (ms)', 'Idle RSS, app (MiB)', 'Idle RSS, tsx wrapper (MiB)', 'Idle RSS, all processes (MiB) (count)'], [
    row('built'),
    row('tsx'),
    ['**built ÷ tsx**', `**${ratio(startRatio)}**`, `**${ratio(appRatio)}**`, '', ratio(treeRatio)],
  ])}

The built server answered its first 200 in ${ratio(startRatio)} the time tsx took, and idled at
${mib(of('built', 'appRss'))} MiB — ${verdict} — against ${mib(of('tsx', 'appRss'))} MiB for the app under
tsx (${ratio(appRatio)}), or ${mib(of('tsx', 'treeRss'))} MiB with tsx's other processes (${ratio(treeRatio)}).
`;
}
