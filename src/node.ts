import { serve } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { createJsonLogger } from './adapters/log.js';
import { createNodeSmsSender } from './adapters/sms-node.js';
import { cryptoRandom } from './adapters/random.js';
import { loadOrCreateServerKey } from './adapters/server-key-file.js';
import { createApp } from './app.js';
import { ConfigError, parseConfig } from './config.js';
import { runMaintenance } from './jobs.js';
import { createNodeBlobStore, createNodeDeps } from './node-deps.js';
import { fromBase64Url } from './protocol/encoding.js';

const MAINTENANCE_INTERVAL_MS = 10 * 60_000;

async function main() {
  const config = parseConfig(process.env);
  const log = createJsonLogger(config.logLevel);
  const serverKey = config.serverKey
    ? { key: fromBase64Url(config.serverKey), created: false, path: 'HOMING_SERVER_KEY' }
    : loadOrCreateServerKey(config.dataDir, cryptoRandom.bytes);
  if (serverKey.created) log.warn('created a server key; back it up with the database', { path: serverKey.path });

  const blobs = await createNodeBlobStore(config.blobs);
  const sms = createNodeSmsSender(config.sms, log);
  const { deps, settle, close } = createNodeDeps(config, { serverKey: serverKey.key, blobs, sms, log });
  const app = createApp(deps, { peerAddress: (c) => getConnInfo(c).remote.address });

  const maintain = () => runMaintenance(deps).catch((err) => log.error('maintenance failed', { error: String(err) }));
  void maintain();
  const timer = setInterval(maintain, MAINTENANCE_INTERVAL_MS);

  const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
    log.info('homing listening', {
      url: `http://${info.address}:${info.port}`,
      publicOrigin: config.publicOrigin,
      blobStore: blobs.name,
      sms: deps.sms.name,
    });
    if (config.sms.provider === 'twilio' && config.smsAllowedPrefixes.length === 0) {
      log.warn('SMS_ALLOWED_PREFIXES is not set: codes may be texted to any country (an SMS-pumping risk)');
    }
  });

  // Stop taking connections, let requests in flight and their pushes finish, then close the database cleanly.
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    clearInterval(timer);
    const force = setTimeout(() => {
      log.error('requests still open after 10 s; closing anyway');
      process.exit(1);
    }, 10_000);
    force.unref();
    // Pushes already started get a few seconds to finish; a push service slower than that misses one.
    server.close(async () => {
      await settle(5_000);
      close();
      log.info('stopped');
      process.exit(0);
    });
    (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    console.error(`homing: ${err.message}`);
    process.exit(2);
  }
  console.error(`homing: could not start: ${(err as Error).message}`);
  process.exit(1);
});
