import L from 'leaflet';
import type { LocationFix } from '../client/crypto/location.js';
import { arrowHead, clockTime, metresPerPixel } from './map-trail.js';

// What the page draws over the base map: the trail of the last 24 hours with each point's time
// and arrowheads for the direction of travel, the accuracy circle, and the last fix. Vector
// layers only (SVG paths and circle markers styled by class in style.css): no image icon and no
// inline style, so the page's CSP ('self' only) holds. Labels are DOM nodes filled with
// textContent, never HTML strings.

/** Up to this many points get a permanent time label; longer trails show them on hover or focus. */
const PERMANENT_LABELS_UP_TO = 12;
/** Arrowhead length on screen, in pixels, whatever the zoom. */
const ARROW_PIXELS = 14;

export interface Overlays {
  layer: L.LayerGroup;
  /** Resizes the arrowheads to the map's current zoom. */
  fitArrows(zoom: number): void;
}

const latLng = (point: { lat: number; lon: number }) => L.latLng(point.lat, point.lon);

function timeLabel(text: string): HTMLElement {
  const label = document.createElement('span');
  label.textContent = text;
  return label;
}

/** Draws the fix and its trail (oldest first; it may include the fix) into a new layer group. */
export function drawOverlays(fix: LocationFix, trail: LocationFix[]): Overlays {
  const layer = L.layerGroup();
  const earlier = trail.filter((point) => !(point.measuredAt === fix.measuredAt && point.lat === fix.lat && point.lon === fix.lon));
  const path = [...earlier, fix];

  L.circle(latLng(fix), { radius: fix.accuracy, className: 'map-accuracy', interactive: false }).addTo(layer);

  const arrows: { from: LocationFix; to: LocationFix; shape: L.Polygon }[] = [];
  if (path.length > 1) {
    L.polyline(path.map(latLng), { className: 'map-trail', interactive: false }).addTo(layer);
    for (let index = 1; index < path.length; index++) {
      const from = path[index - 1]!;
      const to = path[index]!;
      const shape = L.polygon([], { className: 'map-arrow', interactive: false }).addTo(layer);
      arrows.push({ from, to, shape });
    }
  }

  const permanent = path.length <= PERMANENT_LABELS_UP_TO;
  for (const point of earlier) {
    L.circleMarker(latLng(point), { radius: 4, className: 'map-trail-point' })
      .bindTooltip(timeLabel(clockTime(point.measuredAt)), { permanent, direction: 'right', offset: [6, 0], className: 'map-time' })
      .addTo(layer);
  }
  L.circleMarker(latLng(fix), { radius: 8, className: 'map-marker' })
    .bindTooltip(timeLabel(clockTime(fix.measuredAt)), { permanent: true, direction: 'right', offset: [10, 0], className: 'map-time map-time-last' })
    .addTo(layer);

  return {
    layer,
    fitArrows(zoom) {
      for (const arrow of arrows) {
        const head = arrowHead(arrow.from, arrow.to, ARROW_PIXELS * metresPerPixel(arrow.from.lat, zoom));
        arrow.shape.setLatLngs(head ? head.map(latLng) : []);
      }
    },
  };
}

/** The area to show first: the accuracy circle, the whole trail, and at least minSpan metres across. */
export function viewBounds(fix: LocationFix, trail: LocationFix[], minSpan: number): L.LatLngBounds {
  const center = latLng(fix);
  const bounds = center.toBounds(Math.max(fix.accuracy * 2, minSpan));
  for (const point of trail) bounds.extend(latLng(point));
  return bounds;
}
