import { randomBytes } from 'node:crypto';
import { SQL } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { atomic, EachRow, RenderedWrite, type Statement } from '../../src/db/client.js';
import { batchStatements, itemsAsWritten, type ItemChange } from '../../src/features/sync/batch.js';
import { advanceSeq, findItems, type ItemRow } from '../../src/features/sync/repo.js';
import { createTestApp, type TestApp } from '../harness.js';
import {
  batchesSpanningChunksKeepCommitOrder,
  batchWithOneStaleChangeIsRefusedWhole,
  mixedBatchEndsEachItemAsItsChangeSays,
} from './sync-batch-scenarios.js';
import { type Account, fakeSealed, newAccount, newId, sha256Hex } from './sync-helpers.js';

// A sync batch is written per run of one operation (batch.ts): one prepared statement run per row
// on Node, a few multi-row statements on D1. These tests hold both to the change-by-change
// semantics they replaced.

let t: TestApp;
let a: Account;
beforeEach(async () => {
  t = createTestApp();
  a = await newAccount(t);
});
afterEach(() => t.close());

const client = () => t.api({ sessionToken: a.token });

describe('big batches, several chunks of every kind', () => {
  it('a mixed batch of 260 changes ends each item exactly as its change says', () => mixedBatchEndsEachItemAsItsChangeSays(client()));
  it('a 100-change batch whose 57th change is stale is refused whole', () => batchWithOneStaleChangeIsRefusedWhole(client()));
  it('a batch spanning several statements takes one sequence number, in commit order', () => batchesSpanningChunksKeepCommitOrder(client()));
});

describe('errors', () => {
  it('a batch sent again after its reply was lost is refused as stale and stores nothing twice', async () => {
    const collectionId = await a.createCollection();
    const creates = Array.from({ length: 100 }, () => a.create(collectionId));
    const first = await a.json('POST', '/v1/sync/changes', { changes: creates });
    expect(first.status).toBe(200);

    const again = await a.json('POST', '/v1/sync/changes', { changes: creates });
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'version_conflict' } } });
    const conflicts = again.body.error.details.conflicts as { itemId: string; version: number }[];
    expect(conflicts.map((c) => c.itemId).sort()).toEqual(creates.map((c) => c.itemId).sort());
    expect(new Set(conflicts.map((c) => c.version))).toEqual(new Set([1]));

    const updates = creates.map((c) => ({ op: 'update', itemId: c.itemId, baseVersion: 1, encryptedMetadata: fakeSealed(20) }));
    expect((await a.json('POST', '/v1/sync/changes', { changes: updates })).status).toBe(200);
    expect((await a.json('POST', '/v1/sync/changes', { changes: updates })).status).toBe(409);

    const page = (await a.json('GET', '/v1/sync/changes?since=0&limit=1000')).body;
    expect(page.items).toHaveLength(100);
    expect(new Set(page.items.map((i: { version: number }) => i.version))).toEqual(new Set([2]));
    expect(page.cursor).toBe(String(first.body.seq + 1));
  });

  it('a blob is taken only after its holder let go earlier in the batch, as change by change', async () => {
    const collectionId = await a.createCollection('photos');
    const bytes = randomBytes(500);
    const blobId = (await (await a.uploadBlob(bytes, sha256Hex(bytes))).json()).blobId as string;
    const holder = a.create(collectionId, { blobId });
    expect((await a.json('POST', '/v1/sync/changes', { changes: [holder] })).status).toBe(200);
    const letGo = { op: 'update', itemId: holder.itemId, baseVersion: 1, encryptedMetadata: fakeSealed(20), blobId: null };
    const taker = a.create(collectionId, { blobId });

    const takenFirst = await a.json('POST', '/v1/sync/changes', { changes: [taker, a.create(collectionId), letGo] });
    expect(takenFirst).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
    expect((await a.json('GET', `/v1/sync/items/${holder.itemId}`)).body).toMatchObject({ version: 1, blob: { id: blobId } });

    const letGoFirst = await a.json('POST', '/v1/sync/changes', { changes: [letGo, a.create(collectionId), taker] });
    expect(letGoFirst.status).toBe(200);
    expect((await a.json('GET', `/v1/sync/items/${taker.itemId}`)).body.blob).toMatchObject({ id: blobId });
    expect((await a.call('GET', `/v1/blobs/${blobId}`)).status).toBe(200);
  });
});

