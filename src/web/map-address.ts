import { VectorTile } from '@mapbox/vector-tile';
import Pbf from 'pbf';
import type { PMTiles } from 'pmtiles';

// The address line under the map ("near Fixture Street, Testhaven"), computed in the page from the
// same PMTiles archive the map draws. Privacy: the position never leaves the browser for this; it
// only reads tile ranges of that archive (from the page's own origin), and no geocoding service is asked.
// Layers follow the Protomaps basemap v4 schema: `roads` (kind, name) and `places` (kind, name).

export interface NearbyAddress {
  street?: string;
  place?: string;
  streetDistanceMeters?: number;
}

/** Kinds of road a person gives as an address; footpaths, rail and ferries are not. */
const STREET_KINDS = new Set(['highway', 'major_road', 'minor_road']);
/** Towns and parts of towns; regions and countries are too coarse for "near ...". */
const PLACE_KINDS = new Set(['locality', 'neighbourhood', 'macrohood']);
/** Farther than this, "near <street>" would mislead. */
export const MAX_STREET_METRES = 250;
export const MAX_PLACE_METRES = 15_000;
/** Protomaps builds stop at z15; deeper tiles, if any, only overzoom it. */
const STREET_ZOOM_CAP = 15;
/** A z12 tile is ~10 km across at mid latitudes: wide enough for a town, fine enough for its parts. */
const PLACE_ZOOM = 12;
const PLACE_ZOOMS_TRIED = 5;
const MAX_NAME_LENGTH = 80;
const EQUATOR_METRES = 40_075_016.686;
const MAX_MERCATOR_LAT = 85.051_128_78;

export interface XY {
  x: number;
  y: number;
}

/** The point in world tile units at zoom z (Web Mercator): tile (x, y) spans [x, x+1) x [y, y+1). */
export function worldTileXY(at: { lat: number; lon: number }, z: number): XY {
  const lat = (Math.max(-MAX_MERCATOR_LAT, Math.min(MAX_MERCATOR_LAT, at.lat)) * Math.PI) / 180;
  const n = 2 ** z;
  return {
    x: ((at.lon + 180) / 360) * n,
    y: ((1 - Math.log(Math.tan(lat) + 1 / Math.cos(lat)) / Math.PI) / 2) * n,
  };
}

/** Ground metres across one tile at this latitude and zoom (Mercator stretches by 1/cos(lat)). */
export function metresPerTile(lat: number, z: number): number {
  return (EQUATOR_METRES * Math.cos((lat * Math.PI) / 180)) / 2 ** z;
}

/** Distance from p to the segment a-b, in the units of the points. */
export function distanceToSegment(p: XY, a: XY, b: XY): number {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const lengthSquared = dx * dx + dy * dy;
  const t = lengthSquared === 0 ? 0 : Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / lengthSquared));
  return Math.hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy));
}

/** Distance from p to the nearest point of a polyline (a single point counts as a line of one). */
export function distanceToLine(p: XY, line: XY[]): number {
  if (line.length === 1 && line[0]) return Math.hypot(p.x - line[0].x, p.y - line[0].y);
  let best = Infinity;
  for (let i = 1; i < line.length; i++) best = Math.min(best, distanceToSegment(p, line[i - 1] as XY, line[i] as XY));
  return best;
}

/** How far a point at fractional position (fx, fy) inside its tile is from the nearest tile edge, in tiles. */
export function distanceToTileEdge(fx: number, fy: number): number {
  return Math.min(fx, 1 - fx, fy, 1 - fy);
}

interface Nearest {
  name: string;
  metres: number;
}

type TileReader = (z: number, x: number, y: number) => Promise<VectorTile | undefined>;

function tileReader(archive: PMTiles): TileReader {
  const decoded = new Map<string, Promise<VectorTile | undefined>>();
  return (z, x, y) => {
    const n = 2 ** z;
    if (y < 0 || y >= n) return Promise.resolve(undefined);
    const wrappedX = ((x % n) + n) % n;
    const key = `${z}/${wrappedX}/${y}`;
    let tile = decoded.get(key);
    if (!tile) {
      tile = archive.getZxy(z, wrappedX, y).then((r) => (r ? new VectorTile(new Pbf(new Uint8Array(r.data))) : undefined));
      decoded.set(key, tile);
    }
    return tile;
  };
}

/** The nearest named feature of `layer` that passes `accept`, measured from `world` (tile units at z). */
function nearestIn(tile: VectorTile | undefined, layer: string, accept: (kind: unknown) => boolean, world: XY, tx: number, ty: number, metresPerUnit: number): Nearest | undefined {
  const features = tile?.layers[layer];
  if (!features) return undefined;
  const p = { x: (world.x - tx) * features.extent, y: (world.y - ty) * features.extent };
  let best: Nearest | undefined;
  for (let i = 0; i < features.length; i++) {
    const feature = features.feature(i);
    const { name, kind } = feature.properties;
    if (typeof name !== 'string' || !name.trim() || !accept(kind)) continue;
    const units = Math.min(...feature.loadGeometry().map((part) => distanceToLine(p, part)));
    const metres = (units / features.extent) * metresPerUnit;
    if (!best || metres < best.metres) best = { name: name.trim().slice(0, MAX_NAME_LENGTH), metres };
  }
  return best;
}

