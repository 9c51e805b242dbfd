import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logIn, signUp } from '../../src/client/account.js';
import { type ApiClient, createApiClient } from '../../src/client/api.js';
import { type CommandVerifier, createCommandVerifier, nextCommandCounter, openLockArgs, signCommand } from '../../src/client/crypto/commands.js';
import { randomBytes, toBase64Url } from '../../src/protocol/encoding.js';
import { type LocationFix, sealLocation } from '../../src/client/crypto/location.js';
import type { UnlockedKeys } from '../../src/client/crypto/account-keys.js';
import { REPO, run, startTestServer } from '../process/spawn.js';
import { type LaunchedChromium, launchChromium } from './browser.js';

// The Find Device page in a real Chromium against a real server process. The test process plays
// the phone: it reports sealed locations, then fetches, verifies and acknowledges the commands
// the page signs.

const ASSETS = join(REPO, 'dist/web/assets.js');
const EMAIL = 'ada@example.org';
const PASSWORD = 'correct horse battery staple';
const DEVICE_NAME = "Ada's Pixel";
const MIN = 60_000;

let server: Awaited<ReturnType<typeof startTestServer>>;
let browser: LaunchedChromium;
let context: BrowserContext;
let owner: ApiClient;
let phone: ApiClient;
let keys: UnlockedKeys;
let deviceId: string;
let deviceToken: string;
let accountId: string;
/** The phone's one verifier: it also proves each command's counter exceeds the one before. */
let verifier: CommandVerifier;

