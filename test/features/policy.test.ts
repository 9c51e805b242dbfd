import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sendPolicyNotices } from '../../src/features/consents/notices.js';
import { createTestApp, type TestApp } from '../harness.js';
import { killIfRunning, REPO, type Running, start, freePort, waitForHealth } from '../process/spawn.js';
import { expectError, signUpAndLogIn } from '../security/helpers.js';
import { fakeSealed, newId } from './sync-helpers.js';

// Policy versions (issue 12, item 3): the text the operator publishes, the version recorded on
// first use, the consent floor a rights-reducing version sets, the e-mail and in-app notice, and
// acceptance. A new version is published the way an operator does it, on the same database: the
// configuration's POLICY_VERSION changes (here on the running app's config, as a restart would).

let t: TestApp;
const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  t?.close();
  t = undefined as unknown as TestApp; // a test that makes none must not close the last one's again
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

const SHIPPED = readFileSync(join(REPO, 'docs/privacy-policy.txt'), 'utf8');
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const registration = (name: string) => ({ name, model: 'test', platform: 'android' as const, identifierHash: fakeSealed(32) });

/** The operator publishes a new version: what a restart with a new POLICY_VERSION (and flag) does. */
function publish(version: number, reducesRights: boolean) {
  Object.assign(t.deps.config.policy, { version, reducesRights });
}

async function member() {
  const m = await signUpAndLogIn(t);
  const notes = (await m.api.createCollection({ id: newId(), kind: 'notes', wrappedKey: fakeSealed(), encryptedMetadata: fakeSealed(40) })).id;
  const create = () => ({ op: 'create' as const, itemId: newId(), collectionId: notes, wrappedKey: fakeSealed(), encryptedMetadata: fakeSealed(100) });
  const sync = () => t.request('POST', '/v1/sync/changes', { body: { changes: [create()] }, headers: { Authorization: `Bearer ${m.token}` } });
  return { ...m, notes, create, sync };
}

describe('publishing', () => {
  it('serves the shipped policy with its SHA-256, and records the version once', async () => {
    t = createTestApp();
    const policy = await t.api().policy();
    expect(policy).toMatchObject({ version: 1, text: SHIPPED, sha256: sha256(SHIPPED), reducesRights: false, publishedAt: t.clock.now() });
    expect(SHIPPED).toMatch(/^Privacy Policy\n/);
    t.clock.advance(60_000);
    expect((await t.api().policy()).publishedAt).toBe(policy.publishedAt);
  });

  it('takes the text from POLICY_FILE, and refuses to start on a missing or empty one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'homing-policy-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'policy.txt'), 'Our policy, version 7.\n');
    t = createTestApp({ POLICY_FILE: join(dir, 'policy.txt'), POLICY_VERSION: '7' });
    expect(await t.api().policy()).toMatchObject({ version: 7, text: 'Our policy, version 7.\n', sha256: sha256('Our policy, version 7.\n') });
    expect(() => createTestApp({ POLICY_FILE: join(dir, 'missing.txt') })).toThrow(/POLICY_FILE .*missing\.txt cannot be read/);
    writeFileSync(join(dir, 'empty.txt'), '  \n');
    expect(() => createTestApp({ POLICY_FILE: join(dir, 'empty.txt') })).toThrow(/is empty/);
  });

  it('sign-up records the version accepted: no notice pending, and no e-mail for it', async () => {
    t = createTestApp();
    const a = await signUpAndLogIn(t);
    expect(await a.api.accountPolicy()).toMatchObject({ acceptedVersion: 1, acceptedAt: t.clock.now(), currentVersion: 1, noticePending: false, consentFloor: 0 });
    expect(await sendPolicyNotices(t.deps)).toEqual({ sent: 0, failed: 0 });
    expect(t.emailOutbox()).toEqual([]);
  });
});

