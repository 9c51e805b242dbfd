import { geoCircle, geoMercator, geoPath, type GeoProjection } from 'd3-geo';
import type { Feature, FeatureCollection, Geometry, Polygon } from 'geojson';

// Map maths without the DOM, so Node tests can check it. The projection is Web Mercator, the one
// raster tiles use, so an operator's tiles line up with the drawn land, trail and circle.

export const EARTH_RADIUS_M = 6_371_008.8;
const TILE_SIZE = 256;
const MAX_TILE_ZOOM = 19;

export const metresToDegrees = (metres: number) => ((metres / EARTH_RADIUS_M) * 180) / Math.PI;

export type LonLat = [number, number];

/** A geodesic circle of `radiusMetres` around a point, as a GeoJSON polygon. */
export function circlePolygon(center: LonLat, radiusMetres: number): Polygon {
  const radius = Math.max(metresToDegrees(radiusMetres), 1e-7);
  // precision is the step in degrees around the circle (72 vertices), whatever its radius.
  return geoCircle().center(center).radius(radius).precision(5)();
}

export interface ViewInput {
  center: LonLat;
  /** Accuracy radius of the fix, metres. */
  accuracy: number;
  trail: LonLat[];
  width: number;
  height: number;
  padding: number;
  /** The smallest span shown across, so a precise fix still shows its surroundings. */
  minSpanMetres: number;
}

/**
 * A Mercator projection centred on the fix, zoomed so the accuracy circle, the trail and at least
 * minSpanMetres fit inside the padded frame.
 */
export function fitProjection(input: ViewInput): GeoProjection {
  const { center, width, height, padding } = input;
  const projection = geoMercator().rotate([-center[0], 0]).center([0, center[1]]).translate([width / 2, height / 2]).scale(1);
  const extent: Feature<Geometry>[] = [
    { type: 'Feature', properties: {}, geometry: circlePolygon(center, input.accuracy) },
    { type: 'Feature', properties: {}, geometry: circlePolygon(center, input.minSpanMetres / 2) },
  ];
  if (input.trail.length) extent.push({ type: 'Feature', properties: {}, geometry: { type: 'MultiPoint', coordinates: input.trail } });
  const collection: FeatureCollection = { type: 'FeatureCollection', features: extent };
  const [[x0, y0], [x1, y1]] = geoPath(projection).bounds(collection);
  const reachX = Math.max(Math.abs(x0 - width / 2), Math.abs(x1 - width / 2), 1e-12) / Math.max(width / 2 - padding, 1);
  const reachY = Math.max(Math.abs(y0 - height / 2), Math.abs(y1 - height / 2), 1e-12) / Math.max(height / 2 - padding, 1);
  const maxScale = (TILE_SIZE * 2 ** MAX_TILE_ZOOM) / (2 * Math.PI);
  const scale = Math.min(1 / Math.max(reachX, reachY), maxScale);
  return projection.scale(scale).clipExtent([
    [0, 0],
    [width, height],
  ]);
}

export interface Tile {
  z: number;
  x: number;
  y: number;
  /** Top-left corner and side in SVG units. */
  left: number;
  top: number;
  size: number;
}

const mercatorY = (latDegrees: number) => Math.log(Math.tan(Math.PI / 4 + (latDegrees * Math.PI) / 360));

/** The slippy-map tiles covering the frame of a projection made by fitProjection. */
export function tilesFor(input: { center: LonLat; scale: number; width: number; height: number }): Tile[] {
  const { center, scale, width, height } = input;
  const worldSize = 2 * Math.PI * scale;
  const z = Math.max(0, Math.min(MAX_TILE_ZOOM, Math.round(Math.log2(worldSize / TILE_SIZE))));
  const count = 2 ** z;
  const size = worldSize / count;
  // The fix in world pixels, measured from the top-left corner (180° W, 85.05° N).
  const cx = scale * ((center[0] * Math.PI) / 180 + Math.PI);
  const cy = scale * (Math.PI - mercatorY(center[1]));
  const left = cx - width / 2;
  const top = cy - height / 2;
  const tiles: Tile[] = [];
  for (let row = Math.max(0, Math.floor(top / size)); row <= Math.min(count - 1, Math.floor((top + height) / size)); row++) {
    for (let column = Math.floor(left / size); column <= Math.floor((left + width) / size); column++) {
      tiles.push({ z, x: ((column % count) + count) % count, y: row, left: column * size - left, top: row * size - top, size });
    }
  }
  return tiles;
}

export function tileUrl(template: string, tile: Pick<Tile, 'x' | 'y' | 'z'>): string {
  return template.replace('{z}', String(tile.z)).replace('{x}', String(tile.x)).replace('{y}', String(tile.y));
}

/** A round length (1, 2 or 5 × 10^n metres) at most maxPixels long, at the fix's latitude. */
export function scaleBar(input: { lat: number; scale: number; maxPixels: number }): { metres: number; pixels: number } {
  const metresPerPixel = (EARTH_RADIUS_M * Math.cos((input.lat * Math.PI) / 180)) / input.scale;
  const limit = metresPerPixel * input.maxPixels;
  const power = 10 ** Math.floor(Math.log10(limit));
  const metres = [5, 2, 1].map((step) => step * power).find((length) => length <= limit) ?? power;
  return { metres, pixels: metres / metresPerPixel };
}
