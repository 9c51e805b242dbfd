import type { BlobStore } from './adapters/blob-store.js';
import type { Clock } from './adapters/clock.js';
import type { PushSender } from './adapters/push.js';
import type { SmsSender } from './adapters/sms.js';
import type { EmailSender } from './adapters/email.js';
import type { HashFactory } from './protocol/hash.js';
import type { Logger } from './adapters/log.js';
import type { MapArchiveSource } from './adapters/map-archive-source.js';
import type { StaticFiles } from './adapters/static-files.js';
import type { Random } from './adapters/random.js';
import type { Config } from './config.js';
import type { ServerSecrets } from './adapters/server-secrets.js';
import type { Db } from './db/client.js';
import type { WriteDurability } from './adapters/sqlite-group-commit.js';

/** Everything the app needs from its runtime, built once by src/node.ts or src/worker.ts. */
export interface Deps {
  db: Db;
  clock: Clock;
  random: Random;
  config: Config;
  log: Logger;
  secrets: ServerSecrets;
  blobs: BlobStore;
  /** Incremental SHA-256 for blobs streaming past; node:crypto on Node, portable elsewhere. */
  sha256: HashFactory;
  sms: SmsSender;
  email: EmailSender;
  /** The privacy policy text in force (POLICY_FILE or the shipped docs/privacy-policy.txt; bundled at build time on Workers). */
  policyText: string;
  /** The page's and the API reference's files in dist/public/: read from the folder on Node, from Static Assets on Workers. */
  staticFiles: StaticFiles;
  push: PushSender;
  /** The street-map archive GET /v1/map/archive serves (MAP_ARCHIVE_FILE or MAP_ARCHIVE_BLOB_KEY); unset, none is configured. */
  mapArchive?: MapArchiveSource;
  /**
   * Runs work the response does not wait for (push deliveries): never delays or fails the request.
   * Node waits for it on shutdown, Workers under the request's waitUntil, tests until t.settle().
   */
  background(task: () => Promise<void>): void;
  /** Aborted when the server starts to shut down: long waits (device polls) end early. */
  stopping: AbortSignal;
  /**
   * Where writes commit in groups (Node's SQLite), how a request waits for its own to be on disk
   * before it is answered. Absent where each write is durable when it returns (D1).
   */
  durability?: WriteDurability;
}
