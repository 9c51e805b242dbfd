import { zipSync } from 'fflate';
import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes, toBase64Url } from '../../src/protocol/encoding.js';
import { type Receipt, receiptMessage, verifyReceipt } from '../../src/protocol/receipts.js';
import { ed25519PublicKeyFromSeed, signDetached } from '../../src/protocol/signing.js';
import { commandLifecycle, coordinates, dateTime, metres, openStreetMapUrl, timeAgo, timeUntil } from '../../src/web/format.js';
import {
  actionName,
  auditDetail,
  bytes,
  checkReceipt,
  consentStateText,
  deletionText,
  deviceLabel,
  pinReceiptKey,
  purposeName,
  receiptCounts,
  receiptScopeText,
} from '../../src/web/privacy-format.js';
import { checkExportZip } from '../../src/web/zip-check.js';
import { accountWithData, downloadExport } from '../features/export-helpers.js';
import { createTestApp, type TestApp } from '../harness.js';

const MIN = 60_000;

describe('page text', () => {
  it('says how long ago, in the largest whole unit', () => {
    const now = 1_750_000_000_000;
    expect(timeAgo(now - 20_000, now)).toBe('just now');
    expect(timeAgo(now + 5 * MIN, now)).toBe('just now');
    expect(timeAgo(now - 12 * MIN - 30_000, now)).toBe('12 min ago');
    expect(timeAgo(now - 3 * 60 * MIN, now)).toBe('3 h ago');
    expect(timeAgo(now - 26 * 60 * MIN, now)).toBe('1 day ago');
    expect(timeAgo(now - 3 * 24 * 60 * MIN, now)).toBe('3 days ago');
  });

  it('says how long until, in the largest whole unit', () => {
    const now = 1_750_000_000_000;
    expect(timeUntil(now - MIN, now)).toBe('now');
    expect(timeUntil(now + 12 * MIN + 30_000, now)).toBe('in 12 min');
    expect(timeUntil(now + 3 * 60 * MIN, now)).toBe('in 3 h');
    expect(timeUntil(now + 7 * 24 * 60 * MIN, now)).toBe('in 7 days');
  });

  it("tells each command's lifecycle: fetched how often, answered, expired or cancelled", () => {
    const now = 1_750_000_000_000;
    const DAY = 24 * 60 * MIN;
    const command = { status: 'pending', expiresAt: now + 7 * DAY, deliveries: 0, acknowledgedAt: null };
    expect(commandLifecycle(command, now)).toBe('not yet fetched by the phone, not answered yet · expires in 7 days');
    expect(commandLifecycle({ ...command, status: 'delivered', deliveries: 3 }, now)).toBe('fetched by the phone 3 times, not answered yet · expires in 7 days');
    expect(commandLifecycle({ ...command, status: 'succeeded', deliveries: 1, acknowledgedAt: now - 5 * MIN }, now)).toBe('answered 5 min ago');
    expect(commandLifecycle({ ...command, status: 'expired', expiresAt: now - 2 * 60 * MIN }, now)).toBe('the phone did not check in before it expired 2 h ago');
    expect(commandLifecycle({ ...command, status: 'expired', deliveries: 2, expiresAt: now - DAY }, now)).toBe('the phone did not answer before it expired 1 day ago');
    expect(commandLifecycle({ ...command, status: 'cancelled' }, now)).toBe('cancelled when Find Device was turned off');
  });

  it('writes coordinates, distances and the OpenStreetMap link', () => {
    expect(coordinates(52.52, 13.405)).toBe('52.52000, 13.40500');
    expect(coordinates(-33.8688197, 151.2092955)).toBe('-33.86882, 151.20930');
    expect(metres(35.4)).toBe('35 m');
    expect(metres(1500)).toBe('1.5 km');
    expect(metres(25_000)).toBe('25 km');
    expect(openStreetMapUrl(52.52, 13.405)).toBe('https://www.openstreetmap.org/?mlat=52.52000&mlon=13.40500#map=16/52.52000/13.40500');
  });
});

// ── your account and privacy ───────────────────────────────────────────────────────────────────

