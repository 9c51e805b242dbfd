import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixedLimit } from '../../src/db/client.js';
import { sessions } from '../../src/db/schema.js';
import { createTestApp, type TestApp } from '../harness.js';
import { owner } from '../features/find-helpers.js';
import { newAccount } from '../features/sync-helpers.js';

// SQLite reads a bound LIMIT's value when it plans, so a statement whose LIMIT is a parameter is
// prepared again on every run. The busiest requests (a signed-in push, a device's location report)
// must prepare none: every fixed limit is in the SQL text (fixedLimit).

let t: TestApp;
let prepared: string[];
const nativePrepare = Database.prototype.prepare;
beforeEach(() => {
  prepared = [];
  // Watches the real connection from its opening; every statement still goes to SQLite as before.
  Database.prototype.prepare = function (this: Database.Database, source: string) {
    prepared.push(source);
    return nativePrepare.call(this, source);
  } as typeof Database.prototype.prepare;
  t = createTestApp();
});
afterEach(() => {
  Database.prototype.prepare = nativePrepare;
  t.close();
});

describe('fixed limits', () => {
  it('are written into the SQL text, not bound', () => {
    const query = t.deps.db.select().from(sessions).limit(fixedLimit(1)).toSQL();
    expect(query.sql).toMatch(/ limit 1$/);
    expect(query.params).toEqual([]);
  });

  it('are whole numbers', () => {
    for (const bad of [1.5, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => fixedLimit(bad)).toThrow(RangeError);
  });

  it('sign-up, log-in, a sync push and a location report prepare no statement with a bound LIMIT', async () => {
    const a = await newAccount(t);
    const o = await owner(t);
    const collectionId = await a.createCollection();
    for (let round = 0; round < 2; round++) {
      const pushed = await a.json('POST', '/v1/sync/changes', { changes: [a.create(collectionId), a.create(collectionId)] });
      expect(pushed.status).toBe(200);
      const reported = await o.asDevice(o.device.auth, 'POST', '/v1/device/locations', { reports: [{ sealed: o.sealed(1, 2) }] });
      expect(reported.status).toBe(202);
    }
    expect(prepared.some((source) => /from "sessions" where "sessions"."token_hash" = \? limit 1$/.test(source))).toBe(true);
    expect(prepared.filter((source) => /\blimit \?/i.test(source))).toEqual([]);
  });
});
