// Section 1: the cost of one delta-sync page against the size of the account.
// A real SQLite file with the project's migrations, the real service and the real app; only the
// bulk rows are written with raw prepared statements, because writing a million items through
// the API would take far longer than the benchmark's budget.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type Database from 'better-sqlite3';
import { createFsBlobStore } from '../../src/adapters/blob-store-fs.js';
import { createJsonLogger } from '../../src/adapters/log.js';
import { cryptoRandom } from '../../src/adapters/random.js';
import { createLogEmailSender } from '../../src/adapters/email-log.js';
import { createLogSmsSender } from '../../src/adapters/sms-log.js';
import { createApp } from '../../src/app.js';
import { logIn, signUp } from '../../src/client/account.js';
import { createApiClient } from '../../src/client/api.js';
import { parseConfig } from '../../src/config.js';
import type { Deps } from '../../src/deps.js';
import { createNodeDeps } from '../../src/node-deps.js';
import { changesSince } from '../../src/features/sync/service.js';
import { queryPlans, recordStatements } from '../db/statement-recorder.js';
import { count, median, percentile, progress, registerCleanup } from './util.js';

export const BENCH_KDF = { opsLimit: 1, memLimit: 8192 };
const ORIGIN = 'http://localhost:8787';
export const PAGE_LIMIT = 200;
export const WARMUPS = 5;
export const RUNS = 30;
/** Items per commit: every commit takes one sequence number for all its items. */
export const ITEMS_PER_COMMIT = 10;
/** One item in this many refers to a blob, as a photo's item would. */
const BLOB_EVERY = 4;
/** The noise account has one item for every this many of the measured account's. */
const NOISE_DIVISOR = 10;

export interface CursorTiming {
  cursor: 'start' | 'middle' | 'near end';
  since: number;
  rows: number;
  hasMore: boolean;
  medianMs: number;
  p95Ms: number;
}

export interface QueryPlan {
  sql: string;
  plan: string[];
}

export interface SizeResult {
  items: number;
  noiseItems: number;
  blobs: number;
  dbBytes: number;
  loadSeconds: number;
  cursors: CursorTiming[];
  http: { since: number; status: number; bytes: number; medianMs: number; p95Ms: number };
  /** Median over every timed service page of this size, the three cursors pooled. */
  pooledMedianMs: number;
  plans: QueryPlan[];
}

export function createDeps(dir: string) {
  const config = parseConfig({
    HOMING_DATA_DIR: dir,
    PUBLIC_URL: ORIGIN,
    KDF_MIN_OPS_LIMIT: String(BENCH_KDF.opsLimit),
    KDF_MIN_MEM_LIMIT: String(BENCH_KDF.memLimit),
    TRUST_PROXY_HEADER: 'x-forwarded-for',
  });
  const log = createJsonLogger('warn', (line) => process.stderr.write(`${line}\n`));
  // The embedded default providers; nothing in this benchmark sends an SMS.
  const { deps, close } = createNodeDeps(config, {
    serverKey: cryptoRandom.bytes(32),
    blobs: createFsBlobStore(join(dir, 'blobs')),
    sms: createLogSmsSender({ outboxPath: join(dir, 'sms-outbox.jsonl'), log }),
    email: createLogEmailSender({ outboxPath: join(dir, 'email-outbox.jsonl'), log }),
    log,
  });
  return { deps, close };
}

/** Random-looking base64url text to cut realistic ciphertext fields from, without a call per row. */
const textPool = randomBytes(3 * 1024 * 1024).toString('base64url');
export const poolText = (row: number, salt: number, length: number) => {
  const offset = ((row * 7919 + salt * 104_729) % (textPool.length - length - 1)) | 0;
  return textPool.slice(offset, offset + length);
};

const dummy = (name: string) => `bench-${name}-${randomBytes(24).toString('base64url')}`;

/**
 * Writes, inside one transaction: the noise account, sync state and one collection for both
 * accounts, `items` items for the measured account in commits of ITEMS_PER_COMMIT sharing a
 * sequence number, and items/NOISE_DIVISOR noise items interleaved with them (one noise commit
 * after every NOISE_DIVISOR measured commits), so the table's rows of the two accounts are mixed.
 * Returns the measured account's last sequence number.
 */
