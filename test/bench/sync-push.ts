// Section 9: sync push (POST /v1/sync/changes) against a plain better-sqlite3 insert loop writing
// the same rows into a copy of the same database, with the same durability, side by side in this run.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { createApp } from '../../src/app.js';
import { logIn, signUp } from '../../src/client/account.js';
import { createApiClient } from '../../src/client/api.js';
import { BENCH_KDF, createDeps, poolText } from './sync-pages.js';
import { count, median, ms, percentile, progress, ratio, registerCleanup, table } from './util.js';

const ORIGIN = 'http://localhost:8787';
export const BATCH_SIZES = [10, 100] as const;
/** Sync push must reach at least this share of the plain loop's items per second at batch 100. */
export const TARGET_RATIO = 0.5;
const WARMUP_ROUNDS = 5;
/** Timed rounds; each round pushes one batch of every size through both writers. Bounds full mode. */
const ROUNDS = { quick: 15, full: 150 };

export interface BatchTiming {
  size: number;
  batches: number;
  app: { medianMs: number; p95Ms: number; itemsPerSecond: number };
  plain: { medianMs: number; p95Ms: number; itemsPerSecond: number };
  /** App items/s ÷ plain items/s (from the median batch times). */
  ratio: number;
}

export interface SyncPushResult {
  rounds: number;
  warmupRounds: number;
  timings: BatchTiming[];
  /** Rows each writer left in the file, checked against what was sent. */
  rowsWritten: { app: number; plain: number };
}

interface ItemRow {
  itemId: string;
  wrappedKey: string;
  encryptedMetadata: string;
}

/** Wrapped keys of 96 base64url characters and metadata of about 300, as in section 1. */
function itemRows(size: number, salt: number): ItemRow[] {
  return Array.from({ length: size }, (_, i) => ({
    itemId: randomBytes(16).toString('base64url'),
    wrappedKey: poolText(salt * 1000 + i, 1, 96),
    encryptedMetadata: poolText(salt * 1000 + i, 2, 280 + (i % 41)),
  }));
}

/**
 * The ceiling: a copy of the app's database (same schema, same account and collection), opened as
 * the server opens its file (WAL, synchronous=FULL), inserting the same rows with one statement
 * prepared once and one transaction per batch. It writes only the items rows; the sequence number
 * is counted in JS. A file of its own, as the server's connection has: two connections to one file
 * would each find its page cache stale after every write of the other.
 */
function createPlainWriter(path: string, accountId: string, collectionId: string) {
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const insert = sqlite.prepare(
    `INSERT INTO items (account_id, id, collection_id, version, state, wrapped_key, encrypted_metadata, blob_id,
       trashed_at, change_seq, created_at, updated_at)
     VALUES (?, ?, ?, 1, 'live', ?, ?, NULL, NULL, ?, ?, ?)`,
  );
  let seq = 1;
  const write = sqlite.transaction((rows: ItemRow[]) => {
    const now = Date.now();
    seq++;
    for (const row of rows) insert.run(accountId, row.itemId, collectionId, row.wrappedKey, row.encryptedMetadata, seq, now, now);
  });
  return {
    write: (rows: ItemRow[]) => write(rows),
    stored: () => (sqlite.prepare('SELECT count(*) AS n FROM items WHERE account_id = ?').get(accountId) as { n: number }).n,
    close: () => sqlite.close(),
  };
}

const summary = (times: number[], size: number) => {
  const medianMs = median(times);
  return { medianMs, p95Ms: percentile(times, 95), itemsPerSecond: (size / medianMs) * 1000 };
};

