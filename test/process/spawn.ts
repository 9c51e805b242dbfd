import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { processLogWriter, recordProcessSecrets, recordSecretsInFiles } from '../log-scan/capture.js';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
const TSX = `${REPO}node_modules/.bin/tsx`;

/**
 * The built form of each entry the tests start, run with plain node as `npm start` and
 * `npm run device` run it: the tests exercise what ships, not the sources under tsx.
 */
export const BUILT: Readonly<Record<string, string>> = {
  'src/node.ts': 'dist/node.js',
  'src/client/cli/main.ts': 'dist/cli.js',
  'src/admin.ts': 'dist/admin.js',
};
/** The node flags `npm start` and `npm run device` run the built files with. */
export const BUILT_NODE_FLAGS = ['--enable-source-maps'];

let built = false;

/** Brings dist/ up to date with src/ once per test process (a quick check when it already is). */
export function ensureBuilt(): void {
  if (built) return;
  const build = spawnSync(process.execPath, [`${REPO}scripts/build.mjs`, '--if-stale'], { cwd: REPO, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`node scripts/build.mjs --if-stale failed:\n${build.stdout}${build.stderr}`);
  built = true;
}

/** The command line that runs an entry: its build under node when it has one (unless `tsx` is asked for), otherwise tsx. */
export function commandFor(script: string, runtime: 'built' | 'tsx' = 'built'): [string, string[]] {
  const entry = BUILT[script];
  if (!entry || runtime === 'tsx') return [TSX, [`${REPO}${script}`]];
  ensureBuilt();
  return [process.execPath, [...BUILT_NODE_FLAGS, `${REPO}${entry}`]];
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  /**
   * Signals the whole process group: the process and anything it started (under tsx, its
   * wrapper and the program it runs). For cleanup; a graceful stop sends SIGTERM to the process
   * (child.kill), which under tsx relays it and exits with the program's own status.
   */
  signal(signal: NodeJS.Signals): void;
}

/**
 * Starts an entry as a real process, in cwd, with exactly the given environment added: the built
 * server or CLI under plain node (see BUILT), anything else under tsx.
 */
export function start(script: string, options: { cwd: string; env?: Record<string, string>; args?: string[] }): Running {
  const [command, args] = commandFor(script);
  const child = spawn(command, [...args, ...(options.args ?? [])], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? options.cwd, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    // Its own process group, so killing it never leaves a program orphaned behind tsx.
    detached: true,
  });
  let text = '';
  // The server's output is kept for the log scan after the run; the CLI's is not a server log.
  const serverLog = script === 'src/node.ts' ? processLogWriter(child.pid) : undefined;
  recordProcessSecrets(options.env ?? {}, options.args ?? []);
  child.stdout!.on('data', (chunk) => {
    text += chunk;
    serverLog?.write(chunk);
  });
  child.stderr!.on('data', (chunk) => {
    text += chunk;
    serverLog?.write(chunk);
  });
  child.once('close', () => serverLog?.close());
  // Before the test's own exit handlers, which may delete the folder.
  child.once('exit', () => recordSecretsInFiles(filesLeftBehind(options)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      // already gone
    }
  };
  return { child, output: () => text, exited, signal };
}

/** Files a process may have written secrets to: a CLI's --state file, a server's SMS outbox. */
function filesLeftBehind(options: { cwd: string; env?: Record<string, string>; args?: string[] }): string[] {
  const args = options.args ?? [];
  const state = args[args.indexOf('--state') + 1];
  const dataDir = resolve(options.cwd, options.env?.HOMING_DATA_DIR ?? 'data');
  return [
    ...(args.includes('--state') && state ? [resolve(options.cwd, state)] : []),
    resolve(options.cwd, options.env?.SMS_OUTBOX_PATH ?? join(dataDir, 'sms-outbox.jsonl')),
  ];
}

/** Cleanup after a test: SIGKILLs the process group if the process is still running, and waits for it. */
export async function killIfRunning(running: Running | undefined): Promise<void> {
  if (!running || running.child.exitCode !== null) return;
  running.signal('SIGKILL');
  await running.exited;
}

/** Runs a command to completion and returns its exit code and output. */
export async function run(script: string, options: Parameters<typeof start>[1] & { stdin?: string }) {
  const running = start(script, options);
  running.child.stdin!.end(options.stdin ?? '');
  const code = await running.exited;
  return { code, output: running.output() };
}

export async function waitForHealth(url: string, running: Running, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (running.child.exitCode !== null) throw new Error(`server exited early:\n${running.output()}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server did not answer at ${url}:\n${running.output()}`);
}

/**
 * A homing server process on a free port in a fresh temp folder, with cheap Argon2 parameters
 * allowed so CLI sign-ups are quick. Call stop() when done.
 */
export async function startTestServer(name: string, env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), `homing-${name}-`));
  // A PORT in env is kept, for a PUBLIC_URL that must name the port before the server starts.
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const url = `http://localhost:${port}`;
  const server = start('src/node.ts', {
    cwd: dir,
    env: { PORT: String(port), KDF_MIN_OPS_LIMIT: '1', KDF_MIN_MEM_LIMIT: '8192', LOG_LEVEL: 'warn', ...env },
  });
  await waitForHealth(url, server);
  return {
    dir,
    url,
    server,
    async stop() {
      server.child.kill('SIGTERM');
      const timer = setTimeout(() => server.signal('SIGKILL'), 10_000);
      await server.exited;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
