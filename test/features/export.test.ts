import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { unzipSync } from 'fflate';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { proveIdentity } from '../../src/client/account.js';
import { blobKey } from '../../src/adapters/blob-store.js';
import { EXPORT_ENTRY, exportAccount, exportManifest, exportSession } from '../../src/protocol/api/export.js';
import { createTestApp, type TestApp } from '../harness.js';
import { expectError } from '../security/helpers.js';
import { accountWithData, downloadExport, readMemoryArchive } from './export-helpers.js';

// GET /v1/account/export: what the archive holds, and how it fails. Opening it with the password
// is test/client/export-open.test.ts; the attacker's side is test/security/export-attacks.test.ts.

let t: TestApp;
beforeEach(() => {
  t = createTestApp();
});
afterEach(() => t.close());

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);
const ndjson = (bytes: Uint8Array | undefined) => text(bytes).split('\n').filter(Boolean).map((l) => JSON.parse(l));

describe('happy', () => {
  it('streams a ZIP any reader opens, with the manifest last listing every entry with its size and SHA-256', async () => {
    const a = await accountWithData(t);
    const { res, bytes } = await downloadExport(t, a.auth);
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('application/zip');
    expect(res.headers.get('Content-Disposition')).toBe('attachment; filename="homing-export-2026-11-01.zip"');

    // An independent reader (fflate's whole-archive unzip) agrees with the manifest.
    const files = unzipSync(bytes);
    const archive = await readMemoryArchive(bytes);
    expect(archive.names().at(-1)).toBe(EXPORT_ENTRY.manifest);
    const manifest = exportManifest.parse(JSON.parse(text(files[EXPORT_ENTRY.manifest])));
    expect(manifest).toMatchObject({ accountId: a.accountId, server: t.deps.config.publicOrigin, exportedAt: t.clock.now(), version: 1 });
    expect(manifest.entries.map((e) => e.name).sort()).toEqual(Object.keys(files).filter((n) => n !== EXPORT_ENTRY.manifest).sort());
    for (const entry of manifest.entries) {
      expect({ name: entry.name, size: files[entry.name]!.length, sha256: sha256(files[entry.name]!) }).toEqual(entry);
    }
    for (const name of Object.values(EXPORT_ENTRY)) expect(files[name], name).toBeDefined();

    // Each entry's CRC-32 in the central directory is the standard one (a ZIP tool checks it).
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const end = bytes.length - 22;
    let at = view.getUint32(end + 16, true);
    for (let i = 0; i < view.getUint16(end + 10, true); i++) {
      const nameLength = view.getUint16(at + 28, true);
      const name = text(bytes.subarray(at + 46, at + 46 + nameLength));
      expect({ name, crc: view.getUint32(at + 16, true) }).toEqual({ name, crc: crc32(files[name]!) });
      at += 46 + nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
    }
  });

  it('holds the account record with the e-mail and phone opened, every wrapped key, and sessions without token hashes', async () => {
    const a = await accountWithData(t);
    const files = unzipSync((await downloadExport(t, a.auth)).bytes);
    const account = exportAccount.parse(JSON.parse(text(files[EXPORT_ENTRY.account])));
    expect(account).toMatchObject({ accountId: a.accountId, email: a.email, phoneNumber: a.phoneNumber, createdAt: expect.any(Number) });
    const keys = await (await t.request('GET', '/v1/account/keys', { headers: a.auth })).json();
    expect(account).toMatchObject({ kdf: keys.kdf, wrappedMasterKey: keys.wrappedMasterKey, wrappedX25519SecretKey: keys.wrappedX25519SecretKey });

    const sessions = JSON.parse(text(files[EXPORT_ENTRY.sessions])) as unknown[];
    expect(sessions.length).toBeGreaterThan(0);
    for (const session of sessions) exportSession.strict().parse(session);
    expect(text(files[EXPORT_ENTRY.sessions])).not.toMatch(/token/i);
  });

  it('carries every item and blob byte for byte as stored, the sealed locations, and the SIM event with its carrier and number opened', async () => {
    const a = await accountWithData(t);
    const files = unzipSync((await downloadExport(t, a.auth)).bytes);
    const items = ndjson(files[EXPORT_ENTRY.items]);
    const synced = await (await t.request('GET', '/v1/sync/changes?since=0&limit=500', { headers: a.auth })).json();
    expect(items.map((i) => i.id).sort()).toEqual(synced.items.map((i: { id: string }) => i.id).sort());
    for (const item of synced.items) {
      const exported = items.find((i) => i.id === item.id);
      expect(exported).toMatchObject({ wrappedKey: item.wrappedKey, encryptedMetadata: item.encryptedMetadata, version: item.version, state: item.state });
      if (!item.blob) continue;
      const stored = await t.deps.blobs.get(blobKey(a.accountId, item.blob.id));
      const bytes = new Uint8Array(await new Response(stored!.body).arrayBuffer());
      expect(sha256(files[`blobs/${item.blob.id}`]!)).toBe(sha256(bytes));
      expect(sha256(bytes)).toBe(item.blob.sha256);
    }
    expect(ndjson(files[EXPORT_ENTRY.collections]).length).toBeGreaterThanOrEqual(5);

    const locations = ndjson(files[EXPORT_ENTRY.locations]);
    expect(locations).toHaveLength(2);
    expect(locations[0]).toMatchObject({ deviceId: a.deviceId, sealed: expect.any(String) });
    expect(ndjson(files[EXPORT_ENTRY.simEvents])).toEqual([expect.objectContaining({ carrier: a.carrier, claimedNumber: a.simNumber, deviceId: a.deviceId })]);
    const devices = JSON.parse(text(files[EXPORT_ENTRY.devices]));
    expect(devices).toEqual([expect.objectContaining({ id: a.deviceId, findEnabled: true })]);
    expect(locations.map((l) => l.sealed)).toContain(devices[0].lastLocation);
    expect(ndjson(files[EXPORT_ENTRY.audit]).map((e) => e.action)).toContain('find.enabled');
  });

  it('records the export in the audit log once the archive is complete', async () => {
    const a = await accountWithData(t);
    await downloadExport(t, a.auth);
    const files = unzipSync((await downloadExport(t, a.auth)).bytes);
    const exports = ndjson(files[EXPORT_ENTRY.audit]).filter((e) => e.action === 'export.downloaded');
    expect(exports).toHaveLength(1);
    expect(exports[0].detail).toMatch(/^complete, \d+ bytes$/);
  });

  it('pages through more rows than one page holds (1,200 items)', async () => {
    const a = await accountWithData(t);
    const { collections } = await a.api.collections();
    const notes = collections.find((c) => c.kind === 'notes')!;
    const { fakeSealed, newId } = await import('./sync-helpers.js');
    for (let batch = 0; batch < 3; batch++) {
      const changes = Array.from({ length: 400 }, () => ({ op: 'create' as const, itemId: newId(), collectionId: notes.id, wrappedKey: fakeSealed(72), encryptedMetadata: fakeSealed(60) }));
      await a.api.applyChanges(changes);
    }
    const files = unzipSync((await downloadExport(t, a.auth)).bytes);
    const items = ndjson(files[EXPORT_ENTRY.items]);
    expect(items.length).toBe(1200 + Object.keys((await import('./export-helpers.js')).BACKED_UP).length + 1);
    expect(new Set(items.map((i) => i.id)).size).toBe(items.length);
  });
});

