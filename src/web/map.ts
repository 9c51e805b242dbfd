import { geoMercator, geoPath } from 'd3-geo';
import type { FeatureCollection, MultiPolygon, Polygon } from 'geojson';
import { feature } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';
import type { LocationFix } from '../client/crypto/location.js';
import { metres } from './format.js';
import { circlePolygon, EARTH_RADIUS_M, fitProjection, type LonLat, scaleBar, tilesFor, tileUrl } from './map-geometry.js';

// The map is an SVG drawn in the browser from world-atlas land shapes served by the app itself,
// so showing where a phone is tells no third party. Raster tiles are drawn underneath only when
// the operator configured a tile server. Styling is by class only: the CSP forbids inline styles.

const WIDTH = 640;
const HEIGHT = 400;
const SVG_NS = 'http://www.w3.org/2000/svg';

export type Land = FeatureCollection<Polygon | MultiPolygon> | null;

let landPromise: Promise<Land> | undefined;

/** Fetches the bundled land shapes once; the map draws without land if they cannot be had. */
export function loadLand(): Promise<Land> {
  landPromise ??= fetch('/assets/world.json', { credentials: 'same-origin' })
    .then(async (response) => {
      if (!response.ok) return null;
      const topology = (await response.json()) as Topology<{ land: GeometryCollection }>;
      return feature(topology, topology.objects.land) as FeatureCollection<Polygon | MultiPolygon>;
    })
    .catch(() => null);
  return landPromise;
}

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attributes: Record<string, string | number>, parent?: Element) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  parent?.append(element);
  return element;
}

export interface MapInput {
  fix: LocationFix;
  /** Earlier fixes, oldest first; the current fix may be among them. */
  trail: LocationFix[];
  land: Land;
  tileTemplate?: string;
  label: string;
}

/** Draws the map into a new SVG element and returns it. */
export function drawMap(input: MapInput): SVGSVGElement {
  const { fix } = input;
  const center: LonLat = [fix.lon, fix.lat];
  const trail: LonLat[] = input.trail.map((point) => [point.lon, point.lat]);
  const projection = fitProjection({ center, accuracy: fix.accuracy, trail, width: WIDTH, height: HEIGHT, padding: 28, minSpanMetres: 3000 });
  const path = geoPath(projection).digits(1);

  const root = svg('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: 'map', role: 'img', 'aria-label': input.label });
  svg('title', {}, root).textContent = input.label;
  svg('rect', { class: 'water', x: 0, y: 0, width: WIDTH, height: HEIGHT }, root);

  if (input.tileTemplate) {
    const tiles = svg('g', { class: 'tiles' }, root);
    for (const tile of tilesFor({ center, scale: projection.scale(), width: WIDTH, height: HEIGHT })) {
      svg('image', { href: tileUrl(input.tileTemplate, tile), x: tile.left, y: tile.top, width: tile.size + 0.5, height: tile.size + 0.5 }, tiles);
    }
  } else if (input.land) {
    svg('path', { class: 'land', d: path(input.land) ?? '' }, root);
  }

  if (trail.length > 1) {
    svg('path', { class: 'trail', d: path({ type: 'LineString', coordinates: trail }) ?? '' }, root);
    for (const point of trail) {
      const xy = projection(point);
      if (xy) svg('circle', { class: 'trail-point', cx: xy[0].toFixed(1), cy: xy[1].toFixed(1), r: 3 }, root);
    }
  }

  svg('path', { class: 'accuracy', d: path(circlePolygon(center, fix.accuracy)) ?? '' }, root);
  const [x, y] = projection(center) ?? [WIDTH / 2, HEIGHT / 2];
  const marker = svg('g', { class: 'marker', transform: `translate(${x.toFixed(1)} ${y.toFixed(1)})` }, root);
  svg('circle', { class: 'marker-halo', r: 11 }, marker);
  svg('circle', { class: 'marker-dot', r: 6 }, marker);

  if (input.land) drawOverview(root, center, input.land);

  const bar = scaleBar({ lat: fix.lat, scale: projection.scale(), maxPixels: 120 });
  const scale = svg('g', { class: 'scale-bar', transform: `translate(16 ${HEIGHT - 18})` }, root);
  svg('path', { d: `M0 -6V0H${bar.pixels.toFixed(1)}V-6` }, scale);
  svg('text', { x: bar.pixels + 6, y: 0 }, scale).textContent = metres(bar.metres);
  return root;
}

const OVERVIEW = { width: 150, height: 96, margin: 10, spanMetres: 3_000_000 };

/** A small locator in the corner: a street-scale view alone shows no coastline to recognise. */
function drawOverview(root: SVGSVGElement, center: LonLat, land: NonNullable<Land>) {
  const { width, height, margin, spanMetres } = OVERVIEW;
  const left = WIDTH - width - margin;
  const top = margin;
  const cosLat = Math.max(Math.cos((center[1] * Math.PI) / 180), 0.05);
  const projection = geoMercator()
    .rotate([-center[0], 0])
    .center([0, center[1]])
    .translate([left + width / 2, top + height / 2])
    .scale((EARTH_RADIUS_M * cosLat * width) / spanMetres)
    .clipExtent([
      [left, top],
      [left + width, top + height],
    ]);
  const group = svg('g', { class: 'overview', 'aria-hidden': 'true' }, root);
  svg('rect', { class: 'overview-frame', x: left, y: top, width, height }, group);
  svg('path', { class: 'land', d: geoPath(projection).digits(1)(land) ?? '' }, group);
  svg('circle', { class: 'overview-dot', cx: left + width / 2, cy: top + height / 2, r: 4 }, group);
}
