import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Page, Worker } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUp } from '../../src/client/account.js';
import { createApiClient } from '../../src/client/api.js';
import { INTERACTIVE_KDF } from '../../src/client/crypto/kdf.js';
import { REPO, startTestServer } from '../process/spawn.js';
import { type LaunchedChromium, launchChromium } from './browser.js';

// The page's login derives the password's key at the default Argon2id cost (64 MiB) in a Web
// Worker running WebAssembly (src/web/kdf-worker*.ts), in a real Chromium against the built
// server. Where the worker's WebAssembly is refused, or no worker starts at all, the login still
// works on noble's JavaScript. The page tells where the derivation ran on <html data-kdf>.

const ASSETS = join(REPO, 'dist/web/assets.js');
const EMAIL = 'kdf@example.org';
const PASSWORD = 'correct horse battery staple';
/** The page's thread may pause this long between two frames while the worker derives. */
const LONGEST_FRAME_GAP_MS = 200;
// The default memory (64 MiB) with more passes than the default, so that a derivation is well
// past LONGEST_FRAME_GAP_MS even in WebAssembly: one run on the page's thread would show as a gap.
const ACCOUNT_KDF = { ...INTERACTIVE_KDF, opsLimit: 6 };

let server: Awaited<ReturnType<typeof startTestServer>>;
let browser: LaunchedChromium;

beforeAll(async () => {
  if (!existsSync(ASSETS)) throw new Error('dist/web/assets.js is missing: run `npm run build:web` first (`npm test` runs it)');
  server = await startTestServer('web-kdf');
  await signUp(createApiClient({ baseUrl: server.url }), { birthYear: 1990, email: EMAIL, password: PASSWORD, kdf: ACCOUNT_KDF });
  browser = await launchChromium({ viewport: { width: 1280, height: 900 } });
  browser.context.setDefaultTimeout(15_000);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** A fresh page with the server's page loaded; `routeWorker` may change how the worker's script is served. */
async function openPage(routeWorker?: Parameters<Page['route']>[1], options: { fakeClock?: boolean } = {}) {
  // Each test logs in afresh: no cookie session from the one before to resume.
  await browser.context.clearCookies();
  const page = await browser.context.newPage();
  if (options.fakeClock) await page.clock.install();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  const workers: Worker[] = [];
  const ended: Worker[] = [];
  page.on('worker', (worker) => {
    workers.push(worker);
    worker.on('close', () => ended.push(worker));
  });
  if (routeWorker) await page.route('**/assets/kdf-worker.*.js', routeWorker);
  await page.goto(server.url);
  return { page, problems, workers, ended };
}

async function logIn(page: Page) {
  await page.locator('#email').fill(EMAIL);
  await page.locator('#password').fill(PASSWORD);
  await page.locator('#login-button').click();
  await expect.poll(() => page.locator('#account').isVisible(), { timeout: 20_000 }).toBe(true);
  return page.evaluate(() => document.documentElement.dataset.kdf);
}

describe('a fast login: Argon2id in WebAssembly in a Web Worker', { timeout: 60_000 }, () => {
  it('logs in with WebAssembly in a worker, which is ended afterwards, while the page keeps drawing frames', async () => {
    const { page, problems, workers, ended } = await openPage();
    // In the page, by its own clock: every frame it draws, from the click on "Log in" until the
    // key is derived (the page marks <html data-kdf> as soon as the worker answers).
    await page.evaluate(() => {
      const seen = { frames: [] as number[], clicked: 0, derived: 0 };
      (window as unknown as { seen: typeof seen }).seen = seen;
      const tick = () => {
        seen.frames.push(performance.now());
        if (!seen.derived) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
      document.getElementById('login-button')!.addEventListener('click', () => (seen.clicked = performance.now()), { capture: true });
      new MutationObserver(() => (seen.derived ||= performance.now())).observe(document.documentElement, { attributeFilter: ['data-kdf'] });
    });

    expect(await logIn(page)).toBe('wasm-worker');
    expect(workers.map((worker) => new URL(worker.url()).pathname)).toEqual([expect.stringMatching(/^\/assets\/kdf-worker\.[0-9a-f]{16}\.js$/)]);
    // Ended by the page once it answered: its 64 MiB and the key do not stay behind.
    await expect.poll(() => ended).toEqual(workers);

    const seen = await page.evaluate(() => (window as unknown as { seen: { frames: number[]; clicked: number; derived: number } }).seen);
    const during = seen.frames.filter((time) => time >= seen.clicked && time <= seen.derived);
    const edges = [seen.clicked, ...during, seen.derived];
    const gaps = edges.slice(1).map((time, i) => Math.round(time - edges[i]!));
    // A page thread the derivation blocked would draw no frame for longer than the bound below.
    expect(seen.derived - seen.clicked).toBeGreaterThan(LONGEST_FRAME_GAP_MS);
    expect(Math.max(...gaps), `longest gap between frames, of ${gaps.join(', ')} ms`).toBeLessThan(LONGEST_FRAME_GAP_MS);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('readies the worker when the password field takes the focus, and the login derives in that same worker', async () => {
    const { page, problems, workers, ended } = await openPage();
    await page.locator('#email').fill(EMAIL);
    await page.locator('#password').focus();
    // Started while the user is still typing, before anything is submitted.
    await expect.poll(() => workers.length).toBe(1);
    expect(ended).toEqual([]);
    expect(await logIn(page)).toBe('wasm-worker');
    // The readied worker did the derivation: no second one was started, and it was ended.
    expect(workers).toHaveLength(1);
    await expect.poll(() => ended).toEqual(workers);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('ends a readied worker that no login used after a minute, and readies a new one on the next focus', async () => {
    const { page, problems, workers, ended } = await openPage(undefined, { fakeClock: true });
    await page.locator('#password').focus();
    await expect.poll(() => workers.length).toBe(1);
    await page.clock.runFor(59_000);
    expect(ended).toEqual([]);
    await page.clock.runFor(2_000);
    // Its 64 MiB do not stay behind while the page sits at the login.
    await expect.poll(() => ended).toEqual(workers);
    await page.locator('#email').focus();
    await page.locator('#password').focus();
    await expect.poll(() => workers.length).toBe(2);
    expect(ended).toHaveLength(1);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("logs in with noble inside the worker where the worker's CSP refuses WebAssembly", async () => {
    const { page, problems, workers } = await openPage(async (route) => {
      const response = await route.fetch();
      // As a proxy or a stricter operator policy might serve it: no 'wasm-unsafe-eval'.
      await route.fulfill({ response, headers: { ...response.headers(), 'content-security-policy': "default-src 'none'" } });
    });
    expect(await logIn(page)).toBe('noble-worker');
    expect(workers).toHaveLength(1);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('logs in with noble on the page where the worker cannot start (its script is not served)', async () => {
    const { page, problems } = await openPage((route) => route.fulfill({ status: 404, body: 'not here' }));
    expect(await logIn(page)).toBe('noble-main');
    expect(problems).toEqual([]);
    await page.close();
  });
});