describe('errors', () => {
  it('a session that has not proved the password in the last 5 minutes gets reauthentication_required; after re-authenticating it exports', async () => {
    const a = await accountWithData(t);
    t.clock.advance(5 * 60_000 + 1);
    await expectError(t.request('GET', '/v1/account/export', { headers: a.auth }), 401, 'reauthentication_required');
    await a.api.reauthenticate(await proveIdentity(a.api, { email: a.email, password: a.password }));
    expect((await downloadExport(t, a.auth)).res.status).toBe(200);
  });

  it('a blob whose object is missing from the store breaks the download loudly: no manifest, logged with the request id', async () => {
    const a = await accountWithData(t);
    const { items } = await (await t.request('GET', '/v1/sync/changes?since=0&limit=500', { headers: a.auth })).json();
    const victim = items.find((i: { blob: unknown }) => i.blob).blob.id as string;
    // The object vanishes behind the server's back (a store losing data, an operator's mistake).
    rmSync(join(t.dir, 'blobs', ...blobKey(a.accountId, victim).split('/')), { force: true });

    const res = await t.request('GET', '/v1/account/export', { headers: a.auth });
    expect(res.status).toBe(200); // the headers went before the fault was found
    const received: Uint8Array[] = [];
    const reader = res.body!.getReader();
    const failure = await (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return undefined;
        received.push(value);
      }
    })().catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(Error);
    const got = Buffer.concat(received);
    expect(got.includes(Buffer.from(EXPORT_ENTRY.manifest))).toBe(false);
    expect(() => unzipSync(got)).toThrow();

    const requestId = res.headers.get('X-Request-Id');
    const logged = t.logLines.map((l) => JSON.parse(l)).find((l) => l.message.startsWith('export failed'));
    expect(logged).toMatchObject({ level: 'error', requestId, accountId: a.accountId });
    const audit = await (await t.request('GET', '/v1/account/audit', { headers: a.auth })).json();
    expect(JSON.stringify(audit)).toContain('export.downloaded');
  });

  it('a client that goes away mid-download stops the export: the rest is never read, no unhandled rejection', async () => {
    const a = await accountWithData(t);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const res = await t.request('GET', '/v1/account/export', { headers: a.auth });
      const reader = res.body!.getReader();
      await reader.read();
      await reader.cancel('gone');
      await new Promise((r) => setTimeout(r, 50));
      await t.settle();
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
    const lines = t.logLines.map((l) => JSON.parse(l));
    expect(lines.some((l) => l.message === 'export cancelled by the client')).toBe(true);
    expect(lines.some((l) => l.message === 'export complete')).toBe(false);
    // Stopped after the first chunks, long before the 300 kB photo's blob was read.
    const files = unzipSync((await downloadExport(t, a.auth)).bytes);
    const cancelled = ndjson(files[EXPORT_ENTRY.audit]).find((e) => e.action === 'export.downloaded');
    expect(cancelled?.detail).toMatch(/^cancelled by the client after \d+ bytes$/);
    expect(Number(/after (\d+) bytes/.exec(cancelled.detail)![1])).toBeLessThan(100_000);
  });

  it('the e-mail and phone number appear opened in account.json and nowhere in the server log', async () => {
    const a = await accountWithData(t);
    const files = unzipSync((await downloadExport(t, a.auth)).bytes);
    expect(text(files[EXPORT_ENTRY.account])).toContain(a.email);
    const log = t.logLines.join('\n');
    for (const secret of [a.email, a.phoneNumber, a.simNumber, a.carrier]) expect(log).not.toContain(secret);
  });
});
