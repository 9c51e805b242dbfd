import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../harness.js';
import { owner } from '../features/find-helpers.js';
import { newAccount } from '../features/sync-helpers.js';
import { type ExecutedStatement, queryPlans, recordStatements } from './statement-recorder.js';

// The reads of the busiest requests must come straight off an index, in the order asked, however
// big the account: no table scan and no temporary sort. A location report checks the device's
// Find Device consent (the newest row of that purpose), and a delta page reads items and
// collections in (commit, id) order; each once needed a sort (migration 0008).

let t: TestApp;
beforeEach(() => {
  t = createTestApp();
});
afterEach(() => t.close());

/** The query plan of every read recorded, asked of the app's own connection. */
function readPlans(executed: ExecutedStatement[]) {
  const client = (t.deps.db as unknown as { $client: Database.Database }).$client;
  return queryPlans(client, executed.filter(({ sql }) => /^\s*select/i.test(sql)));
}

const sortsOrScans = (plans: { sql: string; plan: string[] }[]) =>
  plans.filter(({ plan }) => plan.some((line) => /TEMP B-TREE|^SCAN (?!CONSTANT ROW)/.test(line)));

describe('the reads of the busiest requests', () => {
  it('a location report reads the device’s consent from the index, newest entry first', async () => {
    const o = await owner(t);
    // Several choices of the same purpose, so the newest must be picked among them.
    for (const enabled of [false, true, false, true]) expect((await o.asOwner('PUT', `/v1/devices/${o.device.id}/find`, { enabled })).status).toBe(200);
    const executed = await recordStatements(async () => {
      const reported = await o.asDevice(o.device.auth, 'POST', '/v1/device/locations', { reports: [{ sealed: o.sealed(1, 2) }] });
      expect(reported.status).toBe(202);
    });
    const plans = readPlans(executed);
    const consent = plans.filter(({ sql }) => /from "consent_events"/.test(sql));
    expect(consent.length).toBeGreaterThan(0);
    for (const { plan } of consent) expect(plan.join(' | ')).toMatch(/USING (COVERING )?INDEX consent_events_purpose/);
    expect(sortsOrScans(plans)).toEqual([]);
  });

  it('a delta page, from the start and from a cursor inside a commit, reads (commit, id) order off the index', async () => {
    const a = await newAccount(t);
    const collectionId = await a.createCollection();
    for (let batch = 0; batch < 3; batch++) {
      const changes = Array.from({ length: 10 }, () => a.create(collectionId));
      expect((await a.json('POST', '/v1/sync/changes', { changes })).status).toBe(200);
    }
    const executed = await recordStatements(async () => {
      const first = await a.json('GET', '/v1/sync/changes?since=0&limit=15');
      expect(first.status).toBe(200);
      // The collection and 14 items: the page ended inside the second commit, and the next starts
      // from its last item.
      expect(first.body.items).toHaveLength(14);
      const next = await a.json('GET', `/v1/sync/changes?since=${encodeURIComponent(first.body.cursor)}&limit=15`);
      expect(next.status).toBe(200);
      expect(next.body.items).toHaveLength(15);
    });
    const plans = readPlans(executed);
    for (const table of ['items', 'collections']) {
      const reads = plans.filter(({ sql }) => new RegExp(`from "${table}" where .*change_seq`).test(sql));
      expect(reads.length).toBeGreaterThanOrEqual(2);
      for (const { plan } of reads) expect(plan.join(' | ')).toMatch(new RegExp(`USING (COVERING )?INDEX ${table}_changes`));
    }
    expect(sortsOrScans(plans)).toEqual([]);
  });
});
