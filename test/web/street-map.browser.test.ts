import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { namedFlavor } from '@protomaps/basemaps';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logIn, signUp } from '../../src/client/account.js';
import { createApiClient } from '../../src/client/api.js';
import { type LocationFix, sealLocation } from '../../src/client/crypto/location.js';
import { randomBytes, toBase64Url } from '../../src/protocol/encoding.js';
import { MAP_FIXTURE, writeMapFixture } from '../fixtures/map-fixture.js';
import { REPO, startTestServer } from '../process/spawn.js';
import { type LaunchedChromium, launchChromium } from './browser.js';

// The street map in a real Chromium against real server processes serving the fixture PMTiles
// archive (a made-up town, Testhaven). The test process plays the phone: it reports a short walk
// that ends on Fixture Street. One server fetches the archive whole (it is far below the default
// MAP_FETCH_WHOLE_BELOW_MB), the other reads it by Range (MAP_FETCH_WHOLE_BELOW_MB=0); the desktop
// viewport runs on the first and the phone viewport on the second. The world fallback without an
// archive is checked in find-device.browser.test.ts, whose server has none.
//
// HOMING_DOCS_SCREENSHOT=1 also writes the README's screenshot, docs/find-device.png, from the
// desktop run (off by default, so that a test run leaves the tracked file alone).

const EMAIL = 'grace@example.org';
const PASSWORD = 'correct horse battery staple';
const DEVICE_NAME = "Grace's phone";
const MIN = 60_000;
const LIGHT = namedFlavor('light');

/** The colour as Canvas 2D reads it back. */
const rgb = (hex: string) => [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));

let browser: LaunchedChromium;
let fixtureDir: string;
const servers: Record<'whole' | 'range', Awaited<ReturnType<typeof startTestServer>>> = {} as never;

