import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArchiveRejectedError, verifyArchive } from '../../src/client/export/archive.js';
import { nodeSha256, openExport } from '../../src/client/export/open-folder.js';
import { EXPORT_ENTRY } from '../../src/protocol/api/export.js';
import { createTestApp, type TestApp } from '../harness.js';
import { accountWithData, downloadExport, readMemoryArchive, tempFile } from '../features/export-helpers.js';
import { expectError, signUpAndLogIn } from './helpers.js';

// The export hands over everything at once, so: only the account's own fresh session gets it,
// only a few times a day, and the offline opener trusts nothing the manifest does not vouch for.

let t: TestApp;
let out: string;
beforeEach(() => {
  t = createTestApp();
  out = mkdtempSync(join(tmpdir(), 'homing-export-attack-'));
});
afterEach(() => {
  t.close();
  rmSync(out, { recursive: true, force: true });
});

/** Where an entry's bytes start in the archive, so a test can change one of them. */
async function offsetOf(bytes: Uint8Array, name: string) {
  return (await readMemoryArchive(bytes)).entry(name).dataOffset;
}

describe('who may export', () => {
  it('no credentials, a bogus token and a revoked session are refused with 401', async () => {
    const a = await accountWithData(t);
    await expectError(t.request('GET', '/v1/account/export'), 401, 'unauthorized');
    await expectError(t.request('GET', '/v1/account/export', { headers: { Authorization: `Bearer hs_${'x'.repeat(43)}` } }), 401, 'unauthorized');
    await t.request('POST', '/v1/auth/logout', { headers: a.auth });
    await expectError(t.request('GET', '/v1/account/export', { headers: a.auth }), 401, 'unauthorized');
  });

  it("another account's session gets its own archive, with nothing of the victim's in it", async () => {
    const victim = await accountWithData(t);
    const attacker = await signUpAndLogIn(t);
    const { res, bytes } = await downloadExport(t, { Authorization: `Bearer ${attacker.token}` });
    expect(res.status).toBe(200);
    const everything = Buffer.from(bytes).toString('latin1');
    for (const value of [victim.accountId, victim.email, victim.phoneNumber, victim.deviceId, victim.simNumber, victim.carrier]) {
      expect(everything).not.toContain(value);
    }
    const files = unzipSync(bytes);
    expect(Object.keys(files).filter((n) => n.startsWith('blobs/'))).toEqual([]);
    expect(JSON.parse(new TextDecoder().decode(files[EXPORT_ENTRY.account])).accountId).toBe(attacker.accountId);
  });

  it('a stolen session that never proved the password recently gets reauthentication_required, whatever it sends', async () => {
    const a = await accountWithData(t);
    t.clock.advance(6 * 60_000);
    for (const query of ['', '?fresh=1', '?reauthenticatedAt=9999999999999']) {
      await expectError(t.request('GET', `/v1/account/export${query}`, { headers: { ...a.auth, 'X-Reauthenticated-At': String(t.clock.now()) } }), 401, 'reauthentication_required');
    }
  });

  it('an account asking again and again is refused with 429 after 4 exports a day; another account and the next day are not', async () => {
    const a = await accountWithData(t);
    const other = await signUpAndLogIn(t);
    for (let i = 0; i < 4; i++) expect((await downloadExport(t, a.auth)).res.status).toBe(200);
    const refusal = await expectError(t.request('GET', '/v1/account/export', { headers: a.auth }), 429, 'rate_limited');
    expect(Number(refusal.headers.get('Retry-After'))).toBeGreaterThan(0);
    expect((await downloadExport(t, { Authorization: `Bearer ${other.token}` })).res.status).toBe(200);

    t.clock.advance(24 * 60 * 60_000);
    await expectError(t.request('GET', '/v1/account/export', { headers: a.auth }), 401, 'reauthentication_required');
  });
});

describe('the offline opener', () => {
  it('refuses an archive with one byte of a blob changed, names the entry, and writes nothing', async () => {
    const a = await accountWithData(t);
    const { bytes } = await downloadExport(t, a.auth);
    // The photo's blob: byte 100 of it is inside it, not in the next entry's header.
    const archive = await readMemoryArchive(bytes);
    const blob = archive.names().find((n) => n.startsWith('blobs/') && archive.entry(n).size > 100_000)!;
    const tampered = Uint8Array.from(bytes);
    tampered[(await offsetOf(bytes, blob)) + 100]! ^= 0x01;
    const file = tempFile(tampered);
    const opening = openExport({ file, dir: out, password: a.password });
    await expect(opening).rejects.toBeInstanceOf(ArchiveRejectedError);
    await expect(opening).rejects.toThrow(`entry "${blob}" does not match its SHA-256 in the manifest`);
    expect(readdirSync(out)).toEqual([]);
  });

  it('refuses an archive whose account.json was edited (another e-mail), even with the same length', async () => {
    const a = await accountWithData(t);
    const { bytes } = await downloadExport(t, a.auth);
    const at = (await offsetOf(bytes, EXPORT_ENTRY.account)) + Buffer.from(bytes).subarray(await offsetOf(bytes, EXPORT_ENTRY.account)).indexOf(a.email);
    const tampered = Uint8Array.from(bytes);
    tampered[at] = tampered[at] === 0x78 ? 0x79 : 0x78;
    await expect(verifyArchive(await readMemoryArchive(tampered), nodeSha256)).rejects.toThrow('entry "account.json" does not match');
  });

  it('refuses an archive cut off before its manifest (a broken download), and one with an entry the manifest does not list', async () => {
    const a = await accountWithData(t);
    const { bytes } = await downloadExport(t, a.auth);
    await expect(readMemoryArchive(bytes.subarray(0, Math.floor(bytes.length / 2)))).rejects.toThrow(ArchiveRejectedError);

    // An extra entry smuggled in: rebuilt as a ZIP with everything plus one file.
    const { zipSync } = await import('fflate');
    const files = unzipSync(bytes);
    const smuggled = zipSync({ ...files, 'blobs/extra': new Uint8Array([1, 2, 3]) }, { level: 0 });
    await expect(verifyArchive(await readMemoryArchive(smuggled), nodeSha256)).rejects.toThrow('entry "blobs/extra" is not in the manifest');
  });

  it('a decrypted name that climbs out of the folder (../) is skipped, never written outside', async () => {
    const a = await accountWithData(t);
    const { createSyncEngine, emptyReplica } = await import('../../src/client/sync/engine.js');
    const engine = createSyncEngine({ api: a.api, accountId: a.accountId, masterKey: a.keys.masterKey, replica: emptyReplica() });
    await engine.pull();
    await engine.saveItem({ kind: 'notes', meta: { name: '../../escape.txt', text: 'out' } });
    const file = tempFile((await downloadExport(t, a.auth)).bytes);
    const report = await openExport({ file, dir: join(out, 'inside'), password: a.password });
    expect(report.skipped).toEqual([{ what: expect.stringMatching(/^item /), reason: expect.stringContaining('unsafe name') }]);
    expect(readdirSync(out)).toEqual(['inside']);
  });
});
