import { randomBytes } from 'node:crypto';
import { type ApiClient, HomingApiError, type ItemChange } from '../../src/client/api.js';
import { fakeSealed, sha256Hex } from '../features/sync-helpers.js';
import { deviceClient, newItemChange, ownerClient, sealedReport, type SimulatedAccount } from './fleet.js';

// What simulated phones write while the server may die under them, and what each of them knows
// afterwards. Every request ends one of three ways: acknowledged (a 2xx the client read in full),
// refused (the server answered with an error, so nothing happened), or unknown (no answer: the
// connection died with the server). The ledger keeps all three, so the check after the restarts
// can demand that every acknowledged write is there and that every unknown one is all or nothing.

export type Outcome<T> = { kind: 'acked'; value: T } | { kind: 'refused'; status: number; code: string } | { kind: 'unknown'; error: string };

export async function attempt<T>(request: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { kind: 'acked', value: await request() };
  } catch (err) {
    if (err instanceof HomingApiError) return { kind: 'refused', status: err.status, code: err.code };
    return { kind: 'unknown', error: String(err) };
  }
}

export interface ItemState {
  version: number;
  encryptedMetadata: string;
  blobId: string | null;
}

/** One batch as sent: for each item, its state before (undefined: it did not exist) and after. */
export interface SentBatch {
  changes: { itemId: string; before: ItemState | undefined; after: ItemState }[];
}

export interface SentBlob {
  sha256: string;
  size: number;
}

/** A multipart upload the server acknowledged creating but whose completion was never acknowledged. */
export interface OpenUpload extends SentBlob {
  uploadId: string;
  blobId: string;
  partSize: number;
  partCount: number;
  bytes: Uint8Array;
}

export interface LocationRequest {
  sealed: string[];
  outcome: Outcome<unknown>['kind'];
}

export interface Ledger {
  /** Items as their last acknowledged write left them. */
  items: Map<string, ItemState>;
  /** Items an unknown batch touched: never written again, so that batch alone decides their state. */
  quarantined: Set<string>;
  unknownBatches: SentBatch[];
  refusedBatches: SentBatch[];
  /** Every item id ever sent in a create. */
  created: Set<string>;
  blobs: Map<string, SentBlob>;
  /** Acknowledged blobs not attached to an item yet. */
  unattached: string[];
  openUploads: Map<string, OpenUpload>;
  /** Location requests of each device, in the order it sent them. */
  locations: Map<string, LocationRequest[]>;
  /** Refusals no correct server gives this workload (anything but a documented 429). */
  unexpected: string[];
}

export const newLedger = (account: SimulatedAccount): Ledger => ({
  items: new Map(),
  quarantined: new Set(),
  unknownBatches: [],
  refusedBatches: [],
  created: new Set(),
  blobs: new Map(),
  unattached: [],
  openUploads: new Map(),
  locations: new Map(account.devices.map((d) => [d.id, []])),
  unexpected: [],
});

export type Random = () => number;

/** A small seeded generator (mulberry32), so a failing run can be repeated from its seed. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const between = (random: Random, min: number, max: number) => min + Math.floor(random() * (max - min + 1));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** While `running()`, the streams of one phase; each stops at its first unknown outcome (the server died). */
export interface Phase {
  url: string;
  running: () => boolean;
  random: Random;
  /** Flat out: each stream sends its next request as soon as the last is answered (load). */
  busy?: boolean;
}

/** A phone's pause between two requests of a stream: none when the phase is busy. */
const pause = (phase: Phase, min: number, max: number) => (phase.busy ? Promise.resolve() : sleep(between(phase.random, min, max)));

function noteRefusal(ledger: Ledger, what: string, outcome: { status: number; code: string }) {
  if (outcome.status !== 429) ledger.unexpected.push(`${what}: ${outcome.status} ${outcome.code}`);
}

