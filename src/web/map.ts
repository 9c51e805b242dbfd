import './leaflet-global.js';
import type { FeatureCollection, MultiPolygon, Polygon } from 'geojson';
import L from 'leaflet';
import { PMTiles } from 'pmtiles';
import { leafletLayer } from 'protomaps-leaflet';
import { feature } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';
import type { LocationFix } from '../client/crypto/location.js';
import { createArchiveSource } from './map-source.js';
import { drawOverlays, type Overlays, viewBounds } from './map-overlays.js';

// The map of where a phone is: Leaflet, so it zooms and pans with buttons, mouse, touch and
// keyboard. What is drawn under the trail, best first:
// - the street map from the operator's PMTiles archive, served by homing itself and drawn in the
//   browser by protomaps-leaflet (Canvas 2D): no third party learns where the phone is;
// - raster tiles from the operator's TILE_URL_TEMPLATE (a third party, said so in the README);
// - the offline world land shapes bundled with the page (/assets/world.json).

export interface MapConfig {
  /** The street-map archive: `<meta name="homing-map" content="/v1/map/archive" data-fetch-whole-below="…">`. */
  archive?: { url: string; fetchWholeBelow: number };
  /** `<meta name="homing-tile-url" content="https://…/{z}/{x}/{y}.png">`. */
  tileTemplate?: string;
}

/**
 * Reads what the server put in the page's head about maps. "homing-map" is MAP_META_NAME of
 * src/protocol/api/map-archive.ts, written out: importing that module would bundle zod into the page.
 */
export function readMapConfig(doc: Document): MapConfig {
  const archive = doc.querySelector<HTMLMetaElement>('meta[name="homing-map"]');
  const tiles = doc.querySelector<HTMLMetaElement>('meta[name="homing-tile-url"]')?.content || undefined;
  const below = Number(archive?.dataset.fetchWholeBelow);
  return {
    archive: archive?.content ? { url: archive.content, fetchWholeBelow: Number.isFinite(below) ? below : 0 } : undefined,
    tileTemplate: tiles,
  };
}

export interface MapView {
  fix: LocationFix;
  /** Earlier fixes, oldest first; the current fix may be among them. */
  trail: LocationFix[];
  /** What a screen reader announces for the map. */
  label: string;
}

export interface LocationMap {
  /** The street-map archive the map draws from, for the address line; undefined without one. */
  archive: PMTiles | undefined;
  show(view: MapView): void;
  /** Hides the map (no location to show); it keeps its base layer for the next fix. */
  hide(): void;
  /** Removes the map and forgets the archive (log out). */
  reset(): void;
}

const OSM = '© <a href="https://www.openstreetmap.org/copyright" target="_blank" rel="noopener noreferrer">OpenStreetMap contributors</a>';
const PROTOMAPS = '<a href="https://protomaps.com" target="_blank" rel="noopener noreferrer">Protomaps</a>';
const NATURAL_EARTH = 'Land: <a href="https://www.naturalearthdata.com" target="_blank" rel="noopener noreferrer">Natural Earth</a>';
/** Leaflet's own prefix links away in the same tab, which would end the page and its keys. */
const LEAFLET = '<a href="https://leafletjs.com" target="_blank" rel="noopener noreferrer">Leaflet</a>';

/** How far the first view of each kind of base map zooms in at most, and the least it shows across. */
const FIRST_VIEW = { streets: { maxZoom: 17, minSpan: 300 }, land: { maxZoom: 13, minSpan: 3000 } };

/** Room around the first view; more on the right, where each point's time label sits. */
const FIT_PADDING = { paddingTopLeft: L.point(28, 28), paddingBottomRight: L.point(80, 28) };

let landPromise: Promise<FeatureCollection<Polygon | MultiPolygon> | null> | undefined;

/** The bundled land shapes, fetched once; the map draws without land if they cannot be had. */
function loadLand() {
  landPromise ??= fetch('/assets/world.json', { credentials: 'same-origin' })
    .then(async (response) => {
      if (!response.ok) return null;
      const topology = (await response.json()) as Topology<{ land: GeometryCollection }>;
      return feature(topology, topology.objects.land) as FeatureCollection<Polygon | MultiPolygon>;
    })
    .catch(() => null);
  return landPromise;
}

