import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.js';
import { freePort, killIfRunning, type Running, start } from './spawn.js';

// TLS served by the process itself (TLS_CERT_FILE, TLS_KEY_FILE), for a server with no proxy in
// front: only https on its port, and a setting that is half there or unreadable stops start-up.

let dir: string;
let cert: string;
let running: Running | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'homing-tls-'));
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
  });
  cert = pems.cert;
  writeFileSync(join(dir, 'cert.pem'), pems.cert);
  writeFileSync(join(dir, 'key.pem'), pems.private, { mode: 0o600 });
});

afterEach(() => killIfRunning(running));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** GET over https, trusting only the test's own certificate. */
function httpsStatus(port: number, path: string) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    httpsGet({ host: '127.0.0.1', port, path, ca: cert }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    }).on('error', reject);
  });
}

const plainHttpOutcome = (port: number) =>
  new Promise<string>((resolve) => {
    httpGet({ host: '127.0.0.1', port, path: '/healthz' }, (res) => resolve(`answered ${res.statusCode}`)).on('error', (err) =>
      resolve(`failed: ${err.message}`),
    );
  });

async function waitForHttps(port: number, server: Running) {
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
    if (server.child.exitCode !== null) throw new Error(`server exited early:\n${server.output()}`);
    if (await httpsStatus(port, '/healthz').then((r) => r.status === 200, () => false)) return;
  }
  throw new Error(`no https answer on port ${port}:\n${server.output()}`);
}

describe('TLS_CERT_FILE and TLS_KEY_FILE', () => {
  it('serve https on the port with that certificate, log the https URL, and refuse plain http there', async () => {
    const port = await freePort();
    running = start('src/node.ts', {
      cwd: dir,
      env: { PORT: String(port), TLS_CERT_FILE: join(dir, 'cert.pem'), TLS_KEY_FILE: join(dir, 'key.pem'), LOG_LEVEL: 'info' },
    });
    await waitForHttps(port, running);

    expect(await httpsStatus(port, '/healthz')).toEqual({ status: 200, body: '{"ok":true}' });
    expect(running.output()).toContain(`"listen":"https://127.0.0.1:${port}"`);
    // With no PUBLIC_URL, the URL to open (and the origin logins are bound to) is https too.
    expect(running.output()).toContain(`"open":"https://localhost:${port}"`);
    expect(await plainHttpOutcome(port)).toMatch(/^failed: /);

    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
  });

  it('are both set or neither: one alone is a configuration error naming the other', () => {
    expect(() => parseConfig({ TLS_CERT_FILE: 'cert.pem' })).toThrow(/TLS_KEY_FILE: required: set TLS_CERT_FILE and TLS_KEY_FILE together/);
    expect(() => parseConfig({ TLS_KEY_FILE: 'key.pem' })).toThrow(ConfigError);
    expect(parseConfig({ TLS_CERT_FILE: 'c.pem', TLS_KEY_FILE: 'k.pem' }).node.tls).toEqual({ certFile: 'c.pem', keyFile: 'k.pem' });
    expect(parseConfig({}).node.tls).toBeUndefined();
  });

  it('stop start-up with exit 2 naming the file when one cannot be read, or is not a certificate and key', async () => {
    const missing = join(dir, 'nowhere.pem');
    running = start('src/node.ts', {
      cwd: dir,
      env: { PORT: String(await freePort()), TLS_CERT_FILE: join(dir, 'cert.pem'), TLS_KEY_FILE: missing },
    });
    expect(await running.exited).toBe(2);
    expect(running.output()).toContain(`TLS_KEY_FILE=${JSON.stringify(missing)}: cannot be read (ENOENT)`);

    // The certificate given as its own key: both readable, not a pair.
    running = start('src/node.ts', {
      cwd: dir,
      env: { PORT: String(await freePort()), TLS_CERT_FILE: join(dir, 'cert.pem'), TLS_KEY_FILE: join(dir, 'cert.pem') },
    });
    expect(await running.exited).toBe(2);
    expect(running.output()).toMatch(/TLS_CERT_FILE, TLS_KEY_FILE: not a PEM certificate and its private key/);
    expect(running.output()).not.toMatch(/\n\s+at /);
  });
});
