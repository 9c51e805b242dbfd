import Database from 'better-sqlite3';

// Records every statement better-sqlite3 runs while `work` runs, with its parameters. The server's
// connection reuses prepared statements (src/adapters/sqlite-group-commit.ts), so the recording
// wraps the Statement class's methods, which every statement runs, cached or new.

export interface ExecutedStatement {
  sql: string;
  params: unknown[];
}

const statementClass = Object.getPrototypeOf(new Database(':memory:').prepare('SELECT 1')) as Record<string, unknown>;
const METHODS = ['all', 'get', 'run', 'iterate'] as const;

export async function recordStatements(work: () => Promise<unknown>): Promise<ExecutedStatement[]> {
  const executed: ExecutedStatement[] = [];
  const natives = METHODS.map((method) => statementClass[method] as (this: Database.Statement, ...args: unknown[]) => unknown);
  METHODS.forEach((method, i) => {
    statementClass[method] = function (this: Database.Statement, ...params: unknown[]) {
      executed.push({ sql: this.source, params });
      return natives[i]!.apply(this, params);
    };
  });
  try {
    await work();
  } finally {
    METHODS.forEach((method, i) => (statementClass[method] = natives[i]));
  }
  return executed;
}

/** SQLite's query plan of each statement, asked of `client` with the statement's own parameters. */
export const queryPlans = (client: Database.Database, statements: ExecutedStatement[]) =>
  statements.map(({ sql, params }) => ({
    sql,
    plan: (client.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail),
  }));