beforeAll(async () => {
  fixtureDir = mkdtempSync(join(tmpdir(), 'homing-street-map-'));
  const { path } = await writeMapFixture(join(fixtureDir, 'testhaven.pmtiles'));
  [servers.whole, servers.range, browser] = await Promise.all([
    startTestServer('street-map', { MAP_ARCHIVE_FILE: path }),
    startTestServer('street-map-range', { MAP_ARCHIVE_FILE: path, MAP_FETCH_WHOLE_BELOW_MB: '0' }),
    launchChromium({ reducedMotion: 'reduce' }),
  ]);
  browser.context.setDefaultTimeout(10_000);
  // Records, from inside the page, the text protomaps-leaflet draws on its tile canvases and in
  // which colour: the labels the map really shows. The drawing itself still happens.
  await browser.context.addInitScript(() => {
    const drawn: { text: string; fill: string }[] = [];
    (window as unknown as { drawnLabels: typeof drawn }).drawnLabels = drawn;
    const fillText = CanvasRenderingContext2D.prototype.fillText;
    CanvasRenderingContext2D.prototype.fillText = function (text: string, x: number, y: number, maxWidth?: number) {
      if (this.canvas.classList.contains('leaflet-tile')) drawn.push({ text, fill: String(this.fillStyle) });
      return maxWidth === undefined ? fillText.call(this, text, x, y) : fillText.call(this, text, x, y, maxWidth);
    };
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all(Object.values(servers).map((server) => server?.stop()));
  if (fixtureDir) rmSync(fixtureDir, { recursive: true, force: true });
});

/** A phone on this server that walked south-west for 40 minutes and now stands on Fixture Street. */
async function phoneThatWalked(url: string): Promise<LocationFix[]> {
  const owner = createApiClient({ baseUrl: url });
  await signUp(owner, { birthYear: 1990, email: EMAIL, password: PASSWORD, kdf: { opsLimit: 1, memLimit: 8192 } });
  const { keys } = await logIn(owner, { email: EMAIL, password: PASSWORD });
  const registered = await owner.registerDevice({ name: DEVICE_NAME, model: 'Pixel 9', platform: 'android', identifierHash: toBase64Url(randomBytes(32)) });
  const phone = createApiClient({ baseUrl: url, deviceToken: registered.token });
  await phone.setThisDeviceFind(true);
  const now = Date.now();
  const { lat, lon } = MAP_FIXTURE.center;
  const walk: LocationFix[] = [
    { lat: lat + 0.0032, lon: lon + 0.0042, accuracy: 30, source: 'network', battery: 80, measuredAt: now - 45 * MIN },
    { lat: lat + 0.0021, lon: lon + 0.0028, accuracy: 20, source: 'gps', battery: 79, measuredAt: now - 30 * MIN },
    { lat: lat + 0.001, lon: lon + 0.0013, accuracy: 15, source: 'gps', battery: 78, measuredAt: now - 18 * MIN },
    { lat, lon, accuracy: 12, source: 'gps', battery: 77, measuredAt: now - 6 * MIN },
  ];
  await phone.reportLocations(walk.map((fix) => sealLocation(fix, keys.x25519PublicKey)));
  return walk;
}

/** The zoom levels of the street tiles drawn now (protomaps-leaflet keys each canvas "x:y:z"). */
const tileZooms = (page: Page) =>
  page.evaluate(() => [...new Set([...document.querySelectorAll<HTMLCanvasElement & { key?: string }>('#map canvas.leaflet-tile-loaded')].map((c) => Number(c.key?.split(':')[2])))]);

/**
 * How much of the pixel row through the last fix's marker, across the map, is road-coloured in the
 * tile canvases: Fixture Street runs east-west through that point.
 */
const roadShareThroughMarker = (page: Page, road: number[]) =>
  page.evaluate((colour) => {
    const marker = document.querySelector('#map path.map-marker')!.getBoundingClientRect();
    const frame = document.getElementById('map')!.getBoundingClientRect();
    const y = marker.top + marker.height / 2;
    let total = 0;
    let roadPixels = 0;
    for (const canvas of document.querySelectorAll<HTMLCanvasElement>('#map canvas.leaflet-tile-loaded')) {
      const box = canvas.getBoundingClientRect();
      if (y < box.top || y >= box.bottom) continue;
      const row = canvas.getContext('2d')!.getImageData(0, Math.floor(((y - box.top) * canvas.height) / box.height), canvas.width, 1).data;
      for (let x = 0; x < canvas.width; x++) {
        const screenX = box.left + (x * box.width) / canvas.width;
        if (screenX < frame.left || screenX >= frame.right) continue;
        total++;
        if (row[4 * x] === colour[0] && row[4 * x + 1] === colour[1] && row[4 * x + 2] === colour[2]) roadPixels++;
      }
    }
    return total === 0 ? 0 : roadPixels / total;
  }, road);

const viewports = [
  { name: 'desktop', width: 1280, height: 900, mode: 'whole' as const },
  { name: 'phone', width: 390, height: 844, mode: 'range' as const },
];

describe.each(viewports)('the street map at $width × $height, archive read $mode', ({ width, height, mode }) => {
  it(
    'draws streets and labels from our own archive, zooms and pans, names the street, and asks no third party',
    { timeout: 60_000 },
    async () => {
      const server = servers[mode];
      const origin = new URL(server.url).origin;
      const walk = await phoneThatWalked(server.url);
      const page = await browser.context.newPage();
      await page.setViewportSize({ width, height });
      const requests: { url: string; method: string; range?: string }[] = [];
      const failures: string[] = [];
      const archiveAnswers: { method: string; range?: string; status: number }[] = [];
      const problems: string[] = [];
      page.on('request', (request) => requests.push({ url: request.url(), method: request.method(), range: request.headers().range }));
      page.on('response', (response) => {
        const request = response.request();
        // On load the page asks whether a session is alive; before the login it is not (401).
        const sessionProbe = response.status() === 401 && new URL(response.url()).pathname === '/v1/auth/session';
        if (response.status() >= 400 && !sessionProbe) failures.push(`${response.status()} ${request.method()} ${response.url()}`);
        if (new URL(response.url()).pathname === '/v1/map/archive') archiveAnswers.push({ method: request.method(), range: request.headers().range, status: response.status() });
      });
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      page.on('console', (message) => {
        // Chromium logs that 401 too.
        if (message.type() === 'error' && !message.text().includes('status of 401')) problems.push(`console: ${message.text()}`);
      });

      await page.goto(server.url);
      expect(await page.locator('meta[name="homing-map"]').getAttribute('content')).toBe('/v1/map/archive');
      await page.locator('#email').fill(EMAIL);
      await page.locator('#password').fill(PASSWORD);
      await page.locator('#password').press('Enter');
      await page.locator('.device-select', { hasText: DEVICE_NAME }).click();
      await expect.poll(() => page.locator('#coords').textContent(), { timeout: 15_000 }).toBe('48.20000, 11.60000');

      // Streets: the road colour of the 'light' flavor fills the row through the marker.
      await expect.poll(() => roadShareThroughMarker(page, rgb(LIGHT.major)), { timeout: 15_000 }).toBeGreaterThan(0.6);
      // …and not merely because the canvases are blank: the earth around the road is drawn too.
      const earthShare = await page.evaluate((earth) => {
        const canvas = document.querySelector<HTMLCanvasElement>('#map canvas.leaflet-tile-loaded')!;
        const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        let count = 0;
        for (let i = 0; i < data.length; i += 4) if (data[i] === earth[0] && data[i + 1] === earth[1] && data[i + 2] === earth[2]) count++;
        return count / (data.length / 4);
      }, rgb(LIGHT.earth));
      expect(earthShare).toBeGreaterThan(0.2);

      // Labels: the street and the town are written on the tiles in the style's label colours.
      await expect
        .poll(() => page.evaluate(() => (window as unknown as { drawnLabels: { text: string; fill: string }[] }).drawnLabels.map((label) => label.text)), { timeout: 10_000 })
        .toEqual(expect.arrayContaining([MAP_FIXTURE.street, MAP_FIXTURE.place]));
      const labels = await page.evaluate(() => (window as unknown as { drawnLabels: { text: string; fill: string }[] }).drawnLabels);
      expect(labels.find((label) => label.text === MAP_FIXTURE.street)?.fill).toBe(LIGHT.roads_label_major);
      expect(labels.find((label) => label.text === MAP_FIXTURE.place)?.fill).toBe(LIGHT.city_label);

      // The address line, computed in the page from the same archive.
      await expect.poll(() => page.locator('#location-address').textContent(), { timeout: 10_000 }).toContain(MAP_FIXTURE.street);
      expect(await page.locator('#location-address').textContent()).toContain(MAP_FIXTURE.place);
      expect(await page.locator('#location-address').isVisible()).toBe(true);

      // The trail: each point's time on the map, an arrow along each step, the accuracy circle.
      const map = page.locator('#map');
      const times = await page.evaluate(
        (stamps) => stamps.map((ms) => new Date(ms).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })),
        walk.map((fix) => fix.measuredAt),
      );
      expect(await map.locator('.leaflet-tooltip.map-time').allTextContents()).toEqual(times);
      const arrows = await map.locator('path.map-arrow').evaluateAll((paths) => paths.map((path) => path.getAttribute('d')));
      expect(arrows).toHaveLength(3);
      for (const d of arrows) expect(d).toMatch(/^M[\d.-]+ [\d.-]+L[\d.-]+ [\d.-]+L[\d.-]+ [\d.-]+z$/);
      expect(await map.locator('path.map-trail').getAttribute('d')).toMatch(/^M/);
      expect(await map.locator('path.map-accuracy').getAttribute('d')).toMatch(/a[\d.]+,[\d.]+ /);
      expect(await map.locator('path.map-marker').count()).toBe(1);
      expect(await map.getAttribute('aria-label')).toContain('48.20000, 11.60000');
      // The same trail as text, for screen readers and for everyone.
      const steps = await page.locator('#trail-list li').allTextContents();
      expect(steps[0]).toBe(`${times[0]} (45 min ago): first point of the trail`);
      for (const [index, step] of steps.slice(1).entries()) expect(step).toMatch(new RegExp(`^${times[index + 1]} \\(\\d+ min ago\\): south-west, 1\\d\\d m$`));
      // Attribution as links, and the map fits the screen.
      const attribution = map.locator('.leaflet-control-attribution');
      expect(await attribution.locator('a', { hasText: 'OpenStreetMap contributors' }).getAttribute('href')).toBe('https://www.openstreetmap.org/copyright');
      expect(await attribution.locator('a', { hasText: 'Protomaps' }).count()).toBe(1);
      const widths = await page.evaluate(() => ({ page: document.documentElement.scrollWidth, view: window.innerWidth }));
      expect(widths.page).toBeLessThanOrEqual(widths.view);

      mkdirSync(join(REPO, 'test-artifacts'), { recursive: true });
      await map.scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(REPO, `test-artifacts/street-map-${width}.png`), animations: 'disabled', fullPage: true });
      if (width === 1280 && process.env.HOMING_DOCS_SCREENSHOT === '1') await page.screenshot({ path: join(REPO, 'docs/find-device.png'), animations: 'disabled', fullPage: true });

      // Zoom: the + button draws the next level's tiles and changes the scale; the keyboard zooms back.
      const [first] = await tileZooms(page);
      const scale = await map.locator('.leaflet-control-scale-line').textContent();
      await map.getByRole('button', { name: 'Zoom in' }).click();
      await expect.poll(() => tileZooms(page), { timeout: 10_000 }).toEqual([first! + 1]);
      expect(await map.locator('.leaflet-control-scale-line').textContent()).not.toBe(scale);
      await map.focus();
      await page.keyboard.press('-');
      await expect.poll(() => tileZooms(page), { timeout: 10_000 }).toEqual([first]);
      expect(await map.locator('.leaflet-control-scale-line').textContent()).toBe(scale);
      // Pan: the arrow key moves the map, so the marker moves the other way on screen.
      const before = (await map.locator('path.map-marker').boundingBox())!;
      await page.keyboard.press('ArrowRight');
      await expect.poll(async () => (await map.locator('path.map-marker').boundingBox())!.x, { timeout: 5000 }).toBeLessThan(before.x - 40);

      // Nothing left the origin, nothing failed, and the archive was read as the mode says.
      expect(requests.filter((request) => !request.url.startsWith('data:') && new URL(request.url).origin !== origin)).toEqual([]);
      expect(failures).toEqual([]);
      expect(problems).toEqual([]);
      const gets = archiveAnswers.filter((answer) => answer.method === 'GET');
      expect(archiveAnswers.filter((answer) => answer.method === 'HEAD')).toEqual([{ method: 'HEAD', range: undefined, status: 200 }]);
      if (mode === 'whole') {
        // Once, whole, without Range: the server cannot tell which tiles are shown.
        expect(gets).toEqual([{ method: 'GET', range: undefined, status: 200 }]);
      } else {
        expect(gets.length).toBeGreaterThanOrEqual(2);
        for (const answer of gets) expect(answer).toMatchObject({ range: expect.stringMatching(/^bytes=\d+-\d+$/), status: 206 });
      }
      await page.close();
    },
  );
});
