import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openMessage } from '../../src/client/crypto/messages.js';
import { openExport } from '../../src/client/export/open-folder.js';
import { sendText } from '../../src/client/messaging.js';
import {
  EXPORT_ENTRY,
  exportManifest,
  exportMessageBlock,
  exportMessageCopy,
  exportMessagingIdentity,
  exportSpamReport,
} from '../../src/protocol/api/export.js';
import { createTestApp, type TestApp } from '../harness.js';
import { downloadExport, tempFile } from './export-helpers.js';
import { owner } from './find-helpers.js';
import { uniqueNumber } from './messaging-helpers.js';
import { messenger, type TestMessenger } from './messenger-helpers.js';

// Issue #14, item 6: messages and spam reports follow the account into its export. An account
// with messaging on, a blocked number, a copy waiting for its phone and a spam report exports all
// four, numbers opened and the copy still sealed to the phone; nothing of another account's is in it.

let t: TestApp;
beforeEach(() => {
  t = createTestApp();
});
afterEach(() => t.close());

const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);
const ndjson = (bytes: Uint8Array | undefined) => text(bytes).split('\n').filter(Boolean).map((l) => JSON.parse(l));

/** Alice and Bob, both with messaging on: Bob has written to Alice, Alice to Bob; each blocked and reported a number of their own. */
async function twoAccounts() {
  const alice = await messenger(t);
  const bob = await messenger(t);
  const aliceBlocks = uniqueNumber();
  const aliceReports = uniqueNumber();
  const bobBlocks = uniqueNumber();
  const bobReports = uniqueNumber();
  await alice.api.blockNumber(aliceBlocks);
  await alice.api.reportSpam({ number: aliceReports, text: 'You have won a prize, reply with your bank details to claim it today' });
  await bob.api.blockNumber(bobBlocks);
  await bob.api.reportSpam({ number: bobReports });
  const toAlice = await sendText(bob.api, bob.me, { to: alice.number, text: 'hello Alice, from Bob' }, bob.keyBook);
  const toBob = await sendText(alice.api, alice.me, { to: bob.number, text: 'hello Bob, from Alice' }, alice.keyBook);
  expect([toAlice.queued, toBob.queued]).toEqual([1, 1]);
  return { alice, bob, aliceBlocks, aliceReports, bobBlocks, bobReports };
}

const exportOf = async (m: TestMessenger) => {
  const { res, bytes } = await downloadExport(t, m.session);
  expect(res.status).toBe(200);
  return { bytes, files: unzipSync(bytes) };
};

