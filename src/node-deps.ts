import { createBackgroundTasks } from './adapters/background.js';
import { type BlobStore, presignIf } from './adapters/blob-store.js';
import { createFsBlobStore } from './adapters/blob-store-fs.js';
import { type Clock, systemClock } from './adapters/clock.js';
import { nodeSha256 } from './adapters/hash-node.js';
import { createJsonLogger, type Logger } from './adapters/log.js';
import { createBlobMapArchive } from './adapters/map-archive-blob.js';
import { createFileMapArchive } from './adapters/map-archive-file.js';
import type { MapArchiveSource } from './adapters/map-archive-source.js';
import { deriveVapidKeys, type PushSender } from './adapters/push.js';
import { createWebPushSender } from './adapters/push-web.js';
import { cryptoRandom } from './adapters/random.js';
import { createServerSecrets } from './adapters/server-secrets.js';
import type { SmsSender } from './adapters/sms.js';
import type { EmailSender } from './adapters/email.js';
import { openSqlite } from './adapters/sqlite-node.js';
import { readPolicyText } from './adapters/policy-text-node.js';
import { createDirStaticFiles, packagePublicFolder } from './adapters/static-files-dir.js';
import type { Config } from './config.js';
import type { Deps } from './deps.js';

// The one place Deps is assembled for Node: the server (src/node.ts), the test harness and the
// benchmarks all call createNodeDeps, so what the tests run is what production runs. Each part
// can be swapped for a test (a clock the test moves, a captured log, an S3 store), never mocked.

export interface NodeDepsParts {
  /** The 32-byte server key (src/node.ts loads or creates it; tests pass random bytes). */
  serverKey: Uint8Array;
  /** Built by createNodeBlobStore from config.blobs unless given. */
  blobs: BlobStore;
  clock?: Clock;
  log?: Logger;
  /** Built by createNodeSmsSender from config.sms (src/node.ts), or a test's own. */
  sms: SmsSender;
  /** Built by createNodeEmailSender from config.email (src/node.ts), or a test's own. */
  email: EmailSender;
  /** Web Push with VAPID keys derived from the server key, unless given. */
  push?: PushSender;
}

export interface NodeDeps {
  deps: Deps;
  /** Waits for background work (push deliveries), at most timeoutMs; before close() on shutdown. */
  settle(timeoutMs?: number): Promise<void>;
  /** Checkpoints and closes the database; the last thing a clean shutdown does. */
  close(): void;
  /** Aborts deps.stopping: the first thing a shutdown does, so waiting polls answer now. */
  stop(): void;
}

export function createNodeDeps(config: Config, parts: NodeDepsParts): NodeDeps {
  const log = parts.log ?? createJsonLogger(config.logLevel);
  const sqlite = openSqlite(config.databasePath, config.migrationsDir);
  const clock = parts.clock ?? systemClock;
  const secrets = createServerSecrets(parts.serverKey, cryptoRandom.bytes);
  const background = createBackgroundTasks(log);
  const stopping = new AbortController();
  const deps: Deps = {
    db: sqlite.db,
    clock,
    random: cryptoRandom,
    config,
    log,
    secrets,
    blobs: parts.blobs,
    sha256: nodeSha256,
    sms: parts.sms,
    email: parts.email,
    policyText: readPolicyText(config.policy.file),
    staticFiles: createDirStaticFiles(packagePublicFolder()),
    push: parts.push ?? createWebPushSender({ vapid: () => deriveVapidKeys(secrets), subject: config.push.subject, clock }),
    mapArchive: nodeMapArchive(config.map, parts.blobs),
    background: (task) => void background.run(task),
    stopping: stopping.signal,
    durability: sqlite.durability,
  };
  return { deps, settle: background.settle, close: sqlite.close, stop: () => stopping.abort() };
}

/** The street-map archive the configuration names: a local file, or a key in the blob store. */
function nodeMapArchive(map: Config['map'], blobs: BlobStore): MapArchiveSource | undefined {
  if (map.file) return createFileMapArchive(map.file);
  return map.blobKey ? createBlobMapArchive(blobs, map.blobKey) : undefined;
}

/** The blob store the configuration names: a local folder by default, or an S3-compatible bucket. */
export async function createNodeBlobStore(config: Config['blobs']): Promise<BlobStore> {
  if (config.store === 'fs') return createFsBlobStore(config.dir);
  // Loaded only when configured: the AWS SDK alone costs the idle server several MiB.
  const { createS3BlobStore, ensureBucket } = await import('./adapters/blob-store-s3.js');
  const { presign, ...s3 } = config;
  await ensureBucket(s3);
  return presignIf(presign, createS3BlobStore(s3));
}
