import { randomBytes } from 'node:crypto';
import { memoryKeyBook, type Messenger, turnOnMessaging } from '../../src/client/messaging.js';
import { JOBS } from '../../src/jobs.js';
import { toBase64Url } from '../../src/protocol/encoding.js';
import type { TestApp } from '../harness.js';
import { type Member, signUpAndLogIn } from '../security/helpers.js';
import { sqlite } from './deletion-helpers.js';
import type { Owner } from './find-helpers.js';
import { uniqueNumber, verifyNumber } from './messaging-helpers.js';

// Phones that message as a real app does: an account whose phone verified a number by SIM-change
// verification and turned messaging on with the SDK (keys made on the "phone", never sent); and
// what the database still holds, read directly.

export async function messagingDevice(t: TestApp, member: Member, options: { number?: string; name?: string } = {}) {
  const number = options.number ?? uniqueNumber();
  const registered = await member.api.registerDevice({ name: options.name ?? 'phone', model: 'Pixel 9', platform: 'android', identifierHash: toBase64Url(randomBytes(32)) });
  const id = registered.device.id;
  await member.api.setFindEnabled(id, true);
  const auth = { Authorization: `Bearer ${registered.token}` };
  const asDevice = async (headers: Record<string, string>, method: string, path: string, body?: unknown) => {
    const res = await t.request(method, path, { headers, body });
    return { status: res.status, body: (await res.json().catch(() => null)) as any };
  };
  // verifyNumber only speaks as the device.
  await verifyNumber(t, { asDevice } as unknown as Owner, auth, number);
  const api = t.api({ deviceToken: registered.token });
  const me: Messenger = await turnOnMessaging(api, { deviceId: id, number });
  return { device: { id, auth }, deviceToken: registered.token, number, api, me, keyBook: memoryKeyBook(), seen: new Set<string>() };
}

/** A fresh account (its session in `member`) with one phone that has messaging on. */
export async function messenger(t: TestApp, options: { number?: string } = {}) {
  const member = await signUpAndLogIn(t);
  const phone = await messagingDevice(t, member, options);
  return { member, accountId: member.accountId, session: { Authorization: `Bearer ${member.token}` }, ...phone };
}

export type TestMessenger = Awaited<ReturnType<typeof messenger>>;

const count = (t: TestApp, table: string, column: string, value: string) =>
  (sqlite(t).prepare(`SELECT count(*) AS n FROM ${table} WHERE ${column} = ?`).get(value) as { n: number }).n;

/** What the database holds in each table of issue #14 for a column's value: account_id or device_id. */
export const messagingRows = (t: TestApp, column: 'account_id' | 'device_id', value: string) => ({
  messaging_identities: count(t, 'messaging_identities', column, value),
  message_copies: count(t, 'message_copies', column, value),
  message_blocks: column === 'account_id' ? count(t, 'message_blocks', column, value) : 0,
  spam_reports: count(t, 'spam_reports', column, value),
});

/** One run of the housekeeping job that publishes the spam blocklist, as the scheduler runs it. */
export async function publishSpam(t: TestApp) {
  const job = JOBS.find((j) => j.name === 'spam-blocklist');
  if (!job) throw new Error('no spam-blocklist job in src/jobs.ts');
  return job.run(t.deps);
}

/** The numbers on the published blocklist, as a phone fetching it from scratch sees them. */
export async function listedNumbers(m: Pick<TestMessenger, 'api'>) {
  const { changes } = await m.api.spamBlocklist(0);
  return changes.filter((c) => c.kind === 'number' && c.listed).map((c) => c.value);
}
