import { type CommandType, DEFAULT_COMMAND_LIFETIME_MS, nextCommandCounter, sealLockArgs, signCommand } from '../client/crypto/commands.js';
import type { Device, Session, WebApi } from './api.js';
import { createActionDialog } from './dialogs.js';
import { COMMAND_NAMES } from './format.js';
import { byId, showNotice, showStatus } from './views.js';

// The command buttons of the device view: each command is signed here with the account's command
// key, then handed to the server, which only relays it. Lock asks for a message, wipe for the
// device's name and a fresh proof of the password.

export interface CommandActionsDeps {
  api: WebApi;
  selected: () => Device | undefined;
  session: () => Session | null;
  fail: (error: unknown) => void;
  /** After a command was accepted: refresh what it changes. */
  sent: (deviceId: string, type: CommandType) => Promise<void>;
}

export function createCommandActions(deps: CommandActionsDeps) {
  const { api } = deps;
  const lockDialog = createActionDialog('lock-dialog');
  const wipeDialog = createActionDialog('wipe-dialog');
  /** The highest counter this page used per device, in case two commands share a millisecond. */
  const counters = new Map<string, number>();

  async function send(type: CommandType, args: object) {
    const device = deps.selected();
    const session = deps.session();
    if (!device || !session) return;
    // The counter must exceed every one the device has seen: take the newest from the server,
    // the newest this page used, and the clock, whichever is highest.
    const { commands } = await api.commands(device.id);
    const seen = Math.max(0, counters.get(device.id) ?? 0, ...commands.map((c) => c.counter));
    const issuedAt = Date.now();
    const counter = nextCommandCounter(seen, issuedAt);
    counters.set(device.id, counter);
    // The phone carries the command out whenever it next checks in, up to this signed expiry.
    const expiresAt = issuedAt + DEFAULT_COMMAND_LIFETIME_MS;
    const signed = signCommand({ deviceId: device.id, type, args, issuedAt, expiresAt, counter }, session.keys.ed25519Seed);
    showStatus(`Sending ${COMMAND_NAMES[type]} to ${device.name}…`);
    try {
      await api.sendCommand(device.id, signed);
    } catch (error) {
      showStatus(`${COMMAND_NAMES[type]} was not sent to ${device.name}.`);
      throw error;
    }
    showNotice(null);
    showStatus(`${COMMAND_NAMES[type]} sent to ${device.name}; it runs when the phone next checks in, within 7 days.`);
    await deps.sent(device.id, type);
  }

  async function onButton(button: HTMLButtonElement) {
    const type = button.dataset.command as CommandType;
    const device = deps.selected();
    const session = deps.session();
    if (!device || !session) return;
    if (type === 'lock') {
      lockDialog.open(async (data) => {
        const callback = String(data.get('callback') ?? '').trim();
        const args = sealLockArgs({ message: String(data.get('message') ?? '').trim(), callbackNumber: callback || null }, session.keys.x25519PublicKey);
        await send('lock', args);
      });
      return;
    }
    if (type === 'wipe') {
      byId<HTMLInputElement>('wipe-name').value = '';
      wipeDialog.open(async (data) => {
        if (String(data.get('name') ?? '').trim() !== device.name.trim()) {
          throw new Error(`Type the device name exactly as shown: ${device.name}`);
        }
        // The server accepts a wipe only within minutes of a fresh signed proof of the password.
        await api.reauthenticate(session.email, String(data.get('password') ?? ''));
        await send('wipe', {});
      });
      return;
    }
    // Busy, not disabled: a disabled button would drop the keyboard focus to the page.
    if (button.getAttribute('aria-busy') === 'true') return;
    button.setAttribute('aria-busy', 'true');
    try {
      await send(type, {});
    } catch (error) {
      deps.fail(error);
    } finally {
      button.removeAttribute('aria-busy');
      keepCommandFocus(button);
    }
  }

  return { onButton, reset: () => counters.clear() };
}

/**
 * A command button that just acted keeps the focus; one the new state hid or turned off (End Lost
 * Mode after an unlock, every button once the phone is wiped) hands it to what explains why, so
 * the keyboard never drops to the top of the page.
 */
export function keepCommandFocus(button: HTMLElement) {
  const usable = (b: HTMLButtonElement) => !b.disabled && !b.hidden;
  const active = document.activeElement;
  // Focus elsewhere is the owner's own doing; only a focus that fell, or is about to fall (the
  // browser moves it off a disabled or hidden button at the next frame), to the page is moved.
  const dropped = active === null || active === document.body || (active === button && !usable(button as HTMLButtonElement));
  if (!dropped) return;
  if (!byId('wiped').hidden) byId('wiped').focus();
  else if (usable(button as HTMLButtonElement)) button.focus();
  else ([...document.querySelectorAll<HTMLButtonElement>('[data-command]')].find(usable) ?? byId('detail-title')).focus();
}