/** Batches of creates (some attaching a stored blob) and updates of items whose state is known, as the sync engine sends them. */
export async function syncStream(phase: Phase, account: SimulatedAccount, ledger: Ledger) {
  const api = ownerClient(phase.url, account);
  while (phase.running()) {
    const batch: SentBatch = { changes: [] };
    const wire: ItemChange[] = [];
    for (let i = between(phase.random, 2, 4); i > 0; i--) {
      const blobId = i === 1 ? ledger.unattached.shift() : undefined;
      const change = newItemChange(account.collectionId, blobId);
      ledger.created.add(change.itemId);
      wire.push(change);
      batch.changes.push({ itemId: change.itemId, before: undefined, after: { version: 1, encryptedMetadata: change.encryptedMetadata, blobId: blobId ?? null } });
    }
    const updatable = [...ledger.items.keys()].filter((id) => !ledger.quarantined.has(id));
    for (let i = Math.min(between(phase.random, 0, 2), updatable.length); i > 0; i--) {
      const itemId = updatable.splice(between(phase.random, 0, updatable.length - 1), 1)[0]!;
      const before = ledger.items.get(itemId)!;
      const encryptedMetadata = fakeSealed(100);
      wire.push({ op: 'update', itemId, baseVersion: before.version, encryptedMetadata });
      batch.changes.push({ itemId, before, after: { ...before, version: before.version + 1, encryptedMetadata } });
    }
    const outcome = await attempt(() => api.applyChanges(wire));
    if (outcome.kind === 'acked') {
      for (const change of batch.changes) ledger.items.set(change.itemId, change.after);
      const versions = new Map(outcome.value.items.map((item) => [item.id, item.version]));
      for (const change of batch.changes) {
        if (versions.get(change.itemId) !== change.after.version) ledger.unexpected.push(`a batch answered version ${versions.get(change.itemId)} for ${change.itemId}, not ${change.after.version}`);
      }
    } else if (outcome.kind === 'unknown') {
      for (const change of batch.changes) ledger.quarantined.add(change.itemId);
      ledger.unknownBatches.push(batch);
      return;
    } else {
      ledger.refusedBatches.push(batch);
      noteRefusal(ledger, 'POST /v1/sync/changes', outcome);
    }
    await pause(phase, 60, 160);
  }
}

/** Each device reports a couple of sealed fixes every few hundred milliseconds, below its rate limit. */
export async function locationStream(phase: Phase, account: SimulatedAccount, deviceIndex: number, ledger: Ledger) {
  const device = account.devices[deviceIndex]!;
  const api = deviceClient(phase.url, account, device);
  const sent = ledger.locations.get(device.id)!;
  while (phase.running()) {
    const sealed = [sealedReport(), sealedReport()];
    const outcome = await attempt(() => api.reportLocations(sealed));
    sent.push({ sealed, outcome: outcome.kind });
    if (outcome.kind === 'unknown') return;
    if (outcome.kind === 'refused') noteRefusal(ledger, 'POST /v1/device/locations', outcome);
    await pause(phase, 250, 450);
  }
}

const MULTIPART_PART = 5 * 1024 * 1024;

/** Blobs streamed in one request, and every fourth one as a two-part resumable upload. */
export async function blobStream(phase: Phase, account: SimulatedAccount, ledger: Ledger) {
  const api = ownerClient(phase.url, account);
  for (let n = 0; phase.running(); n++) {
    const multipart = n % 4 === 3;
    const bytes = new Uint8Array(randomBytes(multipart ? MULTIPART_PART + between(phase.random, 1, 200_000) : between(phase.random, 1, 300_000)));
    const sha256 = sha256Hex(bytes);
    if (!multipart) {
      const outcome = await attempt(() => api.uploadBlob(bytes, bytes.length, sha256));
      if (outcome.kind === 'unknown') return;
      if (outcome.kind === 'refused') {
        noteRefusal(ledger, 'POST /v1/blobs', outcome);
        continue;
      }
      if (outcome.value.sha256 !== sha256 || outcome.value.size !== bytes.length) ledger.unexpected.push(`POST /v1/blobs answered another blob than it was sent`);
      ledger.blobs.set(outcome.value.blobId, { sha256, size: bytes.length });
      ledger.unattached.push(outcome.value.blobId);
      continue;
    }
    const created = await attempt(() => api.createUpload({ size: bytes.length, sha256, partSize: MULTIPART_PART }));
    if (created.kind === 'unknown') return;
    if (created.kind === 'refused') {
      noteRefusal(ledger, 'POST /v1/uploads', created);
      continue;
    }
    const upload: OpenUpload = { ...created.value, sha256, size: bytes.length, bytes };
    ledger.openUploads.set(upload.uploadId, upload);
    if (!(await sendParts(api, upload, ledger))) return;
    const completed = await attempt(() => api.completeUpload(upload.uploadId));
    if (completed.kind === 'unknown') return;
    if (completed.kind === 'refused') {
      noteRefusal(ledger, 'POST /v1/uploads/{id}/complete', completed);
      continue;
    }
    ledger.openUploads.delete(upload.uploadId);
    ledger.blobs.set(upload.blobId, { sha256, size: bytes.length });
    ledger.unattached.push(upload.blobId);
  }
}

/** Sends every part; false when the server died on one. */
export async function sendParts(api: ApiClient, upload: OpenUpload, ledger: Ledger): Promise<boolean> {
  for (let part = 1; part <= upload.partCount; part++) {
    const bytes = upload.bytes.subarray((part - 1) * upload.partSize, part * upload.partSize);
    const outcome = await attempt(() => api.uploadPart(upload.uploadId, part, bytes));
    if (outcome.kind === 'unknown') return false;
    if (outcome.kind === 'refused') noteRefusal(ledger, 'PUT /v1/uploads/{id}/parts/{n}', outcome);
  }
  return true;
}