describe('a version that reduces rights', () => {
  it('makes consents given under older versions count as off (sync refused, Find Device refused) until accepted; every account is e-mailed once', async () => {
    t = createTestApp();
    const a = await member();
    const b = await member();
    const phone = await a.api.registerDevice(registration('phone'));
    await a.api.setFindEnabled(phone.device.id, true);
    await a.api.setConsent('experience', { granted: true });
    const device = t.api({ deviceToken: phone.token });
    expect((await a.sync()).status).toBe(200);

    t.clock.advance(86_400_000);
    publish(2, true);
    const consents = await a.api.consents();
    expect(consents.policyVersion).toBe(2);
    expect(consents.consents.find((c) => c.purpose === 'sync:notes')).toMatchObject({ granted: false, needsReacceptance: true, policyVersion: 1, isDefault: true });
    expect(consents.consents.find((c) => c.purpose === 'experience')).toMatchObject({ granted: false, needsReacceptance: true });
    expect(consents.find[0]).toMatchObject({ granted: false, needsReacceptance: true });

    const refused = await expectError(a.sync(), 403, 'consent_required');
    expect(refused.message).toContain('policy version 1');
    expect(refused.message).toContain('POST /v1/account/policy/accept');
    await expectError(
      t.request('POST', '/v1/device/locations', { body: { reports: [{ sealed: fakeSealed(120) }] }, headers: { Authorization: `Bearer ${phone.token}` } }),
      403,
      'consent_required',
    );
    expect(await a.api.accountPolicy()).toMatchObject({ acceptedVersion: 1, currentVersion: 2, noticePending: true, reducesRights: true, consentFloor: 2 });

    // The e-mail notice: every account once, whatever the number of runs.
    expect(await sendPolicyNotices(t.deps)).toEqual({ sent: 2, failed: 0 });
    expect(await sendPolicyNotices(t.deps)).toEqual({ sent: 0, failed: 0 });
    const mail = t.emailOutbox();
    expect(mail.map((m) => m.to).sort()).toEqual([a.email, b.email].sort());
    expect(mail[0]!.subject).toContain('version 2');
    expect(mail[0]!.text).toContain('reduces your rights');

    // Accepting turns the defaults back on; what was chosen explicitly stays off unless granted again.
    const accepted = await a.api.acceptPolicy(2);
    expect(accepted.consents.find((c) => c.purpose === 'sync:notes')).toMatchObject({ granted: true, policyVersion: 2, needsReacceptance: false });
    expect(accepted.consents.find((c) => c.purpose === 'experience')).toMatchObject({ granted: false, needsReacceptance: true });
    expect((await a.sync()).status).toBe(200);
    await expectError(b.sync(), 403, 'consent_required');
    expect(await a.api.accountPolicy()).toMatchObject({ acceptedVersion: 2, noticePending: false });

    const regranted = await a.api.acceptPolicy(2, ['experience', 'find']);
    expect(regranted.consents.find((c) => c.purpose === 'experience')).toMatchObject({ granted: true, policyVersion: 2 });
    expect(regranted.find[0]).toMatchObject({ granted: true, policyVersion: 2 });
    expect(await device.reportLocations([fakeSealed(120)])).toEqual({ accepted: 1 });
    const history = (await a.api.consentHistory()).events;
    expect(history.filter((e) => e.policyVersion === 2).map((e) => e.purpose).sort()).toEqual(['experience', 'find']);
    const audit = (await (await t.request('GET', '/v1/account/audit', { headers: { Authorization: `Bearer ${a.token}` } })).json()).entries;
    expect(audit.filter((e: { action: string }) => e.action === 'policy.accepted')).toHaveLength(2);
  });

  it('a consent granted again after the new version counts, without accepting the policy', async () => {
    t = createTestApp();
    const a = await member();
    publish(2, true);
    await expectError(a.sync(), 403, 'consent_required');
    await a.api.setConsent('sync:notes', { granted: true });
    expect((await a.sync()).status).toBe(200);
  });

  it('accepting another version than the one in force is refused (409), and nothing is recorded', async () => {
    t = createTestApp();
    const a = await member();
    publish(3, true);
    await expectError(t.request('POST', '/v1/account/policy/accept', { body: { version: 2, regrant: ['sync:notes'] }, headers: { Authorization: `Bearer ${a.token}` } }), 409, 'conflict');
    expect(await a.api.accountPolicy()).toMatchObject({ acceptedVersion: 1, noticePending: true });
    expect((await a.api.consentHistory()).events).toEqual([]);
  });

  it('keeps counting from the newest rights-reducing version when later versions do not reduce rights', async () => {
    t = createTestApp();
    const a = await member();
    publish(2, true);
    await a.api.policy(); // the server ran with version 2 (a start records it)
    publish(3, false);
    expect((await a.api.accountPolicy()).consentFloor).toBe(2);
    await expectError(a.sync(), 403, 'consent_required');
  });
});

