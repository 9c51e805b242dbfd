import type { LocationFix } from '../client/crypto/location.js';
import type { Command, Device, SimEvent } from './api.js';
import { deviceCondition, conditionBadges, seenText, wipedText } from './device-state.js';
import { COMMAND_NAMES, COMMAND_STATUS_TEXT, commandLifecycle, dateTime, PLATFORM_NAMES, timeAgo } from './format.js';

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

/**
 * The page's one notice (role=alert). `kind` names a condition that ends by itself (the server
 * unreachable): clearNotice(kind) then hides it, and leaves any other notice shown since alone.
 */
export function showNotice(message: string | null, kind = '') {
  const notice = byId('notice');
  notice.textContent = message ?? '';
  notice.hidden = !message;
  notice.dataset.kind = message ? kind : '';
}

export function clearNotice(kind: string) {
  if (byId('notice').dataset.kind === kind) showNotice(null);
}

export function showStatus(message: string) {
  byId('status').textContent = message;
}

export interface DeviceListHandlers {
  select(deviceId: string): void;
  toggleFind(device: Device, enabled: boolean, input: HTMLInputElement): void;
}

/** The device list; `wipes` holds what each device's commands say about a wipe (device-state.ts). */
export function renderDevices(devices: Device[], selectedId: string | null, now: number, handlers: DeviceListHandlers, wipes: ReadonlyMap<string, number | null> = new Map()) {
  const list = byId('device-list');
  byId('devices-empty').hidden = devices.length > 0;
  list.replaceChildren(
    ...devices.map((device) => {
      const selected = device.id === selectedId;
      const condition = deviceCondition(device, wipes.get(device.id) ?? null, now);
      const badges = conditionBadges(condition).map((badge) => el('span', { class: `state state-${badge.kind}` }, badge.text));
      const select = el(
        'button',
        { type: 'button', class: 'device-select', 'aria-pressed': String(selected), 'data-device-id': device.id },
        el('span', { class: 'device-name' }, device.name),
        el('span', { class: 'device-meta' }, `${PLATFORM_NAMES[device.platform] ?? device.platform} · ${device.model}`),
        el('span', { class: condition.offlineSince === null ? 'device-seen' : 'device-seen offline' }, seenText(device, condition, now)),
        ...(badges.length ? [el('span', { class: 'device-states' }, ...badges)] : []),
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

/** The selected device's name and state; a wiped phone (`wiped`: when) takes no more commands. */
export function renderDetailHeader(device: Device | undefined, now: number, wiped: number | null = null) {
  byId('detail-empty').hidden = device !== undefined;
  byId('detail-body').hidden = device === undefined;
  byId('detail-title').textContent = device ? device.name : 'Choose a device';
  if (!device) return;
  const condition = deviceCondition(device, wiped, now);
  byId('detail-meta').textContent = `${PLATFORM_NAMES[device.platform] ?? device.platform} · ${device.model} · ${seenText(device, condition, now)}`;
  byId('find-off').hidden = device.findEnabled || condition.wipedAt !== null;
  setText('wiped', condition.wipedAt === null ? '' : wipedText(condition.wipedAt, now));
  setText('lost-mode', condition.lostSince === null ? '' : `In Lost Mode since ${dateTime(condition.lostSince)} (${timeAgo(condition.lostSince, now)}).`);
  for (const button of document.querySelectorAll<HTMLButtonElement>('[data-command]')) {
    button.disabled = !device.findEnabled || condition.wipedAt !== null;
  }
  byId('lost-mode-end').hidden = condition.lostSince === null;
  for (const name of document.querySelectorAll('.device-name')) {
    if (name.closest('dialog')) name.textContent = device.name;
  }
}

/** Shows the element with this text, or hides it for none; unchanged text is left alone, so nothing re-announces it. */
function setText(id: string, text: string) {
  const element = byId(id);
  if (element.textContent !== text) element.textContent = text;
  element.hidden = text === '';
}

/** Just the relative times, refreshed every few seconds without redrawing the map. */
export function refreshAge(fix: LocationFix | undefined, now: number) {
  if (fix) byId('age').textContent = timeAgo(fix.measuredAt, now);
}

export function renderCommands(commands: Command[], now: number) {
  byId('commands-empty').hidden = commands.length > 0;
  byId('command-list').replaceChildren(
    ...commands.map((command) => {
      const when = el('time', { datetime: new Date(command.createdAt).toISOString(), title: dateTime(command.createdAt) }, timeAgo(command.createdAt, now));
      const item = el(
        'li',
        { 'data-type': command.type, 'data-status': command.status },
        el('span', { class: 'command-type' }, COMMAND_NAMES[command.type] ?? command.type),
        el('span', { class: `badge badge-${command.status}` }, COMMAND_STATUS_TEXT[command.status] ?? command.status),
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