function bulkLoad(client: Database.Database, accountId: string, items: number) {
  const now = Date.now();
  const noiseId = randomBytes(16).toString('base64url');
  // Every NOT NULL column without a default gets a dummy value of its type; read from the live
  // table, so a column added by a later migration is filled too.
  const columns = (client.pragma('table_info(accounts)') as { name: string; type: string; notnull: number; dflt_value: unknown }[])
    .filter((c) => c.name === 'id' || (c.notnull && c.dflt_value === null));
  const values = columns.map((c) => (c.name === 'id' ? noiseId : /INT/i.test(c.type) ? now : dummy(c.name)));
  client
    .prepare(`INSERT INTO accounts (${columns.map((c) => `"${c.name}"`).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`)
    .run(...values);
  const upsertSeq = client.prepare(
    `INSERT INTO sync_state (account_id, seq) VALUES (?, ?) ON CONFLICT(account_id) DO UPDATE SET seq = excluded.seq`,
  );
  const upsertUsage = client.prepare(
    `INSERT INTO blob_usage (account_id, bytes_used) VALUES (?, ?)
     ON CONFLICT(account_id) DO UPDATE SET bytes_used = excluded.bytes_used`,
  );
  const insertCollection = client.prepare(
    `INSERT INTO collections (account_id, id, kind, wrapped_key, encrypted_metadata, version, change_seq, created_at, updated_at)
     VALUES (?, ?, 'photos', ?, ?, 1, 1, ?, ?)`,
  );
  const insertItem = client.prepare(
    `INSERT INTO items (account_id, id, collection_id, version, state, wrapped_key, encrypted_metadata, blob_id,
       trashed_at, change_seq, created_at, updated_at)
     VALUES (?, ?, ?, 1, 'live', ?, ?, ?, NULL, ?, ?, ?)`,
  );
  const insertBlob = client.prepare(
    `INSERT INTO blobs (account_id, id, size, sha256, state, refs, created_at, committed_at) VALUES (?, ?, ?, ?, 'committed', 1, ?, ?)`,
  );

  const accounts = [
    { id: accountId, collectionId: randomBytes(16).toString('base64url'), seq: 1, written: 0, bytes: 0 },
    { id: noiseId, collectionId: randomBytes(16).toString('base64url'), seq: 1, written: 0, bytes: 0 },
  ];
  let ids = Buffer.alloc(0);
  let idOffset = 0;
  const nextId = () => {
    if (idOffset + 16 > ids.length) {
      ids = randomBytes(16 * 65_536);
      idOffset = 0;
    }
    idOffset += 16;
    return ids.toString('base64url', idOffset - 16, idOffset);
  };
  let row = 0;
  const writeCommit = (account: (typeof accounts)[number]) => {
    const seq = ++account.seq;
    for (let i = 0; i < ITEMS_PER_COMMIT; i++, row++, account.written++) {
      let blobId: string | null = null;
      if (row % BLOB_EVERY === 0) {
        blobId = nextId();
        const size = 200_000 + (row % 3_000_000);
        insertBlob.run(account.id, blobId, size, poolText(row, 3, 64), now, now);
        account.bytes += size;
      }
      // wrapped_key: 96 base64url characters (a 72-byte sealed key); metadata around 300.
      insertItem.run(
        account.id,
        nextId(),
        account.collectionId,
        poolText(row, 1, 96),
        poolText(row, 2, 280 + (row % 41)),
        blobId,
        seq,
        now,
        now,
      );
    }
  };

  const [main, noise] = accounts as [(typeof accounts)[number], (typeof accounts)[number]];
  const noiseItems = Math.floor(items / NOISE_DIVISOR);
  const step = 100_000;
  let nextReport = step;
  client.transaction(() => {
    for (const account of accounts) {
      insertCollection.run(account.id, account.collectionId, poolText(1, 4, 96), poolText(2, 5, 300), now, now);
    }
    let commits = 0;
    while (main.written < items) {
      writeCommit(main);
      if (++commits % NOISE_DIVISOR === 0 && noise.written < noiseItems) writeCommit(noise);
      if (main.written >= nextReport) {
        progress(`  sync: ${count(main.written)} / ${count(items)} items written (+${count(noise.written)} noise)`);
        nextReport += step;
      }
    }
    while (noise.written < noiseItems) writeCommit(noise);
    for (const account of accounts) {
      upsertSeq.run(account.id, account.seq);
      upsertUsage.run(account.id, account.bytes);
    }
  })();
  return { lastSeq: main.seq, noiseItems: noise.written, blobs: Math.ceil(row / BLOB_EVERY) };
}

