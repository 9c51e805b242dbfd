import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  blobEntryName,
  EXPORT_ENTRY,
  type ExportAccount,
  type ExportCollection,
  type ExportDevice,
  type ExportItem,
  type ExportLocation,
} from '../../protocol/api/export.js';
import { fromBase64Url } from '../../protocol/encoding.js';
import type { HashFactory } from '../../protocol/hash.js';
import { nativeChunkCipher } from '../crypto/blob-cipher-node.js';
import { createDecryptStream } from '../crypto/blob-format.js';
import { type ExportArchive, type RandomAccessSource, readArchive, verifyArchive } from './archive.js';
import {
  locationsGeoJson,
  locationsGpx,
  metadataFile,
  type OpenedCollection,
  type OpenedLocation,
  openCollection,
  openExportedLocation,
  openItem,
  unlockExport,
} from './contents.js';

// `homing open`: turns an export archive into plain files, offline, on Node. The archive is
// checked against its manifest first (a tampered or cut-off archive is refused before anything is
// written); then every item is opened with keys derived from the password and account.json, and
// written in its natural format under <dir>/<kind>/. An item that cannot be opened is reported and
// skipped; the rest are still written.

export const nodeSha256: HashFactory = () => {
  const hash = createHash('sha256');
  return { update: (bytes) => void hash.update(bytes), hex: () => hash.digest('hex') };
};

