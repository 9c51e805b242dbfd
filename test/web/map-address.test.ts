import type { FeatureCollection } from 'geojson';
import geojsonvt from 'geojson-vt';
import { PMTiles } from 'pmtiles';
import vtpbf from 'vt-pbf';
import { describe, expect, it } from 'vitest';
import {
  distanceToLine,
  distanceToSegment,
  distanceToTileEdge,
  formatAddress,
  MAX_STREET_METRES,
  metresPerTile,
  nearbyAddress,
  worldTileXY,
} from '../../src/web/map-address.js';
import { MAP_FIXTURE, mapFixtureBytes } from '../fixtures/map-fixture.js';
import { memorySource } from '../fixtures/memory-source.js';
import { writePmtiles } from '../fixtures/pmtiles-writer.js';

const fixture = () => new PMTiles(memorySource(mapFixtureBytes()));

describe('map address geometry', () => {
  it('places points in world tile units the way slippy-map tiles are numbered', () => {
    expect(worldTileXY({ lat: 0, lon: 0 }, 1)).toEqual({ x: 1, y: 1 });
    expect(worldTileXY({ lat: 0, lon: -180 }, 3).x).toBe(0);
    const munich = worldTileXY({ lat: 48.2, lon: 11.6 }, 15);
    expect(Math.floor(munich.x)).toBe(17439);
    expect(Math.floor(munich.y)).toBe(11363);
  });

  it('a pole, where Mercator is infinite, is clamped to the map edge instead of giving NaN', () => {
    const y = worldTileXY({ lat: 90, lon: 0 }, 2).y;
    expect(Number.isFinite(y)).toBe(true);
    expect(y).toBeCloseTo(0, 6);
  });

  it('measures tiles in ground metres, shrinking with cos(latitude)', () => {
    expect(metresPerTile(0, 0)).toBeCloseTo(40_075_016.686, 2);
    expect(metresPerTile(60, 10)).toBeCloseTo(40_075_016.686 / 2 / 1024, 4);
  });

  it('measures to the foot of the perpendicular, or to the nearer end past either end', () => {
    const a = { x: 0, y: 0 };
    const b = { x: 10, y: 0 };
    expect(distanceToSegment({ x: 5, y: 3 }, a, b)).toBe(3);
    expect(distanceToSegment({ x: -3, y: 4 }, a, b)).toBe(5);
    expect(distanceToSegment({ x: 13, y: 4 }, a, b)).toBe(5);
  });

  it('a zero-length segment or a one-point line is measured as a point, not NaN', () => {
    expect(distanceToSegment({ x: 3, y: 4 }, { x: 0, y: 0 }, { x: 0, y: 0 })).toBe(5);
    expect(distanceToLine({ x: 3, y: 4 }, [{ x: 0, y: 0 }])).toBe(5);
    expect(
      distanceToLine({ x: 5, y: 5 }, [
        { x: 0, y: 0 },
        { x: 10, y: 0 },
        { x: 10, y: 10 },
      ]),
    ).toBe(5);
  });

  it('finds the nearest tile edge', () => {
    expect(distanceToTileEdge(0.5, 0.5)).toBe(0.5);
    expect(distanceToTileEdge(0.9, 0.4)).toBeCloseTo(0.1, 12);
    expect(distanceToTileEdge(0.3, 0.02)).toBeCloseTo(0.02, 12);
  });
});

describe('formatAddress', () => {
  it('joins street and place, or shows either alone, or nothing', () => {
    expect(formatAddress({ street: 'Fixture Street', place: 'Testhaven' })).toBe('near Fixture Street, Testhaven');
    expect(formatAddress({ street: 'Fixture Street' })).toBe('near Fixture Street');
    expect(formatAddress({ place: 'Testhaven' })).toBe('near Testhaven');
    expect(formatAddress({})).toBe('');
  });

  it('a street named like its town, or blank names, do not repeat or dangle', () => {
    expect(formatAddress({ street: 'Testhaven', place: 'Testhaven' })).toBe('near Testhaven');
    expect(formatAddress({ street: '  ', place: '' })).toBe('');
  });
});