const closer = (a: Nearest | undefined, b: Nearest | undefined) => (!a ? b : !b ? a : b.metres < a.metres ? b : a);

const NEIGHBOURS = [-1, 0, 1].flatMap((dx) => [-1, 0, 1].map((dy) => ({ dx, dy }))).filter(({ dx, dy }) => dx || dy);

async function nearestStreet(read: TileReader, at: { lat: number; lon: number }, z: number): Promise<Nearest | undefined> {
  const world = worldTileXY(at, z);
  const tx = Math.floor(world.x);
  const ty = Math.floor(world.y);
  const scale = metresPerTile(at.lat, z);
  const isStreet = (kind: unknown) => typeof kind === 'string' && STREET_KINDS.has(kind);
  let best = nearestIn(await read(z, tx, ty), 'roads', isStreet, world, tx, ty, scale);
  // A road in a neighbouring tile is at least as far as the tile edge, so read them only if that could win.
  const edge = distanceToTileEdge(world.x - tx, world.y - ty) * scale;
  if ((!best || best.metres > edge) && edge < MAX_STREET_METRES) {
    const around = await Promise.all(NEIGHBOURS.map(({ dx, dy }) => read(z, tx + dx, ty + dy)));
    around.forEach((tile, i) => {
      const { dx, dy } = NEIGHBOURS[i] as { dx: number; dy: number };
      best = closer(best, nearestIn(tile, 'roads', isStreet, world, tx + dx, ty + dy, scale));
    });
  }
  return best && best.metres <= MAX_STREET_METRES ? best : undefined;
}

async function nearestPlace(read: TileReader, at: { lat: number; lon: number }, fromZoom: number, minZoom: number): Promise<Nearest | undefined> {
  const isPlace = (kind: unknown) => typeof kind === 'string' && PLACE_KINDS.has(kind);
  // Small places appear only from higher zooms, so start high and widen until some tile names one.
  for (let z = fromZoom; z >= Math.max(minZoom, fromZoom - PLACE_ZOOMS_TRIED + 1); z--) {
    const world = worldTileXY(at, z);
    const tx = Math.floor(world.x);
    const ty = Math.floor(world.y);
    const scale = metresPerTile(at.lat, z);
    const block = [{ dx: 0, dy: 0 }, ...NEIGHBOURS];
    const tiles = await Promise.all(block.map(({ dx, dy }) => read(z, tx + dx, ty + dy)));
    let best: Nearest | undefined;
    tiles.forEach((tile, i) => {
      const { dx, dy } = block[i] as { dx: number; dy: number };
      best = closer(best, nearestIn(tile, 'places', isPlace, world, tx + dx, ty + dy, scale));
    });
    if (best) return best.metres <= MAX_PLACE_METRES ? best : undefined;
  }
  return undefined;
}

/**
 * The nearest named street (within MAX_STREET_METRES) and town or neighbourhood (within
 * MAX_PLACE_METRES) to a position, from the archive's vector tiles. A position off the map, or not on
 * Earth, gives {}. Errors reading the archive are passed on to the caller.
 */
export async function nearbyAddress(archive: PMTiles, at: { lat: number; lon: number }): Promise<NearbyAddress> {
  if (!Number.isFinite(at.lat) || !Number.isFinite(at.lon) || Math.abs(at.lat) > 90 || Math.abs(at.lon) > 180) return {};
  const header = await archive.getHeader();
  const streetZoom = Math.min(header.maxZoom, STREET_ZOOM_CAP);
  if (streetZoom < header.minZoom) return {};
  const read = tileReader(archive);
  const [street, place] = await Promise.all([
    nearestStreet(read, at, streetZoom),
    nearestPlace(read, at, Math.min(PLACE_ZOOM, streetZoom), header.minZoom),
  ]);
  const address: NearbyAddress = {};
  if (street) {
    address.street = street.name;
    address.streetDistanceMeters = Math.round(street.metres);
  }
  if (place) address.place = place.name;
  return address;
}

/** "near Fixture Street, Testhaven"; either part alone; '' when the map names nothing nearby. */
export function formatAddress(a: NearbyAddress): string {
  const parts = [a.street, a.place].filter((p): p is string => !!p?.trim()).map((p) => p.trim());
  if (parts.length === 2 && parts[0] === parts[1]) parts.pop();
  return parts.length ? `near ${parts.join(', ')}` : '';
}