describe('happy', () => {
  it("exports the account's messaging identity, its block, the copy waiting for its phone and its spam report, numbers opened", async () => {
    const { alice, bob, aliceBlocks, aliceReports } = await twoAccounts();
    const { files } = await exportOf(alice);

    const manifest = exportManifest.parse(JSON.parse(text(files[EXPORT_ENTRY.manifest])));
    for (const name of [EXPORT_ENTRY.messagingIdentities, EXPORT_ENTRY.messageBlocks, EXPORT_ENTRY.messages, EXPORT_ENTRY.spamReports]) {
      expect(manifest.entries.map((e) => e.name)).toContain(name);
    }

    const identities = JSON.parse(text(files[EXPORT_ENTRY.messagingIdentities])).map((row: unknown) => exportMessagingIdentity.strict().parse(row));
    expect(identities).toEqual([
      { deviceId: alice.device.id, number: alice.number, x25519PublicKey: alice.me.keys.x25519PublicKey, ed25519PublicKey: alice.me.keys.ed25519PublicKey, since: t.clock.now() },
    ]);
    const blocks = JSON.parse(text(files[EXPORT_ENTRY.messageBlocks])).map((row: unknown) => exportMessageBlock.strict().parse(row));
    expect(blocks).toEqual([{ number: aliceBlocks, since: t.clock.now() }]);
    const reports = ndjson(files[EXPORT_ENTRY.spamReports]).map((row) => exportSpamReport.strict().parse(row));
    expect(reports).toEqual([{ id: expect.any(String), deviceId: alice.device.id, number: aliceReports, fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/), createdAt: t.clock.now() }]);

    // The copy is exported as it waits: sealed, and only the phone's own messaging key opens it.
    const copies = ndjson(files[EXPORT_ENTRY.messages]).map((row) => exportMessageCopy.strict().parse(row));
    const inbox = await alice.api.fetchInbox();
    expect(copies).toEqual(inbox.messages.map((m) => ({ id: m.id, deviceId: alice.device.id, sealed: m.sealed, size: expect.any(Number), receivedAt: m.receivedAt })));
    expect(copies).toHaveLength(1);
    const body = openMessage(copies[0]!.sealed, alice.me, inbox.messages[0]!.from);
    expect(body).toMatchObject({ text: 'hello Alice, from Bob', from: { number: bob.number }, to: { deviceId: alice.device.id } });
    expect(text(files[EXPORT_ENTRY.messages])).not.toContain('hello Alice');
  });

  it('homing open writes the four as JSON under account/, the copy still sealed', async () => {
    const { alice, aliceBlocks, aliceReports } = await twoAccounts();
    const { bytes } = await exportOf(alice);
    const dir = mkdtempSync(join(tmpdir(), 'homing-open-messages-'));
    const report = await openExport({ file: tempFile(bytes), dir, password: alice.member.password });
    const read = (name: string) => JSON.parse(readFileSync(join(dir, 'account', name), 'utf8'));
    expect(report.written).toEqual(expect.arrayContaining(['account/messaging-identities.json', 'account/message-blocks.json', 'account/messages.json', 'account/spam-reports.json']));
    expect(read('messaging-identities.json')).toEqual([expect.objectContaining({ number: alice.number, deviceId: alice.device.id })]);
    expect(read('message-blocks.json')).toEqual([expect.objectContaining({ number: aliceBlocks })]);
    expect(read('spam-reports.json')).toEqual([expect.objectContaining({ number: aliceReports })]);
    expect(read('messages.json')).toEqual([expect.objectContaining({ deviceId: alice.device.id, sealed: expect.any(String) })]);
  });

  it('an account that never turned messaging on exports the four entries empty', async () => {
    const o = await owner(t);
    const { res, bytes } = await downloadExport(t, o.session);
    expect(res.status).toBe(200);
    const files = unzipSync(bytes);
    expect(JSON.parse(text(files[EXPORT_ENTRY.messagingIdentities]))).toEqual([]);
    expect(JSON.parse(text(files[EXPORT_ENTRY.messageBlocks]))).toEqual([]);
    expect(text(files[EXPORT_ENTRY.messages])).toBe('');
    expect(text(files[EXPORT_ENTRY.spamReports])).toBe('');
  });
});

describe('security', () => {
  it("another account's identity, blocks, reports, and the copy Alice sent it, are absent from Alice's export (and present in its own)", async () => {
    const { alice, bob, bobBlocks, bobReports } = await twoAccounts();
    const { bytes: aliceBytes, files } = await exportOf(alice);
    const whole = text(aliceBytes);
    for (const secret of [bob.number, bobBlocks, bobReports, bob.device.id, bob.accountId, bob.me.keys.ed25519PublicKey, bob.me.keys.x25519PublicKey]) {
      expect(whole, secret).not.toContain(secret);
    }
    // What Alice sent waits in Bob's queue: it is Bob's message, so Bob's export carries it.
    const bobInbox = await bob.api.fetchInbox();
    expect(bobInbox.messages).toHaveLength(1);
    expect(whole).not.toContain(bobInbox.messages[0]!.sealed);
    expect(ndjson(files[EXPORT_ENTRY.messages]).map((c) => c.id)).not.toContain(bobInbox.messages[0]!.id);

    const bobFiles = (await exportOf(bob)).files;
    expect(ndjson(bobFiles[EXPORT_ENTRY.messages])).toEqual([expect.objectContaining({ id: bobInbox.messages[0]!.id, deviceId: bob.device.id })]);
    expect(JSON.parse(text(bobFiles[EXPORT_ENTRY.messageBlocks]))).toEqual([expect.objectContaining({ number: bobBlocks })]);
    expect(ndjson(bobFiles[EXPORT_ENTRY.spamReports])).toEqual([expect.objectContaining({ number: bobReports, fingerprint: null })]);
  });

  it('an acknowledged copy and a withdrawn report are no longer exported', async () => {
    const { alice } = await twoAccounts();
    const inbox = await alice.api.fetchInbox();
    await alice.api.acknowledgeMessages(inbox.messages.map((m) => m.id));
    const [report] = (await alice.api.spamReports()).reports;
    await alice.api.withdrawSpamReport(report!.id);
    const { files } = await exportOf(alice);
    expect(text(files[EXPORT_ENTRY.messages])).toBe('');
    expect(text(files[EXPORT_ENTRY.spamReports])).toBe('');
  });
});