export async function benchSyncPush(options: { quick: boolean }): Promise<SyncPushResult> {
  const rounds = options.quick ? ROUNDS.quick : ROUNDS.full;
  const dir = mkdtempSync(join(tmpdir(), 'homing-bench-push-'));
  let closeDeps = () => {};
  let plain: ReturnType<typeof createPlainWriter> | undefined;
  const cleanUp = () => {
    plain?.close();
    closeDeps();
    rmSync(dir, { recursive: true, force: true });
  };
  const unregister = registerCleanup(cleanUp);
  try {
    const created = createDeps(dir);
    closeDeps = created.close;
    const { deps } = created;
    const app = createApp(deps);
    const client = (deps.db as unknown as { $client: Database.Database }).$client;
    const api = createApiClient({ baseUrl: ORIGIN, fetch: (input, init) => app.request(input, init) });
    const email = `bench.push.${Date.now()}@example.org`;
    const password = 'correct horse battery staple';
    const { accountId } = await signUp(api, { birthYear: 1990, email, password, kdf: BENCH_KDF });
    const token = (await logIn(api, { email, password, label: 'bench' })).response.session.token;
    if (!token) throw new Error('login gave no bearer token');
    const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
    const collectionId = randomBytes(16).toString('base64url');
    const made = await app.request(`${ORIGIN}/v1/sync/collections`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ id: collectionId, kind: 'notes', wrappedKey: poolText(0, 4, 96), encryptedMetadata: poolText(0, 5, 300) }),
    });
    if (made.status !== 201) throw new Error(`POST /v1/sync/collections answered ${made.status}: ${await made.text()}`);
    const plainPath = join(dir, 'plain.db');
    client.exec(`VACUUM INTO '${plainPath}'`);
    plain = createPlainWriter(plainPath, accountId, collectionId);

    let pushed = 0;
    let inserted = 0;
    const push = async (rows: ItemRow[]) => {
      const body = JSON.stringify({
        changes: rows.map((row) => ({ op: 'create', itemId: row.itemId, collectionId, wrappedKey: row.wrappedKey, encryptedMetadata: row.encryptedMetadata })),
      });
      // Declared as an HTTP client declares it on the wire (app.request has no wire); without it the
      // app counts the body as it does a chunked one, a path real pushes do not take.
      const declared = { ...headers, 'Content-Length': String(Buffer.byteLength(body)) };
      const t0 = performance.now();
      const res = await app.request(`${ORIGIN}/v1/sync/changes`, { method: 'POST', headers: declared, body });
      const text = await res.text();
      const elapsed = performance.now() - t0;
      if (res.status !== 200) throw new Error(`POST /v1/sync/changes answered ${res.status}: ${text.slice(0, 300)}`);
      pushed += rows.length;
      return elapsed;
    };
    const insertPlain = (rows: ItemRow[]) => {
      const t0 = performance.now();
      plain!.write(rows);
      const elapsed = performance.now() - t0;
      inserted += rows.length;
      return elapsed;
    };

    const times = BATCH_SIZES.map(() => ({ app: [] as number[], plain: [] as number[] }));
    progress(`  push: ${WARMUP_ROUNDS} warm-up and ${rounds} timed rounds, each one batch of ${BATCH_SIZES.join(' and ')} items per writer`);
    let salt = 0;
    for (let round = 0; round < WARMUP_ROUNDS + rounds; round++) {
      // Sizes and writers alternate which goes first, so a slow moment or a checkpoint lands on both.
      const order = round % 2 === 0 ? BATCH_SIZES.map((_, s) => s) : BATCH_SIZES.map((_, s) => s).reverse();
      for (const s of order) {
        const size = BATCH_SIZES[s]!;
        const appRows = itemRows(size, ++salt);
        const plainRows = itemRows(size, ++salt);
        const appFirst = (round + s) % 2 === 0;
        const appMs = appFirst ? await push(appRows) : 0;
        const plainMs = insertPlain(plainRows);
        const appLateMs = appFirst ? appMs : await push(appRows);
        if (round >= WARMUP_ROUNDS) {
          times[s]!.app.push(appLateMs);
          times[s]!.plain.push(plainMs);
        }
      }
      if ((round + 1) % 50 === 0) progress(`  push: round ${round + 1} of ${WARMUP_ROUNDS + rounds}`);
    }

    const stored = {
      app: (client.prepare('SELECT count(*) AS n FROM items WHERE account_id = ?').get(accountId) as { n: number }).n,
      plain: plain.stored(),
    };
    const result: SyncPushResult = {
      rounds,
      warmupRounds: WARMUP_ROUNDS,
      timings: BATCH_SIZES.map((size, s) => {
        const app = summary(times[s]!.app, size);
        const plainSummary = summary(times[s]!.plain, size);
        return { size, batches: times[s]!.app.length, app, plain: plainSummary, ratio: app.itemsPerSecond / plainSummary.itemsPerSecond };
      }),
      rowsWritten: stored,
    };
    if (result.rowsWritten.app !== pushed || result.rowsWritten.plain !== inserted) {
      throw new Error(`rows stored do not match rows sent: app ${result.rowsWritten.app} of ${pushed}, plain ${result.rowsWritten.plain} of ${inserted}`);
    }
    for (const t of result.timings) {
      progress(
        `  push: batch ${t.size}: app ${ms(t.app.medianMs)} ms (${count(Math.round(t.app.itemsPerSecond))} items/s), plain ${ms(t.plain.medianMs)} ms (${count(Math.round(t.plain.itemsPerSecond))} items/s), ratio ${t.ratio.toFixed(2)}`,
      );
    }
    return result;
  } finally {
    cleanUp();
    unregister();
  }
}