/**
 * Runs one changesSince call while recording every statement better-sqlite3 executes for it,
 * with its parameters, then asks SQLite for the plan of each: the real queries, not copies.
 */
async function capturePlans(deps: Deps, client: Database.Database, accountId: string, since: number) {
  const captured = await recordStatements(() => changesSince(deps, accountId, since, PAGE_LIMIT));
  // A page always reads items; an empty record means the recording missed the statements.
  if (!captured.some(({ sql }) => /from "items"/.test(sql))) throw new Error('capturing the plans recorded no items query');
  return queryPlans(client, captured);
}

/** One size's database, loaded and ready to be timed. */
async function prepareSize(items: number) {
  const dir = mkdtempSync(join(tmpdir(), 'homing-bench-sync-'));
  const unregister = registerCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const { deps, close: closeDb } = createDeps(dir);
  const close = () => {
    closeDb();
    rmSync(dir, { recursive: true, force: true });
    unregister();
  };
  try {
    // A real account and a real bearer session, made through the app as a phone would.
    const app = createApp(deps);
    const api = createApiClient({ baseUrl: ORIGIN, fetch: (input, init) => app.request(input, init) });
    const email = `bench.${items}.${Date.now()}@example.org`;
    const password = 'correct horse battery staple';
    const { accountId } = await signUp(api, { birthYear: 1990, email, password, kdf: BENCH_KDF });
    const { response } = await logIn(api, { email, password, label: 'bench' });
    const token = response.session.token;
    if (!token) throw new Error('login gave no bearer token');

    const client = (deps.db as unknown as { $client: Database.Database }).$client;
    progress(`  sync: loading ${count(items)} items for one account and ${count(items / NOISE_DIVISOR)} for another`);
    const t0 = performance.now();
    // A bigger page cache for the load only (the index B-trees take random inserts); the default
    // is put back before anything is timed.
    const defaultCache = client.pragma('cache_size', { simple: true }) as number;
    client.pragma('cache_size = -262144');
    const loaded = bulkLoad(client, accountId, items);
    client.pragma(`cache_size = ${defaultCache}`);
    // A running server's automatic checkpoints would have moved the pages into the main file.
    client.pragma('wal_checkpoint(TRUNCATE)');
    const loadSeconds = (performance.now() - t0) / 1000;
    const dbBytes = statSync(join(dir, 'homing.db')).size;
    progress(`  sync: loaded in ${loadSeconds.toFixed(1)} s, database ${(dbBytes / 1e6).toFixed(0)} MB`);

    const commits = loaded.lastSeq - 1;
    const cursorDefs = [
      { cursor: 'start' as const, since: 0 },
      { cursor: 'middle' as const, since: 1 + Math.floor(commits / 2) },
      // 25 commits (250 items) before the end: still a full page with more to come.
      { cursor: 'near end' as const, since: loaded.lastSeq - 25 },
    ];
    const pages = [];
    for (const { since } of cursorDefs) pages.push(await changesSince(deps, accountId, since, PAGE_LIMIT));

    // The middle page through the HTTP stack too: auth, validation, JSON.
    const httpSince = cursorDefs[1]!.since;
    const headers = { Authorization: `Bearer ${token}` };
    const path = `${ORIGIN}/v1/sync/changes?since=${httpSince}&limit=${PAGE_LIMIT}`;
    const probe = await app.request(path, { headers });
    const probeBody = await probe.text();
    if (probe.status !== 200) throw new Error(`GET /v1/sync/changes answered ${probe.status}: ${probeBody.slice(0, 300)}`);
    const httpPage = async () => {
      const res = await app.request(path, { headers });
      await res.text();
      if (res.status !== 200) throw new Error(`GET /v1/sync/changes answered ${res.status}`);
    };
    const plans = await capturePlans(deps, client, accountId, httpSince);
    return {
      items,
      loaded,
      loadSeconds,
      dbBytes,
      cursorDefs,
      pages,
      http: { since: httpSince, status: probe.status, bytes: Buffer.byteLength(probeBody), run: httpPage },
      servicePage: (since: number) => changesSince(deps, accountId, since, PAGE_LIMIT),
      plans,
      close,
    };
  } catch (error) {
    close();
    throw error;
  }
}

