import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logIn } from '../../src/client/account.js';
import { type ApiClient, createApiClient, HomingApiError } from '../../src/client/api.js';
import { randomBytes, toBase64Url } from '../../src/protocol/encoding.js';
import { codeSentTo as codeEmailedTo } from '../process/outbox-code.js';
import { REPO, startTestServer } from '../process/spawn.js';
import { type LaunchedChromium, launchChromium } from './browser.js';

// The whole account in the browser, in a real Chromium against a real server process, at a
// laptop's and a phone's size: sign-up with the recovery key shown once, the recovery-key login
// that sets a new password, a password change, sessions, removing a device, and a reload that
// keeps the session behind one password prompt. What the page shows is checked against what the
// server answers the SDK, and the attacker's side (a revoked cookie) against what the page does.

const ASSETS = join(REPO, 'dist/web/assets.js');
const PASSWORD = 'correct horse battery staple';
const RECOVERED = 'a new password after recovery';
const CHANGED = 'and then a changed one';
const RECOVERY_KEY = /^[0-9a-f]{8}(-[0-9a-f]{8}){7}$/;
const VIEWPORTS = [
  { width: 1280, height: 900 },
  { width: 390, height: 844 },
];

let server: Awaited<ReturnType<typeof startTestServer>>;
let browser: LaunchedChromium;
let page: Page;
/** Every request the page made, with its body: nothing secret may be in one. */
const requests: { method: string; url: string; body: string }[] = [];
const problems: string[] = [];

