import { digest } from '../adapters/streams.js';
import { type ApiClient, HomingApiError, type Item } from '../../src/client/api.js';
import { deviceClient, ownerClient, type SimulatedAccount } from './fleet.js';
import { attempt, type ItemState, type Ledger, type SentBatch, sendParts } from './workload.js';

// The check after the crashes, through the API only: what the ledger says was acknowledged must
// be there, what was never answered must be all there or not at all, and nothing else may be.
// Each returns the problems it found, so one failure lists them all.

async function allItems(api: ApiClient): Promise<Map<string, Item>> {
  const items = new Map<string, Item>();
  let since = '0';
  for (;;) {
    const page = await api.changes(since, 1000);
    for (const item of page.items) items.set(item.id, item);
    since = page.cursor;
    if (!page.hasMore) return items;
  }
}

const matches = (item: Item | undefined, state: ItemState | undefined) =>
  state === undefined
    ? item === undefined
    : item !== undefined && item.version === state.version && item.encryptedMetadata === state.encryptedMetadata && (item.blob?.id ?? null) === state.blobId;

const stateOf = (item: Item | undefined) => (item ? `version ${item.version}, blob ${item.blob?.id ?? 'none'}` : 'absent');

/** Size and SHA-256 of what the server streams for a blob, or undefined for a 404. */
async function download(api: ApiClient, blobId: string): Promise<{ size: number; sha256: string } | undefined> {
  let body: ReadableStream<Uint8Array>;
  try {
    body = await api.downloadBlob(blobId);
  } catch (err) {
    if (err instanceof HomingApiError && err.status === 404) return undefined;
    throw err;
  }
  const { bytes, sha256 } = await digest(body);
  return { size: bytes, sha256 };
}

function checkBatch(batch: SentBatch, items: Map<string, Item>, allowApplied: boolean): string[] {
  const before = batch.changes.every((c) => matches(items.get(c.itemId), c.before));
  const after = batch.changes.every((c) => matches(items.get(c.itemId), c.after));
  if (before || (after && allowApplied)) return [];
  const states = batch.changes.map((c) => `${c.itemId}: ${stateOf(items.get(c.itemId))}`).join('; ');
  return [`a batch ${allowApplied ? 'never answered is half applied' : 'refused was applied'}: ${states}`];
}

export async function verifyItems(url: string, account: SimulatedAccount, ledger: Ledger): Promise<string[]> {
  const api = ownerClient(url, account);
  const items = await allItems(api);
  const problems: string[] = [];
  for (const [itemId, state] of ledger.items) {
    if (ledger.quarantined.has(itemId)) continue;
    if (!matches(items.get(itemId), state)) {
      problems.push(`acknowledged item ${itemId} at version ${state.version} is ${stateOf(items.get(itemId))}`);
    }
  }
  for (const batch of ledger.unknownBatches) problems.push(...checkBatch(batch, items, true));
  for (const batch of ledger.refusedBatches) problems.push(...checkBatch(batch, items, false));
  for (const item of items.values()) {
    if (!ledger.created.has(item.id)) problems.push(`item ${item.id} was never sent`);
    if (!item.blob) continue;
    const stored = await download(api, item.blob.id);
    if (stored?.sha256 !== item.blob.sha256 || stored.size !== item.blob.size) {
      problems.push(`item ${item.id} lists blob ${item.blob.id} (${item.blob.size} bytes) but it downloads as ${stored ? `${stored.size} bytes, SHA-256 ${stored.sha256}` : '404'}`);
    }
  }
  return problems;
}

export async function verifyBlobs(url: string, account: SimulatedAccount, ledger: Ledger): Promise<string[]> {
  const api = ownerClient(url, account);
  const problems: string[] = [];
  const whole = async (blobId: string, sent: { sha256: string; size: number }, mayBeGone: boolean) => {
    const stored = await download(api, blobId);
    if (stored === undefined && mayBeGone) return;
    if (stored?.sha256 !== sent.sha256 || stored.size !== sent.size) {
      problems.push(`blob ${blobId} (${sent.size} bytes) downloads as ${stored ? `${stored.size} bytes, SHA-256 ${stored.sha256}` : '404'}`);
    }
  };
  for (const [blobId, sent] of ledger.blobs) await whole(blobId, sent, false);
  // An upload left open by a crash is either completable now, or gone (its blob then is either
  // committed whole, when the crash came after the commit, or not there at all).
  for (const upload of ledger.openUploads.values()) {
    await sendParts(api, upload, ledger);
    const completed = await attempt(() => api.completeUpload(upload.uploadId));
    if (completed.kind === 'acked') await whole(upload.blobId, upload, false);
    else if (completed.kind === 'refused' && completed.status === 404) await whole(upload.blobId, upload, true);
    else problems.push(`completing upload ${upload.uploadId} again after the restart: ${completed.kind === 'refused' ? `${completed.status} ${completed.code}` : completed.error}`);
  }
  return problems;
}

export async function verifyLocations(url: string, account: SimulatedAccount, ledger: Ledger): Promise<string[]> {
  const owner = ownerClient(url, account);
  const problems: string[] = [];
  for (const device of account.devices) {
    const sent = ledger.locations.get(device.id)!;
    const stored = (await owner.locationHistory(device.id, 0)).reports.map((r) => r.sealed);
    const storedSet = new Set(stored);
    if (storedSet.size !== stored.length) problems.push(`device ${device.id}: a report is stored twice`);
    const sentSet = new Set(sent.flatMap((r) => r.sealed));
    if (stored.some((s) => !sentSet.has(s))) problems.push(`device ${device.id}: a report that was never sent is stored`);
    let lastApplied: string | undefined;
    for (const request of sent) {
      const present = request.sealed.filter((s) => storedSet.has(s)).length;
      const expected = request.outcome === 'acked' ? [request.sealed.length] : request.outcome === 'unknown' ? [0, request.sealed.length] : [0];
      if (!expected.includes(present)) {
        problems.push(`device ${device.id}: ${present} of ${request.sealed.length} reports of a request ${request.outcome === 'unknown' ? 'never answered' : request.outcome} are stored`);
      }
      if (present > 0) lastApplied = request.sealed.at(-1);
    }
    const last = (await owner.lastLocation(device.id)).report?.sealed;
    if (last !== lastApplied) problems.push(`device ${device.id}: the last-known location is not the last report stored`);
    // The device itself still works: its token survived the crashes.
    await deviceClient(url, account, device).thisDevice();
  }
  return problems;
}
