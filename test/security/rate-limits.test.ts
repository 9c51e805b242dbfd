import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RATE_BUCKETS, rateBucketOf } from '../../src/features/throttles/policy.js';
import { createTestApp, type TestApp } from '../harness.js';
import { owner } from '../features/find-helpers.js';
import { expectError, freshAddress, json, randomId } from './helpers.js';

// The request rate limits (src/features/throttles/policy.ts), from the flooding client's side.

let t: TestApp;
beforeEach(() => {
  t = createTestApp();
});
afterEach(() => t.close());

type Operation = { responses: Record<string, { headers?: Record<string, unknown> }> };

/** Sends the same request until the bucket refuses it; returns how many got through and the refusal. */
async function floodUntilRefused(send: () => Response | Promise<Response>, atMost: number) {
  for (let sent = 0; sent <= atMost; sent++) {
    const res = await send();
    if (res.status === 429) return { admitted: sent, refusal: await expectError(res, 429, 'rate_limited') };
  }
  throw new Error(`never refused after ${atMost + 1} requests`);
}

const retryAfterOf = (refusal: { headers: Headers }) => Number(refusal.headers.get('Retry-After'));

describe('coverage', () => {
  it('every operation in /openapi.json that changes something, every location read and the export have a bucket and documents 429 with Retry-After', async () => {
    const doc = await json<{ paths: Record<string, Record<string, Operation>> }>(await t.request('GET', '/openapi.json'));
    const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, operation]) => ({ name: `${method.toUpperCase()} ${path}`, method, path, operation })),
    );
    // Reads are not limited, except location reads and the export, which reads the whole account.
    const mustBeLimited = operations.filter((o) => o.method !== 'get' || /\/locations?$/.test(o.path) || o.path === '/v1/account/export');
    expect(mustBeLimited.length).toBeGreaterThan(30);
    const unlimited = mustBeLimited.filter((o) => !rateBucketOf(o.method, o.path)).map((o) => o.name);
    expect(unlimited).toEqual([]);
    for (const { name, operation } of mustBeLimited) {
      expect(operation.responses['429']?.headers, name).toHaveProperty('Retry-After');
    }
    // No bucket names an operation the API does not have.
    const names = new Set(operations.map((o) => o.name));
    expect(RATE_BUCKETS.flatMap((b) => b.operations).filter((o) => !names.has(o))).toEqual([]);
  });
});

describe('security', () => {
  it('an account flooding location reads is refused with Retry-After; another account and the next minute are not', async () => {
    const flooder = await owner(t);
    const bystander = await owner(t);
    // Another device's id, so each read is a cheap 404: counted all the same.
    const read = (o: typeof flooder) => t.request('GET', `/v1/devices/${randomId()}/location`, { headers: o.session });
    const { admitted, refusal } = await floodUntilRefused(() => read(flooder), 300);
    expect(admitted).toBe(300);
    expect(retryAfterOf(refusal)).toBe(60);
    expect((await read(bystander)).status).not.toBe(429);

    t.clock.advance(60_000);
    expect((await read(flooder)).status).not.toBe(429);
  });

  it('an account flooding commands with junk is refused before the handler reads it', async () => {
    const flooder = await owner(t);
    const bystander = await owner(t);
    const junk = (o: typeof flooder) =>
      t.request('POST', `/v1/devices/${o.device.id}/commands`, { headers: o.session, body: { nonsense: true } });
    const { admitted, refusal } = await floodUntilRefused(() => junk(flooder), 60);
    expect(admitted).toBe(60);
    expect(retryAfterOf(refusal)).toBeGreaterThan(0);
    await expectError(junk(bystander), 400, 'validation_failed');
  });

  it('a device flooding acknowledgements is refused; another device of the same account is not', async () => {
    const o = await owner(t);
    const second = await o.register('tablet');
    const ack = (auth: Record<string, string>) => t.request('POST', `/v1/device/commands/${randomId()}/ack`, { headers: auth, body: { result: 'done' } });
    const { admitted } = await floodUntilRefused(() => ack(o.device.auth), 120);
    expect(admitted).toBe(120);
    expect((await ack(second.auth)).status).not.toBe(429);
  });

  it('an address flooding made-up logins is refused before the database; other addresses are not', async () => {
    const flooder = freshAddress();
    const madeUp = (address: string) =>
      t.request('POST', '/v1/auth/login', {
        body: { challengeId: randomId(), signature: 'A'.repeat(86) },
        headers: { 'X-Forwarded-For': address },
      });
    const { admitted } = await floodUntilRefused(() => madeUp(flooder), 120);
    expect(admitted).toBe(120);
    await expectError(madeUp(freshAddress()), 401, 'challenge_invalid');
  });

  it('the SMS webhook is limited per source address', async () => {
    const post = (address: string) =>
      t.app.request(`${t.deps.config.publicOrigin}/v1/sms/inbound`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Forwarded-For': address },
        body: 'From=%2B15550100&Body=hello',
      });
    const twilio = freshAddress();
    const { admitted } = await floodUntilRefused(() => post(twilio), 600);
    expect(admitted).toBe(600);
    await expectError(post(freshAddress()), 403, 'forbidden');
  });
});
