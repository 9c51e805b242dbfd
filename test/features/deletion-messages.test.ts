import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { receiveMessages, sendText } from '../../src/client/messaging.js';
import { purgeDueAccounts } from '../../src/features/deletion/account-purge.js';
import { verifyReceipt } from '../../src/protocol/receipts.js';
import { createTestApp, type TestApp } from '../harness.js';
import { DAY, proofOf, rowsHolding } from './deletion-helpers.js';
import { uniqueNumber } from './messaging-helpers.js';
import { listedNumbers, messagingDevice, messagingRows, messenger, publishSpam, type TestMessenger } from './messenger-helpers.js';

// Issue #14, item 6: messages and spam reports go with their device and their account. Removing a
// device (POST /v1/account/purge with a device scope, or DELETE /v1/devices/{id}) takes its
// messaging identity, its queue and its spam reports, and the receipt says so; the account's purge
// takes every row of the four tables. Copies the account sent to others stay: they are theirs.
// Either way the next publishing run unlists what the gone reports held up.

let t: TestApp;
// Two established accounts list a number; sessions outlive the grace period's clock move.
beforeEach(() => {
  t = createTestApp({ SPAM_MIN_ACCOUNTS: '2', SPAM_NEW_ACCOUNT_DAYS: '0', SESSION_IDLE_HOURS: '2000', SESSION_TTL_HOURS: '2000' });
});
afterEach(() => t.close());

const NOTHING = { messaging_identities: 0, message_copies: 0, message_blocks: 0, spam_reports: 0 };

/** The victim with a bit of everything: messaging on, a block, a copy waiting, a report that (with the bystander's) lists a spammer. */
async function victimAndBystander() {
  const victim = await messenger(t);
  const bystander = await messenger(t);
  const spammer = uniqueNumber();
  await victim.api.blockNumber(uniqueNumber());
  await victim.api.reportSpam({ number: spammer });
  await bystander.api.reportSpam({ number: spammer });
  expect((await sendText(bystander.api, bystander.me, { to: victim.number, text: 'waiting for the victim' }, bystander.keyBook)).queued).toBe(1);
  expect((await sendText(victim.api, victim.me, { to: bystander.number, text: 'sent by the victim' }, victim.keyBook)).queued).toBe(1);
  await publishSpam(t);
  expect(await listedNumbers(bystander)).toEqual([spammer]);
  return { victim, bystander, spammer };
}

const deviceRows = (m: TestMessenger) => messagingRows(t, 'device_id', m.device.id);

describe('removing a device', () => {
  it('POST /v1/account/purge (device scope) takes its identity, its queue and its reports, counts them in the receipt, and the next publishing run unlists the spammer its report held up', async () => {
    const { victim, bystander, spammer } = await victimAndBystander();
    expect(deviceRows(victim)).toEqual({ messaging_identities: 1, message_copies: 1, message_blocks: 0, spam_reports: 1 });
    const key = (await victim.member.api.receiptKey()).publicKey;

    const { receipt } = await victim.member.api.purge({ type: 'device', deviceId: victim.device.id });
    expect(verifyReceipt(receipt, key).counts).toMatchObject({ devices: 1, messagingIdentities: 1, messages: 1, spamReports: 1 });
    expect(deviceRows(victim)).toEqual(NOTHING);
    // The block is the account's, not the phone's: it stays for the account's other devices.
    expect(messagingRows(t, 'account_id', victim.accountId)).toEqual({ ...NOTHING, message_blocks: 1 });

    // The number leaves the directory at once; the list follows at the next run.
    expect((await bystander.api.lookUpNumbers([victim.number])).results).toEqual([{ number: victim.number, devices: [] }]);
    const { version } = await bystander.api.spamBlocklist(0);
    expect(await listedNumbers(bystander)).toEqual([spammer]);
    await publishSpam(t);
    expect(await listedNumbers(bystander)).toEqual([]);
    expect((await bystander.api.spamBlocklist(version)).changes).toEqual([{ kind: 'number', value: spammer, listed: false }]);
  });

  it("DELETE /v1/devices/{id} takes the same; the removed phone's token can no longer fetch; the account's other phone keeps its identity and queue", async () => {
    const { victim, bystander, spammer } = await victimAndBystander();
    const tablet = await messagingDevice(t, victim.member, { name: 'tablet' });
    await sendText(bystander.api, bystander.me, { to: tablet.number, text: 'for the tablet' }, bystander.keyBook);
    const tabletBefore = messagingRows(t, 'device_id', tablet.device.id);
    expect(tabletBefore.messaging_identities).toBe(1);
    expect(tabletBefore.message_copies).toBeGreaterThanOrEqual(1);

    const res = await t.request('DELETE', `/v1/devices/${victim.device.id}`, { headers: victim.session });
    expect(res.status).toBe(204);
    expect(deviceRows(victim)).toEqual(NOTHING);
    await expect(victim.api.fetchInbox()).rejects.toMatchObject({ status: 401 });
    expect(messagingRows(t, 'device_id', tablet.device.id)).toEqual(tabletBefore);
    const received = await receiveMessages(tablet.api, tablet.me, { keyBook: tablet.keyBook, seen: tablet.seen });
    expect(received.messages.map((m) => m.text)).toContain('for the tablet');

    await publishSpam(t);
    expect(await listedNumbers(bystander)).not.toContain(spammer);
  });
});

describe('deleting the account', () => {
  it('leaves no row of it in messaging_identities, message_copies, message_blocks or spam_reports; what it sent stays in the recipient queue; the next publishing run unlists what its report held up', async () => {
    const { victim, bystander, spammer } = await victimAndBystander();
    expect(messagingRows(t, 'account_id', victim.accountId)).toEqual({ messaging_identities: 1, message_copies: 1, message_blocks: 1, spam_reports: 1 });
    const bystanderBefore = messagingRows(t, 'account_id', bystander.accountId);

    await victim.member.api.requestAccountDeletion(await proofOf(victim.member));
    t.clock.advance(7 * DAY);
    expect(await purgeDueAccounts(t.deps)).toMatchObject({ accounts: 1, failed: 0 });

    expect(messagingRows(t, 'account_id', victim.accountId)).toEqual(NOTHING);
    expect(messagingRows(t, 'device_id', victim.device.id)).toEqual(NOTHING);
    // Only what the victim sent, waiting in the bystander's queue, still names the victim's phone:
    // it is the bystander's message (documented in docs/OPERATIONS.md).
    expect(rowsHolding(t, [victim.accountId])).toEqual({});
    expect(Object.keys(rowsHolding(t, [victim.device.id]))).toEqual(['message_copies.sender_device_id']);
    expect(messagingRows(t, 'account_id', bystander.accountId)).toEqual(bystanderBefore);

    // The bystander still receives it, checked against the sender key it learnt when it wrote to the victim.
    const received = await receiveMessages(bystander.api, bystander.me, { keyBook: bystander.keyBook, seen: bystander.seen });
    expect(received.messages.map((m) => [m.from, m.text])).toEqual([[victim.number, 'sent by the victim']]);

    expect(await listedNumbers(bystander)).toEqual([spammer]);
    await publishSpam(t);
    expect(await listedNumbers(bystander)).toEqual([]);
  });
});
