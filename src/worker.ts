import { AsyncLocalStorage } from 'node:async_hooks';
import type { D1Database, ExecutionContext, R2Bucket, ScheduledController } from '@cloudflare/workers-types/index.js';
import { drizzle } from 'drizzle-orm/d1';
import type { BlobStore } from './adapters/blob-store.js';
import { createR2BlobStore } from './adapters/blob-store-r2.js';
import { systemClock } from './adapters/clock.js';
import { createBackgroundTasks } from './adapters/background.js';
import { createJsonLogger } from './adapters/log.js';
import { createBlobMapArchive } from './adapters/map-archive-blob.js';
import { deriveVapidKeys } from './adapters/push.js';
import { createWebPushSender } from './adapters/push-web.js';
import { cryptoRandom } from './adapters/random.js';
import { createConsoleSmsSender } from './adapters/sms-console.js';
import { createConsoleEmailSender } from './adapters/email-console.js';
import { createCloudflareEmailSender, type SendEmailBinding } from './adapters/email-cloudflare.js';
import { EmailMessage } from 'cloudflare:email';
import { createTwilioFetchSmsSender } from './adapters/sms-twilio-fetch.js';
import { createApp } from './app.js';
import { fromBase64Url } from './protocol/encoding.js';
import { nobleSha256 } from './protocol/hash.js';
import { type Config, ConfigError, parseConfig } from './config.js';
import { createServerSecrets } from './adapters/server-secrets.js';
import { type AssetsBinding, createAssetsStaticFiles } from './adapters/static-files-assets.js';
import type { Db } from './db/client.js';
import * as schema from './db/schema.js';
import type { Deps } from './deps.js';
import { runMaintenance } from './jobs.js';
import { policyText } from '../dist/policy.js';

export type WorkerEnv = { DB: D1Database; BLOBS: R2Bucket; ASSETS: AssetsBinding; EMAIL?: SendEmailBinding } & Record<string, unknown>;

export interface WorkerOptions {
  /**
   * The store for BLOB_STORE=s3. Only src/worker-s3.ts passes one: wrangler bundles whatever an
   * entry imports, dynamic import() included, and the AWS SDK adds about 95 KiB gzip to it.
   */
  s3BlobStore?: (config: Extract<Config['blobs'], { store: 's3' }>) => BlobStore;
}

/** Bindings → Deps, the Workers twin of src/node.ts. Built on first use, once per isolate. */
export function createWorkerDeps(env: WorkerEnv, options: WorkerOptions = {}): Deps {
  const vars = Object.fromEntries(Object.entries(env).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
  const config = parseConfig(vars);
  if (!config.serverKey) throw new ConfigError(['HOMING_SERVER_KEY: required on Workers (wrangler secret put HOMING_SERVER_KEY)']);
  const log = createJsonLogger(config.logLevel);
  const secrets = createServerSecrets(fromBase64Url(config.serverKey), cryptoRandom.bytes);
  const background = createBackgroundTasks(log);
  // No file system: the street map is read from the blob store (R2) only.
  if (config.map.file) throw new ConfigError(['MAP_ARCHIVE_FILE: not available on Workers; put the archive in R2 and set MAP_ARCHIVE_BLOB_KEY']);
  const blobs = workerBlobStore(config.blobs, env, options);
  return {
    db: drizzle(env.DB as never, { schema }) as unknown as Db,
    clock: systemClock,
    random: cryptoRandom,
    config,
    log,
    secrets,
    blobs,
    sha256: nobleSha256,
    sms: config.sms.provider === 'twilio' ? createTwilioFetchSmsSender(config.sms) : createConsoleSmsSender(log, cryptoRandom),
    email: workerEmailSender(config, env, log),
    // No file system: the text bundled by `npm run build:web` (POLICY_FILE at build time).
    policyText,
    // The page's and Redoc's files, uploaded by wrangler from dist/public/ (wrangler.toml [assets]).
    staticFiles: createAssetsStaticFiles(env.ASSETS),
    push: createWebPushSender({ vapid: () => deriveVapidKeys(secrets), subject: config.push.subject, clock: systemClock }),
    mapArchive: config.map.blobKey ? createBlobMapArchive(blobs, config.map.blobKey) : undefined,
    // Deps live as long as the isolate, so the request a task belongs to is found per call.
    background: (task) => {
      const done = background.run(task);
      requestContext.getStore()?.waitUntil(done);
    },
    // The runtime lets a request finish before it retires an isolate: nothing to end early.
    stopping: new AbortController().signal,
  };
}

/** R2 through its binding by default; any S3-compatible store when BLOB_STORE=s3, in the Worker built for it. */
function workerBlobStore(config: Config['blobs'], env: WorkerEnv, options: WorkerOptions): BlobStore {
  if (config.store !== 's3') return createR2BlobStore(env.BLOBS);
  if (!options.s3BlobStore) throw new ConfigError(['BLOB_STORE=s3: deploy the Worker built with the S3 store (main = "src/worker-s3.ts" in wrangler.toml)']);
  return options.s3BlobStore(config);
}

/** EMAIL_PROVIDER=cloudflare sends through the send_email binding named EMAIL; log (and smtp, which Workers cannot speak) logs masked. */
function workerEmailSender(config: Deps['config'], env: WorkerEnv, log: Deps['log']) {
  if (config.email.provider === 'cloudflare') {
    if (!env.EMAIL) throw new ConfigError(['EMAIL_PROVIDER=cloudflare: add a send_email binding named EMAIL to wrangler.toml']);
    return createCloudflareEmailSender({ binding: env.EMAIL, EmailMessage, from: config.email.from });
  }
  if (config.email.provider === 'smtp') throw new ConfigError(['EMAIL_PROVIDER=smtp: not available on Workers; use cloudflare or log']);
  return createConsoleEmailSender(log, cryptoRandom);
}

/** The ExecutionContext of the request (or cron run) being served, for Deps.background. */
const requestContext = new AsyncLocalStorage<ExecutionContext>();

/** The Worker's handlers (this file's default export; src/worker-s3.ts makes its own). */
export function createWorker(options: WorkerOptions = {}) {
  let built: { deps: Deps; app: ReturnType<typeof createApp> } | undefined;
  const instance = (env: WorkerEnv) => {
    if (!built) {
      const deps = createWorkerDeps(env, options);
      built = { deps, app: createApp(deps, { peerAddress: (c) => c.req.header('cf-connecting-ip') }) };
    }
    return built;
  };
  return {
    fetch(request: Request, env: WorkerEnv, ctx: ExecutionContext) {
      return requestContext.run(ctx, () => instance(env).app.fetch(request, env, ctx as never));
    },
    async scheduled(_controller: ScheduledController, env: WorkerEnv, ctx: ExecutionContext) {
      const { deps } = instance(env);
      // Every job runs even when one fails (each outcome is in job_runs); a failure is then
      // rethrown, after logging, so that the Cron Events log marks the run as failed.
      ctx.waitUntil(
        requestContext
          .run(ctx, () => runMaintenance(deps))
          .then((outcomes) => {
            const failed = outcomes.filter((o) => o.status === 'failed').map((o) => o.name);
            if (failed.length > 0) throw new Error(`maintenance jobs failed: ${failed.join(', ')}`);
          })
          .catch((err: unknown) => {
            deps.log.error('maintenance failed', { error: String(err) });
            throw err;
          }),
      );
    },
  };
}

export default createWorker();