export function renderSyncPush(r: SyncPushResult, seconds: number): string {
  const rows = r.timings.map((t) => [
    count(t.size),
    count(t.batches),
    `${ms(t.app.medianMs)} / ${ms(t.app.p95Ms)}`,
    count(Math.round(t.app.itemsPerSecond)),
    `${ms(t.plain.medianMs)} / ${ms(t.plain.p95Ms)}`,
    count(Math.round(t.plain.itemsPerSecond)),
    `**${t.ratio.toFixed(2)}**`,
  ]);
  const target = r.timings.find((t) => t.size === 100)!;
  const met = target.ratio >= TARGET_RATIO;
  const others = r.timings.filter((t) => t !== target).map((t) => `${t.ratio.toFixed(2)} at batch ${t.size}`);
  return `
## 9. Sync push against a plain insert loop

Target: *sync push at least ${TARGET_RATIO} of the plain insert loop at batch 100*. An account was signed
up and logged in and a collection made through the real app on a real SQLite file (\`openSqlite\`:
WAL, \`synchronous=FULL\`, the server's connection). Each push is \`POST /v1/sync/changes\` with a
bearer session through \`app.request()\`: a batch of creates, wrapped keys of 96 base64url characters
and metadata of about 300, the whole answer read. The ceiling is a plain better-sqlite3 loop on a
copy of that database (\`VACUUM INTO\`, so the same schema, account and collection) in its own
file beside it, opened the same way: the same items rows inserted with one statement prepared
once, one transaction (one commit, one fsync) per batch. Each round pushed one
batch of every size through both, alternating which went first; ${r.warmupRounds} warm-up rounds, then
${r.rounds} timed. Items per second are from the median batch time. Every row sent was found in the
file afterwards (${count(r.rowsWritten.app)} pushed, ${count(r.rowsWritten.plain)} inserted).
Section time: ${seconds.toFixed(0)} s.

${table(
    ['Batch (items)', 'Batches timed', 'Push: median / p95 (ms)', 'Push items/s', 'Plain loop: median / p95 (ms)', 'Plain loop items/s', 'Push ÷ plain'],
    rows,
  )}

At batch 100, sync push reached ${ratio(target.ratio)} the plain loop's items per second (${others.join(', ')}):
the target of ${TARGET_RATIO} is ${met ? 'met' : '**not met**'} on this run.
`;
}
