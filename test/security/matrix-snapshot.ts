import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { TestApp } from '../harness.js';

// Everything an account holds, read straight from the SQLite file and the blob folder, so that a
// call that changed the victim's data shows up as a difference however it got there.
//
// Left out, each on purpose:
// - tables with no account column hold nobody's data: throttles (counters of attempts, which
//   exist to move when calls are refused), write_guards (never holds a row) and the migrations
//   journal;
// - login_challenges: single-use nonces that anyone may ask for by naming an email (the matrix
//   asks for the victim's to sign them wrongly); they hold nothing of the account and any answer,
//   right or wrong, uses them up;
// - audit_log entries login.failed: a wrong proof on the victim's challenge is recorded in the
//   victim's log on purpose, so the owner sees the attempt (test/security/audit-attacks.test.ts);
// - in a sibling device's calls, that sibling's own rows (its device row, and rows naming its
//   device_id): a device may change its own state, and every one of its writes that landed on
//   the phone instead would still show;
// - in a sibling device's calls, the lists every device of the account shares by design
//   (message_blocks: a number blocked on one phone is blocked on all of them).

const NOT_THE_ACCOUNTS = new Set(['login_challenges']);
const SHARED_BY_DEVICES = new Set(['message_blocks']);
const RECORDS_OF_REFUSALS = (table: string, row: Record<string, unknown>) => table === 'audit_log' && row.action === 'login.failed';

interface Sqlite {
  prepare(source: string): { all(...params: unknown[]): Record<string, unknown>[] };
}

const sqliteOf = (t: TestApp) => (t.deps.db as unknown as { $client: Sqlite }).$client;

export type AccountSnapshot = Record<string, string[]>;

/** The tables that hold an account's rows, and the column that says whose: read once per app. */
const accountTables = new WeakMap<TestApp, { table: string; owner: string }[]>();

function tablesOf(t: TestApp) {
  if (!accountTables.has(t)) {
    const sqlite = sqliteOf(t);
    const names = sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all().map((row) => String(row.name));
    const tables = names
      .filter((table) => !NOT_THE_ACCOUNTS.has(table))
      .map((table) => {
        const columns = new Set(sqlite.prepare(`PRAGMA table_info("${table}")`).all().map((column) => String(column.name)));
        return { table, owner: table === 'accounts' ? 'id' : columns.has('account_id') ? 'account_id' : '' };
      })
      .filter(({ owner }) => owner !== '');
    accountTables.set(t, tables);
  }
  return accountTables.get(t)!;
}

export function snapshotAccount(t: TestApp, accountId: string): AccountSnapshot {
  const sqlite = sqliteOf(t);
  const snapshot: AccountSnapshot = {};
  for (const { table, owner } of tablesOf(t)) {
    snapshot[table] = sqlite
      .prepare(`SELECT * FROM "${table}" WHERE "${owner}" = ?`)
      .all(accountId)
      .filter((row) => !RECORDS_OF_REFUSALS(table, row))
      .map((row) => JSON.stringify(row))
      .sort();
  }
  snapshot['blob store'] = storedFiles(join(t.dir, 'blobs'), accountId);
  return snapshot;
}

/**
 * The account's objects and multipart leftovers in the fs blob store, each with the hash of its
 * bytes. Objects live under accounts/<id>/; an unfinished multipart upload is a folder whose
 * `key` file names the object it will become.
 */
function storedFiles(root: string, accountId: string): string[] {
  const prefix = `accounts/${accountId}/`;
  const files = (dir: string): string[] =>
    existsSync(dir)
      ? readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? files(join(dir, entry.name)) : [join(dir, entry.name)]))
      : [];
  const multipartOfAccount = (path: string) => {
    const rel = relative(root, path).split('/');
    if (rel[0] !== '.multipart' || rel.length < 3) return false;
    const key = join(root, rel[0], rel[1]!, 'key');
    return existsSync(key) && readFileSync(key, 'utf8').startsWith(prefix);
  };
  return files(root)
    .filter((path) => relative(root, path).startsWith(prefix) || multipartOfAccount(path))
    .map((path) => `${relative(root, path)} ${createHash('sha256').update(readFileSync(path)).digest('hex')}`)
    .sort();
}

/**
 * What changed between two snapshots, one line per row or file added or removed; rows of
 * `exceptDeviceId` (its device row, and rows naming it) are that device's own and left out.
 */
export function differences(before: AccountSnapshot, after: AccountSnapshot, options: { exceptDeviceId?: string } = {}): string[] {
  const othersOf = (table: string) => (row: string) => {
    if (options.exceptDeviceId === undefined || table === 'blob store') return true;
    if (SHARED_BY_DEVICES.has(table)) return false;
    const parsed = JSON.parse(row) as { id?: unknown; device_id?: unknown };
    return parsed.device_id !== options.exceptDeviceId && !(table === 'devices' && parsed.id === options.exceptDeviceId);
  };
  return Object.keys({ ...before, ...after }).flatMap((table) => {
    const was = new Set(before[table] ?? []);
    const is = new Set(after[table] ?? []);
    return [
      ...[...was].filter((row) => !is.has(row) && othersOf(table)(row)).map((row) => `${table}: lost ${row}`),
      ...[...is].filter((row) => !was.has(row) && othersOf(table)(row)).map((row) => `${table}: gained ${row}`),
    ];
  });
}
