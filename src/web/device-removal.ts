import type { Device, WebApi } from './api.js';
import { deviceRemovalText } from './account-format.js';
import { dateTime, PLATFORM_NAMES } from './format.js';
import { byId, el, showNotice, showStatus } from './views.js';

// Removing a device from the account, after a confirm dialog that spells out what the server
// deletes with it (deviceRemovalText). The device's token stops working at once.

export interface DeviceRemovalContext {
  api: WebApi;
  fail(error: unknown): void;
  confirm(text: string, okLabel: string): Promise<boolean>;
  /** A device went: the device list, the per-device consents and the sessions must follow. */
  devicesChanged(): void;
}

export function createDeviceRemoval(ctx: DeviceRemovalContext) {
  const list = byId('manage-device-list');

  function item(device: Device) {
    const button = el('button', { type: 'button', class: 'danger', 'aria-label': `Remove ${device.name}…` }, 'Remove…');
    button.addEventListener('click', () => void remove(device, button));
    return el(
      'li',
      { class: 'managed-device', 'data-device-id': device.id },
      el('span', { class: 'device-name' }, device.name),
      el('span', { class: 'muted' }, `${PLATFORM_NAMES[device.platform] ?? device.platform} · ${device.model} · registered ${dateTime(device.createdAt)}`),
      button,
    );
  }

  async function load() {
    const { devices } = await ctx.api.devices();
    byId('manage-devices-empty').hidden = devices.length > 0;
    list.replaceChildren(...devices.map(item));
  }

  async function remove(device: Device, button: HTMLButtonElement) {
    if (!(await ctx.confirm(deviceRemovalText(device.name), 'Remove the device'))) return;
    button.disabled = true;
    try {
      await ctx.api.removeDevice(device.id);
      showNotice(null);
      showStatus(`${device.name} is removed from your account.`);
      await load();
      ctx.devicesChanged();
    } catch (error) {
      button.disabled = false;
      ctx.fail(error);
    }
    byId('manage-devices-title').focus();
  }

  return {
    load,
    reset: () => list.replaceChildren(),
  };
}