describe('privacy view text', () => {
  const now = 1_750_000_000_000;

  it('names each purpose for people, custom kinds and unknown purposes included', () => {
    expect(purposeName('sync:contacts')).toBe('Sync of Contacts');
    expect(purposeName('sync:custom:recipes')).toBe('Sync of Custom data “recipes”');
    expect(purposeName('sim_sms')).toBe('SIM-change check by SMS');
    expect(purposeName('experience')).toBe('User Experience Program');
    expect(purposeName('diagnostics')).toBe('Crash diagnostics');
    expect(purposeName('something-new')).toBe('something-new');
  });

  it('says whether a consent is on, since when, and when it needs consent again under a new policy', () => {
    const base = { granted: true, isDefault: false, since: now, policyVersion: 1, needsReacceptance: false };
    expect(consentStateText(base)).toBe(`On since ${dateTime(now)}`);
    expect(consentStateText({ ...base, granted: false })).toBe(`Off since ${dateTime(now)}`);
    expect(consentStateText({ ...base, isDefault: true, since: null })).toBe('On (the default; never changed)');
    expect(consentStateText({ ...base, granted: false, needsReacceptance: true })).toBe(
      'Off until you agree again: given under policy version 1, and a later version changed your rights',
    );
  });

  it('writes audit actions and their details in words, and an unknown action as its code', () => {
    expect(actionName('login.succeeded')).toBe('Logged in');
    expect(actionName('location.read')).toBe('Last location viewed');
    expect(actionName('brand.new')).toBe('brand.new');
    expect(auditDetail('command.created', 'stop-ring')).toBe('Stop ringing');
    expect(auditDetail('login.succeeded', 'password')).toBe('with the password');
    expect(auditDetail('consent.changed', 'sync:photos off (delete)')).toBe('Sync of Photos off, stored data deleted');
    expect(auditDetail('consent.changed', 'find on')).toBe('Find Device on');
    expect(auditDetail('data.deleted', 'data-kind:notes receipt=abc')).toBe('all Notes data, receipt abc');
    expect(auditDetail('data.deleted', 'device receipt=xyz')).toBe('a device and its data, receipt xyz');
    expect(auditDetail('account.deletion.requested', `by owner, due ${now}`)).toBe(`by owner, due ${dateTime(now)}`);
    expect(auditDetail('anything', null)).toBe('');
    const names = new Map([['dev1', 'Pixel 9']]);
    expect(deviceLabel('dev1', names)).toBe('Pixel 9');
    expect(deviceLabel('gone-device-id', names)).toBe('a removed device (gone-d…)');
    expect(deviceLabel(null, names)).toBe('');
  });

  it('summarises what a receipt says was deleted', () => {
    expect(receiptCounts({ items: 12, blobs: 1, bytes: 1_500_000 })).toBe('12 items, 1 file, 1.5 MB');
    expect(receiptCounts({})).toBe('nothing was stored');
    expect(receiptScopeText({ type: 'data-kind', kind: 'photos' })).toBe('All Photos data');
    expect(bytes(999)).toBe('999 B');
    expect(bytes(20_234)).toBe('20.2 kB');
  });

  it('tells when the account will be deleted, and who asked', () => {
    const DAY = 86_400_000;
    expect(deletionText(now + 7 * DAY, now, 'owner')).toBe(`Your account and everything in it will be deleted on ${dateTime(now + 7 * DAY)} (in 7 days).`);
    expect(deletionText(now + DAY / 2, now, 'guardian')).toMatch(/^Your parent or guardian asked .* \(in 1 day\)\.$/);
    expect(deletionText(now - DAY, now, 'owner')).toMatch(/\(today\)\.$/);
  });
});

