import { HomingApiError, HomingNetworkError } from '../client/api.js';
import { type LocationFix, openLocation } from '../client/crypto/location.js';
import { type Command, createWebApi, describeError, type Device, SESSION_ENDED, type Session } from './api.js';
import { createAccountView } from './account-view.js';
import { COOKIE_DROPPED, createConnectionWatch, UNREACHABLE_NOTICE, unreachableText } from './connection.js';
import { newOutcomes, outcomeText, wipedAt } from './device-state.js';
import { createConfirm } from './dialogs.js';
import { createCommandActions, keepCommandFocus } from './command-actions.js';
import { createWorkerArgon2id, readKdfWorkerUrl } from './kdf-worker-client.js';
import { createLocationMap, readMapConfig } from './map.js';
import { type LocationState, renderLocation } from './map-view.js';
import { createPrivacyView } from './privacy-view.js';
import { hideAuthScreens, showAuthScreen } from './auth-screens.js';
import { createDeviceRemoval } from './device-removal.js';
import { createPasswordView } from './password-view.js';
import { createRecoveryView } from './recovery-view.js';
import { createSessionRestore } from './session-restore.js';
import { createSessionsView } from './sessions-view.js';
import { createSignupView } from './signup-view.js';
import {
  byId,
  clearNotice,
  refreshAge,
  renderCommands,
  renderDetailHeader,
  renderDevices,
  renderSimEvents,
  showNotice,
  showStatus,
} from './views.js';

// The Find Device page. Keys live only in this page's memory: the password derives them at login,
// locations are opened here, and every command is signed here before the server relays it.

const POLL_MS = 3000;
const SLOW_POLL_EVERY = 5;
const HISTORY_MS = 24 * 3_600_000;

// Any answer from the server ends an "unreachable" notice; the first answers after a login tell
// whether the browser kept the session cookie.
const connection = createConnectionWatch({ reachable: () => clearNotice(UNREACHABLE_NOTICE) });
// Argon2id in a Web Worker, so the status line keeps moving while a password is derived; where
// it ran is left on <html data-kdf> for the browser tests.
const argon2id = createWorkerArgon2id({
  workerUrl: readKdfWorkerUrl(document),
  ran: (path) => (document.documentElement.dataset.kdf = path),
});
// Every password the page takes is derived: the worker gets ready while it is typed.
document.addEventListener('focusin', (event) => {
  if (event.target instanceof HTMLInputElement && event.target.type === 'password') void argon2id.prepare();
});
const api = createWebApi(window.location.origin, connection.fetch, argon2id);
const locationMap = createLocationMap(byId('map'), readMapConfig(document));
const confirm = createConfirm();

const state = {
  session: null as Session | null,
  devices: [] as Device[],
  selectedId: null as string | null,
  commands: [] as Command[],
  fix: undefined as LocationFix | undefined,
  locationKey: '',
  /** When each device's phone confirmed a wipe (null: not wiped), from its commands (device-state.ts). */
  wipes: new Map<string, number | null>(),
  timer: undefined as number | undefined,
  ticks: 0,
  polling: false,
};

const selected = () => state.devices.find((device) => device.id === state.selectedId);

const commandActions = createCommandActions({
  api,
  selected,
  session: () => state.session,
  fail,
  // Lock and unlock start and end Lost Mode, which the device view shows.
  async sent(deviceId, type) {
    await Promise.all([loadCommands(deviceId), type === 'lock' || type === 'unlock' ? loadDevices() : undefined]);
  },
});

type View = 'find' | 'privacy';
let currentView: View = 'find';