describe('the answer to a batch', () => {
  it('an item another device moved on right after the batch committed is answered as it now is', async () => {
    const collectionId = await a.createCollection();
    const item = a.create(collectionId);
    await a.json('POST', '/v1/sync/changes', { changes: [item] });
    const [v1] = await findItems(t.deps.db, a.accountId, [item.itemId]);
    const mine: ItemChange = { op: 'update', itemId: item.itemId, baseVersion: 1, encryptedMetadata: 'bWluZQ' };
    await a.json('POST', '/v1/sync/changes', { changes: [mine] });
    // Between this batch's commit and its answer, another device commits version 3.
    await a.json('POST', '/v1/sync/changes', { changes: [{ op: 'update', itemId: item.itemId, baseVersion: 2, encryptedMetadata: 'dGhlaXJz' }] });

    const seq = { before: 2, after: 4 };
    const answered = await itemsAsWritten(t.deps, a.accountId, [mine], new Map([[item.itemId, v1!]]), t.clock.now(), seq);
    expect(answered).toEqual(await findItems(t.deps.db, a.accountId, [item.itemId]));
    expect(answered[0]).toMatchObject({ version: 3, encryptedMetadata: 'dGhlaXJz' });
  });
});

// ---- the statements themselves ----

type Query = { sql: string; params: unknown[] };
/** The statements as atomic() sends them to D1: each EachRow as its multi-row statements. */
const onD1 = (statements: Statement[]) => statements.flatMap((s) => (s instanceof EachRow ? s.batched() : [s]));
function queryOf(statement: Statement): Query {
  const db = t.deps.db as unknown as { dialect: { sqlToQuery(s: SQL): Query } };
  if (statement instanceof RenderedWrite) return statement;
  return statement instanceof SQL ? db.dialect.sqlToQuery(statement) : (statement as unknown as { toSQL(): Query }).toSQL();
}

const row = (id: string, version: number, state: ItemRow['state'], blobId: string | null = null): ItemRow => ({
  accountId: 'account',
  id,
  collectionId: 'collection',
  version,
  state,
  wrappedKey: 'key',
  encryptedMetadata: 'metadata',
  blobId,
  trashedAt: null,
  changeSeq: 1,
  createdAt: 1,
  updatedAt: 1,
});

/** 500 changes (the most a batch holds), every operation, blobs taken and let go; and the rows they start from. */
function fullBatch() {
  const changes: ItemChange[] = [];
  const before = new Map<string, ItemRow>();
  for (let i = 0; i < 500; i++) {
    const itemId = newId();
    const kind = i % 5;
    if (kind === 0) changes.push({ op: 'create', itemId, collectionId: `c${i % 3}`, wrappedKey: 'k', encryptedMetadata: 'm', blobId: i % 2 ? newId() : undefined });
    else before.set(itemId, row(itemId, 3, kind === 3 ? 'trashed' : 'live', newId()));
    if (kind === 1) changes.push({ op: 'update', itemId, baseVersion: 3, encryptedMetadata: 'm', ...(i % 3 ? { blobId: null } : {}) });
    if (kind === 2) changes.push({ op: 'trash', itemId, baseVersion: 3 });
    if (kind === 3) changes.push({ op: 'restore', itemId, baseVersion: 3 });
    if (kind === 4) changes.push({ op: 'delete', itemId, baseVersion: 3 });
  }
  // Long runs too: 150 creates, then 150 updates.
  for (let i = 0; i < 150; i++) changes.unshift({ op: 'create', itemId: newId(), collectionId: 'c0', wrappedKey: 'k', encryptedMetadata: 'm', blobId: newId() });
  for (let i = 0; i < 150; i++) {
    const itemId = newId();
    before.set(itemId, row(itemId, 1, 'live'));
    changes.push({ op: 'update', itemId, baseVersion: 1, encryptedMetadata: 'm', wrappedKey: 'k2' });
  }
  return { changes, before };
}

const creates = (n: number) =>
  Array.from({ length: n }, (): ItemChange => ({ op: 'create', itemId: newId(), collectionId: 'c', wrappedKey: fakeSealed(), encryptedMetadata: fakeSealed(200) }));

