import { createJsonLogger } from './adapters/log.js';
import { createNodeEmailSender } from './adapters/email-node.js';
import { cryptoRandom } from './adapters/random.js';
import { loadOrCreateServerKey } from './adapters/server-key-file.js';
import { createNodeSmsSender } from './adapters/sms-node.js';
import { ConfigError, parseConfig } from './config.js';
import type { Deps } from './deps.js';
import { diagnosticsAggregates, K_ANONYMITY } from './features/diagnostics/service.js';
import { jobRuns, type JobCounts } from './features/maintenance/service.js';
import { JOBS, runMaintenance } from './jobs.js';
import { createNodeBlobStore, createNodeDeps } from './node-deps.js';
import { fromBase64Url } from './protocol/encoding.js';

// The operator's tool, run on the server with the server's environment (same database, same
// store): `npm run admin -- <command> [--json]`. Prints to stdout; the app's log goes to stderr.

interface Command {
  about: string;
  /** Exit status 1 when it returns false. */
  run(deps: Deps, options: { json: boolean; args: string[] }): Promise<boolean | void>;
}

const COMMANDS: Record<string, Command> = {
  jobs: {
    about: "each housekeeping job's last run: when, how long, what it removed, its error",
    async run(deps, { json }) {
      const runs = new Map((await jobRuns(deps)).map((run) => [run.name, run]));
      const rows = JOBS.map((job) => ({ name: job.name, ...runs.get(job.name) }));
      if (json) return print(rows);
      table(
        ['job', 'state', 'last started', 'duration', 'counts', 'runs', 'failures', 'error'],
        rows.map((r) => [
          r.name,
          r.startedAt === undefined ? 'never run' : r.finishedAt === null ? 'running' : r.error ? 'failed' : 'ok',
          r.startedAt === undefined ? '' : new Date(r.startedAt).toISOString(),
          r.durationMs == null ? '' : `${r.durationMs} ms`,
          countsText(r.counts ?? null),
          String(r.runs ?? 0),
          String(r.failures ?? 0),
          r.error ?? '',
        ]),
      );
    },
  },
  'run-jobs': {
    about: 'one pass of every housekeeping job now (a job running elsewhere is skipped)',
    async run(deps, { json }) {
      const outcomes = await runMaintenance(deps);
      if (json) print(outcomes);
      else {
        table(
          ['job', 'outcome', 'duration', 'counts / error'],
          outcomes.map((o) => [
            o.name,
            o.status,
            o.status === 'skipped' ? '' : `${o.durationMs} ms`,
            o.status === 'ok' ? countsText(o.counts) : o.status === 'failed' ? o.error : 'still running elsewhere',
          ]),
        );
      }
      return outcomes.every((o) => o.status !== 'failed');
    },
  },
  diagnostics: {
    about: `crash reports and usage events per day, kind and app version [--days N, default 30]; cells of fewer than ${K_ANONYMITY} accounts are left out`,
    async run(deps, { json, args }) {
      const at = args.indexOf('--days');
      const days = at === -1 ? 30 : Number(args[at + 1]);
      if (!Number.isInteger(days) || days < 1 || days > 3650) throw new Error('--days must be a whole number of days, 1 to 3650');
      const cells = await diagnosticsAggregates(deps, { since: deps.clock.now() - days * 86_400_000 });
      if (json) return print(cells);
      if (cells.length === 0) return void console.log(`no cell of ${K_ANONYMITY} or more accounts in the last ${days} days`);
      table(
        ['day', 'kind', 'app version', 'reports', 'accounts'],
        cells.map((c) => [c.day, c.kind, c.appVersion ?? '-', String(c.reports), String(c.accounts)]),
      );
    },
  },
};

const print = (value: unknown) => void console.log(JSON.stringify(value, null, 2));

const countsText = (counts: JobCounts | null) =>
  counts === null ? '' : Object.entries(counts).map(([k, v]) => `${k}=${v}`).join(' ') || '-';

function table(header: string[], rows: string[][]) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const row of [header, ...rows]) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
}

function usage() {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((n) => n.length));
  return [
    'usage: npm run admin -- <command> [--json]',
    ...names.map((name) => `  ${name.padEnd(width)}  ${COMMANDS[name]!.about}`),
  ].join('\n');
}

async function main() {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const [name, ...rest] = args.filter((arg) => arg !== '--json');
  const command = name === undefined ? undefined : COMMANDS[name];
  if (!command) {
    console.error(usage());
    process.exit(name === undefined || name === 'help' || name === '--help' ? 0 : 2);
  }
  const config = parseConfig(process.env);
  const log = createJsonLogger(config.logLevel, (line) => console.error(line));
  const serverKey = config.serverKey ? fromBase64Url(config.serverKey) : loadOrCreateServerKey(config.dataDir, cryptoRandom.bytes).key;
  const blobs = await createNodeBlobStore(config.blobs);
  const sms = createNodeSmsSender(config.sms, log);
  const email = await createNodeEmailSender(config.email, log);
  const { deps, settle, close } = createNodeDeps(config, { serverKey, blobs, sms, email, log });
  try {
    const ok = await command.run(deps, { json, args: rest });
    await settle(5_000);
    process.exitCode = ok === false ? 1 : 0;
  } finally {
    close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? `homing admin: ${err.message}` : `homing admin: ${(err as Error).message}`);
  process.exit(err instanceof ConfigError ? 2 : 1);
});