/** A file read by range, for readArchive. */
export async function fileSource(path: string): Promise<RandomAccessSource & { close(): Promise<void> }> {
  const handle = await open(path, 'r');
  const { size } = await handle.stat();
  return {
    size,
    async read(offset, length) {
      const buffer = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(buffer, done, length - done, offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return done === length ? buffer : buffer.subarray(0, done);
    },
    close: () => handle.close(),
  };
}

const CONTROL = /[\u0000-\u001f\u007f]/;

/** A relative path from decrypted metadata, kept inside the target folder. */
function safeRelative(name: string) {
  const parts = name.split('/');
  if (isAbsolute(name) || name.includes('\\') || CONTROL.test(name) || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new Error(`unsafe name ${JSON.stringify(name)}: absolute, or with an empty, "." or ".." part, a backslash or a control character`);
  }
  return parts;
}

const exists = async (path: string) => (await stat(path).catch(() => undefined)) !== undefined;

/** The path for a new file, with " (2)", " (3)"… before the extension when two items share a name. */
async function freePath(path: string) {
  if (!(await exists(path))) return path;
  const dot = path.lastIndexOf('.');
  const slash = path.lastIndexOf('/');
  const [stem, ext] = dot > slash + 1 ? [path.slice(0, dot), path.slice(dot)] : [path, ''];
  for (let n = 2; ; n++) {
    const candidate = `${stem} (${n})${ext}`;
    if (!(await exists(candidate))) return candidate;
  }
}

export interface OpenReport {
  /** Paths written, relative to the folder. */
  written: string[];
  skipped: { what: string; reason: string }[];
  locations: number;
}

export interface OpenOptions {
  file: string;
  dir: string;
  password: string;
  /** Bytes checked or written so far, for progress. */
  onProgress?: (phase: 'verify' | 'write', bytes: number) => void;
}

async function ndjsonToArray(archive: ExportArchive, name: string) {
  const rows: unknown[] = [];
  if (archive.has(name)) for await (const row of archive.lines(name)) rows.push(row);
  return rows;
}

export async function openExport(options: OpenOptions): Promise<OpenReport> {
  const source = await fileSource(options.file);
  try {
    const archive = await readArchive(source);
    let checked = 0;
    const manifest = await verifyArchive(archive, nodeSha256, (_, bytes) => options.onProgress?.('verify', (checked += bytes)));
    const account = await archive.json<ExportAccount>(EXPORT_ENTRY.account);
    if (account.accountId !== manifest.accountId) throw new Error('account.json names another account than the manifest');
    const keys = await unlockExport(account, options.password);
    const report: OpenReport = { written: [], skipped: [], locations: 0 };
    const root = options.dir;
    await mkdir(root, { recursive: true });

    const writeText = async (relative: string, text: string) => {
      const path = await freePath(join(root, relative));
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, text);
      report.written.push(path.slice(root.length + 1));
    };

    // The account's own records, as readable JSON.
    await writeText('account/account.json', `${JSON.stringify(account, null, 2)}\n`);
    const jsonEntries = [EXPORT_ENTRY.devices, EXPORT_ENTRY.sessions, EXPORT_ENTRY.consents, EXPORT_ENTRY.receipts, EXPORT_ENTRY.messagingIdentities, EXPORT_ENTRY.messageBlocks];
    for (const name of jsonEntries) {
      if (archive.has(name)) await writeText(`account/${name}`, `${JSON.stringify(await archive.json(name), null, 2)}\n`);
    }
    // Waiting message copies stay sealed: only the receiving phone's messaging key opens them, and it never leaves the phone.
    const ndjsonEntries = [EXPORT_ENTRY.audit, EXPORT_ENTRY.commands, EXPORT_ENTRY.simEvents, EXPORT_ENTRY.diagnostics, EXPORT_ENTRY.messages, EXPORT_ENTRY.spamReports];
    for (const name of ndjsonEntries) {
      await writeText(`account/${name.replace(/\.ndjson$/, '.json')}`, `${JSON.stringify(await ndjsonToArray(archive, name), null, 2)}\n`);
    }

    const collections = new Map<string, OpenedCollection>();
    for await (const row of archive.lines<ExportCollection>(EXPORT_ENTRY.collections)) {
      try {
        collections.set(row.id, openCollection(account.accountId, keys.masterKey, row));
      } catch (err) {
        report.skipped.push({ what: `collection ${row.id}`, reason: `cannot be opened: ${(err as Error).message}` });
      }
    }

    let written = 0;
    for await (const row of archive.lines<ExportItem>(EXPORT_ENTRY.items)) {
      if (row.state === 'deleted') continue;
      const what = `item ${row.id}`;
      try {
        const collection = collections.get(row.collectionId);
        if (!collection) throw new Error('its collection could not be opened');
        const meta = openItem(account.accountId, collection, row);
        const folder = row.state === 'trashed' ? ['trash', collection.kind] : [collection.kind];
        if (row.blobId) {
          const blobKey = meta.blobKey;
          if (typeof meta.name !== 'string') throw new Error('its metadata has no name');
          if (typeof blobKey !== 'string') throw new Error('its metadata has no blobKey');
          if (!archive.has(blobEntryName(row.blobId))) throw new Error(`its blob ${row.blobId} is not in the archive`);
          const path = await freePath(join(root, ...folder, ...safeRelative(meta.name)));
          await mkdir(dirname(path), { recursive: true });
          const temp = `${path}.homing-partial`;
          try {
            const plain = archive.stream(blobEntryName(row.blobId)).pipeThrough(createDecryptStream(fromBase64Url(blobKey), { cipher: nativeChunkCipher }));
            const hash = createHash('sha256');
            const counted = plain.pipeThrough(
              new TransformStream<Uint8Array, Uint8Array>({
                transform(chunk, controller) {
                  hash.update(chunk);
                  options.onProgress?.('write', (written += chunk.length));
                  controller.enqueue(chunk);
                },
              }),
            );
            await pipeline(Readable.fromWeb(counted as import('node:stream/web').ReadableStream<Uint8Array>), createWriteStream(temp));
            if (typeof meta.sha256 === 'string' && hash.digest('hex') !== meta.sha256) throw new Error('the decrypted bytes do not match the SHA-256 in its metadata');
            await rename(temp, path);
          } catch (err) {
            await rm(temp, { force: true });
            throw err;
          }
          report.written.push(path.slice(root.length + 1));
        } else {
          const file = metadataFile(collection.kind, meta, row.id, manifest.exportedAt);
          await writeText(join(...folder, ...safeRelative(file.name)), file.text);
        }
      } catch (err) {
        report.skipped.push({ what, reason: (err as Error).message });
      }
    }

    // Locations: the history, and each device's last-known location when it is not in it.
    const devices = await archive.json<ExportDevice[]>(EXPORT_ENTRY.devices);
    const names = new Map(devices.map((d) => [d.id, d.name]));
    const fixes: OpenedLocation[] = [];
    const seen = new Set<string>();
    const rows: { id: string; deviceId: string; sealed: string; receivedAt: number }[] = [];
    for await (const row of archive.lines<ExportLocation>(EXPORT_ENTRY.locations)) rows.push(row);
    for (const d of devices) if (d.lastLocation && d.lastLocationAt !== null) rows.push({ id: `last:${d.id}`, deviceId: d.id, sealed: d.lastLocation, receivedAt: d.lastLocationAt });
    for (const row of rows) {
      if (seen.has(row.sealed)) continue;
      seen.add(row.sealed);
      try {
        fixes.push(openExportedLocation(keys, row, names.get(row.deviceId) ?? null));
      } catch (err) {
        report.skipped.push({ what: `location ${row.id}`, reason: `cannot be opened: ${(err as Error).message}` });
      }
    }
    fixes.sort((a, b) => a.measuredAt - b.measuredAt);
    await writeText('locations.geojson', locationsGeoJson(fixes));
    await writeText('locations.gpx', locationsGpx(fixes));
    report.locations = fixes.length;
    return report;
  } finally {
    await source.close();
  }
}
