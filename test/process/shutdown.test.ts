import { createHash, randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { logIn, signUp } from '../../src/client/account.js';
import { createApiClient } from '../../src/client/api.js';
import { toBase64Url } from '../../src/protocol/encoding.js';
import { SHA256_HEADER } from '../../src/protocol/headers.js';
import { TEST_KDF, uniqueEmail } from '../harness.js';
import { startTestServer } from './spawn.js';

// SIGTERM is how every supervisor (systemd, Docker, Kubernetes) stops the server. What it must
// never cost: a phone's poll hanging until the process dies, an upload in flight, or a database
// left unclosed (its WAL not checkpointed).

type TestServer = Awaited<ReturnType<typeof startTestServer>>;
let server: TestServer | undefined;

afterEach(async () => {
  await server?.stop();
  server = undefined;
});

/** A fresh account with a bearer session and one registered phone with Find Device on. */
async function enroll(url: string) {
  const email = uniqueEmail('shutdown');
  const password = `pw-${email}`;
  const owner = createApiClient({ baseUrl: url });
  await signUp(owner, { birthYear: 1990, email, password, kdf: TEST_KDF });
  const { response } = await logIn(owner, { email, password });
  const phone = await owner.registerDevice({ name: 'Phone', model: 'Pixel', platform: 'android', identifierHash: toBase64Url(randomBytes(32)) });
  await owner.setFindEnabled(phone.device.id, true);
  return { sessionToken: response.session.token!, deviceToken: phone.token };
}

/** A streamed blob upload whose body the test sends when it chooses. */
function startUpload(url: string, sessionToken: string, body: Buffer) {
  const req = httpRequest(`${url}/v1/blobs`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${sessionToken}`,
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(body.length),
      [SHA256_HEADER]: createHash('sha256').update(body).digest('hex'),
    },
  });
  const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
  });
  return { req, answered };
}

/** Waits for the process to exit after SIGTERM; its exit code and how long it took. */
async function terminate(running: TestServer['server']) {
  const started = Date.now();
  running.child.kill('SIGTERM');
  const code = await running.exited;
  return { code, ms: Date.now() - started };
}

/** The database as the stopped server left it: closed cleanly means no WAL left to replay. */
function openClosedDatabase(dir: string) {
  const path = join(dir, 'data', 'homing.db');
  const wal = `${path}-wal`;
  expect(!existsSync(wal) || statSync(wal).size === 0).toBe(true);
  const db = new Database(path, { readonly: true });
  expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  return db;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('SIGTERM', () => {
  it('during a device long-poll: the poll answers at once, and the process closes the database and exits 0', async () => {
    server = await startTestServer('shutdown-poll', { LOG_LEVEL: 'info' });
    const { deviceToken } = await enroll(server.url);
    const poll = fetch(`${server.url}/v1/device/commands?wait=20`, { headers: { Authorization: `Bearer ${deviceToken}` } });
    await pause(500); // the poll is now waiting inside the server

    const signalled = Date.now();
    const stopped = terminate(server.server);
    const answer = await poll;
    const pollMs = Date.now() - signalled;
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ commands: [] });
    expect(pollMs).toBeLessThan(1_500);

    const { code, ms } = await stopped;
    expect(code).toBe(0);
    expect(ms).toBeLessThan(3_000);
    expect(server.server.output()).toContain('"message":"stopped"');
    const db = openClosedDatabase(server.dir);
    expect(db.prepare('select count(*) as n from devices').get()).toEqual({ n: 1 });
    db.close();
  });

  it('during an upload: the upload finishes within the grace period and is kept', async () => {
    server = await startTestServer('shutdown-upload', { SHUTDOWN_GRACE_SECONDS: '5' });
    const { sessionToken } = await enroll(server.url);
    const body = randomBytes(256 * 1024);
    const upload = startUpload(server.url, sessionToken, body);
    upload.req.write(body.subarray(0, 1024));
    await pause(300);

    const stopped = terminate(server.server);
    await pause(500);
    upload.req.end(body.subarray(1024));
    const answer = await upload.answered;
    expect(answer.status).toBe(201);
    const { blobId } = JSON.parse(answer.body) as { blobId: string };

    expect((await stopped).code).toBe(0);
    const db = openClosedDatabase(server.dir);
    expect(db.prepare('select state, size from blobs where id = ?').get(blobId)).toEqual({ state: 'committed', size: body.length });
    db.close();
  });

  it('during an upload stalled past the grace period: it is cut, nothing of it is committed, and the process still exits 0', async () => {
    server = await startTestServer('shutdown-cut', { SHUTDOWN_GRACE_SECONDS: '1' });
    const { sessionToken } = await enroll(server.url);
    const body = randomBytes(256 * 1024);
    const upload = startUpload(server.url, sessionToken, body);
    upload.req.write(body.subarray(0, 1024));
    await pause(300);

    const cut = upload.answered.then(() => 'answered', (err: Error) => err.message);
    const { code, ms } = await terminate(server.server);
    expect(await cut).toMatch(/socket hang up|ECONNRESET/);
    expect(code).toBe(0);
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(4_000);
    expect(server.server.output()).toContain('requests still open after the grace period were cut');
    expect(server.server.output()).not.toMatch(/database connection is not open/i);
    // The handler's cleanup ran before the database closed: no pending row is left behind.
    const db = openClosedDatabase(server.dir);
    expect(db.prepare('select count(*) as n from blobs').get()).toEqual({ n: 0 });
    db.close();
  });
});
