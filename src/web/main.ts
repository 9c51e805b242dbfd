import { HomingApiError } from '../client/api.js';
import { type CommandType, DEFAULT_COMMAND_LIFETIME_MS, nextCommandCounter, sealLockArgs, signCommand } from '../client/crypto/commands.js';
import { type LocationFix, openLocation } from '../client/crypto/location.js';
import { type Command, createWebApi, describeError, type Device, type Session } from './api.js';
import { createAccountView } from './account-view.js';
import { createActionDialog, createConfirm } from './dialogs.js';
import { COMMAND_NAMES } from './format.js';
import { type Land, loadLand } from './map.js';
import { createPrivacyView } from './privacy-view.js';
import {
  byId,
  type LocationState,
  refreshAge,
  renderCommands,
  renderDetailHeader,
  renderDevices,
  renderLocation,
  renderSimEvents,
  showNotice,
  showStatus,
} from './views.js';

// The Find Device page. Keys live only in this page's memory: the password derives them at login,
// locations are opened here, and every command is signed here before the server relays it.

const POLL_MS = 3000;
const SLOW_POLL_EVERY = 5;
const HISTORY_MS = 24 * 3_600_000;

const api = createWebApi(window.location.origin);
const tileTemplate = document.querySelector<HTMLMetaElement>('meta[name="homing-tile-url"]')?.content || undefined;
const confirm = createConfirm();
const lockDialog = createActionDialog('lock-dialog');
const wipeDialog = createActionDialog('wipe-dialog');

const state = {
  session: null as Session | null,
  devices: [] as Device[],
  selectedId: null as string | null,
  commands: [] as Command[],
  fix: undefined as LocationFix | undefined,
  locationKey: '',
  /** The highest counter this page used per device, in case two commands share a millisecond. */
  counters: new Map<string, number>(),
  land: null as Land,
  timer: undefined as number | undefined,
  ticks: 0,
  polling: false,
};

const selected = () => state.devices.find((device) => device.id === state.selectedId);

type View = 'find' | 'privacy';
let currentView: View = 'find';

function fail(error: unknown) {
  if (error instanceof HomingApiError && error.status === 401 && error.code === 'unauthorized') {
    endSession('Your session has ended. Log in again.');
    return;
  }
  showNotice(describeError(error));
}

const privacy = createPrivacyView({ api, fail, confirm, devicesChanged: () => void loadDevices().catch(fail) });
const accountView = createAccountView({
  api,
  email: () => state.session?.email,
  emailChanged(email) {
    // Later proofs are signed for the address the account has now.
    if (state.session) state.session.email = email;
    byId('account-email').textContent = email;
  },
  fail,
});

/** The two views, switched from the header; the heading of the one shown takes focus. */
function showView(view: View, focus = true) {
  currentView = view;
  byId('app-view').hidden = view !== 'find';
  byId('privacy-view').hidden = view !== 'privacy';
  for (const button of document.querySelectorAll<HTMLButtonElement>('.nav-button')) {
    if (button.dataset.view === view) button.setAttribute('aria-current', 'page');
    else button.removeAttribute('aria-current');
  }
  if (view === 'privacy') {
    if (focus) byId('privacy-title').focus();
    void Promise.all([accountView.load(), privacy.load()]).catch(fail);
  } else {
    if (focus) byId('devices-title').focus();
    void loadDevices().catch(fail);
  }
}

// ── devices ────────────────────────────────────────────────────────────────────────────────────

function drawDevices() {
  // The list is rebuilt on every refresh; keep keyboard focus on the same control.
  const active = document.activeElement as HTMLElement | null;
  const focusedId = active?.closest('#device-list') ? active.id || active.dataset.deviceId : undefined;
  renderDevices(state.devices, state.selectedId, Date.now(), { select: (id) => void selectDevice(id), toggleFind: (d, on, input) => void toggleFind(d, on, input) });
  renderDetailHeader(selected(), Date.now());
  if (focusedId) (document.getElementById(focusedId) ?? document.querySelector<HTMLElement>(`[data-device-id="${CSS.escape(focusedId)}"]`))?.focus();
}

async function loadDevices() {
  state.devices = (await api.devices()).devices;
  if (state.selectedId && !selected()) state.selectedId = null;
  drawDevices();
}

