// The real server as a child process (the built dist/node.js under node, as `npm start` runs it,
// or src/node.ts under tsx where a section compares the two), and a sampler of its memory.
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { BUILT, BUILT_NODE_FLAGS, commandFor } from '../process/spawn.js';
import { registerCleanup } from './util.js';

export { freePort, REPO } from '../process/spawn.js';

/** Children of each process, from /proc/<pid>/stat (field 4 is the parent's pid). */
function childrenByParent(): Map<number, number[]> {
  const map = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // gone already
    }
    // The command name (field 2) is in parentheses and may hold spaces: parse after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    map.set(ppid, [...(map.get(ppid) ?? []), Number(name)]);
  }
  return map;
}

const cmdline = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
};

/**
 * tsx runs the script in a child Node process of its own; the server is the deepest process
 * under the one we started whose command line names the script.
 */
export function serverPid(rootPid: number, script: string): number {
  const children = childrenByParent();
  let best = rootPid;
  const walk = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      if (cmdline(child).includes(script)) best = child;
      walk(child);
    }
  };
  walk(rootPid);
  return best;
}

/** The process and every process under it. */
export function processTree(rootPid: number): number[] {
  const children = childrenByParent();
  const tree = [rootPid];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []));
  return tree;
}

/** A field of /proc/<pid>/status in bytes (VmRSS, VmHWM), or undefined once the process is gone. */
export function statusBytes(pid: number, field: 'VmRSS' | 'VmHWM' | 'RssAnon' | 'RssFile'): number | undefined {
  try {
    const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Resets the kernel's peak-RSS mark (VmHWM) of a process we own; false where not allowed. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

// The sampler runs on its own thread, so a busy event loop here (generating and hashing the body
// being sent) cannot stretch the interval between samples.
const SAMPLER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const { pids, intervalMs } = workerData;
const samples = pids.map(() => []);
const times = [];
const take = () => {
  times.push(Date.now());
  pids.forEach((pid, i) => {
    try {
      const m = readFileSync('/proc/' + pid + '/status', 'utf8').match(/^VmRSS:\\s+(\\d+) kB/m);
      if (m) samples[i].push(Number(m[1]) * 1024);
    } catch {}
  });
};
take();
const timer = setInterval(take, intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  take();
  parentPort.postMessage({ samples, times });
});
`;

export interface RssSamples {
  samples: number[];
  peak: number;
  /** Mean time between samples actually achieved, in ms. */
  meanIntervalMs: number;
}

/** Reads VmRSS of each pid every `intervalMs` until stopped; keeps every sample. */
export async function sampleRss(pids: number[], intervalMs = 50) {
  const worker = new Worker(SAMPLER_SOURCE, { eval: true, workerData: { pids, intervalMs } });
  await new Promise<void>((resolve, reject) => {
    worker.once('online', () => resolve());
    worker.once('error', reject);
  });
  return {
    async stop(): Promise<RssSamples[]> {
      const reply = new Promise<{ samples: number[][]; times: number[] }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      worker.postMessage('stop');
      const { samples, times } = await reply;
      await worker.terminate();
      const meanIntervalMs = times.length > 1 ? (times[times.length - 1]! - times[0]!) / (times.length - 1) : 0;
      return samples.map((list) => ({ samples: list, peak: Math.max(...list), meanIntervalMs }));
    },
  };
}

export type Runtime = 'built' | 'tsx';

/** How each runtime is started, for the reports. */
export const RUNTIME_COMMAND: Record<Runtime, string> = {
  built: ['node', ...BUILT_NODE_FLAGS, BUILT['src/node.ts']].join(' '),
  tsx: 'node_modules/.bin/tsx src/node.ts',
};

export interface RunningServer {
  child: ChildProcess;
  /** The process that runs the app (the one started, or tsx's child), whose memory is measured. */
  pid: number;
  url: string;
  /** From just before the spawn to the first 200 on /healthz, in ms. */
  startupMs: number;
  output(): string;
  stop(): Promise<void>;
}

/**
 * The environment every benchmark's server starts with: this port and data folder, the lowest
 * key-derivation cost the server accepts (the benchmarks sign up many accounts), warnings only.
 */
export function benchServerEnv(port: number, dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    HOMING_DATA_DIR: dir,
    KDF_MIN_OPS_LIMIT: '1',
    KDF_MIN_MEM_LIMIT: '8192',
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

/**
 * Starts the server (built by default) with exactly the given environment and waits for the first
 * 200 on /healthz, asking every `pollMs`.
 */
export async function startServer(
  env: Record<string, string>,
  cwd: string,
  options: { runtime?: Runtime; pollMs?: number } = {},
): Promise<RunningServer> {
  const script = 'src/node.ts';
  const [command, args] = commandFor(script, options.runtime);
  const spawned = performance.now();
  const child = spawn(command, args, {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? cwd, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const keep = (chunk: Buffer) => {
    text = (text + chunk.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${env.PORT}`;
  const deadline = Date.now() + 30_000;
  let pid = child.pid!;

  const stop = async () => {
    const pids = [pid, child.pid!].filter((p, i, all) => all.indexOf(p) === i);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 15_000).unref());
      if ((await Promise.race([exited, timeout])) === 'timeout') {
        for (const p of pids) {
          try {
            process.kill(p, 'SIGKILL');
          } catch {
            // already gone
          }
        }
        await exited;
      }
    }
    // tsx forwards the signal; make sure its child did not outlive it.
    if (pid !== child.pid && statusBytes(pid, 'VmRSS') !== undefined) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };

  let startupMs: number;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early:\n${text}`);
    try {
      if ((await fetch(`${url}/healthz`)).status === 200) {
        startupMs = performance.now() - spawned;
        break;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`server did not answer at ${url}:\n${text}`);
    }
    await new Promise((r) => setTimeout(r, options.pollMs ?? 100));
  }
  pid = options.runtime === 'tsx' ? serverPid(child.pid!, script) : child.pid!;
  return { child, pid, url, startupMs, output: () => text, stop };
}

/**
 * For an interrupted run (Ctrl-C): kills the server (the npm wrapper and node), once started, and
 * removes its folder. Returns the function that unregisters this when the run ends normally.
 */
export function cleanUpOnInterrupt(dir: string, server: () => RunningServer | undefined): () => void {
  return registerCleanup(() => {
    const running = server();
    for (const pid of running ? [running.pid, running.child.pid!] : []) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });
}