describe('a version that does not reduce rights', () => {
  it('keeps every consent as it was, and still tells every account (e-mail and in-app)', async () => {
    t = createTestApp();
    const a = await member();
    await a.api.setConsent('experience', { granted: true });
    publish(2, false);
    expect((await a.sync()).status).toBe(200);
    expect((await a.api.consents()).consents.every((c) => !c.needsReacceptance)).toBe(true);
    expect((await a.api.consents()).consents.find((c) => c.purpose === 'experience')).toMatchObject({ granted: true, policyVersion: 1 });
    expect(await a.api.accountPolicy()).toMatchObject({ noticePending: true, reducesRights: false, consentFloor: 0 });
    expect(await sendPolicyNotices(t.deps)).toEqual({ sent: 1, failed: 0 });
    expect(t.emailOutbox()[0]!.text).toContain('does not reduce your rights');
  });
});

describe('notices', () => {
  it('sends at most N per run, and the next runs go on where they stopped, never skipping an account', async () => {
    t = createTestApp();
    const accounts = await Promise.all([0, 1, 2, 3, 4].map(() => signUpAndLogIn(t)));
    publish(2, false);
    expect(await sendPolicyNotices(t.deps, 2)).toEqual({ sent: 2, failed: 0 });
    expect(await sendPolicyNotices(t.deps, 2)).toEqual({ sent: 2, failed: 0 });
    expect(await sendPolicyNotices(t.deps, 2)).toEqual({ sent: 1, failed: 0 });
    expect(await sendPolicyNotices(t.deps, 2)).toEqual({ sent: 0, failed: 0 });
    expect(t.emailOutbox().map((m) => m.to).sort()).toEqual(accounts.map((a) => a.email).sort());
  });

  it('a message the mail server refuses is retried on the next run, not marked as sent', async () => {
    let failing = true;
    const sent: string[] = [];
    t = createTestApp({}, {
      email: {
        name: 'flaky',
        send: async (message) => {
          if (failing) throw new Error('mail server down');
          sent.push(message.to);
          return { id: 'ok' };
        },
      },
    });
    const a = await signUpAndLogIn(t);
    publish(2, true);
    expect(await sendPolicyNotices(t.deps)).toEqual({ sent: 0, failed: 1 });
    expect(t.logLines.some((line) => line.includes('policy notice not sent') && !line.includes(a.email))).toBe(true);
    failing = false;
    expect(await sendPolicyNotices(t.deps)).toEqual({ sent: 1, failed: 0 });
    expect(sent).toEqual([a.email]);
  });
});

describe('the built server', () => {
  let running: Running | undefined;
  it('started from an unrelated folder, finds the shipped policy from the package root', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'homing-built-policy-'));
    cleanups.push(async () => {
      await killIfRunning(running);
      rmSync(dir, { recursive: true, force: true });
    });
    const port = String(await freePort());
    running = start('src/node.ts', { cwd: dir, env: { PORT: port, LOG_LEVEL: 'warn' } });
    await waitForHealth(`http://localhost:${port}`, running);
    const policy = (await (await fetch(`http://localhost:${port}/v1/policy`)).json()) as { text: string; sha256: string };
    expect(policy).toMatchObject({ text: SHIPPED, sha256: sha256(SHIPPED) });
  }, 120_000);
});
