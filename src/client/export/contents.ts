import type { ExportAccount, ExportCollection, ExportItem } from '../../protocol/api/export.js';
import { fromBase64Url } from '../../protocol/encoding.js';
import { derivePasswordSecrets, unlockWithPassword, type UnlockedKeys } from '../crypto/account-keys.js';
import { openLocation, type LocationFix } from '../crypto/location.js';
import { openCollectionMetadata, openItemMetadata, unwrapCollectionKey, unwrapItemKey } from '../crypto/sync-keys.js';

// What an export holds, opened with the password: keys from account.json, collections and items
// from their ciphertext, locations from their seals; and the plain files each kind of item
// becomes. Pure functions, no I/O: open-folder.ts writes them out.

/** Derives the account's keys from the password and the KDF parameters and wrapped keys in account.json. */
export async function unlockExport(account: ExportAccount, password: string): Promise<UnlockedKeys> {
  const secrets = await derivePasswordSecrets(password, { ...account.kdf, salt: fromBase64Url(account.kdf.salt) });
  try {
    return unlockWithPassword({ ...account }, secrets.kek);
  } catch {
    throw new Error('wrong password: the keys in account.json did not open');
  }
}

export interface OpenedCollection {
  id: string;
  kind: string;
  name: string;
  key: Uint8Array;
}

export function openCollection(accountId: string, masterKey: Uint8Array, row: ExportCollection): OpenedCollection {
  const ids = { accountId, collectionId: row.id };
  const key = unwrapCollectionKey(masterKey, ids, row.wrappedKey);
  const meta = openCollectionMetadata<{ name?: unknown }>(key, ids, row.version, row.encryptedMetadata);
  return { id: row.id, kind: row.kind, name: typeof meta.name === 'string' ? meta.name : row.kind, key };
}

export type ItemMeta = Record<string, unknown>;

export function openItem(accountId: string, collection: OpenedCollection, row: ExportItem): ItemMeta {
  if (!row.wrappedKey || !row.encryptedMetadata) throw new Error('it has no key or metadata');
  const ids = { accountId, collectionId: row.collectionId, itemId: row.id };
  const itemKey = unwrapItemKey(collection.key, ids, row.wrappedKey);
  const meta = openItemMetadata<unknown>(itemKey, ids, row.version, row.encryptedMetadata);
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) throw new Error('its metadata is not an object');
  return meta as ItemMeta;
}

// ---- plain files for items that hold their content in their metadata ----
// The CLI's backup (src/client/cli/folder-sync.ts) stores every file as a blob, named in the
// metadata; apps may instead keep a contact, note or event in the metadata itself. These give
// such items the natural format of their kind.

const str = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
const list = (value: unknown): string[] =>
  (Array.isArray(value) ? value : [value]).flatMap((v) => (typeof v === 'string' && v !== '' ? [v] : v && typeof v === 'object' && str((v as { value?: unknown }).value) ? [(v as { value: string }).value] : []));

/** vCard and iCalendar text values escape backslashes, commas, semicolons and newlines. */
const escapeText = (text: string) => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/,/g, '\\,').replace(/;/g, '\\;');

const crlf = (lines: string[]) => `${lines.join('\r\n')}\r\n`;

function contactCard(meta: ItemMeta): string {
  const vcard = str(meta.vcard);
  if (vcard) return vcard;
  const fn = str(meta.fn) ?? str(meta.displayName) ?? str(meta.fullName) ?? str(meta.name) ?? 'Unnamed';
  const lines = ['BEGIN:VCARD', 'VERSION:4.0', `FN:${escapeText(fn)}`];
  for (const tel of [...list(meta.tel), ...list(meta.phone), ...list(meta.phones)]) lines.push(`TEL:${escapeText(tel)}`);
  for (const email of [...list(meta.email), ...list(meta.emails)]) lines.push(`EMAIL:${escapeText(email)}`);
  if (str(meta.org)) lines.push(`ORG:${escapeText(str(meta.org)!)}`);
  if (str(meta.note)) lines.push(`NOTE:${escapeText(str(meta.note)!)}`);
  lines.push('END:VCARD');
  return crlf(lines);
}

const icsTime = (value: unknown) => {
  const date = typeof value === 'number' ? new Date(value) : typeof value === 'string' ? new Date(value) : undefined;
  return date && !Number.isNaN(date.getTime()) ? date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '') : undefined;
};

