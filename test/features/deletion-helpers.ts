import { randomBytes } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { expect } from 'vitest';
import { accountPrefix, blobKey } from '../../src/adapters/blob-store.js';
import { logIn, proveIdentity } from '../../src/client/account.js';
import { signCommand } from '../../src/client/crypto/commands.js';
import { sealLocation } from '../../src/client/crypto/location.js';
import { toBase64Url } from '../../src/protocol/encoding.js';
import type { TestApp } from '../harness.js';
import { type Member, signUpAndLogIn } from '../security/helpers.js';
import { fakeSealed, newId, sha256Hex } from './sync-helpers.js';

// Shared by the deletion tests: an account holding one of nearly everything the server keeps,
// and what the database and the store still hold of it afterwards, read directly.

export const DAY = 86_400_000;
export const sqlite = (t: TestApp) => (t.deps.db as unknown as { $client: Database }).$client;

export interface Populated {
  member: Member;
  deviceId: string;
  deviceToken: string;
  collectionId: string;
  itemId: string;
  blobId: string;
  uploadId: string;
  /** Every id of the account's that a leftover row could hold. */
  ids: string[];
}

/** Fills an account through the front door: sync, blobs, an unfinished upload, a phone with Find Device data, diagnostics. */
export async function populate(t: TestApp, opts: { phoneNumber?: string } = {}): Promise<Populated> {
  const member = await signUpAndLogIn(t, { phoneNumber: opts.phoneNumber });
  const { api } = member;
  // Logged in again on a client of its own, for the keys that seal locations and sign commands.
  const { keys } = await logIn(t.api(), { email: member.email, password: member.password });
  const registered = await api.registerDevice({ name: 'phone', model: 'Pixel 9', platform: 'android', identifierHash: toBase64Url(randomBytes(32)) });
  const deviceId = registered.device.id;
  const phone = t.api({ deviceToken: registered.token });
  await api.setFindEnabled(deviceId, true);

  const collectionId = newId();
  await api.createCollection({ id: collectionId, kind: 'photos', wrappedKey: fakeSealed(), encryptedMetadata: fakeSealed(40) });
  const bytes = randomBytes(5000);
  const blob = await api.uploadBlob(bytes, bytes.length, sha256Hex(bytes));
  const itemId = newId();
  await api.applyChanges([
    { op: 'create', itemId, collectionId, wrappedKey: fakeSealed(), encryptedMetadata: fakeSealed(100), blobId: blob.blobId },
    { op: 'create', itemId: newId(), collectionId, wrappedKey: fakeSealed(), encryptedMetadata: fakeSealed(100) },
  ]);
  const trashed = newId();
  await api.applyChanges([{ op: 'create', itemId: trashed, collectionId, wrappedKey: fakeSealed(), encryptedMetadata: fakeSealed(100) }]);
  await api.applyChanges([{ op: 'trash', itemId: trashed, baseVersion: 1 }]);
  // A resumable upload left unfinished, with one part sent.
  const part = randomBytes(1000);
  const upload = await api.createUpload({ size: part.length, sha256: sha256Hex(part) });
  await api.uploadPart(upload.uploadId, 1, part);

  await phone.reportLocations([sealLocation({ lat: 51.5, lon: -0.14, accuracy: 8, source: 'gps', battery: 50, measuredAt: t.clock.now() }, keys.x25519PublicKey)]);
  const command = signCommand({ deviceId, type: 'ring', args: {}, issuedAt: t.clock.now(), counter: 1 }, keys.ed25519Seed);
  await api.sendCommand(deviceId, command);
  await phone.reportSimEvent({ eventId: newId(), kind: 'removed', simIdHash: toBase64Url(randomBytes(32)) });
  // Diagnostics need consent (off by default).
  const consent = await t.request('PUT', '/v1/account/consents/diagnostics', { body: { granted: true }, headers: { Authorization: `Bearer ${member.token}` } });
  if (consent.status === 200) await phone.sendDeviceDiagnostics({ kind: 'crash', report: { message: 'boom' } });
  // A login challenge asked for and never used.
  await t.api().challenge(member.email);
  await t.settle();
  return {
    member,
    deviceId,
    deviceToken: registered.token,
    collectionId,
    itemId,
    blobId: blob.blobId,
    uploadId: upload.uploadId,
    ids: [member.accountId, deviceId, member.sessionId, collectionId, itemId, blob.blobId, upload.uploadId],
  };
}

/** A fresh proof of the password, as `homing delete account` makes it. */
export const proofOf = (member: Member) => proveIdentity(member.api, { email: member.email, password: member.password });

/** Rows of every table (but receipts and tombstones) in which any column holds one of the values. */
export function rowsHolding(t: TestApp, values: string[], except = ['deletion_receipts', 'account_tombstones']) {
  const db = sqlite(t);
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '__drizzle%'").all() as { name: string }[])
    .map((r) => r.name)
    .filter((name) => !except.includes(name));
  expect(tables.length).toBeGreaterThan(25);
  const found: Record<string, number> = {};
  for (const table of tables) {
    const columns = (db.prepare(`PRAGMA table_info("${table}")`).all() as { name: string }[]).map((c) => c.name);
    for (const column of columns) {
      for (const value of values) {
        const { n } = db.prepare(`SELECT count(*) AS n FROM "${table}" WHERE CAST("${column}" AS TEXT) LIKE ?`).get(`%${value}%`) as { n: number };
        if (n > 0) found[`${table}.${column}`] = (found[`${table}.${column}`] ?? 0) + n;
      }
    }
  }
  return found;
}

/** Every object and unfinished multipart upload the store holds under the account's prefix. */
export async function storeHolding(t: TestApp, accountId: string) {
  const prefix = accountPrefix(accountId);
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await t.deps.blobs.list(prefix, cursor);
    keys.push(...page.keys.map((k) => k.key));
    cursor = page.cursor;
  } while (cursor);
  const multipart: string[] = [];
  let mcursor: string | undefined;
  do {
    const page = (await t.deps.blobs.listMultipart?.(mcursor)) ?? { uploads: [] };
    multipart.push(...page.uploads.filter((u) => u.key.startsWith(prefix)).map((u) => u.key));
    mcursor = (page as { cursor?: string }).cursor;
  } while (mcursor);
  return { keys, multipart };
}

/** A multipart upload only the store knows, as a crash between starting it and recording it leaves. */
export async function unrecordedMultipart(t: TestApp, accountId: string) {
  const key = blobKey(accountId, newId());
  const { uploadId } = await t.deps.blobs.createMultipart(key);
  const bytes = randomBytes(1000);
  await t.deps.blobs.uploadPart(key, uploadId, 1, new Blob([bytes]).stream(), bytes.length);
  return key;
}
