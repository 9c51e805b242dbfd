import type { Deps } from '../../deps.js';
import { AppError } from '../../http/app-error.js';
import { blobEntryName, EXPORT_ENTRY, EXPORT_FORMAT, EXPORT_FORMAT_VERSION, type ExportManifest } from '../../protocol/api/export.js';
import { utf8 } from '../../protocol/encoding.js';
import type { HashFactory } from '../../protocol/hash.js';
import { exportAccountRecord } from '../accounts/service.js';
import { auditEntry, exportAuditPage } from '../audit/service.js';
import { exportBlobsPage, openBlobForExport } from '../blobs/service.js';
import { listConsentLedger } from '../consents/service.js';
import { exportDevices } from '../devices/service.js';
import { listDiagnostics } from '../diagnostics/service.js';
import { exportCommandsPage, exportLocationsPage } from '../find/service.js';
import { exportMessageCopies } from '../messages/service.js';
import { exportMessagingOf } from '../messaging/service.js';
import { listReceipts } from '../receipts/service.js';
import { exportSessions } from '../sessions/service.js';
import { exportSimEventsPage } from '../sim/service.js';
import { exportSpamReports } from '../spam/service.js';
import { exportCollectionsPage, exportItemsPage } from '../sync/service.js';
import { createZipStream, type WrittenEntry, type ZipSource } from './zip-writer.js';

// The account's export, within the request: one streamed ZIP of everything the server holds for
// it (src/protocol/api/export.ts lists the entries).
//
// Guarantees:
// - Constant memory whatever the account's size: the archive is pulled, a chunk at a time, only
//   as fast as the client reads it; rows are read a keyset page at a time and blobs one at a time,
//   each streamed from the store. Only the manifest's list and the ZIP directory (a name, a hash
//   and a few numbers per entry) grow. No size or entry limit: the ZIP turns ZIP64 as it needs.
// - Never silently incomplete: manifest.json, with every entry's size and SHA-256, is written
//   last. A failure part-way (a blob missing from the store, the store or the database down)
//   errors the stream, so the client sees a broken download without a manifest, never an archive
//   that looks whole; it is logged with the request id.
// - A client that goes away stops the work: the blob being read is cancelled and nothing more is
//   read.

const PAGE = 500;
const MINUTE = 60_000;
/**
 * The export hands over everything at once, personal data opened and every wrapped key with it:
 * a stolen or forgotten session must not be enough, so, as for wipe, the session must have proved
 * the password (POST /v1/auth/reauthenticate, or the login itself) within this time.
 */
export const EXPORT_REAUTH_MS = 5 * MINUTE;

interface ExportSession {
  accountId: string;
  sessionId: string;
  reauthenticatedAt: number | null;
}

const line = (value: unknown) => `${JSON.stringify(value)}\n`;

/** Rows a page at a time after a keyset cursor, until a short page. */
async function* pages<T, C>(fetch: (after: C) => Promise<T[]>, start: C, cursorOf: (row: T) => C): AsyncIterable<T[]> {
  let after = start;
  for (;;) {
    const rows = await fetch(after);
    if (rows.length > 0) yield rows;
    if (rows.length < PAGE) return;
    after = cursorOf(rows[rows.length - 1]!);
  }
}

const byId = <T extends { id: string }>(fetch: (afterId: string) => Promise<T[]>) => pages(fetch, '', (row: T) => row.id);

/** A list another feature returns, loaded when the entry is first read: an array, or rows it yields as it reads them. */
async function* rowsOf(load: () => unknown): AsyncIterable<unknown[]> {
  const value = await load();
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += PAGE) yield value.slice(i, i + PAGE);
  } else if (value && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
    let page: unknown[] = [];
    for await (const row of value as AsyncIterable<unknown>) {
      page.push(row);
      if (page.length >= PAGE) yield page.splice(0);
    }
    if (page.length > 0) yield page;
  } else if (value !== undefined && value !== null) {
    yield [value];
  }
}

async function* ndjson(source: AsyncIterable<unknown[]>) {
  for await (const rows of source) yield utf8(rows.map(line).join(''));
}

async function* jsonArray(source: AsyncIterable<unknown[]>) {
  let first = true;
  yield utf8('[');
  for await (const rows of source) {
    const text = rows.map((row) => JSON.stringify(row)).join(',\n');
    yield utf8(`${first ? '\n' : ',\n'}${text}`);
    first = false;
  }
  yield utf8(first ? ']\n' : '\n]\n');
}

async function* once(value: unknown) {
  yield utf8(`${JSON.stringify(value, null, 2)}\n`);
}