async function toggleFind(device: Device, enabled: boolean, input: HTMLInputElement) {
  if (
    !enabled &&
    !(await confirm(
      `Turn off Find Device for ${device.name}? The server deletes its stored locations and cancels its pending commands.`,
      'Turn off',
    ))
  ) {
    input.checked = true;
    return;
  }
  input.disabled = true;
  try {
    const updated = await api.setFind(device.id, enabled);
    state.devices = state.devices.map((d) => (d.id === updated.id ? updated : d));
    drawDevices();
    showStatus(`Find Device is ${enabled ? 'on' : 'off'} for ${device.name}.`);
    if (device.id === state.selectedId) await Promise.all([loadLocation(device.id, true), loadCommands(device.id)]);
  } catch (error) {
    input.checked = !enabled;
    input.disabled = false;
    fail(error);
  }
}

async function selectDevice(deviceId: string) {
  state.selectedId = deviceId;
  state.commands = [];
  state.fix = undefined;
  state.locationKey = '';
  showNotice(null);
  drawDevices();
  const device = selected();
  renderLocation({ kind: 'loading' }, { deviceName: device?.name ?? '', land: state.land, now: Date.now() });
  renderCommands([], Date.now());
  renderSimEvents([], Date.now());
  byId('detail-title').focus();
  await Promise.all([loadLocation(deviceId, true), loadCommands(deviceId), loadSimEvents(deviceId)]).catch(fail);
}

async function loadSimEvents(deviceId: string) {
  const { events } = await api.simEvents(deviceId);
  if (state.selectedId === deviceId) renderSimEvents(events, Date.now());
}

// ── location ───────────────────────────────────────────────────────────────────────────────────

function open(sealed: string): LocationFix | null {
  const keys = state.session!.keys;
  try {
    return openLocation(sealed, keys.x25519PublicKey, keys.x25519SecretKey);
  } catch {
    return null;
  }
}

async function loadLocation(deviceId: string, force = false) {
  const device = selected();
  if (!device || device.id !== deviceId || !state.session) return;
  const show = (location: LocationState) =>
    renderLocation(location, { deviceName: device.name, land: state.land, tileTemplate, now: Date.now() });
  if (!device.findEnabled) {
    state.fix = undefined;
    state.locationKey = '';
    show({ kind: 'none', message: 'No location: Find Device is off for this device.' });
    return;
  }
  const [last, history] = await Promise.all([api.lastLocation(deviceId), api.locations(deviceId, Date.now() - HISTORY_MS)]);
  if (state.selectedId !== deviceId) return;
  const key = `${last.report?.receivedAt}:${history.reports.length}:${history.reports.at(-1)?.receivedAt}`;
  if (!force && key === state.locationKey) return;
  state.locationKey = key;
  if (!last.report) {
    state.fix = undefined;
    show({ kind: 'none', message: 'This device has not reported a location yet. Try "Locate now".' });
    return;
  }
  const fix = open(last.report.sealed);
  if (!fix) {
    state.fix = undefined;
    show({ kind: 'none', message: "The last location report could not be opened with this account's key." });
    return;
  }
  const opened = history.reports.map((report) => open(report.sealed));
  const trail = opened.filter((point): point is LocationFix => point !== null).sort((a, b) => a.measuredAt - b.measuredAt);
  if (!trail.some((p) => p.measuredAt === fix.measuredAt && p.lat === fix.lat && p.lon === fix.lon)) trail.push(fix);
  state.land = await loadLand();
  state.fix = fix;
  show({ kind: 'fix', fix, trail, undecryptable: opened.filter((point) => point === null).length });
}

// ── commands ───────────────────────────────────────────────────────────────────────────────────

async function loadCommands(deviceId: string) {
  const { commands } = await api.commands(deviceId);
  if (state.selectedId !== deviceId) return;
  const locatedNow = commands.some(
    (c) => c.type === 'locate' && c.status === 'succeeded' && state.commands.some((old) => old.id === c.id && old.status !== 'succeeded'),
  );
  state.commands = commands;
  renderCommands(commands, Date.now());
  if (locatedNow) await loadLocation(deviceId);
}

async function sendCommand(type: CommandType, args: object) {
  const device = selected();
  const session = state.session;
  if (!device || !session) return;
  // The counter must exceed every one the device has seen: take the newest from the server,
  // the newest this page used, and the clock, whichever is highest.
  const { commands } = await api.commands(device.id);
  const seen = Math.max(0, state.counters.get(device.id) ?? 0, ...commands.map((c) => c.counter));
  const issuedAt = Date.now();
  const counter = nextCommandCounter(seen, issuedAt);
  state.counters.set(device.id, counter);
  // The phone carries the command out whenever it next checks in, up to this signed expiry.
  const expiresAt = issuedAt + DEFAULT_COMMAND_LIFETIME_MS;
  const signed = signCommand({ deviceId: device.id, type, args, issuedAt, expiresAt, counter }, session.keys.ed25519Seed);
  await api.sendCommand(device.id, signed);
  showNotice(null);
  showStatus(`${COMMAND_NAMES[type]} sent to ${device.name}; it runs when the phone next checks in, within 7 days.`);
  // Lock and unlock start and end Lost Mode, which the device view shows.
  await Promise.all([loadCommands(device.id), type === 'lock' || type === 'unlock' ? loadDevices() : undefined]);
}

