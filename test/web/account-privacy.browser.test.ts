import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logIn, signUp } from '../../src/client/account.js';
import { type ApiClient, createApiClient } from '../../src/client/api.js';
import { readArchive, verifyArchive } from '../../src/client/export/archive.js';
import { nobleSha256 } from '../../src/protocol/hash.js';
import { randomBytes, toBase64Url } from '../../src/protocol/encoding.js';
import { codeSentTo as codeEmailedTo } from '../process/outbox-code.js';
import { freePort, REPO, type Running, start, startTestServer, waitForHealth } from '../process/spawn.js';
import { type LaunchedChromium, launchChromium } from './browser.js';

// "Your account and privacy" in a real Chromium against a real server process: the owner's
// rights under the privacy policy, used the way a person would, with the keyboard where it counts
// and at a phone's and a laptop's size. What the page shows is checked against what the server
// answers the SDK, so a page that only looks right fails.

const ASSETS = join(REPO, 'dist/web/assets.js');
const EMAIL = 'grace@example.org';
const NEW_EMAIL = 'grace.hopper@example.org';
const PASSWORD = 'a very long passphrase indeed';
const DEVICE_NAME = "Grace's Fairphone";
const CONSENT_CHANGES = 30;

let server: Awaited<ReturnType<typeof startTestServer>>;
/** The same server's data, started again with a new policy version. */
let restarted: Running | undefined;
let browser: LaunchedChromium;
let owner: ApiClient;
let deviceId: string;

beforeAll(async () => {
  if (!existsSync(ASSETS)) throw new Error('dist/web/assets.js is missing: run `npm run build:web` first (`npm test` runs it)');
  server = await startTestServer('web-privacy');
  browser = await launchChromium({ viewport: { width: 1280, height: 900 }, reducedMotion: 'reduce', acceptDownloads: true });
  browser.context.setDefaultTimeout(10_000);

  owner = createApiClient({ baseUrl: server.url });
  await signUp(owner, { birthYear: 1985, email: EMAIL, password: PASSWORD, kdf: { opsLimit: 1, memLimit: 8192 } });
  await logIn(owner, { email: EMAIL, password: PASSWORD });
  const registered = await owner.registerDevice({ name: DEVICE_NAME, model: 'FP5', platform: 'android', identifierHash: toBase64Url(randomBytes(32)) });
  deviceId = registered.device.id;
  await createApiClient({ baseUrl: server.url, deviceToken: registered.token }).setThisDeviceFind(true);
  // One location view naming the device, and more audit entries than one page of the page holds.
  await owner.lastLocation(deviceId);
  for (let i = 0; i < CONSENT_CHANGES; i++) await owner.setConsent('experience', { granted: i % 2 === 0 });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (restarted) {
    restarted.child.kill('SIGTERM');
    await restarted.exited;
  }
  await server?.stop();
});

const noHorizontalScroll = (page: Page) =>
  page.evaluate(() => ({ page: document.documentElement.scrollWidth, view: window.innerWidth }));

async function logInThroughPage(page: Page, email: string) {
  await page.goto(server.url);
  await page.locator('#email').fill(email);
  await page.locator('#password').fill(PASSWORD);
  await page.keyboard.press('Enter');
  await expect.poll(() => page.locator('#account').isVisible(), { timeout: 15_000 }).toBe(true);
}