function fail(error: unknown) {
  if (error instanceof HomingApiError && error.status === 401 && error.code === 'unauthorized') {
    endSession(connection.cookieDropped(error) ? COOKIE_DROPPED : SESSION_ENDED);
    return;
  }
  if (error instanceof HomingNetworkError) {
    showNotice(unreachableText(error), UNREACHABLE_NOTICE);
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

// The account's own life: sign-up, the recovery key, the password, sessions, removing a device,
// and a reload that keeps the session (each in its own module; every way in ends in enterApp).
const sessionsView = createSessionsView({ api, fail, confirm });
const deviceRemoval = createDeviceRemoval({
  api,
  fail,
  confirm,
  // Sessions opened on the device went with it, and so did its Find Device consent.
  devicesChanged: () => void Promise.all([loadDevices(), privacy.load(), sessionsView.load()]).catch(fail),
});
createPasswordView({ api, session: () => state.session, changed: () => void sessionsView.load().catch(fail) });
const signup = createSignupView({ api, loggedIn: (session) => enterApp(session, true) });
const recovery = createRecoveryView({ api, loggedIn: (session) => enterApp(session, true) });
let loggingIn = false;
const restore = createSessionRestore({ api, loggedIn: (session) => enterApp(session, false), loginInProgress: () => loggingIn, endSession });

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
    void Promise.all([accountView.load(), privacy.load(), sessionsView.load(), deviceRemoval.load()]).catch(fail);
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
  const handlers = { select: (id: string) => void selectDevice(id), toggleFind: (d: Device, on: boolean, input: HTMLInputElement) => void toggleFind(d, on, input) };
  renderDevices(state.devices, state.selectedId, Date.now(), handlers, state.wipes);
  renderDetailHeader(selected(), Date.now(), state.wipes.get(state.selectedId ?? '') ?? null);
  if (focusedId) (document.getElementById(focusedId) ?? document.querySelector<HTMLElement>(`[data-device-id="${CSS.escape(focusedId)}"]`))?.focus();
  if (active?.matches('[data-command]')) keepCommandFocus(active);
}

async function loadDevices() {
  state.devices = (await api.devices()).devices;
  if (state.selectedId && !selected()) state.selectedId = null;
  // A wipe is read from a device's commands: once per device here, then on each poll of the one shown.
  await Promise.all(
    state.devices
      .filter((device) => !state.wipes.has(device.id))
      .map(async (device) => state.wipes.set(device.id, wipedAt((await api.commands(device.id)).commands, device.lastSeenAt))),
  );
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
  renderLocation({ kind: 'loading' }, { deviceName: device?.name ?? '', map: locationMap, now: Date.now() });
  renderCommands([], Date.now());
  renderSimEvents([], Date.now());
  byId('detail-title').focus();
  // On a phone screen the list sits above: when the command bar is not wholly in view, the
  // device's card scrolls to the top, its title and commands first.
  const bar = byId('command-bar').getBoundingClientRect();
  if (bar.top < 0 || bar.bottom > window.innerHeight) byId('detail').scrollIntoView({ block: 'start' });
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
    renderLocation(location, { deviceName: device.name, map: locationMap, now: Date.now() });
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
  state.fix = fix;
  show({ kind: 'fix', fix, trail, undecryptable: opened.filter((point) => point === null).length });
}

// ── commands ───────────────────────────────────────────────────────────────────────────────────

async function loadCommands(deviceId: string) {
  const { commands } = await api.commands(deviceId);
  const device = selected();
  if (state.selectedId !== deviceId || !device) return;
  const outcomes = newOutcomes(state.commands, commands);
  const locatedNow = outcomes.some((c) => c.type === 'locate' && c.status === 'succeeded');
  state.commands = commands;
  renderCommands(commands, Date.now());
  // The one live region (#status) says how each command the owner is watching ended.
  if (outcomes.length > 0) showStatus(outcomes.map((c) => outcomeText(c, device.name)).join(' '));
  const wiped = wipedAt(commands, device.lastSeenAt);
  if (state.wipes.get(deviceId) !== wiped) {
    state.wipes.set(deviceId, wiped);
    drawDevices();
  }
  if (locatedNow) await loadLocation(deviceId);
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
  commandActions.reset();
  state.wipes.clear();
  byId('app-view').hidden = true;
  byId('privacy-view').hidden = true;
  currentView = 'find';
  privacy.reset();
  accountView.reset();
  byId('account').hidden = true;
  for (const view of [signup, recovery, restore, sessionsView, deviceRemoval]) view.reset();
  showAuthScreen('login', false);
  byId('device-list').replaceChildren();
  locationMap.reset();
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
  loggingIn = true;
  showNotice(null);
  showStatus('Unlocking your keys…');
  let session: Session;
  try {
    await restore.beforeLogin();
    session = await api.logIn(email.value.trim(), password.value);
    password.value = '';
  } catch (error) {
    showStatus('');
    fail(error);
    return;
  } finally {
    button.disabled = false;
    loggingIn = false;
  }
  await enterApp(session, true);
}

/**
 * Every way in ends here, holding the keys: a login, a sign-up, the recovery key, or the unlock
 * prompt after a reload. `fresh` when a login just set the session cookie (not after a reload,
 * whose cookie already worked), so a cookie the browser dropped is told apart from a revoked one.
 */
async function enterApp(session: Session, fresh: boolean) {
  state.session = session;
  if (fresh) connection.loggedIn();
  byId('account-email').textContent = session.email;
  hideAuthScreens();
  byId('account').hidden = false;
  byId('app-view').hidden = false;
  byId('devices-title').focus();
  showStatus('Logged in.');
  // A pending deletion and a new policy version show on every login, whichever view is open.
  void Promise.all([accountView.loadNotices(), privacy.loadNotices()]).catch(fail);
  try {
    await loadDevices();
  } catch (error) {
    fail(error);
    return;
  }
  state.timer = window.setInterval(() => void poll(), POLL_MS);
  // The list can come late: a person who has already moved on (opened another view, focused a
  // control) keeps their focus, or an Enter meant for that control would choose a phone instead.
  const active = document.activeElement;
  const untouched = active === null || active === document.body || active === byId('devices-title');
  if (currentView === 'find' && untouched) (document.querySelector<HTMLButtonElement>('.device-select') ?? byId('devices-title')).focus();
}

byId<HTMLFormElement>('login-form').addEventListener('submit', (event) => void onLogin(event));
// Plain HTTP beyond localhost: the browser will drop the Secure session cookie, so say so up front.
byId('insecure-notice').hidden = window.isSecureContext;
byId('logout').addEventListener('click', () => {
  void api.logOut().catch(() => undefined).finally(() => endSession(null));
});
for (const button of document.querySelectorAll<HTMLButtonElement>('.nav-button')) {
  button.addEventListener('click', () => showView(button.dataset.view as View));
}
for (const button of document.querySelectorAll<HTMLButtonElement>('[data-command]')) {
  button.addEventListener('click', () => void commandActions.onButton(button));
}
byId('email').focus();
// A reload keeps the person logged in: a live session cookie turns the login form into the
// unlock prompt (session-restore.ts). Until the answer comes, the login form is usable as it is.
void restore.start();
