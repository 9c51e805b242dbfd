import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUp } from '../../src/client/account.js';
import { createApiClient } from '../../src/client/api.js';
import { SESSION_COOKIE } from '../../src/protocol/headers.js';
import { COOKIE_DROPPED } from '../../src/web/connection.js';
import { freePort, REPO, startTestServer } from '../process/spawn.js';
import { type LaunchedChromium, launchChromium } from './browser.js';

// A wrong setup as a browser meets it: homing served over plain HTTP under a host name that is not
// loopback (http://homing.test:PORT, which Chromium resolves to the test server). The browser
// drops the Secure session cookie, so the page must say so before and after a login, instead of
// a baffling "your session has ended".

const EMAIL = 'plain@example.org';
const PASSWORD = 'correct horse battery staple';

let server: Awaited<ReturnType<typeof startTestServer>>;
let browser: LaunchedChromium;
let origin: string;

beforeAll(async () => {
  if (!existsSync(join(REPO, 'dist/web/assets.js'))) throw new Error('dist/web/assets.js is missing: run `npm run build:web` first (`npm test` runs it)');
  const port = await freePort();
  origin = `http://homing.test:${port}`;
  server = await startTestServer('insecure-origin', { PORT: String(port), PUBLIC_URL: origin });
  await signUp(createApiClient({ baseUrl: server.url }), { birthYear: 1990, email: EMAIL, password: PASSWORD, kdf: { opsLimit: 1, memLimit: 8192 } });
  browser = await launchChromium({ viewport: { width: 1280, height: 900 }, extraArgs: ['--host-resolver-rules=MAP homing.test 127.0.0.1'] });
  browser.context.setDefaultTimeout(10_000);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('the page over plain HTTP on a host that is not loopback', { timeout: 45_000 }, () => {
  for (const viewport of [{ width: 1280, height: 900 }, { width: 390, height: 844 }]) {
    it(`at ${viewport.width}×${viewport.height}: warns on the login screen, then says the cookie was dropped when a login succeeds but the next call is logged out`, async () => {
      const page = await browser.context.newPage();
      await page.setViewportSize(viewport);
      expect((await page.goto(origin))?.status()).toBe(200);
      expect(await page.evaluate(() => window.isSecureContext)).toBe(false);
      const warning = page.locator('#insecure-notice');
      expect(await warning.isVisible()).toBe(true);
      expect(await warning.textContent()).toMatch(/plain HTTP.*will not keep the session cookie.*operator must serve homing over HTTPS/);

      await page.locator('#email').fill(EMAIL);
      await page.locator('#password').fill(PASSWORD);
      const login = page.waitForResponse((response) => new URL(response.url()).pathname === '/v1/auth/login');
      await page.keyboard.press('Enter');
      // The server did log in and set the cookie; the browser refused to keep it.
      expect((await login).status()).toBe(200);
      await expect.poll(() => page.locator('#notice').textContent(), { timeout: 15_000 }).toBe(COOKIE_DROPPED);
      expect(await page.locator('#notice').isVisible()).toBe(true);
      expect((await browser.context.cookies()).filter((cookie) => cookie.name === SESSION_COOKIE)).toEqual([]);
      // Back on the login screen, with the warning still there.
      expect(await page.locator('#login-view').isVisible()).toBe(true);
      expect(await warning.isVisible()).toBe(true);
      await page.close();
    });
  }
});