beforeAll(async () => {
  if (!existsSync(ASSETS)) throw new Error('dist/web/assets.js is missing: run `npm run build:web` first (`npm test` runs it)');
  server = await startTestServer('web');
  // Debian's /usr/bin/chromium, HOMING_CHROMIUM, or the Chromium inside @sparticuz/chromium.
  browser = await launchChromium({ viewport: { width: 1280, height: 900 }, reducedMotion: 'reduce' });
  context = browser.context;
  // A step that cannot happen fails in seconds instead of Playwright's default 30.
  context.setDefaultTimeout(10_000);

  owner = createApiClient({ baseUrl: server.url });
  await signUp(owner, { birthYear: 1990, email: EMAIL, password: PASSWORD, kdf: { opsLimit: 1, memLimit: 8192 } });
  const login = await logIn(owner, { email: EMAIL, password: PASSWORD });
  keys = login.keys;
  accountId = login.response.accountId;
  const registered = await owner.registerDevice({ name: DEVICE_NAME, model: 'Pixel 9', platform: 'android', identifierHash: toBase64Url(randomBytes(32)) });
  deviceId = registered.device.id;
  deviceToken = registered.token;
  phone = createApiClient({ baseUrl: server.url, deviceToken: registered.token });
  await phone.setThisDeviceFind(true);

  // A walk across Berlin-Mitte between 52 and 12 minutes ago, reported in one batch (oldest first).
  const now = Date.now();
  const walk: LocationFix[] = [
    { lat: 52.5163, lon: 13.3777, accuracy: 40, source: 'network', battery: 71, measuredAt: now - 52 * MIN },
    { lat: 52.5176, lon: 13.3889, accuracy: 25, source: 'gps', battery: 69, measuredAt: now - 40 * MIN },
    { lat: 52.5192, lon: 13.3989, accuracy: 18, source: 'gps', battery: 67, measuredAt: now - 28 * MIN },
    { lat: 52.5200, lon: 13.4050, accuracy: 35, source: 'gps', battery: 64, measuredAt: now - 12 * MIN },
  ];
  await phone.reportLocations(walk.map((fix) => sealLocation(fix, keys.x25519PublicKey)));
  verifier = createCommandVerifier({ deviceId, ed25519PublicKey: keys.ed25519PublicKey });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** Acts as the phone: waits for the next command, verifies its signature, and answers. */
async function phoneReceives(type: string, answer?: 'succeeded') {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const { commands } = await phone.pollCommands(5);
    const command = commands.find((c) => c.type === type);
    if (!command) continue;
    const verdict = verifier.verify(command);
    expect(verdict).toMatchObject({ ok: true, type });
    if (answer) await phone.ackCommand(command.id, answer, `${type} done`);
    return { command, verdict };
  }
  throw new Error(`the phone received no ${type} command`);
}

// Generous per-step limits for a loaded CI machine; the whole file takes about 20 s.
describe('Find Device web page', { timeout: 45_000 }, () => {
  let page: Page;
  const requests: string[] = [];
  const problems: string[] = [];

  it('logs in with the keyboard, decrypts the location, draws the map, and rings the phone', async () => {
    page = context.pages()[0] ?? (await context.newPage());
    page.on('request', (request) => requests.push(request.url()));
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      // The wrong password below is answered 401 on purpose; Chromium logs every failed request.
      if (message.type() === 'error' && !message.text().includes('status of 401')) problems.push(`console: ${message.text()}`);
    });

    const response = await page.goto(server.url);
    expect(response?.status(), 'GET / must serve the page: is webRoutes mounted in src/app.ts?').toBe(200);
    expect(response?.headers()['content-security-policy']).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );

    // The email field has focus on load; Tab and Enter are all it takes.
    await page.keyboard.type(EMAIL);
    await page.keyboard.press('Tab');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');

    const device = page.locator('.device-select', { hasText: DEVICE_NAME });
    await expect.poll(() => device.count(), { timeout: 15_000 }).toBe(1);
    await expect.poll(() => device.innerText()).toMatch(/Android · Pixel 9\s+last seen just now/);
    expect(await page.getByRole('switch', { name: /Find Device on/ }).isChecked()).toBe(true);
    await device.click();

    await expect.poll(() => page.locator('#coords').textContent(), { timeout: 10_000 }).toBe('52.52000, 13.40500');
    expect(await page.locator('#accuracy').textContent()).toBe('± 35 m');
    expect(await page.locator('#age').textContent()).toBe('12 min ago');
    expect(await page.locator('#battery').textContent()).toBe('64 %');
    expect(await page.locator('#trail-summary').textContent()).toMatch(/^4 fixes in the last 24 hours/);
    const osm = page.locator('#osm-link');
    expect(await osm.getAttribute('href')).toBe('https://www.openstreetmap.org/?mlat=52.52000&mlon=13.40500#map=16/52.52000/13.40500');
    expect(await osm.getAttribute('rel')).toBe('noopener noreferrer');

    // The map without a street-map archive: the offline land from the bundled atlas under the
    // trail (its times and arrows), the accuracy circle and the marker, and no address line.
    const map = page.locator('#map');
    await expect.poll(() => map.locator('path.map-marker').count()).toBe(1);
    expect(await page.locator('meta[name="homing-map"]').count()).toBe(0);
    await expect.poll(() => map.locator('path.map-land').count()).toBeGreaterThan(0);
    expect(await map.locator('path.map-land').first().getAttribute('d')).toMatch(/^M/);
    expect(await map.locator('canvas').count()).toBe(0);
    expect(await map.locator('path.map-trail').getAttribute('d')).toMatch(/^M/);
    expect(await map.locator('path.map-trail-point').count()).toBe(3);
    expect(await map.locator('.leaflet-tooltip.map-time').count()).toBe(4);
    expect(await map.locator('path.map-arrow').count()).toBe(3);
    expect(await map.locator('path.map-accuracy').getAttribute('d')).toMatch(/a[\d.]+,[\d.]+ /);
    expect(await map.getAttribute('aria-label')).toContain('52.52000, 13.40500');
    expect(await map.locator('.leaflet-control-attribution a', { hasText: 'Natural Earth' }).count()).toBe(1);
    expect(await page.locator('#location-address').isHidden()).toBe(true);
    // It zooms, by button and keyboard. Berlin close up is all land, a plain rectangle; eight
    // levels further out (Shift and minus zoom out three at a time) the coasts come into view.
    const land = (await map.locator('path.map-land').first().getAttribute('d'))!;
    const scale = await map.locator('.leaflet-control-scale-line').textContent();
    await map.getByRole('button', { name: 'Zoom in' }).click();
    await expect.poll(() => map.locator('.leaflet-control-scale-line').textContent()).not.toBe(scale);
    await map.focus();
    for (let press = 0; press < 3; press++) await page.keyboard.press('Shift+Minus');
    await expect.poll(async () => (await map.locator('path.map-land').first().getAttribute('d'))!.split('L').length).toBeGreaterThan(land.split('L').length * 20);

    await page.getByRole('button', { name: 'Ring', exact: true }).click();
    const ring = await phoneReceives('ring', 'succeeded');
    expect(ring.command.counter).toBeGreaterThanOrEqual(ring.command.issuedAt);
    await expect
      .poll(() => page.locator('#command-list li[data-type="ring"]').getAttribute('data-status'), { timeout: 10_000 })
      .toBe('succeeded');
    expect(await page.locator('#command-list li[data-type="ring"] .command-result').textContent()).toBe('ring done');

    const shot = join(REPO, 'test-artifacts/find-device.png');
    mkdirSync(join(REPO, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: shot, animations: 'disabled', fullPage: true });

    // The device CLI, holding this device's token, reports where it is now: the page shows it.
    const state = join(server.dir, 'phone-cli.json');
    writeFileSync(state, JSON.stringify({ server: server.url, accountId, deviceId, deviceToken, x25519PublicKey: toBase64Url(keys.x25519PublicKey), ed25519PublicKey: toBase64Url(keys.ed25519PublicKey) }));
    const reported = await run('src/client/cli/main.ts', { cwd: server.dir, args: ['locate', '--lat', '52.5251', '--lon', '13.3694', '--accuracy', '20', '--state', state] });
    expect(reported.output).toContain('reported 1 location; last 52.52510, 13.36940 (±20 m)');
    await device.click();
    await expect.poll(() => page.locator('#coords').textContent(), { timeout: 10_000 }).toBe('52.52510, 13.36940');
    expect(await page.locator('#accuracy').textContent()).toBe('± 20 m');
  });

  it('locks with a sealed message, and wipes only after the name and a fresh password proof', async () => {
    await page.getByRole('button', { name: 'Lock…' }).click();
    const lockDialog = page.locator('#lock-dialog');
    expect(await lockDialog.evaluate((dialog: HTMLDialogElement) => dialog.open)).toBe(true);
    await lockDialog.getByLabel('Message on the lock screen').fill('Lost phone, reward offered');
    await lockDialog.getByLabel('Callback number (optional)').fill('+49 30 1234567');
    await lockDialog.getByRole('button', { name: 'Lock', exact: true }).click();
    const lock = await phoneReceives('lock', 'succeeded');
    expect(lock.command.args).not.toContain('reward');
    expect(openLockArgs(lock.verdict.ok && lock.verdict.args, keys.x25519PublicKey, keys.x25519SecretKey)).toEqual({
      message: 'Lost phone, reward offered',
      callbackNumber: '+49 30 1234567',
    });
    // The lock put the device in Lost Mode, and the page says since when.
    await expect.poll(() => page.locator('#lost-mode').textContent()).toMatch(/^In Lost Mode since .+ \(just now\)\.$/);
    expect(await page.getByRole('button', { name: 'End Lost Mode' }).isVisible()).toBe(true);

    // The thief pulls the SIM out of the locked phone: the page shows it as an alert.
    await phone.reportSimEvent({ eventId: toBase64Url(randomBytes(16)), kind: 'removed', simIdHash: toBase64Url(randomBytes(32)) });
    await page.locator('.device-select', { hasText: DEVICE_NAME }).click();
    await expect.poll(() => page.locator('#sim-alert-list .sim-alert').count(), { timeout: 10_000 }).toBe(1);
    expect(await page.locator('#sim-alerts').isVisible()).toBe(true);
    expect(await page.locator('#sim-alert-list .sim-alert').textContent()).toContain('While locked as lost: SIM removed');

    await page.getByRole('button', { name: 'Wipe…' }).click();
    const wipeDialog = page.locator('#wipe-dialog');
    await wipeDialog.getByLabel(/Type the device name/).fill('some other phone');
    await wipeDialog.getByLabel(/Your password/).fill(PASSWORD);
    await wipeDialog.getByRole('button', { name: 'Wipe the phone' }).click();
    await expect.poll(() => wipeDialog.locator('.dialog-error').textContent()).toContain(`Type the device name exactly as shown: ${DEVICE_NAME}`);

    await wipeDialog.getByLabel(/Type the device name/).fill(DEVICE_NAME);
    await wipeDialog.getByLabel(/Your password/).fill('not the password');
    await wipeDialog.getByRole('button', { name: 'Wipe the phone' }).click();
    await expect.poll(() => wipeDialog.locator('.dialog-error').textContent()).toMatch(/wrong/i);

    await wipeDialog.getByLabel(/Your password/).fill(PASSWORD);
    await wipeDialog.getByRole('button', { name: 'Wipe the phone' }).click();
    await phoneReceives('wipe');
    expect(await wipeDialog.evaluate((dialog: HTMLDialogElement) => dialog.open)).toBe(false);
    await expect.poll(() => page.locator('#command-list li[data-type="wipe"]').count(), { timeout: 10_000 }).toBe(1);
  });

  it('shows a command that expired before the phone checked in, then ends Lost Mode with a signed unlock', async () => {
    // Signed elsewhere by the owner with a one-second expiry; the phone stays offline past it.
    const { commands } = await owner.commands(deviceId);
    const issuedAt = Date.now();
    const counter = nextCommandCounter(commands[0]!.counter, issuedAt);
    const ring = signCommand({ deviceId, type: 'ring', args: {}, issuedAt, expiresAt: issuedAt + 1000, counter }, keys.ed25519Seed);
    const sent = await owner.sendCommand(deviceId, ring);
    const row = page.locator(`#command-list li[data-type="ring"][data-status="expired"]`);
    await expect.poll(() => row.count(), { timeout: 15_000 }).toBe(1);
    expect(await row.locator('.command-lifecycle').textContent()).toMatch(/^the phone did not check in before it expired (just now|1 min ago)$/);
    expect((await owner.commands(deviceId)).commands.find((c) => c.id === sent.id)).toMatchObject({ status: 'expired', deliveries: 0 });

    await page.getByRole('button', { name: 'End Lost Mode' }).click();
    const unlock = await phoneReceives('unlock', 'succeeded');
    expect(unlock.command.expiresAt - unlock.command.issuedAt).toBe(7 * 24 * 60 * MIN);
    await expect.poll(() => page.locator('#lost-mode').isVisible(), { timeout: 15_000 }).toBe(false);
    expect(await page.getByRole('button', { name: 'End Lost Mode' }).isVisible()).toBe(false);
    expect((await owner.devices()).devices[0]!.lostMode).toBeNull();
    await expect
      .poll(() => page.locator('#command-list li[data-type="unlock"]').getAttribute('data-status'), { timeout: 10_000 })
      .toBe('succeeded');
  });

  it('fits a phone screen, turns Find Device off only after asking, logs out, and made no third-party request', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const widths = await page.evaluate(() => ({ page: document.documentElement.scrollWidth, view: window.innerWidth }));
    expect(widths.page).toBeLessThanOrEqual(widths.view);
    await page.screenshot({ path: join(REPO, 'test-artifacts/find-device-phone.png'), animations: 'disabled', fullPage: true });

    // Turning Find Device off asks first, then the page stops showing a location.
    await page.getByRole('switch', { name: /Find Device/ }).click();
    const confirmDialog = page.locator('#confirm-dialog');
    expect(await confirmDialog.locator('#confirm-text').textContent()).toContain('deletes its stored locations');
    await confirmDialog.getByRole('button', { name: 'Turn off' }).click();
    await expect.poll(() => page.locator('#location-message').textContent()).toBe('No location: Find Device is off for this device.');
    expect(await page.getByRole('switch', { name: /Find Device off/ }).isChecked()).toBe(false);
    expect(await page.getByRole('button', { name: 'Ring', exact: true }).isDisabled()).toBe(true);
    expect((await owner.devices()).devices[0]!.findEnabled).toBe(false);

    await page.getByRole('button', { name: 'Log out' }).click();
    await expect.poll(() => page.locator('#login-view').isVisible()).toBe(true);
    // Logging out ended the server session, not just the page's view of it.
    expect(await page.evaluate(() => fetch('/v1/devices').then((r) => r.status))).toBe(401);

    const origin = new URL(server.url).origin;
    expect(requests.length).toBeGreaterThan(5);
    // data: is the empty favicon; everything else must go to the app itself.
    expect(requests.filter((url) => !url.startsWith('data:') && new URL(url).origin !== origin)).toEqual([]);
    expect(requests).toContain(`${origin}/assets/world.json`);
    expect(problems).toEqual([]);
  });
});
