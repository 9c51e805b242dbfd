import { createExecutionContext, env, SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { html as docsPage } from '../../dist/web/docs-assets.js';
import { ConfigError } from '../../src/config.js';
import { createWorker, createWorkerDeps, type WorkerEnv } from '../../src/worker.js';
import s3Worker from '../../src/worker-s3.js';
import { expectServedFile, SECURITY_HEADERS, SERVED_FILES } from '../web/served-files.js';

// The page's and the API reference's files on Workers: uploaded from dist/public/ as Static
// Assets (wrangler.toml [assets]) rather than bundled, and still served through the Worker
// (run_worker_first), so with the same headers and ETags as on Node (test/http/static-files.test.ts
// checks the Node server against the same expectations).

const viaWorker = (path: string, headers: Record<string, string> = {}) => SELF.fetch(`http://homing.test${path}`, { headers });

describe('the Worker serves dist/public from Static Assets', () => {
  it.each(SERVED_FILES.map((served) => [served.file.path, served] as const))('%s: the built bytes, its type, caching, ETag and every security header', async (_path, served) => {
    await expectServedFile(viaWorker, served);
  });

  it('the page and the reference, still in the script, keep their own CSP and the shared headers', async () => {
    for (const [path, csp] of [
      ['/', /^default-src 'none'; script-src 'self'; style-src 'self';/],
      [docsPage.path, /^default-src 'none'; script-src 'self'; style-src 'unsafe-inline';/],
    ] as const) {
      const response = await viaWorker(path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type'), path).toMatch(/^text\/html/);
      expect(response.headers.get('content-security-policy'), path).toMatch(csp);
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) if (name !== 'content-security-policy') expect(response.headers.get(name), `${path}: ${name}`).toBe(value);
      await response.arrayBuffer();
    }
  });

  it("an old build's file name gets the API's 404 in its one error shape, from the app rather than from Static Assets", async () => {
    const response = await viaWorker('/assets/app.0000000000000000.js');
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });
});

describe('BLOB_STORE=s3 on Workers', () => {
  const s3Env = {
    ...(env as unknown as WorkerEnv),
    BLOB_STORE: 's3',
    S3_ENDPOINT: 'http://127.0.0.1:9',
    S3_BUCKET: 'homing-blobs',
    S3_ACCESS_KEY_ID: 'key',
    S3_SECRET_ACCESS_KEY: 'secret',
  };

  it('the R2 Worker, which leaves the AWS SDK out, refuses it and names the Worker that has it', () => {
    expect(() => createWorkerDeps(s3Env)).toThrow(ConfigError);
    expect(() => createWorkerDeps(s3Env)).toThrow(/src\/worker-s3\.ts/);
    expect(() => createWorker().fetch(new Request('http://homing.test/healthz'), s3Env, createExecutionContext())).toThrow(/worker-s3/);
  });

  it('src/worker-s3.ts builds its deps on the S3 store and serves', async () => {
    const response = await s3Worker.fetch(new Request('http://homing.test/healthz'), s3Env, createExecutionContext());
    expect(response.status).toBe(200);
  });
});
