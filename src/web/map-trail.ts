import { metres } from './format.js';

// Trail maths without the DOM, so Node tests can check it: distances, bearings, the words for a
// direction of travel, and the arrowheads drawn along the trail. Spherical Earth: over the few
// kilometres of a 24-hour trail the error against the ellipsoid is a fraction of a percent.

export const EARTH_RADIUS_M = 6_371_008.8;
/** Steps shorter than this are GPS jitter, not travel: they get no direction and no arrow. */
export const STILL_BELOW_M = 5;

export interface LatLon {
  lat: number;
  lon: number;
}

const toRadians = (degrees: number) => (degrees * Math.PI) / 180;
const toDegrees = (radians: number) => (radians * 180) / Math.PI;

/** Great-circle distance in metres (haversine). */
export function distanceMetres(a: LatLon, b: LatLon): number {
  const dLat = toRadians(b.lat - a.lat);
  const dLon = toRadians(b.lon - a.lon);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(toRadians(a.lat)) * Math.cos(toRadians(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** The initial bearing from a to b, in degrees clockwise from north, 0 ≤ bearing < 360. */
export function bearingDegrees(a: LatLon, b: LatLon): number {
  const lat1 = toRadians(a.lat);
  const lat2 = toRadians(b.lat);
  const dLon = toRadians(b.lon - a.lon);
  const y = Math.sin(dLon) * Math.cos(lat2);
  const x = Math.cos(lat1) * Math.sin(lat2) - Math.sin(lat1) * Math.cos(lat2) * Math.cos(dLon);
  return (toDegrees(Math.atan2(y, x)) + 360) % 360;
}

/** The point `distance` metres from `from` along `bearing` degrees. */
export function destination(from: LatLon, bearing: number, distance: number): LatLon {
  const angle = distance / EARTH_RADIUS_M;
  const heading = toRadians(bearing);
  const lat1 = toRadians(from.lat);
  const lat2 = Math.asin(Math.sin(lat1) * Math.cos(angle) + Math.cos(lat1) * Math.sin(angle) * Math.cos(heading));
  const lon2 = toRadians(from.lon) + Math.atan2(Math.sin(heading) * Math.sin(angle) * Math.cos(lat1), Math.cos(angle) - Math.sin(lat1) * Math.sin(lat2));
  return { lat: toDegrees(lat2), lon: ((toDegrees(lon2) + 540) % 360) - 180 };
}

const WINDS = ['north', 'north-east', 'east', 'south-east', 'south', 'south-west', 'west', 'north-west'] as const;

/** The nearest of the eight compass directions, e.g. 50° → "north-east". */
export function compassName(bearing: number): (typeof WINDS)[number] {
  const index = Math.round((((bearing % 360) + 360) % 360) / 45) % 8;
  return WINDS[index]!;
}

export interface TrailStep {
  /** When the phone measured this point. */
  at: number;
  /** How the phone got here from the point before; absent for the first point. */
  from?: { distance: number; bearing: number | null };
}

/** Each point of a trail (oldest first) with the distance and direction travelled to reach it. */
export function trailSteps(points: (LatLon & { measuredAt: number })[]): TrailStep[] {
  return points.map((point, index) => {
    const previous = points[index - 1];
    if (!previous) return { at: point.measuredAt };
    const distance = distanceMetres(previous, point);
    return { at: point.measuredAt, from: { distance, bearing: distance < STILL_BELOW_M ? null : bearingDegrees(previous, point) } };
  });
}

/** "north-east, 120 m", "about the same place", or "first point of the trail". */
export function stepText(step: TrailStep): string {
  if (!step.from) return 'first point of the trail';
  if (step.from.bearing === null) return 'about the same place';
  return `${compassName(step.from.bearing)}, ${metres(step.from.distance)}`;
}

/** Ground metres one screen pixel covers at a Web Mercator zoom level (256-pixel tiles). */
export function metresPerPixel(lat: number, zoom: number): number {
  return (2 * Math.PI * EARTH_RADIUS_M * Math.cos(toRadians(lat))) / (256 * 2 ** zoom);
}

/**
 * A triangle pointing from `a` towards `b`, centred on the segment's midpoint, `length` metres
 * long (capped at 40 % of the segment so it never hides a short step): [left, tip, right].
 */
export function arrowHead(a: LatLon, b: LatLon, length: number): [LatLon, LatLon, LatLon] | null {
  const span = distanceMetres(a, b);
  if (span < STILL_BELOW_M) return null;
  const size = Math.min(length, span * 0.4);
  const bearing = bearingDegrees(a, b);
  const middle = destination(a, bearing, span / 2);
  const tip = destination(middle, bearing, size / 2);
  const back = destination(middle, bearing + 180, size / 2);
  return [destination(back, bearing - 90, size * 0.45), tip, destination(back, bearing + 90, size * 0.45)];
}

/** "14:05": a point's time on the map, in the browser's own time zone. */
export function clockTime(ms: number): string {
  return new Date(ms).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}
