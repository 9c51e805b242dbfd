import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logIn, signUp } from '../../src/client/account.js';
import { type ApiClient, createApiClient } from '../../src/client/api.js';
import { type CommandVerifier, createCommandVerifier } from '../../src/client/crypto/commands.js';
import { sealLocation } from '../../src/client/crypto/location.js';
import { randomBytes, toBase64Url } from '../../src/protocol/encoding.js';
import { freePort, killIfRunning, REPO, type Running, start, waitForHealth } from '../process/spawn.js';
import { type LaunchedChromium, launchChromium } from './browser.js';

// What state each device is in, as the page shows it, in a real Chromium against the built server
// (which is stopped and started again on the same port midway). The test process plays two
// phones through the SDK. The page is opened at http://127.0.0.1:PORT, the listen address the
// server logs, while PUBLIC_URL keeps its default http://localhost:PORT: logins and every signed
// command must work there too.

const EMAIL = 'grace@example.org';
const PASSWORD = 'correct horse battery staple';
const PIXEL = "Grace's Pixel";
const GALAXY = 'Old Galaxy';
const HOUR = 3_600_000;
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };

let dir: string;
let port: number;
let server: Running | undefined;
let browser: LaunchedChromium;
let page: Page;
const phones: Record<string, { api: ApiClient; id: string; verifier: CommandVerifier }> = {};
const problems: string[] = [];

async function startServer() {
  server = start('src/node.ts', { cwd: dir, env: { PORT: String(port), KDF_MIN_OPS_LIMIT: '1', KDF_MIN_MEM_LIMIT: '8192', LOG_LEVEL: 'warn' } });
  await waitForHealth(`http://localhost:${port}`, server);
}

async function stopServer() {
  server!.child.kill('SIGTERM');
  expect(await server!.exited).toBe(0);
}

beforeAll(async () => {
  if (!existsSync(join(REPO, 'dist/web/assets.js'))) throw new Error('dist/web/assets.js is missing: run `npm run build:web` first (`npm test` runs it)');
  dir = mkdtempSync(join(tmpdir(), 'homing-device-state-'));
  port = await freePort();
  await startServer();
  browser = await launchChromium({ viewport: DESKTOP, reducedMotion: 'reduce' });
  browser.context.setDefaultTimeout(10_000);

  const owner = createApiClient({ baseUrl: `http://localhost:${port}` });
  await signUp(owner, { birthYear: 1990, email: EMAIL, password: PASSWORD, kdf: { opsLimit: 1, memLimit: 8192 } });
  const { keys } = await logIn(owner, { email: EMAIL, password: PASSWORD });
  for (const [name, model] of [[PIXEL, 'Pixel 9'], [GALAXY, 'Galaxy S8']] as const) {
    const registered = await owner.registerDevice({ name, model, platform: 'android', identifierHash: toBase64Url(randomBytes(32)) });
    const api = createApiClient({ baseUrl: `http://localhost:${port}`, deviceToken: registered.token });
    await api.setThisDeviceFind(true);
    await api.reportLocations([sealLocation({ lat: 51.5, lon: -0.12, accuracy: 30, source: 'gps', battery: 80, measuredAt: Date.now() - 60_000 }, keys.x25519PublicKey)]);
    phones[name] = { api, id: registered.device.id, verifier: createCommandVerifier({ deviceId: registered.device.id, ed25519PublicKey: keys.ed25519PublicKey }) };
  }
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await killIfRunning(server);
  rmSync(dir, { recursive: true, force: true });
});

/** Acts as the phone: waits for its next command of this type, checks the owner's signature, and answers it. */
async function phoneAnswers(name: string, type: string, result: string) {
  const phone = phones[name]!;
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const command = (await phone.api.pollCommands(5)).commands.find((c) => c.type === type);
    if (!command) continue;
    expect(phone.verifier.verify(command)).toMatchObject({ ok: true, type });
    await phone.api.ackCommand(command.id, 'succeeded', result);
    return;
  }
  throw new Error(`${name} received no ${type} command`);
}

