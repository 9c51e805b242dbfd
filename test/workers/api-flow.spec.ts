import { createHash } from 'node:crypto';
import { createExecutionContext, createScheduledController, env, SELF, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { logIn, signUp } from '../../src/client/account.js';
import { createApiClient, HomingApiError } from '../../src/client/api.js';
import { randomBytes, toBase64Url } from '../../src/protocol/encoding.js';
import { openLocation, sealLocation } from '../../src/client/crypto/location.js';
import { ConfigError } from '../../src/config.js';
import { runMaintenance } from '../../src/jobs.js';
import worker, { createWorkerDeps, type WorkerEnv } from '../../src/worker.js';

// The whole API through the Worker's own fetch handler, on D1 and R2 inside workerd.

const KDF = { opsLimit: 1, memLimit: 8192 };
const id = () => toBase64Url(randomBytes(16));
const sealed = (n: number) => toBase64Url(randomBytes(n));
const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
// workerd's fetch refuses redirect: 'error', which the SDK sets; 'manual' keeps its intent here.
const viaWorker = (input: string, init: RequestInit) => SELF.fetch(input, { ...init, redirect: 'manual' });
const readAll = async (stream: ReadableStream<Uint8Array>) => new Uint8Array(await new Response(stream).arrayBuffer());

async function loggedIn() {
  const api = createApiClient({ baseUrl: 'http://homing.test', fetch: viaWorker });
  const email = `owner-${id()}@example.org`;
  const { accountId } = await signUp(api, { birthYear: 1990, email, password: 'pw', kdf: KDF });
  const { keys } = await logIn(api, { email, password: 'pw' });
  return { api, accountId, keys };
}

describe('the Worker on D1 and R2', () => {
  it('signs up, logs in, registers a device and lists it', async () => {
    const { api, accountId } = await loggedIn();
    expect((await api.account()).accountId).toBe(accountId);
    const registered = await api.registerDevice({ name: 'Pixel', model: 'Pixel 9', platform: 'android', identifierHash: toBase64Url(randomBytes(32)) });
    expect(registered.token).toMatch(/^hd_/);
    expect((await api.devices()).devices.map((d) => d.id)).toEqual([registered.device.id]);
  });

  it('syncs a batch of items, one of them pointing at a blob uploaded to R2 and read back', async () => {
    const { api, accountId } = await loggedIn();
    const bytes = randomBytes(200_000);
    const blob = await api.uploadBlob(bytes, bytes.length, sha256Hex(bytes));
    expect(await env.BLOBS.head(`accounts/${accountId}/blobs/${blob.blobId}`)).toMatchObject({ size: bytes.length });
    expect(await readAll(await api.downloadBlob(blob.blobId))).toEqual(bytes);
    expect(await readAll(await api.downloadBlob(blob.blobId, { start: 10, end: 19 }))).toEqual(bytes.subarray(10, 20));

    const collectionId = id();
    await api.createCollection({ id: collectionId, kind: 'notes', wrappedKey: sealed(72), encryptedMetadata: sealed(40) });
    const create = () => ({ op: 'create' as const, itemId: id(), collectionId, wrappedKey: sealed(72), encryptedMetadata: sealed(100) });
    const batch = [{ ...create(), blobId: blob.blobId }, create(), create()];
    const applied = await api.applyChanges(batch);
    expect(applied.items.map((i) => [i.id, i.version]).sort()).toEqual(batch.map((c) => [c.itemId, 1]).sort());
    const page = await api.changes('0');
    expect(page.items.map((i) => i.id).sort()).toEqual(batch.map((c) => c.itemId).sort());
  });

  it('writes nothing of a batch with one stale update (atomic on D1)', async () => {
    const { api } = await loggedIn();
    const collectionId = id();
    await api.createCollection({ id: collectionId, kind: 'notes', wrappedKey: sealed(72), encryptedMetadata: sealed(40) });
    const create = () => ({ op: 'create' as const, itemId: id(), collectionId, wrappedKey: sealed(72), encryptedMetadata: sealed(100) });
    const first = create();
    await api.applyChanges([first]);
    const fresh = [create(), create(), create()];
    const stale = { op: 'update' as const, itemId: first.itemId, baseVersion: 7, encryptedMetadata: sealed(10) };
    await expect(api.applyChanges([...fresh, stale])).rejects.toMatchObject({ status: 409, code: 'version_conflict' });
    for (const item of fresh) await expect(api.item(item.itemId)).rejects.toBeInstanceOf(HomingApiError);
    expect((await api.item(first.itemId)).version).toBe(1);
    expect((await api.applyChanges(fresh)).items).toHaveLength(3);
  });

  it('Find Device: the device reports a sealed location that only the owner opens', async () => {
    const { api, keys } = await loggedIn();
    const { device, token } = await api.registerDevice({ name: 'Pixel', model: 'Pixel 9', platform: 'android', identifierHash: toBase64Url(randomBytes(32)) });
    expect((await api.setFindEnabled(device.id, true)).findEnabled).toBe(true);
    const phone = createApiClient({ baseUrl: api.baseUrl, deviceToken: token, fetch: viaWorker });
    const fix = { lat: 51.51, lon: -0.13, accuracy: 12, source: 'simulated' as const, battery: 80, measuredAt: Date.now() };
    expect(await phone.reportLocations([sealLocation(fix, keys.x25519PublicKey)])).toEqual({ accepted: 1 });
    const last = await api.lastLocation(device.id);
    expect(openLocation(last.report!.sealed, keys.x25519PublicKey, keys.x25519SecretKey)).toMatchObject({ lat: 51.51, lon: -0.13 });
    // The viewing is recorded once on D1 too (one INSERT … WHERE NOT EXISTS), however often it is polled.
    await api.lastLocation(device.id);
    expect((await api.auditLog()).entries.filter((e) => e.action === 'location.read')).toHaveLength(1);
  });

  it('runs maintenance from the cron trigger, on D1 and R2', async () => {
    const { api } = await loggedIn();
    await api.challenge(`nobody-${id()}@example.org`);
    const challenges = () => env.DB.prepare('SELECT count(*) AS n FROM login_challenges').first<number>('n');
    expect(await challenges()).toBeGreaterThan(0);

    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: '*/10 * * * *' }), env, ctx);
    await waitOnExecutionContext(ctx);

    const deps = createWorkerDeps(env);
    const outcomes = await runMaintenance({ ...deps, clock: { ...deps.clock, now: () => Date.now() + 86_400_000 } });
    expect(outcomes.filter((o) => o.status !== 'ok')).toEqual([]);
    expect(await challenges()).toBe(0);
    // Each job's run is recorded on D1 too: two passes (the cron's and this one), with counts.
    const run = await env.DB.prepare("SELECT runs, counts, error FROM job_runs WHERE name = 'challenges'").first<{ runs: number; counts: string; error: string | null }>();
    expect(run).toMatchObject({ runs: 2, error: null });
    expect(JSON.parse(run!.counts).challenges).toBeGreaterThan(0);
  });

  it('refuses to start without HOMING_SERVER_KEY', () => {
    const bindings: WorkerEnv = { ...env, HOMING_SERVER_KEY: undefined };
    expect(() => createWorkerDeps(bindings)).toThrow(ConfigError);
    expect(() => createWorkerDeps(bindings)).toThrow(/HOMING_SERVER_KEY/);
  });

  it('sends SMS through Twilio over fetch when SMS_PROVIDER=twilio, and checks its webhook signatures', async () => {
    const token = 'x'.repeat(32);
    const twilio = { SMS_PROVIDER: 'twilio', TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`, TWILIO_AUTH_TOKEN: token, TWILIO_FROM_NUMBER: '+15005550006' };
    const { sms } = createWorkerDeps({ ...env, ...twilio });
    expect(sms.name).toBe('twilio');
    // Twilio's scheme, computed here with WebCrypto: HMAC-SHA1 of the URL, then sorted name+value pairs.
    const url = 'http://homing.test/v1/sim/inbound';
    const params = { From: '+447700900123', Body: 'HOMING abc' };
    const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(token), { name: 'HMAC', hash: 'SHA-1' }, false, ['sign']);
    const mac = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`${url}Body${params.Body}From${params.From}`));
    const signature = btoa(String.fromCharCode(...new Uint8Array(mac)));
    expect(sms.verifyWebhook?.({ signature, url, params })).toBe(true);
    expect(sms.verifyWebhook?.({ signature, url, params: { ...params, Body: 'HOMING abd' } })).toBe(false);
    expect(createWorkerDeps(env).sms.name).toBe('log');
  });
});