/**
 * Builds a database per size, then times them side by side: every round runs each size's three
 * cursors through the service and its middle page through HTTP, in shuffled order, so a noisy
 * moment on the shared machine lands on every size and cursor alike rather than on whichever
 * happened to be measuring.
 */
export async function benchSync(sizes: number[]): Promise<SizeResult[]> {
  const prepared: Awaited<ReturnType<typeof prepareSize>>[] = [];
  try {
    for (const items of sizes) {
      progress(` sync: ${count(items)} items`);
      prepared.push(await prepareSize(items));
    }
    progress(`  sync: timing ${WARMUPS} warm-up and ${RUNS} timed rounds over every size and cursor`);
    const serviceTimes = prepared.map((p) => p.cursorDefs.map(() => [] as number[]));
    const httpTimes = prepared.map(() => [] as number[]);
    const tasks = prepared.flatMap((p, s) => [
      ...p.cursorDefs.map(({ since }, c) => ({ run: () => p.servicePage(since), times: serviceTimes[s]![c]! })),
      { run: p.http.run, times: httpTimes[s]! },
    ]);
    // Each round runs every task once, in a fresh shuffled order (seeded, so runs are alike), so
    // periodic pauses such as garbage collection cannot lock onto one column.
    let x = 0x2545f491;
    const random = () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) / 2 ** 32;
    };
    for (let round = 0; round < WARMUPS + RUNS; round++) {
      for (let i = tasks.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [tasks[i], tasks[j]] = [tasks[j]!, tasks[i]!];
      }
      for (const task of tasks) {
        const t0 = performance.now();
        await task.run();
        if (round >= WARMUPS) task.times.push(performance.now() - t0);
      }
    }
    return prepared.map((p, s) => {
      const cursors: CursorTiming[] = p.cursorDefs.map(({ cursor, since }, c) => {
        const page = p.pages[c]!;
        const times = serviceTimes[s]![c]!;
        const timing = { medianMs: median(times), p95Ms: percentile(times, 95) };
        progress(
          `  sync: N=${count(p.items)} ${cursor} (since=${since}): ${page.items.length} items, median ${timing.medianMs.toFixed(3)} ms, p95 ${timing.p95Ms.toFixed(3)} ms`,
        );
        return { cursor, since, rows: page.items.length + page.collections.length, hasMore: page.hasMore, ...timing };
      });
      const http = { medianMs: median(httpTimes[s]!), p95Ms: percentile(httpTimes[s]!, 95) };
      progress(`  sync: N=${count(p.items)} HTTP page: median ${http.medianMs.toFixed(3)} ms, p95 ${http.p95Ms.toFixed(3)} ms`);
      return {
        items: p.items,
        noiseItems: p.loaded.noiseItems,
        blobs: p.loaded.blobs,
        dbBytes: p.dbBytes,
        loadSeconds: p.loadSeconds,
        cursors,
        http: { since: p.http.since, status: p.http.status, bytes: p.http.bytes, ...http },
        pooledMedianMs: median(serviceTimes[s]!.flat()),
        plans: p.plans,
      };
    });
  } finally {
    for (const p of prepared) p.close();
  }
}