describe('nearbyAddress on the fixture archive', () => {
  it('names the street and town at the center, skipping a region label that is nearer than the town', async () => {
    const address = await nearbyAddress(fixture(), MAP_FIXTURE.center);
    expect(address).toMatchObject({ street: MAP_FIXTURE.street, place: MAP_FIXTURE.place });
    expect(address.streetDistanceMeters).toBeLessThanOrEqual(1);
    expect(formatAddress(address)).toBe('near Fixture Street, Testhaven');
  });

  it.each(MAP_FIXTURE.otherStreets)('names %s at a point on it', async (street) => {
    const address = await nearbyAddress(fixture(), MAP_FIXTURE.pointsOn[street]);
    expect(address.street).toBe(street);
    expect(address.place).toBe(MAP_FIXTURE.place);
  });

  it('an unnamed service road nearer than the street is skipped', async () => {
    // 11 m from the unnamed road (48.2002), 33 m from Fixture Street (48.2).
    const address = await nearbyAddress(fixture(), { lat: 48.2003, lon: 11.6 });
    expect(address.street).toBe(MAP_FIXTURE.street);
    expect(address.streetDistanceMeters).toBeGreaterThan(25);
    expect(address.streetDistanceMeters).toBeLessThan(40);
  });

  it('a named footpath right under the point is not given as the street', async () => {
    const address = await nearbyAddress(fixture(), MAP_FIXTURE.pointsOn['Lakeside Path']);
    expect(address.street).toBe(MAP_FIXTURE.street);
    expect(address.streetDistanceMeters).toBeGreaterThan(100);
  });

  it('the nearest street lies across a tile edge, in a tile that is not the one under the point', async () => {
    const at = { lat: 48.1955, lon: 11.6012 };
    const harbour = MAP_FIXTURE.pointsOn['Harbour Road'];
    expect(Math.floor(worldTileXY(at, 15).x)).not.toBe(Math.floor(worldTileXY(harbour, 15).x));
    const address = await nearbyAddress(fixture(), at);
    expect(address.street).toBe('Harbour Road');
    expect(address.streetDistanceMeters).toBeGreaterThan(150);
    expect(address.streetDistanceMeters).toBeLessThan(MAX_STREET_METRES);
  });

  it('a point in town but more than 250 m from any street names only the town', async () => {
    // 550 m from the end of Mill Way, 780 m from Fixture Street, 930 m from Testhaven's label.
    const address = await nearbyAddress(fixture(), { lat: 48.207, lon: 11.611 });
    expect(address).toEqual({ place: MAP_FIXTURE.place });
    expect(formatAddress(address)).toBe('near Testhaven');
  });

  it('far outside the map, or over 15 km from any town in it, there is nothing to name', async () => {
    for (const at of [
      { lat: 0, lon: 0 },
      { lat: -33.87, lon: 151.21 },
      { lat: 48.4, lon: 11.6 },
    ]) {
      const address = await nearbyAddress(fixture(), at);
      expect(address, JSON.stringify(at)).toEqual({});
      expect(formatAddress(address)).toBe('');
    }
  });

  it('a position not on Earth gives no address instead of throwing', async () => {
    for (const at of [
      { lat: Number.NaN, lon: 11.6 },
      { lat: 91, lon: 11.6 },
      { lat: 48.2, lon: Number.POSITIVE_INFINITY },
    ]) {
      expect(await nearbyAddress(fixture(), at)).toEqual({});
    }
  });
});

describe('nearbyAddress on an archive deeper than z15', () => {
  it('reads z15 even when the archive has z16 tiles, as the Protomaps schema stops there', async () => {
    const at = MAP_FIXTURE.center;
    const roadNamed = (name: string): FeatureCollection => ({
      type: 'FeatureCollection',
      features: [
        {
          type: 'Feature',
          properties: { kind: 'minor_road', name },
          geometry: {
            type: 'LineString',
            coordinates: [
              [at.lon - 0.001, at.lat],
              [at.lon + 0.001, at.lat],
            ],
          },
        },
      ],
    });
    const tiles = [15, 16].map((z) => {
      const { x, y } = worldTileXY(at, z);
      const index = geojsonvt(roadNamed(`Road at z${z}`), { maxZoom: z, tolerance: 0 });
      const tile = index.getTile(z, Math.floor(x), Math.floor(y));
      if (!tile) throw new Error(`no geometry at z${z}`);
      return { z, x: Math.floor(x), y: Math.floor(y), data: vtpbf.fromGeojsonVt({ roads: tile }, { version: 2 }) };
    });
    const bytes = writePmtiles(tiles, {
      minZoom: 15,
      maxZoom: 16,
      bounds: MAP_FIXTURE.bounds,
      center: { ...at, zoom: 15 },
      metadata: { vector_layers: [{ id: 'roads', fields: {} }] },
    });
    const address = await nearbyAddress(new PMTiles(memorySource(bytes)), at);
    expect(address.street).toBe('Road at z15');
    expect(address.place).toBeUndefined();
  });
});