/** Every entry of the archive but the manifest, in the order they are written; each body is read only when its turn comes. */
async function* entriesOf(deps: Deps, accountId: string, account: unknown): AsyncGenerator<ZipSource> {
  yield { name: EXPORT_ENTRY.account, body: once(account) };
  yield { name: EXPORT_ENTRY.devices, body: jsonArray(rowsOf(() => exportDevices(deps, accountId))) };
  yield { name: EXPORT_ENTRY.sessions, body: jsonArray(rowsOf(() => exportSessions(deps, accountId))) };
  yield { name: EXPORT_ENTRY.consents, body: jsonArray(rowsOf(() => listConsentLedger(deps, accountId))) };
  yield { name: EXPORT_ENTRY.collections, body: ndjson(byId((after) => exportCollectionsPage(deps, accountId, after, PAGE))) };
  yield { name: EXPORT_ENTRY.items, body: ndjson(byId((after) => exportItemsPage(deps, accountId, after, PAGE))) };
  // One entry per blob, each streamed from the store in turn.
  for await (const blobs of byId((after) => exportBlobsPage(deps, accountId, after, PAGE))) {
    for (const blob of blobs) {
      const stored = await openBlobForExport(deps, accountId, blob.id);
      // Deleted since it was listed: no longer the account's data.
      if (!stored) continue;
      yield { name: blobEntryName(blob.id), body: stored.body };
    }
  }
  yield { name: EXPORT_ENTRY.locations, body: ndjson(byId((after) => exportLocationsPage(deps, accountId, after, PAGE))) };
  yield { name: EXPORT_ENTRY.commands, body: ndjson(byId((after) => exportCommandsPage(deps, accountId, after, PAGE))) };
  yield { name: EXPORT_ENTRY.simEvents, body: ndjson(byId((after) => exportSimEventsPage(deps, accountId, after, PAGE))) };
  yield {
    name: EXPORT_ENTRY.audit,
    body: ndjson(pages((after) => exportAuditPage(deps, accountId, after, PAGE), { at: -1, id: '' }, (row) => ({ at: row.at, id: row.id }))),
  };
  yield { name: EXPORT_ENTRY.diagnostics, body: ndjson(rowsOf(() => listDiagnostics(deps, accountId))) };
  yield { name: EXPORT_ENTRY.receipts, body: jsonArray(rowsOf(() => listReceipts(deps, accountId))) };
  // Identities and blocks come from one read of the messaging feature, made when the first is written.
  let messaging: ReturnType<typeof exportMessagingOf> | undefined;
  const messagingOf = () => (messaging ??= exportMessagingOf(deps, accountId));
  yield { name: EXPORT_ENTRY.messagingIdentities, body: jsonArray(rowsOf(async () => (await messagingOf()).identities)) };
  yield { name: EXPORT_ENTRY.messageBlocks, body: jsonArray(rowsOf(async () => (await messagingOf()).blocks)) };
  yield { name: EXPORT_ENTRY.messages, body: ndjson(rowsOf(() => exportMessageCopies(deps, accountId))) };
  yield { name: EXPORT_ENTRY.spamReports, body: ndjson(rowsOf(() => exportSpamReports(deps, accountId))) };
}

export interface ArchiveHeader {
  accountId: string;
  server: string;
  exportedAt: number;
}

/**
 * The archive: the entries, each hashed as it is written, then manifest.json listing them all,
 * made only once the last of them is written whole.
 */
export function exportArchiveStream(sha256: HashFactory, header: ArchiveHeader, entries: AsyncIterable<ZipSource>): ReadableStream<Uint8Array> {
  const written: WrittenEntry[] = [];
  async function* manifestBody() {
    const manifest: ExportManifest = { format: EXPORT_FORMAT, version: EXPORT_FORMAT_VERSION, ...header, entries: [...written] };
    yield* once(manifest);
  }
  async function* withManifest() {
    yield* entries;
    yield { name: EXPORT_ENTRY.manifest, body: manifestBody() };
  }
  return createZipStream(withManifest(), { mtime: header.exportedAt, sha256, onWritten: (entry) => written.push(entry) });
}

function assertFresh(deps: Deps, session: ExportSession) {
  const at = session.reauthenticatedAt;
  if (at === null || deps.clock.now() - at > EXPORT_REAUTH_MS) {
    throw new AppError(
      'reauthentication_required',
      'exporting everything needs the password again: re-authenticate (POST /v1/auth/reauthenticate), then export within 5 minutes',
    );
  }
}

/**
 * Checks the session and starts the archive; every check that can refuse runs before the first
 * byte, so a refusal is an ordinary error answer. The audit entry is written when the stream
 * ends: complete, cancelled by the client, or failed.
 */
export async function exportAccount(deps: Deps, session: ExportSession, requestId: string) {
  const { accountId, sessionId } = session;
  assertFresh(deps, session);
  const account = await exportAccountRecord(deps, accountId);
  const exportedAt = deps.clock.now();
  const chunks = exportArchiveStream(deps.sha256, { accountId, server: deps.config.publicOrigin, exportedAt }, entriesOf(deps, accountId, account)).getReader();
  let bytes = 0;
  let ended = false;
  const finish = async (detail: string) => {
    if (ended) return;
    ended = true;
    await auditEntry(deps, accountId, 'export.downloaded', { sessionId, detail }).catch((err: unknown) =>
      deps.log.warn('export audit entry not written', { requestId, accountId, error: String(err) }),
    );
  };

  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let next: ReadableStreamReadResult<Uint8Array>;
        try {
          next = await chunks.read();
        } catch (err) {
          deps.log.error('export failed part-way; the archive was cut off without its manifest', {
            requestId,
            accountId,
            bytes,
            error: err instanceof Error ? err.message : String(err),
          });
          await finish(`failed after ${bytes} bytes`);
          controller.error(err);
          return;
        }
        if (next.done) {
          await finish(`complete, ${bytes} bytes`);
          deps.log.info('export complete', { requestId, accountId, bytes });
          controller.close();
          return;
        }
        bytes += next.value.length;
        controller.enqueue(next.value);
      },
      async cancel(reason) {
        deps.log.info('export cancelled by the client', { requestId, accountId, bytes });
        await finish(`cancelled by the client after ${bytes} bytes`);
        // The blob being read is cancelled at the store (zip-writer.ts).
        await chunks.cancel(reason).catch(() => undefined);
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, filename: `homing-export-${new Date(exportedAt).toISOString().slice(0, 10)}.zip` };
}