describe('deletion receipts in the page', () => {
  const seed = randomBytes(32);
  const serverKey = toBase64Url(ed25519PublicKeyFromSeed(seed));
  const payload = (overrides: Record<string, unknown> = {}) =>
    JSON.stringify({
      version: 1,
      receiptId: 'r1',
      accountId: 'acct',
      server: 'https://homing.example',
      scope: { type: 'data-kind', kind: 'notes' },
      requestedAt: 1,
      completedAt: 2,
      counts: { items: 3 },
      ...overrides,
    });
  const sign = (text: string, id = 'r1', signer = seed): Receipt => ({
    id,
    payload: text,
    signature: toBase64Url(signDetached(signer, receiptMessage(text))),
    publicKey: toBase64Url(ed25519PublicKeyFromSeed(signer)),
  });
  /** The page's check must agree with the protocol's verifyReceipt on every receipt. */
  const agrees = (receipt: Receipt, key: string) => {
    const page = checkReceipt(receipt, key);
    let protocol = true;
    try {
      verifyReceipt(receipt, key);
    } catch {
      protocol = false;
    }
    expect(page.verified, JSON.stringify(page)).toBe(protocol);
    return page;
  };

  it('verifies a receipt the pinned key signed, as verifyReceipt does', () => {
    const checked = agrees(sign(payload()), serverKey);
    expect(checked).toMatchObject({ verified: true, payload: { scope: { kind: 'notes' }, counts: { items: 3 } } });
  });

  it('refuses a receipt signed by another key, even one that names its own key (a server that swapped keys)', () => {
    const other = randomBytes(32);
    expect(agrees(sign(payload(), 'r1', other), serverKey)).toMatchObject({ verified: false, problem: 'signed by a different key than the one pinned' });
    // Claims the pinned key, but the signature is the other key's.
    const forged = { ...sign(payload(), 'r1', other), publicKey: serverKey };
    expect(agrees(forged, serverKey)).toMatchObject({ verified: false, problem: 'the signature does not verify' });
  });

  it('refuses a receipt whose payload was changed after signing, or whose id was swapped', () => {
    const signed = sign(payload());
    expect(agrees({ ...signed, payload: payload({ counts: { items: 0 } }) }, serverKey)).toMatchObject({ verified: false });
    expect(agrees(sign(payload(), 'r2'), serverKey)).toMatchObject({ verified: false, problem: 'the receipt id does not match its payload' });
    expect(agrees(sign(payload({ version: 2 })), serverKey)).toMatchObject({ verified: false, problem: 'the signed payload is not a version 1 receipt' });
    expect(agrees(sign(payload({ counts: { items: -1 } })), serverKey)).toMatchObject({ verified: false });
    expect(agrees(sign('not json'), serverKey)).toMatchObject({ verified: false, problem: 'the signed payload is not JSON' });
  });

  it('pins the first key seen and reports a different one later instead of trusting it', () => {
    expect(pinReceiptKey(null, 'k1')).toEqual({ pinned: 'k1', changed: false });
    expect(pinReceiptKey('k1', 'k1')).toEqual({ pinned: 'k1', changed: false });
    expect(pinReceiptKey('k1', 'k2')).toEqual({ pinned: 'k1', changed: true });
    expect(checkReceipt(sign(payload()), null)).toMatchObject({ verified: false, problem: 'no pinned server key to check it against' });
  });
});

describe('export archive check in the page', () => {
  let t: TestApp;
  afterEach(() => t?.close());
  const source = (bytes: Uint8Array) => ({ size: bytes.length, read: async (offset: number, length: number) => bytes.subarray(offset, offset + length) });

  it("accepts the server's own archive, and refuses it cut off or with the manifest missing", async () => {
    t = createTestApp();
    const a = await accountWithData(t);
    const { bytes: archive } = await downloadExport(t, a.auth);
    const summary = await checkExportZip(source(archive));
    expect(summary.exportedAt).toBe(t.clock.now());
    expect(summary.entries).toBeGreaterThan(5);

    // A download cut off midway: no end record, or one that points past the end.
    await expect(checkExportZip(source(archive.subarray(0, archive.length - 200)))).rejects.toThrow(/not a whole homing export/);
    await expect(checkExportZip(source(archive.subarray(0, Math.floor(archive.length / 2))))).rejects.toThrow(/not a whole homing export/);
    // A ZIP that is whole but is not an export (no manifest last).
    const other = zipSync({ 'a.txt': new TextEncoder().encode('hello'), 'b.txt': new TextEncoder().encode('world') }, { level: 0 });
    await expect(checkExportZip(source(other))).rejects.toThrow(/its last entry is not manifest.json/);
    const lying = zipSync({ 'a.txt': new TextEncoder().encode('x'), 'manifest.json': new TextEncoder().encode(JSON.stringify({ format: 'homing-export', exportedAt: 1, entries: [] })) }, { level: 0 });
    await expect(checkExportZip(source(lying))).rejects.toThrow(/lists 0 entries, the archive holds 1/);
  });
});