async function landLayer(): Promise<L.Layer> {
  const land = await loadLand();
  return L.geoJSON(land ?? undefined, { interactive: false, attribution: NATURAL_EARTH, style: { className: 'map-land' } });
}

async function streetLayer(archive: PMTiles): Promise<L.Layer> {
  // Tiles deeper than the archive's are drawn by overzooming its deepest ones.
  const header = await archive.getHeader();
  const lang = (navigator.language || 'en').split('-')[0];
  return leafletLayer({ url: archive, flavor: 'light', lang, maxDataZoom: header.maxZoom, attribution: `${PROTOMAPS} · ${OSM}` }) as unknown as L.Layer;
}

function tileLayer(template: string): L.Layer {
  const host = new URL(template.replace(/[{}]/g, '')).host;
  const text = document.createElement('span');
  text.textContent = `Tiles: ${host}`;
  // The attribution control takes HTML; the host goes through textContent first.
  return L.tileLayer(template, { attribution: text.innerHTML, maxZoom: 19 });
}

const reducedMotion = () => window.matchMedia('(prefers-reduced-motion: reduce)').matches;

export function createLocationMap(holder: HTMLElement, config: MapConfig): LocationMap {
  let archive = config.archive ? new PMTiles(createArchiveSource(config.archive)) : undefined;
  let map: L.Map | undefined;
  let overlays: Overlays | undefined;
  let fitted = '';
  const first = archive || config.tileTemplate ? FIRST_VIEW.streets : FIRST_VIEW.land;

  function create(): L.Map {
    const animate = !reducedMotion();
    const created = L.map(holder, { zoomAnimation: animate, fadeAnimation: animate, markerZoomAnimation: animate, maxZoom: 19, worldCopyJump: true });
    created.attributionControl.setPrefix(LEAFLET);
    L.control.scale({ imperial: false }).addTo(created);
    created.on('zoomend', () => overlays?.fitArrows(created.getZoom()));
    return created;
  }

  /** Adds the best base map there is, once it is ready, unless the map was reset meanwhile. */
  async function addBaseLayer(target: L.Map) {
    let base: L.Layer | undefined;
    if (archive) {
      // An archive that cannot be read (removed, session ended) leaves the offline land instead.
      base = await streetLayer(archive).catch(() => undefined);
    }
    base ??= config.tileTemplate ? tileLayer(config.tileTemplate) : await landLayer();
    if (map === target) base.addTo(target);
  }

  return {
    get archive() {
      return archive;
    },
    show(view) {
      holder.hidden = false;
      holder.setAttribute('role', 'region');
      holder.setAttribute('aria-roledescription', 'map');
      holder.setAttribute('aria-label', view.label);
      if (!map) {
        map = create();
        void addBaseLayer(map);
      }
      map.invalidateSize();
      overlays?.layer.remove();
      overlays = drawOverlays(view.fix, view.trail);
      overlays.layer.addTo(map);
      // A new fix moves the view to it; a redraw of the same one keeps what the person zoomed to.
      const key = `${view.fix.measuredAt}:${view.fix.lat}:${view.fix.lon}`;
      if (key !== fitted) {
        fitted = key;
        map.fitBounds(viewBounds(view.fix, view.trail, first.minSpan), { ...FIT_PADDING, maxZoom: first.maxZoom, animate: false });
      }
      overlays.fitArrows(map.getZoom());
    },
    hide() {
      holder.hidden = true;
      overlays?.layer.remove();
      overlays = undefined;
      fitted = '';
    },
    reset() {
      map?.remove();
      map = undefined;
      overlays = undefined;
      fitted = '';
      holder.hidden = true;
      holder.replaceChildren();
      archive = config.archive ? new PMTiles(createArchiveSource(config.archive)) : undefined;
    },
  };
}
