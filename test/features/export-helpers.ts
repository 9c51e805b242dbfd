import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { logIn, signUp } from '../../src/client/account.js';
import { backupFolder } from '../../src/client/cli/folder-sync.js';
import { sealLocation } from '../../src/client/crypto/location.js';
import { type RandomAccessSource, readArchive } from '../../src/client/export/archive.js';
import { createSyncEngine, emptyReplica } from '../../src/client/sync/engine.js';
import { toBase64Url } from '../../src/protocol/encoding.js';
import { TEST_KDF, type TestApp, uniqueEmail } from '../harness.js';
import { recordSecret } from '../log-scan/capture.js';

// An account with a little of everything the export must carry, made the way a phone makes it:
// signed up with the SDK, files backed up with the CLI's own backup code, a location sealed to the
// account key by a registered device, a SIM change reported with its carrier and number.

/** The files backed up, by path: contacts, notes, a calendar file, a photo and a file of no known kind. */
export const BACKED_UP: Record<string, Uint8Array> = {
  'contacts/ada.vcf': new TextEncoder().encode('BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ada Lovelace\r\nTEL:+442079460000\r\nEND:VCARD\r\n'),
  'notes/todo.md': new TextEncoder().encode('# To do\n\n- buy milk\n- export everything\n'),
  'notes/plain.txt': new TextEncoder().encode('just a note\n'),
  'calendar/dentist.ics': new TextEncoder().encode('BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:1\r\nSUMMARY:Dentist\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n'),
  'photos/beach.jpg': randomBytes(300_000),
  'misc/data.bin': randomBytes(5000),
};

export async function accountWithData(t: TestApp, opts: { phoneNumber?: string } = {}) {
  const email = uniqueEmail('export');
  const password = `pw-${email}`;
  const phoneNumber = opts.phoneNumber ?? `+4477009${String(Math.floor(Math.random() * 1e5)).padStart(5, '0')}`;
  recordSecret(phoneNumber);
  const api = t.api();
  await signUp(api, { birthYear: 1990, email, password, phoneNumber, kdf: TEST_KDF });
  const { response, keys } = await logIn(api, { email, password, label: 'export test' });
  const accountId = response.accountId;
  const token = response.session.token!;
  const auth = { Authorization: `Bearer ${token}` };

  const folder = mkdtempSync(join(tmpdir(), 'homing-export-src-'));
  for (const [name, bytes] of Object.entries(BACKED_UP)) {
    mkdirSync(dirname(join(folder, name)), { recursive: true });
    writeFileSync(join(folder, name), bytes);
  }
  const engine = createSyncEngine({ api, accountId, masterKey: keys.masterKey, replica: emptyReplica() });
  await backupFolder(api, engine, folder);
  // A contact kept in its metadata alone, as an app might store one: it must become a vCard.
  await engine.saveItem({ kind: 'contacts', meta: { name: 'Grace Hopper', tel: '+15550100', email: 'grace@example.org' } });

  const registered = await t.request('POST', '/v1/devices', {
    headers: auth,
    body: { name: 'phone', model: 'Pixel', platform: 'android', identifierHash: toBase64Url(randomBytes(32)) },
  });
  const { device, token: deviceToken } = (await registered.json()) as { device: { id: string }; token: string };
  const deviceAuth = { Authorization: `Bearer ${deviceToken}` };
  await t.request('PUT', `/v1/devices/${device.id}/find`, { headers: auth, body: { enabled: true } });
  const fixes = [
    { lat: 51.5007, lon: -0.1246, accuracy: 8, source: 'gps' as const, battery: 71, measuredAt: t.clock.now() - 60_000 },
    { lat: 51.5033, lon: -0.1196, accuracy: 15, source: 'network' as const, battery: 70, measuredAt: t.clock.now() },
  ];
  const reported = await t.request('POST', '/v1/device/locations', {
    headers: deviceAuth,
    body: { reports: fixes.map((fix) => ({ sealed: sealLocation(fix, keys.x25519PublicKey) })) },
  });
  if (!reported.ok) throw new Error(`location report: ${reported.status} ${await reported.text()}`);
  const carrier = 'Carrier Of Test';
  const simNumber = '+447700900777';
  recordSecret(simNumber);
  await t.request('POST', '/v1/device/sim-events', {
    headers: deviceAuth,
    body: { eventId: toBase64Url(randomBytes(16)), kind: 'inserted', simIdHash: toBase64Url(randomBytes(32)), carrier, claimedNumber: simNumber, method: 'outbound' },
  });

  return { api, email, password, phoneNumber, accountId, token, auth, keys, deviceId: device.id, fixes, carrier, simNumber, folder };
}

export type AccountWithData = Awaited<ReturnType<typeof accountWithData>>;

/** GET /v1/account/export as the session, the whole body read. */
export async function downloadExport(t: TestApp, auth: Record<string, string>) {
  const res = await t.request('GET', '/v1/account/export', { headers: auth });
  return { res, bytes: res.ok ? new Uint8Array(await res.arrayBuffer()) : new Uint8Array(0) };
}

export const memorySource = (bytes: Uint8Array): RandomAccessSource => ({
  size: bytes.length,
  read: async (offset, length) => bytes.subarray(offset, offset + length),
});

export const readMemoryArchive = (bytes: Uint8Array) => readArchive(memorySource(bytes));

/** Writes bytes to a fresh temp file and returns its path. */
export function tempFile(bytes: Uint8Array, name = 'export.zip') {
  const path = join(mkdtempSync(join(tmpdir(), 'homing-export-zip-')), name);
  writeFileSync(path, bytes);
  return path;
}
