import type { LocationFix } from '../client/crypto/location.js';
import type { Command, Device, SimEvent } from './api.js';
import { COMMAND_NAMES, commandLifecycle, coordinates, dateTime, metres, openStreetMapUrl, PLATFORM_NAMES, timeAgo } from './format.js';
import { drawMap, type Land } from './map.js';

// Rendering only: each function takes plain data and updates the DOM. All text goes in through
// textContent, never innerHTML, so nothing from the server or a device can become markup.

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page is missing #${id}`);
  return element as T;
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

export function showNotice(message: string | null) {
  const notice = byId('notice');
  notice.textContent = message ?? '';
  notice.hidden = !message;
}

export function showStatus(message: string) {
  byId('status').textContent = message;
}

export interface DeviceListHandlers {
  select(deviceId: string): void;
  toggleFind(device: Device, enabled: boolean, input: HTMLInputElement): void;
}

export function renderDevices(devices: Device[], selectedId: string | null, now: number, handlers: DeviceListHandlers) {
  const list = byId('device-list');
  byId('devices-empty').hidden = devices.length > 0;
  list.replaceChildren(
    ...devices.map((device) => {
      const selected = device.id === selectedId;
      const seen = device.lastSeenAt === null ? 'never seen' : `last seen ${timeAgo(device.lastSeenAt, now)}`;
      const select = el(
        'button',
        { type: 'button', class: 'device-select', 'aria-pressed': String(selected), 'data-device-id': device.id },
        el('span', { class: 'device-name' }, device.name),
        el('span', { class: 'device-meta' }, `${PLATFORM_NAMES[device.platform] ?? device.platform} · ${device.model}`),
        el('span', { class: 'device-seen' }, seen),
      );
      if (device.lastSeenAt !== null) select.title = `Last seen ${dateTime(device.lastSeenAt)}`;
      select.addEventListener('click', () => handlers.select(device.id));

      const toggleId = `find-${device.id}`;
      const toggle = el('input', { type: 'checkbox', role: 'switch', id: toggleId, class: 'switch' });
      toggle.checked = device.findEnabled;
      toggle.addEventListener('change', () => handlers.toggleFind(device, toggle.checked, toggle));
      const label = el('label', { for: toggleId, class: 'find-toggle' }, toggle, ` Find Device ${device.findEnabled ? 'on' : 'off'}`);
      return el('li', { class: selected ? 'device selected' : 'device' }, select, label);
    }),
  );
}

export function renderDetailHeader(device: Device | undefined, now: number) {
  byId('detail-empty').hidden = device !== undefined;
  byId('detail-body').hidden = device === undefined;
  byId('detail-title').textContent = device ? device.name : 'Choose a device';
  if (!device) return;
  const seen = device.lastSeenAt === null ? 'never seen' : `last seen ${timeAgo(device.lastSeenAt, now)}`;
  byId('detail-meta').textContent = `${PLATFORM_NAMES[device.platform] ?? device.platform} · ${device.model} · ${seen}`;
  byId('find-off').hidden = device.findEnabled;
  const lost = byId('lost-mode');
  lost.hidden = device.lostMode === null;
  lost.textContent = device.lostMode ? `In Lost Mode since ${dateTime(device.lostMode.since)} (${timeAgo(device.lostMode.since, now)}).` : '';
  for (const button of document.querySelectorAll<HTMLButtonElement>('[data-command]')) {
    button.disabled = !device.findEnabled;
  }
  byId('lost-mode-end').hidden = device.lostMode === null;
  for (const name of document.querySelectorAll('.device-name')) {
    if (name.closest('dialog')) name.textContent = device.name;
  }
}

export type LocationState =
  | { kind: 'loading' }
  | { kind: 'none'; message: string }
  | { kind: 'fix'; fix: LocationFix; trail: LocationFix[]; undecryptable: number };

export function renderLocation(state: LocationState, input: { deviceName: string; land: Land; tileTemplate?: string; now: number }) {
  const message = byId('location-message');
  const facts = byId('location-facts');
  const link = byId<HTMLAnchorElement>('osm-link');
  const map = byId('map');
  if (state.kind !== 'fix') {
    message.textContent = state.kind === 'loading' ? 'Loading the location…' : state.message;
    message.hidden = false;
    facts.hidden = true;
    link.hidden = true;
    map.replaceChildren();
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
  const label = `Map of ${input.deviceName}'s last known location, ${coordinates(fix.lat, fix.lon)}, within ${metres(fix.accuracy)}`;
  map.replaceChildren(drawMap({ fix, trail, land: input.land, tileTemplate: input.tileTemplate, label }));
}

/** Just the relative times, refreshed every few seconds without redrawing the map. */
export function refreshAge(fix: LocationFix | undefined, now: number) {
  if (fix) byId('age').textContent = timeAgo(fix.measuredAt, now);
}

const STATUS_TEXT: Record<Command['status'], string> = {
  pending: 'pending',
  delivered: 'delivered',
  succeeded: 'succeeded',
  failed: 'failed',
  rejected: 'rejected by the phone',
  cancelled: 'cancelled',
  expired: 'expired',
};

export function renderCommands(commands: Command[], now: number) {
  byId('commands-empty').hidden = commands.length > 0;
  byId('command-list').replaceChildren(
    ...commands.map((command) => {
      const when = el('time', { datetime: new Date(command.createdAt).toISOString(), title: dateTime(command.createdAt) }, timeAgo(command.createdAt, now));
      const item = el(
        'li',
        { 'data-type': command.type, 'data-status': command.status },
        el('span', { class: 'command-type' }, COMMAND_NAMES[command.type] ?? command.type),
        el('span', { class: `badge badge-${command.status}` }, STATUS_TEXT[command.status] ?? command.status),
        when,
        el('span', { class: 'command-lifecycle' }, commandLifecycle(command, now)),
      );
      if (command.result) item.append(el('span', { class: 'command-result' }, command.result));
      return item;
    }),
  );
}

const SIM_KIND_TEXT: Record<SimEvent['kind'], string> = { inserted: 'SIM inserted', replaced: 'SIM replaced', removed: 'SIM removed' };

/**
 * The device's SIM history. A SIM removed or replaced while the device was locked as lost is an
 * alert: shown first and marked, since it is the thief's number the owner is looking for.
 */
export function renderSimEvents(events: SimEvent[], now: number) {
  const section = byId('sim-alerts');
  section.hidden = events.length === 0;
  const ordered = [...events].sort((a, b) => Number(b.alert) - Number(a.alert) || b.createdAt - a.createdAt);
  byId('sim-alert-list').replaceChildren(
    ...ordered.map((event) => {
      const number = event.verifiedNumber ? `verified number ${event.verifiedNumber}` : event.claimedNumber ? `claims ${event.claimedNumber} (${event.status})` : event.status;
      const parts = [SIM_KIND_TEXT[event.kind], event.carrier, number].filter(Boolean).join(' · ');
      const item = el(
        'li',
        { class: event.alert ? 'sim-event sim-alert' : 'sim-event', 'data-status': event.status },
        ...(event.alert ? [el('strong', {}, 'While locked as lost: ')] : []),
        parts,
        ' ',
        el('time', { datetime: new Date(event.createdAt).toISOString(), title: dateTime(event.createdAt) }, timeAgo(event.createdAt, now)),
      );
      return item;
    }),
  );
}