describe('the statements of a batch', () => {
  it('bind at most D1’s 100 parameters each on D1, whatever the batch holds', () => {
    const { changes, before } = fullBatch();
    const { statements } = batchStatements(t.deps, 'account', changes, before, 1);
    const counts = onD1(statements).map((s) => queryOf(s).params.length);
    expect(Math.max(...counts)).toBeLessThanOrEqual(100);
    // Chunks are filled: a multi-row statement binds close to the limit.
    expect(Math.max(...counts)).toBeGreaterThan(90);
  });

  it('are a handful for 100 creates on D1, and one statement run per row on Node, with SQL text that repeats from batch to batch', () => {
    const statements = (n: number) => batchStatements(t.deps, 'account', creates(n), new Map(), 1).statements;
    const d1Texts = (n: number) => onD1(statements(n)).map((s) => queryOf(s).sql);
    const hundred = d1Texts(100);
    expect(hundred.length).toBeLessThanOrEqual(8);
    expect(d1Texts(100)).toEqual(hundred);
    // A batch of another size reuses the full chunks' text; only its last chunk differs.
    expect(new Set([...d1Texts(60), ...d1Texts(100)]).size).toBeLessThanOrEqual(new Set(hundred).size + 1);

    const onNode = (n: number) => statements(n).filter((s): s is EachRow => s instanceof EachRow);
    expect(onNode(100).map((s) => s.rows.length)).toEqual([100]);
    expect(new Set([...onNode(1), ...onNode(60), ...onNode(100)].map((s) => s.sql)).size).toBe(1);
  });

  it('reach items and blobs by their primary key on both runtimes: no scan, however big the account', () => {
    const { changes, before } = fullBatch();
    const { statements } = batchStatements(t.deps, 'account', changes, before, 1);
    const client = (t.deps.db as unknown as { $client: { prepare(sql: string): { all(...p: unknown[]): { detail: string }[] } } }).$client;
    const planOf = ({ sql, params }: Query) => client.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params).map((r) => r.detail);
    const eachRow = statements.filter((s): s is EachRow => s instanceof EachRow);
    expect(eachRow.length).toBeGreaterThan(0);
    const nodePlans = eachRow.map((s) => planOf({ sql: s.sql, params: s.rows[0]! }));
    const d1Plans = onD1(statements).map((s) => planOf(queryOf(s)));
    for (const plans of [nodePlans, d1Plans]) {
      expect(plans.flat().filter((line) => /\b(items|blobs)\b/.test(line))).not.toHaveLength(0);
      for (const line of plans.flat()) expect(line).not.toMatch(/SCAN (items|blobs)\b|blobs_age|items_trash|items_changes/);
    }
  });

  it('write the same rows on both runtimes', async () => {
    // The same batch through atomic()'s Node path (one statement per row) and as D1 would run it
    // (the multi-row statements, here on the same SQLite): the rows must come out alike.
    const written = async (form: 'node' | 'd1') => {
      const b = await newAccount(t);
      const collectionId = await b.createCollection();
      const sealed = (tag: string, i: number) => Buffer.from(`${tag}${i}`.padEnd(72, '.')).toString('base64url');
      const fields = (i: number) => ({ wrappedKey: sealed('w', i), encryptedMetadata: sealed('e', i) });
      const created = Array.from({ length: 130 }, (_, i) => b.create(collectionId, fields(i)));
      expect((await b.json('POST', '/v1/sync/changes', { changes: created })).status).toBe(200);
      const before = new Map((await findItems(t.deps.db, b.accountId, created.map((c) => c.itemId))).map((r) => [r.id, r]));
      const changes: ItemChange[] = [
        ...Array.from({ length: 70 }, (_, i): ItemChange => b.create(collectionId, fields(1000 + i))),
        ...created.map((c, i): ItemChange => ({ op: 'update', itemId: c.itemId, baseVersion: 1, encryptedMetadata: sealed('m', i), ...(i % 2 ? { wrappedKey: sealed('k', i) } : {}) })),
      ];
      const { statements } = batchStatements(t.deps, b.accountId, changes, before, 77);
      await atomic(t.deps.db, [advanceSeq(t.deps.db, b.accountId), ...(form === 'node' ? statements : onD1(statements))]);
      // Ids differ between the two accounts: each row is named by its change's place in the batch.
      const place = new Map(changes.map((c, i) => [c.itemId, i]));
      const rows = await findItems(t.deps.db, b.accountId, changes.map((c) => c.itemId));
      return rows.map(({ accountId: _a, id, collectionId: _c, ...row }) => ({ place: place.get(id)!, ...row })).sort((x, y) => x.place - y.place);
    };
    const node = await written('node');
    const d1 = await written('d1');
    expect(node).toHaveLength(200);
    expect(node.filter((r) => r.version === 2)).toHaveLength(130);
    expect(node.every((r) => r.updatedAt === 77)).toBe(true);
    const text = (field: string | null) => Buffer.from(field!, 'base64url').toString().replace(/\.+$/, '');
    expect([node[0], node[70], node[71]].map((r) => [r!.version, text(r!.wrappedKey), text(r!.encryptedMetadata)])).toEqual([
      [1, 'w1000', 'e1000'],
      [2, 'w0', 'm0'],
      [2, 'k1', 'm1'],
    ]);
    expect(d1).toEqual(node);
  });
});
