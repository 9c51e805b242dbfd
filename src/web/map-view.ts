import type { LocationFix } from '../client/crypto/location.js';
import { coordinates, dateTime, metres, openStreetMapUrl, timeAgo } from './format.js';
import type { LocationMap } from './map.js';
import { formatAddress, nearbyAddress } from './map-address.js';
import { clockTime, stepText, trailSteps } from './map-trail.js';

// The location part of the device view: the facts as text, the map, the address line and the
// trail point by point. Text goes in through textContent only.

export type LocationState =
  | { kind: 'loading' }
  | { kind: 'none'; message: string }
  | { kind: 'fix'; fix: LocationFix; trail: LocationFix[]; undecryptable: number };

function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page is missing #${id}`);
  return element as T;
}

/** The fix the address line is being looked up for; a newer render makes an older answer stale. */
let addressFor: LocationFix | undefined;

export function renderLocation(state: LocationState, input: { deviceName: string; map: LocationMap; now: number }) {
  const message = byId('location-message');
  const facts = byId('location-facts');
  const link = byId<HTMLAnchorElement>('osm-link');
  const address = byId('location-address');
  const trailList = byId('trail-details');
  if (state.kind !== 'fix') {
    message.textContent = state.kind === 'loading' ? 'Loading the location…' : state.message;
    message.hidden = false;
    facts.hidden = true;
    link.hidden = true;
    address.hidden = true;
    trailList.hidden = true;
    addressFor = undefined;
    input.map.hide();
    return;
  }
  const { fix, trail } = state;
  message.hidden = state.undecryptable === 0;
  message.textContent = state.undecryptable
    ? `${state.undecryptable} report(s) could not be opened with this account's key and are not shown.`
    : '';
  facts.hidden = false;
  byId('coords').textContent = coordinates(fix.lat, fix.lon);
  byId('accuracy').textContent = `± ${metres(fix.accuracy)}`;
  const age = byId('age');
  age.textContent = timeAgo(fix.measuredAt, input.now);
  age.title = dateTime(fix.measuredAt);
  byId('source').textContent = fix.source;
  byId('battery').textContent = fix.battery === null ? 'unknown' : `${Math.round(fix.battery)} %`;
  byId('trail-summary').textContent =
    trail.length > 1 ? `${trail.length} fixes in the last 24 hours, since ${timeAgo(trail[0]!.measuredAt, input.now)}` : 'no earlier fixes in the last 24 hours';
  link.href = openStreetMapUrl(fix.lat, fix.lon);
  link.hidden = false;
  renderTrail(trail, input.now);
  const label = `Map of ${input.deviceName}'s last known location, ${coordinates(fix.lat, fix.lon)}, within ${metres(fix.accuracy)}`;
  input.map.show({ fix, trail, label });
  void renderAddress(fix, input.map);
}

/** The trail as text, for everyone and for screen readers: each point's time and how the phone got there. */
function renderTrail(trail: LocationFix[], now: number) {
  byId('trail-details').hidden = trail.length < 2;
  byId('trail-list').replaceChildren(
    ...trailSteps(trail).map((step) => {
      const item = document.createElement('li');
      const time = document.createElement('time');
      time.dateTime = new Date(step.at).toISOString();
      time.title = dateTime(step.at);
      time.textContent = `${clockTime(step.at)} (${timeAgo(step.at, now)})`;
      item.append(time, `: ${stepText(step)}`);
      return item;
    }),
  );
}

/**
 * "near Fixture Street, Testhaven", read in the page from the same archive the map draws: the
 * server, which never sees the location, is not asked. Without an archive the line stays hidden.
 */
async function renderAddress(fix: LocationFix, map: LocationMap) {
  const line = byId('location-address');
  addressFor = fix;
  line.hidden = true;
  const archive = map.archive;
  if (!archive) return;
  const text = await nearbyAddress(archive, fix).then(formatAddress, () => '');
  if (addressFor !== fix) return;
  line.textContent = text;
  line.hidden = text === '';
}
