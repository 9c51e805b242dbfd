import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { createSecureContext } from 'node:tls';
import { getConnInfo } from '@hono/node-server/conninfo';
import { createJsonLogger } from './adapters/log.js';
import { startNodeHttpServer } from './adapters/node-http-server.js';
import { addDefaultHeaders } from './adapters/node-response-defaults.js';
import { createNodeSmsSender } from './adapters/sms-node.js';
import { createNodeEmailSender } from './adapters/email-node.js';
import { cryptoRandom } from './adapters/random.js';
import { loadOrCreateServerKey } from './adapters/server-key-file.js';
import { createApp } from './app.js';
import { plainHttpWarning } from './http/own-origins.js';
import { type Config, ConfigError, parseConfig } from './config.js';
import { reportMapArchive } from './features/map-archive/service.js';
import { runMaintenance } from './jobs.js';
import { createNodeBlobStore, createNodeDeps } from './node-deps.js';
import { fromBase64Url } from './protocol/encoding.js';

const MAINTENANCE_INTERVAL_MS = 10 * 60_000;

async function main() {
  const config = parseConfig(process.env);
  const tls = readTls(config.node.tls);
  const log = createJsonLogger(config.logLevel);
  const serverKey = config.serverKey
    ? { key: fromBase64Url(config.serverKey), created: false, path: 'HOMING_SERVER_KEY' }
    : loadOrCreateServerKey(config.dataDir, cryptoRandom.bytes);
  if (serverKey.created) log.warn('created a server key; back it up with the database', { path: serverKey.path });

  const blobs = await createNodeBlobStore(config.blobs);
  const sms = createNodeSmsSender(config.sms, log);
  const email = await createNodeEmailSender(config.email, log);
  const { deps, settle, close, stop } = createNodeDeps(config, { serverKey: serverKey.key, blobs, sms, email, log });
  const app = createApp(deps, {
    peerAddress: (c) => getConnInfo(c).remote.address,
    // @hono/node-server hands the app the ServerResponse as c.env.outgoing.
    defaultHeaders: (c) => {
      const response = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
      return response && ((headers) => addDefaultHeaders(response, headers));
    },
  });

  // The running pass, which shutdown waits for before it closes the database. A pass still running
  // when the timer fires again is left to finish (job_runs also skips a job another process runs).
  let maintenance: Promise<void> | undefined;
  const maintain = () => {
    maintenance ??= runMaintenance(deps)
      .then(() => undefined, (err: unknown) => log.error('maintenance failed', { error: String(err) }))
      .finally(() => (maintenance = undefined));
  };
  void maintain();
  const timer = setInterval(maintain, MAINTENANCE_INTERVAL_MS);

  const http = startNodeHttpServer(
    { fetch: app.fetch, port: config.port, host: config.host, requestTimeoutMs: config.node.requestTimeoutMs, tls, log },
    (url) => {
      // `open` is the address to type into a browser: logins are bound to it, not to the listen address.
      log.info('homing listening', { listen: url, open: config.publicOrigin, blobStore: blobs.name, sms: deps.sms.name, email: deps.email.name });
      const plainHttp = plainHttpWarning(config);
      if (plainHttp) log.warn(plainHttp);
      if (config.sms.provider === 'twilio' && config.smsAllowedPrefixes.length === 0) {
        log.warn('SMS_ALLOWED_PREFIXES is not set: codes may be texted to any country (an SMS-pumping risk)');
      }
      void reportMapArchive(deps);
    },
  );

  // Waiting polls answer at once; requests in flight get the grace period, then are cut; pushes
  // get a few seconds; then the database is checkpointed and closed, and only then do we exit.
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    clearInterval(timer);
    stop();
    const cut = await http.drain(config.node.shutdownGraceMs);
    if (cut > 0) log.warn('requests still open after the grace period were cut', { count: cut, graceMs: config.node.shutdownGraceMs });
    await Promise.all([maintenance, settle(5_000)]);
    close();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/** The TLS files named in the configuration, read now: a missing or unusable one stops start-up. */
function readTls(files: Config['node']['tls']) {
  if (!files) return undefined;
  const read = (name: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new ConfigError([`${name}=${JSON.stringify(path)}: cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`]);
    }
  };
  const pair = { cert: read('TLS_CERT_FILE', files.certFile), key: read('TLS_KEY_FILE', files.keyFile) };
  try {
    createSecureContext(pair);
  } catch (err) {
    throw new ConfigError([`TLS_CERT_FILE, TLS_KEY_FILE: not a PEM certificate and its private key (${(err as Error).message})`]);
  }
  return pair;
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    console.error(`homing: ${err.message}`);
    process.exit(2);
  }
  console.error(`homing: could not start: ${(err as Error).message}`);
  process.exit(1);
});
