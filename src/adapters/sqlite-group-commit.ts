import type { Database, Statement } from 'better-sqlite3';

// Group commit for better-sqlite3. With synchronous=FULL every commit is an fsync, and
// better-sqlite3 is synchronous, so a commit per write blocks every other request for as long as
// the disk takes. Here the first write of an event-loop turn opens one transaction (BEGIN
// IMMEDIATE), every write of the turn joins it, and it commits once the turn's I/O callbacks have
// run (setImmediate): one fsync for all of them, however many requests wrote.
//
// Durability before the acknowledgement is unchanged because nothing is acknowledged until the
// commit that holds it: the app's middleware waits for settled(mark) (src/http/durability.ts), which
// fails the request if any group since its mark failed. A group SQLite rolls back (a full disk
// mid-statement) or whose COMMIT fails is reported to every request that may have written into
// it; none of them was answered yet.
//
// The same wrapper reuses prepared statements: drizzle prepares each query afresh, and preparing
// was 13% of a sync push's CPU. Statements are cached by SQL text (bounded); a better-sqlite3
// statement keeps its raw()/pluck() mode, so each prepare hands it back with the modes off.

/** How the app waits for its writes to be on disk (Deps.durability). */
export interface WriteDurability {
  /** A mark before a request's work: settled(mark) covers every write made after it. */
  mark(): number;
  /** Resolves once every write made since `mark` is committed; rejects if any of them was lost. */
  settled(mark: number): Promise<void>;
}

export interface GroupCommit extends WriteDurability {
  /** The connection drizzle is given: prepare() and transaction() join the group. */
  client: Database;
  /** Commits the open group now (shutdown, before the last checkpoint). */
  flush(): void;
}

const STATEMENT_CACHE_SIZE = 500;

interface Group {
  id: number;
  done: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}

export function createGroupCommit(sqlite: Database): GroupCommit {
  let nextId = 1;
  let open: Group | null = null;
  let lastFailure: { id: number; error: unknown } | null = null;
  const cache = new Map<string, Statement>();

  function begin() {
    if (open) return;
    if (sqlite.inTransaction) return; // a caller's own transaction (migrations): left to it
    sqlite.exec('BEGIN IMMEDIATE');
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    const done = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
    // A group nobody waits for (a job's writes) must not become an unhandled rejection.
    done.catch(() => undefined);
    open = { id: nextId++, done, resolve, reject };
    setImmediate(commit);
  }

  function fail(group: Group, error: unknown) {
    if (open === group) open = null;
    lastFailure = { id: group.id, error };
    group.reject(error);
  }

  function commit() {
    checkOpenGroup();
    const group = open;
    if (!group) return;
    open = null;
    try {
      sqlite.exec('COMMIT');
    } catch (error) {
      if (sqlite.inTransaction) {
        try {
          sqlite.exec('ROLLBACK');
        } catch {
          // the connection is already out of the transaction
        }
      }
      fail(group, error);
      return;
    }
    group.resolve();
  }

  /** Checks, before the group is used again, that SQLite has not ended it (a full disk mid-statement). */
  function checkOpenGroup() {
    if (open && !sqlite.inTransaction) fail(open, new Error('SQLite rolled back the open write group after a failed statement'));
  }

  function prepare(source: string): Statement {
    let statement = cache.get(source);
    if (!statement) {
      statement = sqlite.prepare(source);
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      cache.set(source, statement);
    } else if (statement.reader) {
      // Modes stick to a statement; the caller sets the one it wants after prepare (drizzle: raw()).
      statement.raw(false).pluck(false).expand(false);
    }
    checkOpenGroup();
    // drizzle runs a statement right after preparing it: a write joins the group from here.
    if (!statement.readonly) begin();
    return statement;
  }

  function transaction(fn: (...args: unknown[]) => unknown) {
    // Inside the open group better-sqlite3 runs it as a SAVEPOINT: it fails alone, the group stays
    // (and the begin/immediate/exclusive flavours are all a savepoint there).
    const native = sqlite.transaction(fn);
    const run = (...args: unknown[]) => {
      checkOpenGroup();
      begin();
      return native(...args);
    };
    return Object.assign(run, { deferred: run, immediate: run, exclusive: run });
  }

  // Direct uses of the connection that cannot run inside a transaction (a checkpoint, a backup, a
  // pragma, a script) commit the open group first.
  const outsideGroup = new Set<PropertyKey>(['pragma', 'exec', 'backup', 'serialize', 'close']);
  const client = new Proxy(sqlite, {
    get(target, property) {
      if (property === 'prepare') return prepare;
      if (property === 'transaction') return transaction;
      if (outsideGroup.has(property)) {
        const native = Reflect.get(target, property, target) as (...args: unknown[]) => unknown;
        return (...args: unknown[]) => {
          commit();
          return native.apply(target, args);
        };
      }
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });

  return {
    client,
    mark: () => open?.id ?? nextId,
    async settled(mark) {
      if (open && open.id >= mark) await open.done;
      if (lastFailure && lastFailure.id >= mark) throw lastFailure.error;
    },
    flush: commit,
  };
}
