import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, redoc } from '../../dist/web/docs-assets.js';
import { startTestServer } from '../process/spawn.js';
import { type LaunchedChromium, launchChromium } from './browser.js';

// The API reference (/docs, Redoc) in a real Chromium against a real server process, on a desktop
// and a phone screen. Under the docs CSP nothing may be blocked (a blocked style or image would be
// a CSP report and a console error), and nothing may be fetched from anywhere but the server.

const VIEWPORTS = [
  { name: 'a desktop screen', width: 1280, height: 900, phone: false },
  { name: 'a phone screen', width: 390, height: 844, phone: true },
];

let server: Awaited<ReturnType<typeof startTestServer>>;
let browser: LaunchedChromium;
let context: BrowserContext;
/** Whatever should never happen, from any page of the run: CSP reports, console errors, foreign requests. */
const problems: string[] = [];
/** The paths this origin was asked for. */
const fetched: string[] = [];

beforeAll(async () => {
  server = await startTestServer('docs');
  browser = await launchChromium({ reducedMotion: 'reduce' });
  context = browser.context;
  context.setDefaultTimeout(10_000);
  const origin = new URL(server.url).origin;
  context.on('request', (request) => {
    const url = new URL(request.url());
    if (url.protocol === 'data:') return;
    if (url.origin === origin) fetched.push(url.pathname);
    else problems.push(`request to another origin: ${request.url()}`);
  });
  context.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
  });
  // Reported by the page itself, whatever the console says.
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || 'inline'}`);
    });
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/**
 * Resolves once the element with this id has been scrolled to the top part of the screen and is
 * what a reader sees there: not covered by the menu, say.
 */
const shownAtTop = (page: Page, id: string, timeout?: number) =>
  page.waitForFunction(
    (target) => {
      const element = document.getElementById(target);
      const top = element?.getBoundingClientRect().top;
      if (!element || top === undefined || top < -2 || top > innerHeight / 2) return false;
      return element.contains(document.elementFromPoint(innerWidth / 2, Math.max(top, 0) + 8));
    },
    id,
    { timeout },
  );

const menu = (page: Page) => page.locator('.menu-content');
const menuEntry = (page: Page, name: string | RegExp) => menu(page).getByRole('menuitem', { name, exact: typeof name === 'string' });

describe.each(VIEWPORTS)('the API reference on $name ($width×$height)', ({ width, height, phone }) => {
  let page: Page;

  /** On a phone the side menu waits behind Redoc's floating button (the element after it), and closes once an entry is chosen. */
  async function openMenu() {
    if (!phone || (await menu(page).isVisible())) return;
    await menu(page).locator('xpath=following-sibling::div[1]').click();
    await menu(page).waitFor({ state: 'visible' });
  }

  beforeAll(async () => {
    page = await context.newPage();
    await page.setViewportSize({ width, height });
    fetched.length = 0;
    await page.goto(`${server.url}/docs`);
    // Drawn once /openapi.json has arrived and been read.
    await page.locator('[id="tag/Sync"]').waitFor({ state: 'attached' });
  });
  afterAll(() => page?.close());

  it('renders from this origin alone: the page, its two scripts and /openapi.json, with no CSP violation or console error', async () => {
    expect(fetched).toEqual(['/docs', redoc.path, init.path, '/openapi.json']);
    await openMenu();
    for (const name of ['Authentication', 'Errors', 'Rate limits and retries', 'Pagination', 'Auth', 'Accounts', 'Sync', 'Blobs', 'Find Device', 'SIM change', 'Privacy']) {
      await expect(menuEntry(page, name).isVisible(), name).resolves.toBe(true);
    }
    // Nothing wider than the screen: no sideways scrolling on a phone.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
    expect(problems).toEqual([]);
  });

  it('a menu entry takes the reader to its anchor, and a link to that anchor opens there', async () => {
    await openMenu();
    await menuEntry(page, 'Find Device').click();
    await page.waitForURL((url) => url.hash === '#tag/Find-Device');
    // A tag opens its operations in the menu; choosing one goes there (and closes a phone's menu).
    await menuEntry(page, /Send a signed command/).click();
    const id = 'tag/Find-Device/paths/~1v1~1devices~1{deviceId}~1commands/post';
    await page.waitForURL((url) => decodeURIComponent(url.hash) === `#${id}`);
    await shownAtTop(page, id);
    expect(await page.locator(`[id="${id}"] h2`).first().innerText()).toBe('Send a signed command: ring, stop-ring, lock, unlock, locate or wipe');

    // A link someone shared: Redoc reads and draws the whole document before it scrolls, which
    // took 4 to 5 seconds here on a busy machine, hence the longer wait.
    const linked = await context.newPage();
    await linked.setViewportSize({ width, height });
    await linked.goto(`${server.url}/docs#tag/Sync`);
    await shownAtTop(linked, 'tag/Sync', 30_000);
    await linked.close();
    expect(problems).toEqual([]);
  });

  it('an operation shows its request body fields and each response', async () => {
    await openMenu();
    await menuEntry(page, 'Auth').click();
    await menuEntry(page, /Log in with a signed challenge/).click();
    const id = 'tag/Auth/paths/~1v1~1auth~1login/post';
    await page.waitForURL((url) => decodeURIComponent(url.hash) === `#${id}`);
    await shownAtTop(page, id);
    const operation = page.locator(`[id="${id}"]`);
    const text = await operation.innerText();
    expect(text).toMatch(/Request Body schema: application\/json/i);
    for (const field of ['challengeId', 'signature', 'session', 'deviceToken', 'trustedClient']) expect(text).toContain(field);
    // Every documented status, the success one opened with its fields.
    for (const status of ['200', '400', '401', '429', '500', '503']) expect(text).toMatch(new RegExp(`\\b${status}\\b`));
    for (const field of ['accountId', 'keys']) expect(text).toContain(field);
    expect(problems).toEqual([]);
  });

  it('the authentication section says how each credential is sent', async () => {
    await openMenu();
    await menuEntry(page, 'Authentication').click();
    await shownAtTop(page, 'section/Authentication');
    const scheme = async (name: string) => page.locator(`[id="section/Authentication/${name}"]`).innerText();
    expect(await scheme('session')).toContain('Authorization: Bearer hs_…');
    expect(await scheme('deviceToken')).toContain('Authorization: Bearer hd_…');
    const cookie = await scheme('sessionCookie');
    expect(cookie).toContain('X-CSRF-Token: <session.csrfToken>');
    expect(cookie).toContain('__Host-homing-session');
    expect(problems).toEqual([]);
  });
});