describe('Your account and privacy, in the web page', { timeout: 60_000 }, () => {
  let page: Page;
  const problems: string[] = [];

  it('opens from the header with the keyboard and shows the e-mail the server holds', async () => {
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      // The wrong password below is answered 401 on purpose; Chromium logs every failed request.
      if (message.type() === 'error' && !message.text().includes('status of 401')) problems.push(`console: ${message.text()}`);
    });
    // The device list is held back, as on a slow server: the person has reached this view's
    // button with the keyboard before it comes, and its late arrival must not take the focus to a
    // phone, or the Enter meant for the button would choose that phone instead.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/v1/devices', async (route) => {
      await held;
      await route.continue();
    });
    try {
      await logInThroughPage(page, EMAIL);
      await page.getByRole('button', { name: 'Your account and privacy' }).focus();
      release();
      await expect.poll(() => page.locator('#device-list .device-select').count()).toBe(1);
    } finally {
      release();
      await page.unroute('**/v1/devices');
    }
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('privacy-title');
    expect(await page.getByRole('button', { name: 'Your account and privacy' }).getAttribute('aria-current')).toBe('page');
    expect(await page.locator('#app-view').isVisible()).toBe(false);
    await expect.poll(() => page.locator('#pd-email').textContent()).toBe(EMAIL);
    expect(await page.locator('#pd-phone').textContent()).toBe('none');
    expect((await owner.account()).email).toBe(EMAIL);
  });

  it('turns a data kind off with "keep what is stored" and on again, as the server records it', async () => {
    const contacts = page.getByRole('switch', { name: 'Sync of Contacts' });
    await expect.poll(() => contacts.isChecked()).toBe(true);
    await contacts.focus();
    await page.keyboard.press('Space');
    const dialog = page.locator('#stored-dialog');
    await expect.poll(() => dialog.isVisible()).toBe(true);
    expect(await dialog.getByRole('radio', { name: /Keep what is stored/ }).isChecked()).toBe(true);
    await dialog.getByRole('button', { name: 'Turn off' }).click();
    await expect.poll(() => dialog.isVisible()).toBe(false);
    await expect.poll(() => page.locator('#consent-list li[data-purpose="sync:contacts"] .consent-state').textContent()).toMatch(/^Off since /);
    expect(await contacts.isChecked()).toBe(false);

    const serverSide = (await owner.consents()).consents.find((c) => c.purpose === 'sync:contacts')!;
    expect(serverSide).toMatchObject({ granted: false, isDefault: false });
    const [latest] = (await owner.consentHistory()).events;
    expect(latest).toMatchObject({ purpose: 'sync:contacts', granted: false, stored: 'keep', receiptId: null });
    // Kept: no receipt is issued, and none is shown.
    expect(await page.locator('#last-receipt').isVisible()).toBe(false);

    await contacts.click();
    await expect.poll(() => page.locator('#consent-list li[data-purpose="sync:contacts"] .consent-state').textContent()).toMatch(/^On since /);
    expect((await owner.consents()).consents.find((c) => c.purpose === 'sync:contacts')!.granted).toBe(true);

    // Cancelling the dialog changes nothing, on the page or on the server.
    const notes = page.getByRole('switch', { name: 'Sync of Notes' });
    await notes.click();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => dialog.isVisible()).toBe(false);
    await expect.poll(() => notes.isChecked()).toBe(true);
    expect((await owner.consents()).consents.find((c) => c.purpose === 'sync:notes')!).toMatchObject({ granted: true, isDefault: true });
  });

  it('turning a data kind off with "delete it" shows a receipt verified against the pinned server key', async () => {
    await page.getByRole('switch', { name: 'Sync of Notes' }).click();
    const dialog = page.locator('#stored-dialog');
    await dialog.getByRole('radio', { name: /Delete it from the server now/ }).check();
    await dialog.getByRole('button', { name: 'Turn off' }).click();
    const box = page.locator('#last-receipt');
    await expect.poll(() => box.isVisible()).toBe(true);
    expect(await box.locator('li').getAttribute('data-verified')).toBe('true');
    expect(await box.textContent()).toContain('All Notes data');

    const { receipts } = await owner.receipts();
    const { publicKey } = await owner.receiptKey();
    expect(receipts).toHaveLength(1);
    expect(await box.locator('li').getAttribute('data-receipt-id')).toBe(receipts[0]!.id);
    await expect.poll(() => page.locator(`#receipt-list li[data-receipt-id="${receipts[0]!.id}"]`).getAttribute('data-verified')).toBe('true');
    // The key is pinned in this browser, and it is the server's.
    expect(await page.evaluate((origin) => localStorage.getItem(`homing.receipt-key:${origin}`), server.url)).toBe(publicKey);
  });

  it('a receipt signed by a key other than the pinned one is marked not verified (the server swapped its key)', async () => {
    // The hostile condition, seen from the browser: its pin differs from the key the server signs with now.
    await page.evaluate((origin) => localStorage.setItem(`homing.receipt-key:${origin}`, 'A'.repeat(43)), server.url);
    await page.getByRole('button', { name: 'Find Device', exact: true }).click();
    await page.getByRole('button', { name: 'Your account and privacy' }).click();
    await expect.poll(() => page.locator('#receipt-key').textContent()).toMatch(/^Warning: the server now signs with a different key/);
    await expect.poll(() => page.locator('#receipt-list li').first().getAttribute('data-verified')).toBe('false');
    expect(await page.locator('#receipt-list li').first().textContent()).toContain('signed by a different key than the one pinned');
    await page.evaluate((origin) => localStorage.removeItem(`homing.receipt-key:${origin}`), server.url);
  });

  it("shows the audit log newest first, with the login, readable names and the device's name, paged with a more button", async () => {
    const list = page.locator('#audit-list');
    await expect.poll(() => list.locator('li').count()).toBe(25);
    // Among the newest: the consent just withdrawn, in words.
    const consent = list.locator('li[data-action="consent.changed"]').first();
    expect(await consent.locator('.audit-action').textContent()).toBe('Consent changed');
    expect(await consent.locator('.audit-detail').textContent()).toBe('Sync of Notes off, stored data deleted');

    const more = page.getByRole('button', { name: 'Show older entries' });
    while (await more.isVisible()) {
      const before = await list.locator('li').count();
      await more.click();
      await expect.poll(() => list.locator('li').count()).toBeGreaterThan(before);
    }
    const server = await allAuditEntries();
    expect(await list.locator('li').count()).toBe(server.length);
    const actions = await list.locator('li').evaluateAll((items) => items.map((li) => li.getAttribute('data-action')));
    expect(actions).toEqual(server.map((e) => e.action));
    expect(await more.isVisible()).toBe(false);
    // Older entries name the device by its name, not its id.
    const read = list.locator('li[data-action="location.read"]');
    expect(await read.count()).toBe(1);
    expect(await read.locator('.audit-action').textContent()).toBe('Last location viewed');
    expect(await read.locator('.audit-device').textContent()).toBe(DEVICE_NAME);
    // The page's own login and the SDK's, each as "Logged in" with the password.
    const logins = list.locator('li[data-action="login.succeeded"]');
    expect(await logins.count()).toBe(2);
    expect(await logins.first().textContent()).toMatch(/^Logged in with the password /);
  });

  it('downloads an export after the fresh login proof: a ZIP whose manifest lists every entry', async () => {
    const downloading = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download my data' }).click();
    // The login itself counts as the fresh proof for a few minutes; after that the page asks again.
    const passwordAsked = page.locator('#password-dialog');
    if (await passwordAsked.isVisible()) {
      await passwordAsked.getByLabel('Your password').fill(PASSWORD);
      await passwordAsked.getByRole('button', { name: 'Download' }).click();
    }
    const download = await downloading;
    expect(download.suggestedFilename()).toMatch(/^homing-export-\d{4}-\d{2}-\d{2}\.zip$/);
    const bytes = readFileSync((await download.path())!);
    expect(bytes.subarray(0, 4)).toEqual(Buffer.from([0x50, 0x4b, 0x03, 0x04]));
    const archive = await readArchive({ size: bytes.length, read: async (offset, length) => new Uint8Array(bytes.subarray(offset, offset + length)) });
    const manifest = await verifyArchive(archive, nobleSha256);
    expect(manifest.format).toBe('homing-export');
    expect(manifest.entries.map((e) => e.name)).toEqual(expect.arrayContaining(['account.json', 'consents.json', 'audit.ndjson', 'receipts.json']));
    expect(JSON.parse(new TextDecoder().decode(await archive.bytes('account.json'))).email).toBe(EMAIL);
    await expect.poll(() => page.locator('#export-progress-text').textContent()).toMatch(/^Done: .*files and the manifest/);
  });

  it('requests account deletion with the password, shows the due date, and the banner returns on the next login until cancelled', async () => {
    await page.getByRole('button', { name: 'Delete my account…' }).click();
    const dialog = page.locator('#password-dialog');
    // A wrong password is refused and nothing is scheduled.
    await dialog.getByLabel('Your password').fill('not the password');
    await dialog.getByRole('button', { name: 'Delete my account' }).click();
    await expect.poll(() => dialog.locator('.dialog-error').isVisible()).toBe(true);
    expect((await owner.accountDeletion()).deletion).toBeNull();

    await dialog.getByLabel('Your password').fill(PASSWORD);
    await dialog.getByRole('button', { name: 'Delete my account' }).click();
    await expect.poll(() => page.locator('#deletion-pending').isVisible()).toBe(true);
    const { deletion } = await owner.accountDeletion();
    expect(deletion).toMatchObject({ requestedBy: 'owner', purgeStarted: false });
    expect(await page.locator('#deletion-pending').textContent()).toMatch(/will be deleted on .* \(in 7 days\)\. To keep your account, press "Cancel the deletion"/);
    expect(await page.locator('#deletion-banner').isVisible()).toBe(true);

    // Every login shows it, on the Find Device view too.
    await page.getByRole('button', { name: 'Log out' }).click();
    await expect.poll(() => page.locator('#deletion-banner').isVisible()).toBe(false);
    await logInThroughPage(page, EMAIL);
    await expect.poll(() => page.locator('#deletion-banner').isVisible()).toBe(true);
    expect(await page.locator('#app-view').isVisible()).toBe(true);
    await page.locator('#deletion-banner').getByRole('button', { name: 'Cancel the deletion' }).click();
    await expect.poll(() => page.locator('#deletion-banner').isVisible()).toBe(false);
    expect((await owner.accountDeletion()).deletion).toBeNull();
  });

  it('changes the e-mail address with the password and the code sent to the new address', async () => {
    await page.getByRole('button', { name: 'Your account and privacy' }).click();
    await page.getByRole('button', { name: 'Change e-mail…' }).click();
    const dialog = page.locator('#email-dialog');
    await dialog.getByLabel('New e-mail address').fill(NEW_EMAIL);
    await dialog.getByLabel(/Your password/).fill(PASSWORD);
    await dialog.getByRole('button', { name: 'Send the code' }).click();
    const codeDialog = page.locator('#code-dialog');
    await expect.poll(() => codeDialog.isVisible()).toBe(true);
    const code = await codeSentTo(NEW_EMAIL);
    await codeDialog.getByLabel('6-digit code').fill(code);
    await codeDialog.getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => page.locator('#pd-email').textContent()).toBe(NEW_EMAIL);
    expect(await page.locator('#account-email').textContent()).toBe(NEW_EMAIL);
    expect((await owner.account()).email).toBe(NEW_EMAIL);
  });

  it('fits a phone screen and a laptop screen without horizontal scrolling, and logged no errors', async () => {
    for (const viewport of [{ width: 390, height: 844 }, { width: 1280, height: 900 }]) {
      await page.setViewportSize(viewport);
      const widths = await noHorizontalScroll(page);
      expect(widths.page, `${viewport.width}×${viewport.height}`).toBeLessThanOrEqual(widths.view);
      await page.screenshot({ path: join(REPO, `test-artifacts/privacy-${viewport.width}.png`), animations: 'disabled', fullPage: true });
    }
    // The policy dialog, at the phone's size too.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('button', { name: 'Read the policy' }).click();
    const policy = page.locator('#policy-dialog');
    await expect.poll(() => policy.locator('#policy-text p').count()).toBeGreaterThan(1);
    expect(await policy.locator('#policy-dialog-title').textContent()).toBe(`Privacy policy, version ${(await owner.policy()).version}`);
    expect((await noHorizontalScroll(page)).page).toBeLessThanOrEqual(390);
    await page.keyboard.press('Escape');
    await expect.poll(() => policy.isVisible()).toBe(false);
    expect(problems).toEqual([]);
  });

  it('after a new policy version that reduces rights: a notice on login, consents marked for consent again, accepted from the page', async () => {
    // Logged out first: a session still alive would be kept across the restart (the cookie is
    // the same host's), and the page would ask only to unlock it instead of showing the login form.
    await page.getByRole('button', { name: 'Log out' }).click();
    await expect.poll(() => page.locator('#login-view').isVisible()).toBe(true);
    // The operator publishes version 2 and restarts the server on the same data.
    server.server.child.kill('SIGTERM');
    await server.server.exited;
    const policyFile = join(server.dir, 'policy-v2.txt');
    writeFileSync(policyFile, 'Privacy policy, version 2\n\nWe now keep crash reports for a year.\n');
    const port = await freePort();
    const url = `http://localhost:${port}`;
    restarted = start('src/node.ts', {
      cwd: server.dir,
      env: { PORT: String(port), KDF_MIN_OPS_LIMIT: '1', KDF_MIN_MEM_LIMIT: '8192', LOG_LEVEL: 'warn', POLICY_VERSION: '2', POLICY_REDUCES_RIGHTS: 'true', POLICY_FILE: policyFile },
    });
    await waitForHealth(url, restarted);
    const api = createApiClient({ baseUrl: url });
    await logIn(api, { email: NEW_EMAIL, password: PASSWORD });

    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(url);
    await page.locator('#email').fill(NEW_EMAIL);
    await page.locator('#password').fill(PASSWORD);
    await page.keyboard.press('Enter');
    const banner = page.locator('#policy-banner');
    await expect.poll(() => banner.isVisible(), { timeout: 15_000 }).toBe(true);
    expect(await banner.textContent()).toContain('It changes your rights');
    expect(await banner.getByRole('button', { name: 'Accept version 2' }).isVisible()).toBe(true);

    // Contacts was chosen under version 1, so it is off until granted again, and marked so.
    await page.getByRole('button', { name: 'Your account and privacy' }).click();
    const contacts = page.locator('#consent-list li[data-purpose="sync:contacts"]');
    await expect.poll(() => contacts.getAttribute('class')).toBe('consent needs-reacceptance');
    expect(await contacts.textContent()).toContain('Needs your consent again');
    expect(await page.getByRole('switch', { name: 'Sync of Contacts' }).isChecked()).toBe(false);

    // Read, then accept from the dialog: the notice goes, the consent stays off until switched on.
    await banner.getByRole('button', { name: 'Read the new policy' }).click();
    const dialog = page.locator('#policy-dialog');
    await expect.poll(() => dialog.locator('#policy-text').textContent()).toContain('We now keep crash reports for a year.');
    await dialog.getByRole('button', { name: 'Accept version 2' }).click();
    await expect.poll(() => banner.isVisible()).toBe(false);
    expect(await api.accountPolicy()).toMatchObject({ acceptedVersion: 2, noticePending: false });
    expect((await api.consents()).consents.find((c) => c.purpose === 'sync:contacts')).toMatchObject({ granted: false, needsReacceptance: true });

    await page.getByRole('switch', { name: 'Sync of Contacts' }).click();
    await expect.poll(() => contacts.getAttribute('class')).toBe('consent');
    expect((await api.consents()).consents.find((c) => c.purpose === 'sync:contacts')).toMatchObject({ granted: true, needsReacceptance: false, policyVersion: 2 });
    expect(problems).toEqual([]);
  });
});

async function allAuditEntries() {
  const entries = [];
  let cursor: string | undefined;
  do {
    const page = await owner.auditLog({ cursor, limit: 100 });
    entries.push(...page.entries);
    cursor = page.nextCursor;
  } while (cursor);
  return entries;
}

/** The newest code in the server's e-mail outbox for this address. */
const codeSentTo = (address: string) => codeEmailedTo(join(server.dir, 'data', 'email-outbox.jsonl'), address, 'text', 10_000);
