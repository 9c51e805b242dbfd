import { geoDistance } from 'd3-geo';
import { describe, expect, it } from 'vitest';
import { commandLifecycle, coordinates, metres, openStreetMapUrl, timeAgo, timeUntil } from '../../src/web/format.js';
import { EARTH_RADIUS_M, fitProjection, scaleBar, tilesFor, tileUrl } from '../../src/web/map-geometry.js';

const MIN = 60_000;

describe('page text', () => {
  it('says how long ago, in the largest whole unit', () => {
    const now = 1_750_000_000_000;
    expect(timeAgo(now - 20_000, now)).toBe('just now');
    expect(timeAgo(now + 5 * MIN, now)).toBe('just now');
    expect(timeAgo(now - 12 * MIN - 30_000, now)).toBe('12 min ago');
    expect(timeAgo(now - 3 * 60 * MIN, now)).toBe('3 h ago');
    expect(timeAgo(now - 26 * 60 * MIN, now)).toBe('1 day ago');
    expect(timeAgo(now - 3 * 24 * 60 * MIN, now)).toBe('3 days ago');
  });

  it('says how long until, in the largest whole unit', () => {
    const now = 1_750_000_000_000;
    expect(timeUntil(now - MIN, now)).toBe('now');
    expect(timeUntil(now + 12 * MIN + 30_000, now)).toBe('in 12 min');
    expect(timeUntil(now + 3 * 60 * MIN, now)).toBe('in 3 h');
    expect(timeUntil(now + 7 * 24 * 60 * MIN, now)).toBe('in 7 days');
  });

  it("tells each command's lifecycle: fetched how often, answered, expired or cancelled", () => {
    const now = 1_750_000_000_000;
    const DAY = 24 * 60 * MIN;
    const command = { status: 'pending', expiresAt: now + 7 * DAY, deliveries: 0, acknowledgedAt: null };
    expect(commandLifecycle(command, now)).toBe('not yet fetched by the phone, not answered yet · expires in 7 days');
    expect(commandLifecycle({ ...command, status: 'delivered', deliveries: 3 }, now)).toBe('fetched by the phone 3 times, not answered yet · expires in 7 days');
    expect(commandLifecycle({ ...command, status: 'succeeded', deliveries: 1, acknowledgedAt: now - 5 * MIN }, now)).toBe('answered 5 min ago');
    expect(commandLifecycle({ ...command, status: 'expired', expiresAt: now - 2 * 60 * MIN }, now)).toBe('the phone did not check in before it expired 2 h ago');
    expect(commandLifecycle({ ...command, status: 'expired', deliveries: 2, expiresAt: now - DAY }, now)).toBe('the phone did not answer before it expired 1 day ago');
    expect(commandLifecycle({ ...command, status: 'cancelled' }, now)).toBe('cancelled when Find Device was turned off');
  });

  it('writes coordinates, distances and the OpenStreetMap link', () => {
    expect(coordinates(52.52, 13.405)).toBe('52.52000, 13.40500');
    expect(coordinates(-33.8688197, 151.2092955)).toBe('-33.86882, 151.20930');
    expect(metres(35.4)).toBe('35 m');
    expect(metres(1500)).toBe('1.5 km');
    expect(metres(25_000)).toBe('25 km');
    expect(openStreetMapUrl(52.52, 13.405)).toBe('https://www.openstreetmap.org/?mlat=52.52000&mlon=13.40500#map=16/52.52000/13.40500');
  });
});

describe('map geometry', () => {
  const frame = { width: 640, height: 400, padding: 20 };

  it('centres the fix and shows at least the minimum span', () => {
    const projection = fitProjection({ ...frame, center: [13.405, 52.52], accuracy: 30, trail: [], minSpanMetres: 3000 });
    const [x, y] = projection([13.405, 52.52])!;
    expect(x).toBeCloseTo(320, 6);
    expect(y).toBeCloseTo(200, 6);
    // The frame's short side (height minus padding) spans the minimum of 3 km, not the 60 m circle.
    const top = projection.invert!([320, frame.padding])!;
    const bottom = projection.invert!([320, frame.height - frame.padding])!;
    expect(geoDistance(top, bottom) * EARTH_RADIUS_M).toBeCloseTo(3000, -1);
  });

  it('zooms out to fit the whole trail and a large accuracy circle', () => {
    const trail: [number, number][] = [
      [13.3, 52.45],
      [13.45, 52.56],
      [13.405, 52.52],
    ];
    const projection = fitProjection({ ...frame, center: [13.405, 52.52], accuracy: 2000, trail, minSpanMetres: 3000 });
    for (const point of trail) {
      const [x, y] = projection(point)!;
      expect(x).toBeGreaterThanOrEqual(frame.padding - 1e-6);
      expect(x).toBeLessThanOrEqual(frame.width - frame.padding + 1e-6);
      expect(y).toBeGreaterThanOrEqual(frame.padding - 1e-6);
      expect(y).toBeLessThanOrEqual(frame.height - frame.padding + 1e-6);
    }
    expect(projection([13.405, 52.52])).toEqual([320, 200]);
  });

  it('works across the antimeridian', () => {
    const projection = fitProjection({ ...frame, center: [179.999, -16.5], accuracy: 50, trail: [[-179.999, -16.5]], minSpanMetres: 3000 });
    const [x] = projection([-179.999, -16.5])!;
    expect(x).toBeGreaterThan(320);
    expect(x).toBeLessThan(frame.width);
  });

  it('picks the tiles under the frame, with the fix where the projection puts it', () => {
    const projection = fitProjection({ ...frame, center: [13.405, 52.52], accuracy: 30, trail: [], minSpanMetres: 3000 });
    const tiles = tilesFor({ center: [13.405, 52.52], scale: projection.scale(), ...frame });
    const z = tiles[0]!.z;
    expect(z).toBeGreaterThanOrEqual(13);
    expect(z).toBeLessThanOrEqual(15);
    // The tile holding the fix (OSM slippy-map formula) is drawn at the frame's centre.
    const n = 2 ** z;
    const fx = ((13.405 + 180) / 360) * n;
    const latRad = (52.52 * Math.PI) / 180;
    const fy = ((1 - Math.log(Math.tan(latRad) + 1 / Math.cos(latRad)) / Math.PI) / 2) * n;
    const home = tiles.find((t) => t.x === Math.floor(fx) && t.y === Math.floor(fy))!;
    expect(home).toBeDefined();
    expect(home.left + (fx - Math.floor(fx)) * home.size).toBeCloseTo(320, 3);
    expect(home.top + (fy - Math.floor(fy)) * home.size).toBeCloseTo(200, 3);
    expect(tileUrl('https://tile.example/{z}/{x}/{y}.png', home)).toBe(`https://tile.example/${z}/${home.x}/${home.y}.png`);
  });

  it('labels a round scale bar that fits', () => {
    const bar = scaleBar({ lat: 0, scale: 100_000, maxPixels: 120 });
    // 63.7 m per pixel at the equator: 5 km is 78.5 px.
    expect(bar.metres).toBe(5000);
    expect(bar.pixels).toBeCloseTo(78.5, 1);
  });
});