function calendarEvent(meta: ItemMeta, uid: string, stamp: number): string {
  const ics = str(meta.ics);
  if (ics) return ics;
  const lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//homing//export//EN', 'BEGIN:VEVENT', `UID:${uid}`, `DTSTAMP:${icsTime(stamp)}`];
  const summary = str(meta.summary) ?? str(meta.title) ?? str(meta.name);
  if (summary) lines.push(`SUMMARY:${escapeText(summary)}`);
  const start = icsTime(meta.start ?? meta.startsAt);
  const end = icsTime(meta.end ?? meta.endsAt);
  if (start) lines.push(`DTSTART:${start}`);
  if (end) lines.push(`DTEND:${end}`);
  if (str(meta.location)) lines.push(`LOCATION:${escapeText(str(meta.location)!)}`);
  if (str(meta.description)) lines.push(`DESCRIPTION:${escapeText(str(meta.description)!)}`);
  lines.push('END:VEVENT', 'END:VCALENDAR');
  return crlf(lines);
}

const withExtension = (name: string, extensions: string[]) =>
  extensions.some((ext) => name.toLowerCase().endsWith(ext)) ? name : `${name}${extensions[0]}`;

/**
 * The file an item without a blob becomes: its path (from the metadata's name where it has one)
 * and its text. Contacts become vCards, calendar entries iCalendar, notes text or Markdown, an
 * e-mail its raw message when the metadata holds one; anything else its metadata as JSON.
 */
export function metadataFile(kind: string, meta: ItemMeta, itemId: string, exportedAt: number): { name: string; text: string } {
  const named = str(meta.name) ?? str(meta.title) ?? itemId;
  switch (kind) {
    case 'contacts':
      return { name: withExtension(str(meta.name) ?? str(meta.fn) ?? itemId, ['.vcf']), text: contactCard(meta) };
    case 'calendar':
      return { name: withExtension(named, ['.ics']), text: calendarEvent(meta, itemId, exportedAt) };
    case 'notes': {
      const text = str(meta.text) ?? str(meta.body) ?? str(meta.content);
      if (text === undefined) break;
      const markdown = meta.format === 'markdown' || /\.md$/i.test(named);
      return { name: withExtension(named, markdown ? ['.md'] : ['.txt', '.md']), text };
    }
    case 'email':
    case 'messages': {
      const raw = str(meta.eml) ?? str(meta.raw);
      if (raw) return { name: withExtension(named, ['.eml']), text: raw };
      break;
    }
  }
  return { name: withExtension(named, ['.json']), text: `${JSON.stringify(meta, null, 2)}\n` };
}

// ---- locations ----

export interface OpenedLocation extends LocationFix {
  deviceId: string;
  deviceName: string | null;
  receivedAt: number;
}

export const openExportedLocation = (
  keys: Pick<UnlockedKeys, 'x25519PublicKey' | 'x25519SecretKey'>,
  row: { deviceId: string; sealed: string; receivedAt: number },
  deviceName: string | null,
): OpenedLocation => ({ ...openLocation(row.sealed, keys.x25519PublicKey, keys.x25519SecretKey), deviceId: row.deviceId, deviceName, receivedAt: row.receivedAt });

export function locationsGeoJson(fixes: OpenedLocation[]): string {
  const features = fixes.map((f) => ({
    type: 'Feature',
    geometry: { type: 'Point', coordinates: [f.lon, f.lat] },
    properties: {
      deviceId: f.deviceId,
      deviceName: f.deviceName,
      accuracy: f.accuracy,
      source: f.source,
      battery: f.battery,
      measuredAt: new Date(f.measuredAt).toISOString(),
      receivedAt: new Date(f.receivedAt).toISOString(),
    },
  }));
  return `${JSON.stringify({ type: 'FeatureCollection', features }, null, 2)}\n`;
}

const xml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** GPX 1.1: one track per device, its fixes in the order they were measured. */
export function locationsGpx(fixes: OpenedLocation[]): string {
  const byDevice = new Map<string, OpenedLocation[]>();
  for (const fix of fixes) byDevice.set(fix.deviceId, [...(byDevice.get(fix.deviceId) ?? []), fix]);
  const tracks = [...byDevice.values()].map((points) => {
    const sorted = [...points].sort((a, b) => a.measuredAt - b.measuredAt);
    const name = sorted[0]!.deviceName ?? sorted[0]!.deviceId;
    const trkpts = sorted.map((p) => `      <trkpt lat="${p.lat}" lon="${p.lon}"><time>${new Date(p.measuredAt).toISOString()}</time></trkpt>`);
    return [`  <trk>`, `    <name>${xml(name)}</name>`, `    <trkseg>`, ...trkpts, `    </trkseg>`, `  </trk>`].join('\n');
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<gpx version="1.1" creator="homing export" xmlns="http://www.topografix.com/GPX/1/1">',
    ...tracks,
    '</gpx>',
    '',
  ].join('\n');
}
