import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { kindOf } from '../../src/client/cli/folder-sync.js';
import { verifyArchive } from '../../src/client/export/archive.js';
import { nodeSha256, openExport } from '../../src/client/export/open-folder.js';
import { createTestApp, type TestApp } from '../harness.js';
import { fakeSealed, newId } from '../features/sync-helpers.js';
import { accountWithData, BACKED_UP, downloadExport, readMemoryArchive, tempFile } from '../features/export-helpers.js';

// Export, then open offline with the password, then compare with what was uploaded: through the
// real crypto end to end (sign-up and backup with the SDK and the CLI's backup code, a location
// sealed by the device), with no server in the opening half.

let t: TestApp;
let out: string;
beforeEach(() => {
  t = createTestApp();
  out = mkdtempSync(join(tmpdir(), 'homing-export-open-'));
});
afterEach(() => {
  t.close();
  rmSync(out, { recursive: true, force: true });
});

const walk = (dir: string, prefix = ''): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]));

describe('happy', () => {
  it('opens offline into the files that were backed up, byte for byte, by kind, plus locations as GeoJSON and GPX', async () => {
    const a = await accountWithData(t);
    const { bytes } = await downloadExport(t, a.auth);
    const file = tempFile(bytes);
    t.close(); // offline from here on: the server is gone
    t = createTestApp();

    const report = await openExport({ file, dir: out, password: a.password });
    expect(report.skipped).toEqual([]);
    for (const [name, original] of Object.entries(BACKED_UP)) {
      const restored = readFileSync(join(out, kindOf(name), name));
      expect(Buffer.compare(restored, Buffer.from(original)), name).toBe(0);
    }

    // The contact kept in metadata alone became a vCard.
    const card = readFileSync(join(out, 'contacts', 'Grace Hopper.vcf'), 'utf8');
    expect(card).toContain('BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Grace Hopper\r\nTEL:+15550100\r\nEMAIL:grace@example.org\r\nEND:VCARD');

    const geojson = JSON.parse(readFileSync(join(out, 'locations.geojson'), 'utf8'));
    expect(geojson.type).toBe('FeatureCollection');
    expect(geojson.features.map((f: { geometry: { coordinates: number[] } }) => f.geometry.coordinates)).toEqual(a.fixes.map((f) => [f.lon, f.lat]));
    expect(geojson.features[0].properties).toMatchObject({ deviceId: a.deviceId, deviceName: 'phone', accuracy: 8, source: 'gps', battery: 71 });
    const gpx = readFileSync(join(out, 'locations.gpx'), 'utf8');
    expect(gpx).toContain('<gpx version="1.1"');
    for (const f of a.fixes) expect(gpx).toContain(`<trkpt lat="${f.lat}" lon="${f.lon}"><time>${new Date(f.measuredAt).toISOString()}</time></trkpt>`);
    expect(report.locations).toBe(2);

    // The account's own records as readable JSON.
    const account = JSON.parse(readFileSync(join(out, 'account', 'account.json'), 'utf8'));
    expect(account).toMatchObject({ email: a.email, phoneNumber: a.phoneNumber });
    const sims = JSON.parse(readFileSync(join(out, 'account', 'sim-events.json'), 'utf8'));
    expect(sims[0]).toMatchObject({ carrier: a.carrier, claimedNumber: a.simNumber });
    expect(walk(join(out, 'account')).sort()).toEqual(
      [
        'account.json',
        'audit.json',
        'commands.json',
        'consents.json',
        'devices.json',
        'diagnostics.json',
        'receipts.json',
        'sessions.json',
        'sim-events.json',
        'messaging-identities.json',
        'message-blocks.json',
        'messages.json',
        'spam-reports.json',
      ].sort(),
    );
  });

  it('every entry matches the SHA-256 the manifest lists for it', async () => {
    const a = await accountWithData(t);
    const archive = await readMemoryArchive((await downloadExport(t, a.auth)).bytes);
    const manifest = await verifyArchive(archive, nodeSha256);
    expect(manifest.entries.length).toBe(archive.names().length - 1);
  });
});

describe('errors', () => {
  it('the wrong password opens nothing and writes nothing', async () => {
    const a = await accountWithData(t);
    const file = tempFile((await downloadExport(t, a.auth)).bytes);
    await expect(openExport({ file, dir: out, password: 'not the password' })).rejects.toThrow(/wrong password/);
    expect(walk(out)).toEqual([]);
  });

  it('an item that cannot be decrypted (ciphertext another client wrote under keys it does not have) is reported and skipped; the rest is written', async () => {
    const a = await accountWithData(t);
    const { collections } = await a.api.collections();
    const notes = collections.find((c) => c.kind === 'notes')!;
    const bogus = newId();
    await a.api.applyChanges([{ op: 'create', itemId: bogus, collectionId: notes.id, wrappedKey: fakeSealed(72), encryptedMetadata: fakeSealed(60) }]);
    const file = tempFile((await downloadExport(t, a.auth)).bytes);
    const report = await openExport({ file, dir: out, password: a.password });
    expect(report.skipped).toEqual([{ what: `item ${bogus}`, reason: expect.any(String) }]);
    expect(Buffer.compare(readFileSync(join(out, 'notes', 'notes/todo.md')), Buffer.from(BACKED_UP['notes/todo.md']!))).toBe(0);
  });
});