beforeAll(async () => {
  if (!existsSync(ASSETS)) throw new Error('dist/web/assets.js is missing: run `npm run build:web` first (`npm test` runs it)');
  // The SDK's sessions below stand for other browsers and laptops, each at an address of its own
  // (X-Forwarded-For), so the strict per-address login limits count the page's logins alone.
  server = await startTestServer('web-account', { TRUST_PROXY_HEADER: 'x-forwarded-for' });
  mkdirSync(join(REPO, 'test-artifacts'), { recursive: true });
  browser = await launchChromium({ viewport: VIEWPORTS[0], reducedMotion: 'reduce', acceptDownloads: true });
  browser.context.setDefaultTimeout(10_000);
  await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.on('request', (request: Request) => requests.push({ method: request.method(), url: request.url(), body: request.postData() ?? '' }));
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    // Wrong passwords, revoked sessions and the first visit's session check are 401s on purpose,
    // and so is the wrong guardian code's 400; Chromium logs every failed request.
    const expected = ['status of 401', 'status of 400'].some((status) => message.text().includes(status));
    if (message.type() === 'error' && !expected) problems.push(`console: ${message.text()}`);
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

let addresses = 0;
/** An SDK client somewhere else: its own client address, as another machine would have. */
function sdkClient() {
  const address = `198.51.100.${++addresses}`;
  return createApiClient({
    baseUrl: server.url,
    fetch: (input, init) => fetch(input, { ...init, headers: { ...(init.headers as Record<string, string>), 'X-Forwarded-For': address } }),
  });
}

/** A session of the account opened elsewhere, through the SDK: another browser, a CLI. */
async function elsewhere(email: string, password: string, label = 'device CLI') {
  const api = sdkClient();
  const { response } = await logIn(api, { email, password, label });
  return { api, sessionId: response.session.id };
}

const unlockPassword = () => page.locator('#unlock-view').getByLabel('Password', { exact: true });
const visible = (selector: string) => page.locator(selector).isVisible();
const activeId = () => page.evaluate(() => document.activeElement?.id);
const noHorizontalScroll = async () => {
  const widths = await page.evaluate(() => ({ page: document.documentElement.scrollWidth, view: window.innerWidth }));
  expect(widths.page).toBeLessThanOrEqual(widths.view);
};
/** The requests the page makes while `act` runs. */
async function requestsDuring(act: () => Promise<void>) {
  const before = requests.length;
  await act();
  return requests.slice(before);
}
const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.unreachable('the server accepted it'),
    (error: unknown) => error as HomingApiError,
  );

async function logInThroughForm(email: string, password: string) {
  await page.locator('#email').fill(email);
  await page.locator('#password').fill(password);
  await page.locator('#login-button').click();
}

async function openAccountView() {
  await page.getByRole('button', { name: 'Find Device', exact: true }).click();
  await page.getByRole('button', { name: 'Your account and privacy' }).click();
}

for (const viewport of VIEWPORTS) {
  describe(`the whole account in the page at ${viewport.width}×${viewport.height}`, { timeout: 90_000 }, () => {
    const email = `ada.${viewport.width}@example.org`;
    let recoveryKey = '';
    /** The account as the SDK sees it, through a bearer session of its own (renewed after a password change). */
    let owner: ApiClient;

    it('signs up in the page: keys made here, the recovery key shown once with Copy and Download, gone from the DOM after continuing', async () => {
      await page.setViewportSize(viewport);
      await page.goto(server.url);
      await page.getByRole('button', { name: 'Create an account' }).click();
      expect(await activeId()).toBe('signup-email');
      await noHorizontalScroll();

      // A confirmation that differs is caught in the page: nothing is sent.
      const form = page.locator('#signup-view');
      await form.getByLabel('Email').fill(email);
      await form.getByLabel('Password (at least 8 characters)').fill(PASSWORD);
      await form.getByLabel('The same password again').fill(`${PASSWORD}!`);
      await form.getByLabel('Year of birth').fill('1990');
      expect(await visible('#signup-guardian-group')).toBe(false);
      const mismatch = await requestsDuring(async () => {
        await page.getByRole('button', { name: 'Create my account' }).click();
        await expect.poll(() => page.locator('#notice').textContent()).toContain('do not match');
      });
      expect(mismatch).toEqual([]);
      expect(await activeId()).toBe('signup-password-confirm');

      await form.getByLabel('The same password again').fill(PASSWORD);
      const signup = await requestsDuring(async () => {
        await page.getByRole('button', { name: 'Create my account' }).click();
        await expect.poll(() => visible('#recovery-key-view'), { timeout: 30_000 }).toBe(true);
      });
      recoveryKey = (await page.locator('#recovery-key').textContent()) ?? '';
      expect(recoveryKey).toMatch(RECOVERY_KEY);
      expect(await activeId()).toBe('recovery-key-title');
      expect(await page.locator('#recovery-key-email').textContent()).toBe(email);
      await noHorizontalScroll();
      await page.screenshot({ path: join(REPO, `test-artifacts/account-recovery-key-${viewport.width}.png`), animations: 'disabled', fullPage: true });
      // The server got public keys and wrapped secrets: never the password or the recovery key.
      const created = signup.find((r) => r.method === 'POST' && new URL(r.url).pathname === '/v1/accounts');
      expect(JSON.parse(created!.body)).toMatchObject({ email, birthYear: 1990, loginPublicKey: expect.any(String), recoveryWrappedMasterKey: expect.any(String) });
      for (const request of signup) {
        expect(request.body).not.toContain(PASSWORD);
        expect(request.body).not.toContain(recoveryKey.replace(/-/g, ''));
        expect(request.body).not.toContain(recoveryKey);
      }

      // Copy puts it on the clipboard; Download saves it as a .txt through a blob: URL under the page's CSP.
      await page.getByRole('button', { name: 'Copy' }).click();
      await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(recoveryKey);
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download as a file' }).click()]);
      expect(download.suggestedFilename()).toBe('homing-recovery-key.txt');
      const file = readFileSync(await download.path(), 'utf8');
      expect(file).toContain(recoveryKey);
      expect(file).toContain(`Account: ${email}`);

      // Continue waits for "I have saved my recovery key"; after it the key is nowhere in the page.
      const next = page.getByRole('button', { name: 'Continue' });
      expect(await next.isDisabled()).toBe(true);
      await page.getByLabel('I have saved my recovery key somewhere safe').check();
      await next.click();
      await expect.poll(() => visible('#app-view'), { timeout: 30_000 }).toBe(true);
      expect(await page.locator('#account-email').textContent()).toBe(email);
      expect(await page.content()).not.toContain(recoveryKey);
      expect(await page.evaluate(() => document.body.innerText)).not.toContain(recoveryKey);

      owner = (await elsewhere(email, PASSWORD, 'test SDK')).api;
      expect((await owner.account()).email).toBe(email);
    });

    it('logs out (ending the server session), logs in with the recovery key and a new password; the old password no longer works', async () => {
      await page.getByRole('button', { name: 'Log out' }).click();
      await expect.poll(() => visible('#login-view')).toBe(true);
      expect(await page.evaluate(() => fetch('/v1/devices').then((r) => r.status))).toBe(401);

      await page.getByRole('button', { name: /Log in with your recovery key/ }).click();
      expect(await activeId()).toBe('recovery-email');
      await noHorizontalScroll();
      const form = page.locator('#recovery-view');
      await form.getByLabel('Email').fill(email);
      await form.getByLabel('Recovery key', { exact: true }).fill(recoveryKey.toUpperCase().replace(/-/g, ' '));
      await form.getByLabel('New password (at least 8 characters)').fill(RECOVERED);
      await form.getByLabel('The new password again').fill(RECOVERED);
      await page.getByRole('button', { name: 'Set the new password and log in' }).click();
      await expect.poll(() => visible('#app-view'), { timeout: 30_000 }).toBe(true);
      await expect.poll(() => page.locator('#status').textContent()).toContain('Your new password is set');

      // The password change signed out every other session, the SDK's too.
      expect((await rejection(owner.account())).code).toBe('unauthorized');
      expect((await rejection(logIn(sdkClient(), { email, password: PASSWORD }))).code).toBe('invalid_credentials');
      owner = (await elsewhere(email, RECOVERED, 'test SDK')).api;

      // Through the page too: the old password is refused, the new one works.
      await page.getByRole('button', { name: 'Log out' }).click();
      await expect.poll(() => visible('#login-view')).toBe(true);
      await logInThroughForm(email, PASSWORD);
      await expect.poll(() => page.locator('#notice').textContent(), { timeout: 30_000 }).toContain('wrong');
      expect(await visible('#app-view')).toBe(false);
      await logInThroughForm(email, RECOVERED);
      await expect.poll(() => visible('#app-view'), { timeout: 30_000 }).toBe(true);
    });

    it('changes the password: a wrong current one is refused in the page with nothing sent, then other sessions are signed out', async () => {
      const other = await elsewhere(email, RECOVERED, 'another browser');
      await openAccountView();
      await page.getByRole('button', { name: 'Change password…' }).click();
      const dialog = page.locator('#change-password-dialog');
      await expect.poll(() => dialog.isVisible()).toBe(true);
      await dialog.getByLabel('Current password').fill('not my password at all');
      await dialog.getByLabel('New password (at least 8 characters)').fill(CHANGED);
      await dialog.getByLabel('The new password again').fill(CHANGED);
      const wrong = await requestsDuring(async () => {
        await dialog.getByRole('button', { name: 'Change password' }).click();
        await expect.poll(() => dialog.locator('.dialog-error').textContent(), { timeout: 30_000 }).toContain('not your current password');
      });
      // The key bundle was read, and that is all: no challenge was asked for or signed, no change sent.
      const calls = wrong.map((r) => `${r.method} ${new URL(r.url).pathname}`);
      expect(calls).toContain('GET /v1/account/keys');
      expect(calls.filter((call) => !call.startsWith('GET '))).toEqual([]);

      await dialog.getByLabel('Current password').fill(RECOVERED);
      await dialog.getByLabel('New password (at least 8 characters)').fill(CHANGED);
      await dialog.getByLabel('The new password again').fill(CHANGED);
      await dialog.getByRole('button', { name: 'Change password' }).click();
      await expect.poll(() => dialog.isVisible(), { timeout: 30_000 }).toBe(false);
      expect(await page.locator('#status').textContent()).toMatch(/Your password is changed, and 2 other sessions were signed out\./);
      expect((await rejection(other.api.devices())).status).toBe(401);
      expect((await rejection(owner.devices())).status).toBe(401);
      owner = (await elsewhere(email, CHANGED, 'test SDK')).api;
      // The page's own session carries on.
      await openAccountView();
      await expect.poll(() => page.locator('#session-list li').count()).toBe(2);
    });

    it('lists the sessions with this browser marked, and signing another out makes its token fail (401)', async () => {
      const laptop = await elsewhere(email, CHANGED, 'CLI on a laptop');
      await openAccountView();
      const row = page.locator(`#session-list li[data-session-id="${laptop.sessionId}"]`);
      await expect.poll(() => row.count()).toBe(1);
      expect(await row.textContent()).toContain('CLI on a laptop');
      expect(await row.textContent()).toContain('app or device CLI');
      const ours = (await owner.sessions()).sessions.find((s) => s.kind === 'cookie')!;
      const mine = page.locator('#session-list li.current');
      expect(await mine.getAttribute('data-session-id')).toBe(ours.id);
      expect(await mine.textContent()).toContain('this browser');
      expect(await mine.getByRole('button').count()).toBe(0);
      await noHorizontalScroll();
      await page.locator('#sessions').screenshot({ path: join(REPO, `test-artifacts/account-sessions-${viewport.width}.png`), animations: 'disabled' });

      await row.getByRole('button', { name: /Sign out CLI on a laptop/ }).click();
      await page.locator('#confirm-dialog').getByRole('button', { name: 'Sign out' }).click();
      await expect.poll(() => row.count()).toBe(0);
      expect((await rejection(laptop.api.devices())).status).toBe(401);
      expect((await owner.devices()).devices).toEqual([]);

      // "Sign out all other sessions": the SDK's own session goes too, this browser's stays.
      const tablet = await elsewhere(email, CHANGED, 'tablet app');
      await openAccountView();
      await expect.poll(() => page.locator('#session-list li').count()).toBe(3);
      await page.getByRole('button', { name: 'Sign out all other sessions' }).click();
      await page.locator('#confirm-dialog').getByRole('button', { name: 'Sign out the others' }).click();
      await expect.poll(() => page.locator('#session-list li').count()).toBe(1);
      expect(await page.locator('#status').textContent()).toBe('2 other sessions are signed out.');
      expect((await rejection(tablet.api.devices())).status).toBe(401);
      expect((await rejection(owner.devices())).status).toBe(401);
      owner = (await elsewhere(email, CHANGED, 'test SDK')).api;
    });

    it('removes an SDK-registered device after a confirm that spells out what goes; the server no longer lists it', async () => {
      // Registered from the phone's own session, which the server binds to it.
      const phoneSession = await elsewhere(email, CHANGED, 'phone app');
      const registered = await phoneSession.api.registerDevice({ name: 'Old Pixel', model: 'Pixel 4', platform: 'android', identifierHash: toBase64Url(randomBytes(32)) });
      const phone = createApiClient({ baseUrl: server.url, deviceToken: registered.token });
      await phone.setThisDeviceFind(true);
      await openAccountView();
      const row = page.locator(`#manage-device-list li[data-device-id="${registered.device.id}"]`);
      await expect.poll(() => row.count()).toBe(1);
      const confirmDialog = page.locator('#confirm-dialog');

      // Cancelling changes nothing.
      await row.getByRole('button', { name: 'Remove Old Pixel…' }).click();
      const text = (await confirmDialog.locator('#confirm-text').textContent()) ?? '';
      for (const part of ['stored locations', 'commands', 'SIM events', 'push subscription', 'every session opened on it', 'can no longer sync', 'be found', 'synced data']) expect(text).toContain(part);
      await confirmDialog.getByRole('button', { name: 'Cancel' }).click();
      expect((await owner.devices()).devices.map((d) => d.id)).toEqual([registered.device.id]);

      await row.getByRole('button', { name: 'Remove Old Pixel…' }).click();
      await confirmDialog.getByRole('button', { name: 'Remove the device' }).click();
      await expect.poll(() => row.count()).toBe(0);
      await expect.poll(activeId).toBe('manage-devices-title');
      expect((await owner.devices()).devices).toEqual([]);
      // Its token and the session opened on it stopped working.
      expect((await rejection(phone.thisDevice())).status).toBe(401);
      expect((await rejection(phoneSession.api.account())).status).toBe(401);
    });

    it('a reload asks only for the password (a wrong one sends nothing), shows the devices, and opens no new session', async () => {
      const phoneSession = await elsewhere(email, CHANGED, 'phone app');
      await phoneSession.api.registerDevice({ name: "Ada's Fairphone", model: 'FP5', platform: 'android', identifierHash: toBase64Url(randomBytes(32)) });
      const before = (await owner.sessions()).sessions;

      await page.reload();
      await expect.poll(() => visible('#unlock-view')).toBe(true);
      expect(await visible('#login-view')).toBe(false);
      expect(await page.locator('#unlock-email').textContent()).toBe(email);
      expect(await activeId()).toBe('unlock-password');
      expect(await page.locator('#unlock-view input').count()).toBe(1);
      await noHorizontalScroll();
      await page.screenshot({ path: join(REPO, `test-artifacts/account-unlock-${viewport.width}.png`), animations: 'disabled', fullPage: true });

      const wrong = await requestsDuring(async () => {
        await unlockPassword().fill(PASSWORD);
        await page.getByRole('button', { name: 'Unlock' }).click();
        await expect.poll(() => page.locator('#notice').textContent(), { timeout: 30_000 }).toContain('does not open the keys');
      });
      // Starting the Argon2id worker loads its script (the same public file for everyone, which
      // the browser keeps from the first login: immutable), and that is all.
      const worker = /^\/assets\/kdf-worker\.[0-9a-f]{16}\.js$/;
      expect(wrong.filter((r) => !(r.method === 'GET' && worker.test(new URL(r.url).pathname)))).toEqual([]);
      expect(await visible('#unlock-view')).toBe(true);

      await unlockPassword().fill(CHANGED);
      await page.getByRole('button', { name: 'Unlock' }).click();
      await expect.poll(() => page.locator('.device-select', { hasText: "Ada's Fairphone" }).count(), { timeout: 30_000 }).toBe(1);
      expect(await page.locator('#account-email').textContent()).toBe(email);
      const after = (await owner.sessions()).sessions;
      expect(after.map((s) => s.id).sort()).toEqual(before.map((s) => s.id).sort());

      // Twice more, to be sure: still the one cookie session.
      await page.reload();
      await expect.poll(() => visible('#unlock-view')).toBe(true);
      await unlockPassword().fill(CHANGED);
      await page.keyboard.press('Enter');
      await expect.poll(() => visible('#app-view'), { timeout: 30_000 }).toBe(true);
      expect((await owner.sessions()).sessions.filter((s) => s.kind === 'cookie')).toHaveLength(1);
    });

    it('a login sent while the slow start-up check is still out ends the session that check found: one cookie session stays', async () => {
      const before = (await owner.sessions()).sessions.filter((s) => s.kind === 'cookie');
      expect(before).toHaveLength(1);
      // The server's answer to the start-up check is held back, so the person logs in first.
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      await page.route('**/v1/auth/session', async (route) => {
        await held;
        await route.continue();
      });
      try {
        await page.reload();
        await expect.poll(() => visible('#login-view')).toBe(true);
        await page.locator('#email').fill(email);
        await page.locator('#password').fill(CHANGED);
        await page.locator('#login-button').click();
        await page.waitForTimeout(300);
        release();
        await expect.poll(() => visible('#app-view'), { timeout: 30_000 }).toBe(true);
      } finally {
        release();
        await page.unroute('**/v1/auth/session');
      }
      const after = (await owner.sessions()).sessions.filter((s) => s.kind === 'cookie');
      expect(after).toHaveLength(1);
      expect(after[0]!.id).not.toBe(before[0]!.id);
    });

    it('"Use another account" on the unlock prompt ends the session on the server', async () => {
      await page.reload();
      await expect.poll(() => visible('#unlock-view')).toBe(true);
      await page.getByRole('button', { name: 'Use another account' }).click();
      await expect.poll(() => visible('#login-view')).toBe(true);
      expect(await activeId()).toBe('email');
      expect((await owner.sessions()).sessions.filter((s) => s.kind === 'cookie')).toEqual([]);
      expect(await page.evaluate(() => fetch('/v1/auth/session').then((r) => r.status))).toBe(401);
    });
  });
}

describe('sign-up of someone who may be under 14, and the attacker’s side of a kept session', { timeout: 90_000 }, () => {
  const child = 'young.ada@example.org';
  const guardian = 'parent.of.ada@example.org';

  it('a child names a guardian, whose code confirms the sign-up; a wrong code creates nothing', async () => {
    await page.setViewportSize(VIEWPORTS[1]!);
    await page.goto(server.url);
    await page.getByRole('button', { name: 'Create an account' }).click();
    const form = page.locator('#signup-view');
    await form.getByLabel('Email').fill(child);
    await form.getByLabel('Password (at least 8 characters)').fill(PASSWORD);
    await form.getByLabel('The same password again').fill(PASSWORD);
    await form.getByLabel('Year of birth').fill(String(new Date().getUTCFullYear() - 10));
    await expect.poll(() => visible('#signup-guardian-group')).toBe(true);
    await page.getByRole('button', { name: 'Create my account' }).click();
    await expect.poll(() => page.locator('#notice').textContent()).toContain('guardian');
    await form.getByLabel(/guardian's e-mail or mobile number/).fill(guardian);
    await page.getByRole('button', { name: 'Create my account' }).click();
    await expect.poll(() => visible('#signup-code-view'), { timeout: 30_000 }).toBe(true);
    expect(await activeId()).toBe('signup-code');
    expect(await page.locator('#signup-code-text').textContent()).toContain('@example.org');

    const code = await codeSentTo(guardian);
    const codeField = page.locator('#signup-code-view').getByLabel('6-digit code');
    await codeField.fill(code === '000000' ? '111111' : '000000');
    await page.getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => page.locator('#notice').textContent()).not.toBe('');
    expect(await visible('#recovery-key-view')).toBe(false);
    expect((await rejection(logIn(sdkClient(), { email: child, password: PASSWORD }))).status).toBe(401);

    await codeField.fill(code);
    await page.getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => visible('#recovery-key-view')).toBe(true);
    expect(await page.locator('#recovery-key').textContent()).toMatch(RECOVERY_KEY);
    await page.getByLabel('I have saved my recovery key somewhere safe').check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await expect.poll(() => visible('#app-view'), { timeout: 30_000 }).toBe(true);
    expect(await page.locator('#account-email').textContent()).toBe(child);
  });

  it('a reload whose cookie session was revoked (from another browser) shows the login form, not the unlock prompt', async () => {
    const other = await elsewhere(child, PASSWORD);
    const cookie = (await other.api.sessions()).sessions.find((s) => s.kind === 'cookie')!;
    await other.api.revokeSession(cookie.id);
    const [check] = await Promise.all([
      page.waitForResponse((response) => new URL(response.url()).pathname === '/v1/auth/session'),
      page.reload(),
    ]);
    expect(check.status()).toBe(401);
    // The answer is in; give the page a moment to act on it, then it must still be the login form.
    await page.waitForTimeout(300);
    expect(await visible('#login-view')).toBe(true);
    expect(await visible('#unlock-view')).toBe(false);
    expect(await activeId()).toBe('email');
  });

  it('a session revoked from another browser ends this page’s session on its next call, with a clear message', async () => {
    await logInThroughForm(child, PASSWORD);
    await expect.poll(() => visible('#app-view'), { timeout: 30_000 }).toBe(true);
    await expect.poll(() => page.locator('#devices-empty').isVisible()).toBe(true);
    const other = await elsewhere(child, PASSWORD);
    await other.api.revokeOtherSessions();

    await page.getByRole('button', { name: 'Your account and privacy' }).click();
    await expect.poll(() => visible('#login-view')).toBe(true);
    expect(await page.locator('#notice').textContent()).toMatch(/^Your session has ended: it was signed out/);
    expect(await visible('#privacy-view')).toBe(false);
    expect(await page.locator('#account-email').isVisible()).toBe(false);
    expect(problems).toEqual([]);
  });
});

/** The newest code in the server's e-mail outbox for this address. */
const codeSentTo = (address: string) => codeEmailedTo(join(server.dir, 'data', 'email-outbox.jsonl'), address, 'text', 10_000);