async function onCommandButton(button: HTMLButtonElement) {
  const type = button.dataset.command as CommandType;
  const device = selected();
  const session = state.session;
  if (!device || !session) return;
  if (type === 'lock') {
    lockDialog.open(async (data) => {
      const callback = String(data.get('callback') ?? '').trim();
      const args = sealLockArgs({ message: String(data.get('message') ?? '').trim(), callbackNumber: callback || null }, session.keys.x25519PublicKey);
      await sendCommand('lock', args);
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
      await sendCommand('wipe', {});
    });
    return;
  }
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    await sendCommand(type, {});
  } catch (error) {
    fail(error);
  } finally {
    button.disabled = !selected()?.findEnabled;
    button.removeAttribute('aria-busy');
  }
}

// ── polling and session ────────────────────────────────────────────────────────────────────────

async function poll() {
  if (state.polling || !state.session || document.hidden || currentView !== 'find') return;
  state.polling = true;
  try {
    const slow = ++state.ticks % SLOW_POLL_EVERY === 0;
    if (slow) await loadDevices();
    const deviceId = state.selectedId;
    if (deviceId) {
      await loadCommands(deviceId);
      if (slow) await Promise.all([loadLocation(deviceId), loadSimEvents(deviceId)]);
    }
    refreshAge(state.fix, Date.now());
  } catch (error) {
    fail(error);
  } finally {
    state.polling = false;
  }
}

function endSession(message: string | null) {
  window.clearInterval(state.timer);
  state.timer = undefined;
  const keys = state.session?.keys;
  keys?.x25519SecretKey.fill(0);
  keys?.ed25519Seed.fill(0);
  Object.assign(state, { session: null, devices: [], selectedId: null, commands: [], fix: undefined, locationKey: '', ticks: 0 });
  state.counters.clear();
  byId('app-view').hidden = true;
  byId('privacy-view').hidden = true;
  currentView = 'find';
  privacy.reset();
  accountView.reset();
  byId('account').hidden = true;
  byId('login-view').hidden = false;
  byId('device-list').replaceChildren();
  byId('map').replaceChildren();
  showNotice(message);
  showStatus(message ? '' : 'Logged out.');
  byId('email').focus();
}

async function onLogin(event: SubmitEvent) {
  event.preventDefault();
  const email = byId<HTMLInputElement>('email');
  const password = byId<HTMLInputElement>('password');
  const button = byId<HTMLButtonElement>('login-button');
  if (!email.value || !password.value) {
    showNotice('Enter your email and password.');
    return;
  }
  button.disabled = true;
  showNotice(null);
  showStatus('Unlocking your keys…');
  try {
    state.session = await api.logIn(email.value.trim(), password.value);
    password.value = '';
    byId('account-email').textContent = state.session.email;
    byId('login-view').hidden = true;
    byId('account').hidden = false;
    byId('app-view').hidden = false;
    showStatus('Logged in.');
    // A pending deletion and a new policy version show on every login, whichever view is open.
    void Promise.all([accountView.loadNotices(), privacy.loadNotices()]).catch(fail);
    void loadLand().then((land) => (state.land = land));
    await loadDevices();
    state.timer = window.setInterval(() => void poll(), POLL_MS);
    (document.querySelector<HTMLButtonElement>('.device-select') ?? byId('devices-title')).focus();
  } catch (error) {
    showStatus('');
    fail(error);
  } finally {
    button.disabled = false;
  }
}

byId<HTMLFormElement>('login-form').addEventListener('submit', (event) => void onLogin(event));
byId('logout').addEventListener('click', () => {
  void api.logOut().catch(() => undefined).finally(() => endSession(null));
});
for (const button of document.querySelectorAll<HTMLButtonElement>('.nav-button')) {
  button.addEventListener('click', () => showView(button.dataset.view as View));
}
for (const button of document.querySelectorAll<HTMLButtonElement>('[data-command]')) {
  button.addEventListener('click', () => void onCommandButton(button));
}
byId('email').focus();
