import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createS3BlobStore, ensureBucket } from '../../src/adapters/blob-store-s3.js';
import { logIn } from '../../src/client/account.js';
import { createApiClient } from '../../src/client/api.js';
import { openLocation } from '../../src/client/crypto/location.js';
import { s3rverConfig, startS3rver } from '../adapters/s3-servers.js';
import { expectServedFile, SERVED_FILES } from '../web/served-files.js';
import { ensureBuilt, freePort, REPO, run, waitForHealth } from './spawn.js';

// The smoke test of the Workers build: `wrangler dev` runs src/worker.ts in workerd on a local D1
// (with the drizzle/ migrations applied by wrangler) and a local R2, and the device CLI walks
// through sign-up, sync and a location report against it, over real HTTP.

const WRANGLER = join(REPO, 'node_modules/.bin/wrangler');
const quiet = { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true', NO_COLOR: '1' };

/** Starts `wrangler dev` on fresh local D1/R2 state with the given extra vars (and the entry wrangler.toml names, unless `script`). */
async function startWranglerDev(extraVars: Record<string, string>, script?: string) {
  // wrangler uploads dist/public/ as the Worker's Static Assets, and bundles the manifests beside it.
  ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'homing-wrangler-'));
  const persist = join(dir, 'state');
  const migrated = spawnSync(WRANGLER, ['d1', 'migrations', 'apply', 'homing', '--local', '--persist-to', persist], { cwd: REPO, env: quiet, encoding: 'utf8' });
  if (migrated.status !== 0) throw new Error(`migrations failed:\n${migrated.stdout}\n${migrated.stderr}`);
  const port = await freePort();
  const url = `http://localhost:${port}`;
  const vars = { HOMING_SERVER_KEY: randomBytes(32).toString('base64url'), PUBLIC_URL: url, KDF_MIN_OPS_LIMIT: '1', KDF_MIN_MEM_LIMIT: '8192', LOG_LEVEL: 'warn', ...extraVars };
  let output = '';
  const dev = spawn(
    WRANGLER,
    ['dev', ...(script ? [script] : []), '--local', '--port', String(port), '--ip', '127.0.0.1', '--persist-to', persist, ...Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}:${v}`])],
    { cwd: REPO, env: quiet, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  dev.stdout!.on('data', (chunk) => (output += chunk));
  dev.stderr!.on('data', (chunk) => (output += chunk));
  await waitForHealth(url, { child: dev, output: () => output, exited: Promise.resolve(null), signal: () => undefined }, 60_000);
  const stop = () => {
    try {
      process.kill(-dev.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const cli = (args: string[], state: string) =>
    run('src/client/cli/main.ts', {
      cwd: dir,
      args: [...args, '--server', url, '--state', join(dir, state)],
      env: { HOMING_PASSWORD: 'a long password' },
    });
  return { dir, url, cli, stop, logs: () => output };
}

/** The device CLI through sign-up, sync (backup on one device, restore on another) and a location report. */
async function walkThrough({ dir, url, cli, logs }: Awaited<ReturnType<typeof startWranglerDev>>) {
  {
    const signedUp = await cli(['signup', '--email', 'edge@example.org', '--birth-year', '1990', '--kdf-ops', '1', '--kdf-mem', '8192'], 'phone.json');
    // On failure, say what the CLI and workerd printed: a bare exit code tells nothing.
    expect(signedUp.code, `${signedUp.output}\n--- wrangler ---\n${logs().slice(-4000)}`).toBe(0);
    expect((await cli(['login', '--email', 'edge@example.org'], 'phone.json')).output).toContain('logged in');
    expect((await cli(['register', '--name', 'Edge phone', '--platform', 'android'], 'phone.json')).output).toContain('registered device');

    const source = join(dir, 'files');
    mkdirSync(join(source, 'notes'), { recursive: true });
    const photo = randomBytes(300_000);
    writeFileSync(join(source, 'notes/todo.md'), '# at the edge\n');
    writeFileSync(join(source, 'photo.jpg'), photo);
    const backup = await cli(['backup', '--dir', source], 'phone.json');
    expect(backup.output, `${backup.output}\n${logs().slice(-3000)}`).toContain('2 uploaded, 0 unchanged');

    expect((await cli(['login', '--email', 'edge@example.org'], 'laptop.json')).code).toBe(0);
    const restored = join(dir, 'restored');
    expect((await cli(['restore', '--dir', restored], 'laptop.json')).output).toContain('2 written');
    expect(readFileSync(join(restored, 'notes/todo.md'), 'utf8')).toBe('# at the edge\n');
    expect(readFileSync(join(restored, 'photo.jpg')).equals(photo)).toBe(true);

    expect((await cli(['find', '--on'], 'phone.json')).output).toContain('Find Device is on');
    expect((await cli(['locate', '--lat', '35.6586', '--lon', '139.7454'], 'phone.json')).output).toContain('reported 1 location');
    const owner = createApiClient({ baseUrl: url });
    const { keys } = await logIn(owner, { email: 'edge@example.org', password: 'a long password' });
    const [device] = (await owner.devices()).devices;
    const last = await owner.lastLocation(device!.id);
    expect(openLocation(last.report!.sealed, keys.x25519PublicKey, keys.x25519SecretKey)).toMatchObject({ lat: 35.6586, lon: 139.7454 });
  }
}

describe('wrangler dev: the Workers build on local D1', { timeout: 150_000 }, () => {
  it('with R2: serves the device CLI through sign-up, sync and a location report', async () => {
    const dev = await startWranglerDev({});
    try {
      await walkThrough(dev);
    } finally {
      dev.stop();
    }
  });

  it("the page's and the reference's files come from Static Assets through the Worker (run_worker_first), with the Node server's headers", async () => {
    const dev = await startWranglerDev({});
    try {
      // The same expectations the Node app is held to (test/http/static-files.test.ts): without
      // run_worker_first, Static Assets would answer these paths itself, with none of the headers.
      for (const served of SERVED_FILES) await expectServedFile((path, headers) => fetch(`${dev.url}${path}`, { headers }), served);
    } finally {
      dev.stop();
    }
  });

  it('with an S3 store (s3rver) chosen by configuration, in the Worker built for it (src/worker-s3.ts): the same walk-through', async () => {
    const s3rver = await startS3rver();
    const s3 = s3rverConfig(s3rver.port);
    await ensureBucket(s3);
    const dev = await startWranglerDev({
      BLOB_STORE: 's3',
      S3_ENDPOINT: s3.endpoint!,
      S3_BUCKET: s3.bucket,
      S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    }, 'src/worker-s3.ts');
    try {
      await walkThrough(dev);
      // The blobs went to the S3 server, not to R2.
      const keys = (await createS3BlobStore(s3).list('accounts/')).keys;
      expect(keys.length).toBe(2);
    } finally {
      dev.stop();
      await s3rver.stop();
    }
  });
});
