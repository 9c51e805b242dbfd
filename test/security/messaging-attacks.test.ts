import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../harness.js';
import { anotherPhone, messagingPhone, uniqueNumber } from '../features/messaging-helpers.js';

// The directory and the block list under attack: enumerating numbers, reading what was asked
// from the server's disk or logs, and reaching another account's blocks.

let t: TestApp;
afterEach(() => t.close());

const DAY = 86_400_000;
const sqlite = (t: TestApp) => (t.deps.db as unknown as { $client: { pragma(s: string): unknown; prepare(s: string): { all(): Record<string, unknown>[] } } }).$client;

/** Everything the database holds on disk: the file and its WAL, after a checkpoint. */
function databaseBytes(t: TestApp) {
  sqlite(t).pragma('wal_checkpoint(TRUNCATE)');
  const files = readdirSync(t.dir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.(db|sqlite)(-wal|-shm)?$/.test(f));
  expect(files.length).toBeGreaterThan(0);
  return files.map((f) => readFileSync(join(t.dir, f)).toString('latin1')).join('\n');
}

const fresh = (n: number) => Array.from({ length: n }, () => uniqueNumber());
const lookUp = (phone: { asPhone: (m: string, p: string, b?: unknown) => Promise<{ status: number; body: any }> }, numbers: string[]) =>
  phone.asPhone('POST', '/v1/device/messaging/lookup', { numbers });

describe('the directory under enumeration', () => {
  it('an account asking for 50 fresh numbers a request is stopped at the daily limit, refused whole, and can ask again the next day', async () => {
    t = createTestApp({ MESSAGING_LOOKUPS_PER_DAY: '120' });
    const asker = await messagingPhone(t);
    expect((await lookUp(asker, fresh(50))).body.lookupsLeft).toBe(70);
    expect((await lookUp(asker, fresh(50))).body.lookupsLeft).toBe(20);
    const over = await lookUp(asker, fresh(50));
    expect(over.status).toBe(429);
    expect(over.body.error.code).toBe('rate_limited');
    expect(over.body.results).toBeUndefined();
    // The refused request used up nothing: the 20 left still answer.
    expect((await lookUp(asker, fresh(20))).body.lookupsLeft).toBe(0);
    expect((await lookUp(asker, fresh(1))).status).toBe(429);
    t.clock.advance(DAY + 1000);
    expect((await lookUp(asker, fresh(50))).body.lookupsLeft).toBe(70);
  });

  it('the refusal says when to come back (Retry-After)', async () => {
    t = createTestApp({ MESSAGING_LOOKUPS_PER_DAY: '10' });
    const asker = await messagingPhone(t);
    await lookUp(asker, fresh(10));
    const res = await t.request('POST', '/v1/device/messaging/lookup', { headers: asker.device.auth, body: { numbers: fresh(1) } });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('Retry-After'))).toBeGreaterThan(DAY / 1000 - 60);
  });

  it('spreading the enumeration over two devices of the account does not double the limit', async () => {
    t = createTestApp({ MESSAGING_LOOKUPS_PER_DAY: '60' });
    const asker = await messagingPhone(t);
    const second = await anotherPhone(t, asker, { number: asker.number, on: true });
    expect((await lookUp(asker, fresh(40))).status).toBe(200);
    expect((await lookUp(second, fresh(40))).status).toBe(429);
    expect((await lookUp(second, fresh(20))).body.lookupsLeft).toBe(0);
    expect((await lookUp(asker, fresh(1))).status).toBe(429);
  });

  it('an unknown number and one whose messaging is off answer identically', async () => {
    t = createTestApp();
    const off = await messagingPhone(t, { on: false });
    const asker = await messagingPhone(t);
    const unknown = uniqueNumber();
    const { results } = (await lookUp(asker, [off.number, unknown])).body;
    expect({ ...results[0], number: null }).toEqual({ ...results[1], number: null });
    expect(results[0].devices).toEqual([]);
  });

  it('the numbers asked are stored nowhere: not in the database file, any row, nor the log', async () => {
    t = createTestApp();
    const holder = await messagingPhone(t);
    const asker = await messagingPhone(t);
    const asked = fresh(30);
    const res = await lookUp(asker, [...asked, holder.number]);
    expect(res.body.results.at(-1).devices).toHaveLength(1);
    const disk = databaseBytes(t);
    const logs = t.logLines.join('\n');
    for (const number of [...asked, holder.number]) {
      for (const form of [number, number.slice(1)]) {
        expect(disk.includes(form), `${form} in the database file`).toBe(false);
        expect(logs.includes(form), `${form} in the log`).toBe(false);
      }
    }
  });
});

describe("another account's blocks", () => {
  it('cannot be seen or removed: the attacker unblocking the same number changes only its own list', async () => {
    t = createTestApp();
    const victim = await messagingPhone(t);
    const attacker = await messagingPhone(t);
    const blocked = uniqueNumber();
    await victim.asPhone('POST', '/v1/device/messaging/blocks', { number: blocked });
    expect((await attacker.asPhone('GET', '/v1/device/messaging/blocks')).body.blocks).toEqual([]);
    expect((await attacker.asPhone('DELETE', `/v1/device/messaging/blocks/${encodeURIComponent(blocked)}`)).status).toBe(204);
    expect((await victim.asPhone('GET', '/v1/device/messaging/blocks')).body.blocks).toEqual([expect.objectContaining({ number: blocked })]);
  });

  it("withdrawing 'messaging' for another account's device through the session is refused as not found, and changes nothing", async () => {
    t = createTestApp();
    const victim = await messagingPhone(t);
    const attacker = await messagingPhone(t);
    const res = await attacker.asOwner('PUT', '/v1/account/consents/messaging', { granted: false, deviceId: victim.device.id });
    expect(res.status).toBe(404);
    expect((await victim.asPhone('GET', '/v1/device/messaging')).body.identity).toMatchObject({ number: victim.number });
  });

  it('a sibling phone cannot withdraw messaging for the other phone of its account', async () => {
    t = createTestApp();
    const phone = await messagingPhone(t);
    const sibling = await anotherPhone(t, phone);
    const res = await sibling.asPhone('PUT', '/v1/device/consents/messaging', { granted: false, deviceId: phone.device.id });
    expect(res.status).toBe(404);
    expect((await phone.asPhone('GET', '/v1/device/messaging')).body.identity).not.toBeNull();
  });
});