const listed = (name: string) => page.locator('.device-select', { hasText: name });
const status = () => page.locator('#status').textContent();
/** What has the keyboard focus: a command button's type, else the element's id. */
const focused = () => page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.command ?? document.activeElement?.id ?? null);

/** Every command button shown, each wholly inside the viewport as it is, without the test scrolling. */
async function commandButtonsOutsideViewport() {
  return page.locator('[data-command]:visible').evaluateAll((buttons) =>
    buttons
      .map((button) => ({ name: button.textContent, box: button.getBoundingClientRect() }))
      .filter(({ box }) => box.top < 0 || box.left < 0 || box.bottom > window.innerHeight || box.right > window.innerWidth)
      .map(({ name, box }) => `${name} at ${Math.round(box.left)},${Math.round(box.top)}–${Math.round(box.right)},${Math.round(box.bottom)} in ${window.innerWidth}×${window.innerHeight}`),
  );
}

async function select(name: string) {
  await listed(name).click();
  await expect.poll(() => page.locator('#detail-title').textContent()).toBe(name);
}

describe('device state on the Find Device page', { timeout: 60_000 }, () => {
  it('logs in at http://127.0.0.1 (the logged listen address, not PUBLIC_URL) with no plain-HTTP notice, and shows both phones as online', async () => {
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    await page.goto(`http://127.0.0.1:${port}`);
    expect(await page.locator('#insecure-notice').isHidden()).toBe(true);
    await page.locator('#email').fill(EMAIL);
    await page.locator('#password').fill(PASSWORD);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('.device-select').count(), { timeout: 15_000 }).toBe(2);
    expect(await listed(PIXEL).locator('.device-seen').textContent()).toBe('last seen just now');
    expect(await page.locator('.device-select .state').count()).toBe(0);
  });

  it(`at ${DESKTOP.width}×${DESKTOP.height}: every command button is on screen after choosing a phone`, async () => {
    await select(PIXEL);
    expect(await commandButtonsOutsideViewport()).toEqual([]);
  });

  it('announces a command in the one live region when sent and when the phone answers, and the keyboard focus stays on the button', async () => {
    const live = page.locator('#status');
    expect(await live.getAttribute('role')).toBe('status');
    expect(await live.getAttribute('aria-live')).toBe('polite');
    // No second live region in the device view to talk over it.
    expect(await page.locator('#detail [role="status"], #detail [aria-live], #devices [role="status"], #devices [aria-live]').count()).toBe(0);

    await page.getByRole('button', { name: 'Ring', exact: true }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(status).toBe(`Ring sent to ${PIXEL}; it runs when the phone next checks in, within 7 days.`);
    expect(await focused()).toBe('ring');
    await phoneAnswers(PIXEL, 'ring', 'rang for 30 s');
    await expect.poll(status, { timeout: 10_000 }).toBe(`Ring on ${PIXEL}: done (rang for 30 s).`);
    expect(await focused()).toBe('ring');
  });

  it('shows Lost Mode in the list and the header once a lock is sent; focus comes back to Lock… and stays on it after the phone answers', async () => {
    await page.getByRole('button', { name: 'Lock…' }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.locator('#lock-dialog');
    await dialog.getByLabel('Callback number (optional)').fill('+44 20 7946 0000');
    await dialog.getByRole('button', { name: 'Lock', exact: true }).click();
    await expect.poll(() => listed(PIXEL).locator('.state-lost').textContent()).toBe('Lost Mode');
    expect(await page.locator('#lost-mode').textContent()).toMatch(/^In Lost Mode since .+ \(just now\)\.$/);
    expect(await focused()).toBe('lock');
    await phoneAnswers(PIXEL, 'lock', 'locked');
    await expect.poll(status, { timeout: 10_000 }).toBe(`Lock on ${PIXEL}: done (locked).`);
    expect(await focused()).toBe('lock');
    expect(await listed(GALAXY).locator('.state').count()).toBe(0);
  });

  it('shows "Wiped" once the phone confirms a wipe, turns every command off and says why, with the focus on that reason', async () => {
    await select(GALAXY);
    await page.getByRole('button', { name: 'Wipe…' }).click();
    const dialog = page.locator('#wipe-dialog');
    await dialog.getByLabel(/Type the device name/).fill(GALAXY);
    await dialog.getByLabel(/Your password/).fill(PASSWORD);
    await dialog.getByRole('button', { name: 'Wipe the phone' }).click();
    await expect.poll(status).toBe(`Wipe sent to ${GALAXY}; it runs when the phone next checks in, within 7 days.`);
    // Sent is not done: no "Wiped" before the phone says so.
    expect(await page.locator('#wiped').isHidden()).toBe(true);
    expect(await page.getByRole('button', { name: 'Ring', exact: true }).isEnabled()).toBe(true);

    await phoneAnswers(GALAXY, 'wipe', 'erased');
    await expect.poll(() => listed(GALAXY).locator('.state-wiped').textContent(), { timeout: 10_000 }).toBe('Wiped');
    expect(await page.locator('#wiped').textContent()).toMatch(/^Wiped .+ \(just now\): the phone confirmed it erased everything.*can no longer be found or take commands\. Commands are off\./);
    expect(await page.locator('[data-command]:visible').evaluateAll((buttons) => buttons.filter((b) => !(b as HTMLButtonElement).disabled).length)).toBe(0);
    expect(await status()).toBe(`Wipe on ${GALAXY}: done (erased).`);
    expect(await focused()).toBe('wiped');
    // The Pixel is still only lost.
    expect(await listed(PIXEL).locator('.state').allTextContents()).toEqual(['Lost Mode']);
  });

  it('the "cannot reach the server" notice appears while the server is stopped, and goes away by itself once it runs again on the same port', async () => {
    await stopServer();
    const notice = page.locator('#notice');
    await expect.poll(() => notice.textContent(), { timeout: 15_000 }).toMatch(/^Cannot reach the server/);
    expect(await notice.isVisible()).toBe(true);
    await startServer();
    await expect.poll(() => notice.isHidden(), { timeout: 15_000 }).toBe(true);
    // Still logged in: the session outlived the restart.
    expect(await page.locator('#app-view').isVisible()).toBe(true);
    expect(await page.locator('#detail-title').textContent()).toBe(GALAXY);
  });

  it(`at ${PHONE.width}×${PHONE.height}: after choosing a phone every command button is on screen, and Lost Mode and Wiped still show`, async () => {
    await page.setViewportSize(PHONE);
    await page.evaluate(() => window.scrollTo(0, 0));
    await select(PIXEL);
    expect(await page.locator('[data-command]:visible').count()).toBe(6);
    expect(await commandButtonsOutsideViewport()).toEqual([]);
    expect(await page.locator('#lost-mode').isVisible()).toBe(true);
    expect(await listed(GALAXY).locator('.state-wiped').isVisible()).toBe(true);
    const widths = await page.evaluate(() => ({ page: document.documentElement.scrollWidth, view: window.innerWidth }));
    expect(widths.page).toBeLessThanOrEqual(widths.view);
  });

  it('a phone not seen for two hours reads "offline since …" in the list and the header; the wiped one stays just "Wiped" (at both sizes)', async () => {
    // The page judges "offline" by its own clock against the server's last-seen time: moving the
    // browser's clock two hours on is the phone having been silent for two hours.
    await page.clock.setSystemTime(Date.now() + 2 * HOUR);
    for (const viewport of [PHONE, DESKTOP]) {
      await page.setViewportSize(viewport);
      await select(PIXEL);
      await expect.poll(() => listed(PIXEL).locator('.device-seen').textContent()).toMatch(/^offline since .+ \(2 h ago\)$/);
      expect(await page.locator('#detail-meta').textContent()).toMatch(/^Android · Pixel 9 · offline since .+ \(2 h ago\)$/);
      expect(await listed(PIXEL).locator('.state').allTextContents()).toEqual(['Lost Mode']);
      expect(await listed(GALAXY).locator('.device-seen').textContent()).not.toMatch(/offline/);
      expect(await listed(GALAXY).locator('.state').allTextContents()).toEqual(['Wiped']);
    }
    expect(problems).toEqual([]);
  });
});
