import { afterEach, describe, expect, it } from 'vitest';
import { logIn, signUp } from '../../src/client/account.js';
import { createApiClient } from '../../src/client/api.js';
import { startTestServer } from './spawn.js';

// The built server on setups people get wrong: it says at start what will not work in a browser
// and which address to open, and the address it logs as its listen address logs in too.

const PLAIN_HTTP_WARNING = /browsers (elsewhere )?will drop the Secure session cookie.*the web page will not keep a login.*set up HTTPS.*TLS-terminating proxy.*see README/;

let server: Awaited<ReturnType<typeof startTestServer>> | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

/** The server's JSON log lines at warn level and above. */
const warnings = (output: string) =>
  output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level: string; message: string })
    .filter((line) => line.level === 'warn')
    .map((line) => line.message);

describe('start-up on a setup where browsers cannot keep a login', { timeout: 60_000 }, () => {
  it('PUBLIC_URL=http://homing.test (plain HTTP, not loopback) warns once that the session cookie will be dropped', async () => {
    server = await startTestServer('plain-http', { PUBLIC_URL: 'http://homing.test:8080' });
    await expect.poll(() => warnings(server!.server.output()).filter((m) => PLAIN_HTTP_WARNING.test(m))).toHaveLength(1);
    expect(warnings(server.server.output()).find((m) => PLAIN_HTTP_WARNING.test(m))).toContain('PUBLIC_URL=http://homing.test:8080');
  });

  it('HOST=0.0.0.0 with the default PUBLIC_URL and no TLS warns that other machines get plain HTTP', async () => {
    server = await startTestServer('open-host', { HOST: '0.0.0.0' });
    await expect.poll(() => warnings(server!.server.output()).filter((m) => PLAIN_HTTP_WARNING.test(m))).toHaveLength(1);
    expect(warnings(server.server.output()).find((m) => PLAIN_HTTP_WARNING.test(m))).toContain('HOST=0.0.0.0');
  });

  it('the defaults give no such warning, log the address to open, and log in at the 127.0.0.1 listen address as well as at it', async () => {
    server = await startTestServer('defaults', { LOG_LEVEL: 'info' });
    const port = new URL(server.url).port;
    await expect.poll(() => server!.server.output()).toContain('"message":"homing listening"');
    const listening = JSON.parse(server.server.output().split('\n').find((line) => line.includes('"homing listening"'))!);
    expect(listening).toMatchObject({ listen: `http://127.0.0.1:${port}`, open: `http://localhost:${port}` });
    expect(warnings(server.server.output()).filter((m) => PLAIN_HTTP_WARNING.test(m))).toEqual([]);

    const email = 'loopback@example.org';
    const password = 'correct horse battery staple';
    await signUp(createApiClient({ baseUrl: server.url }), { birthYear: 1990, email, password, kdf: { opsLimit: 1, memLimit: 8192 } });
    for (const origin of [listening.listen, listening.open]) {
      await expect(logIn(createApiClient({ baseUrl: origin }), { email, password })).resolves.toMatchObject({ response: { accountId: expect.any(String) } });
    }
  });
});
