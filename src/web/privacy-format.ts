import { receiptSignedBy } from '../protocol/receipt-signature.js';
import type { Receipt, ReceiptPayload } from '../protocol/receipts.js';
import { COMMAND_NAMES, dateTime } from './format.js';

// Pure text for the "Your account and privacy" view: no DOM, so they are unit-tested in Node.

const KIND_NAMES: Record<string, string> = {
  contacts: 'Contacts',
  messages: 'Messages',
  photos: 'Photos',
  screenshots: 'Screenshots',
  notes: 'Notes',
  calendar: 'Calendar',
  email: 'E-mail',
  files: 'Files',
};

const PURPOSE_NAMES: Record<string, string> = {
  find: 'Find Device',
  sim_sms: 'SIM-change check by SMS',
  experience: 'User Experience Program',
  diagnostics: 'Crash diagnostics',
};

const PURPOSE_HINTS: Record<string, string> = {
  find: 'Stores where the phone is, and relays the commands you send it.',
  sim_sms: 'Texts a code to a new SIM, to tell a thief from a new number.',
  experience: 'Sends usage events that help improve the app. Off unless you turn it on.',
  diagnostics: 'Sends crash reports. Off unless you turn it on.',
};

export function kindName(kind: string): string {
  if (kind.startsWith('custom:')) return `Custom data “${kind.slice('custom:'.length)}”`;
  return KIND_NAMES[kind] ?? kind;
}

/** "Sync of Contacts", "Find Device", "Crash diagnostics"; an unknown purpose reads as itself. */
export function purposeName(purpose: string): string {
  if (purpose.startsWith('sync:')) return `Sync of ${kindName(purpose.slice('sync:'.length))}`;
  return PURPOSE_NAMES[purpose] ?? purpose;
}

export function purposeHint(purpose: string): string {
  if (purpose.startsWith('sync:')) return `Keeps your ${kindName(purpose.slice('sync:'.length)).toLowerCase()} in sync between your devices, end-to-end encrypted.`;
  return PURPOSE_HINTS[purpose] ?? '';
}

export interface ConsentLike {
  granted: boolean;
  isDefault: boolean;
  since: number | null;
  policyVersion: number;
  needsReacceptance: boolean;
}

/** The state of one consent in words: on or off, since when, and whether it needs consent again. */
export function consentStateText(consent: ConsentLike): string {
  if (consent.needsReacceptance) {
    return `Off until you agree again: given under policy version ${consent.policyVersion}, and a later version changed your rights`;
  }
  const state = consent.granted ? 'On' : 'Off';
  if (consent.isDefault || consent.since === null) return `${state} (the default; never changed)`;
  return `${state} since ${dateTime(consent.since)}`;
}

const ACTION_NAMES: Record<string, string> = {
  'location.read': 'Last location viewed',
  'location.history.read': 'Location history viewed',
  'find.enabled': 'Find Device turned on',
  'find.disabled': 'Find Device turned off',
  'command.created': 'Command sent',
  'find.lost.reported': 'Device reported lost',
  'sim.changed': 'SIM changed',
  'sim.alert': 'SIM changed while locked as lost',
  'sim.verified': 'New SIM number verified',
  'login.succeeded': 'Logged in',
  'login.failed': 'Failed login attempt',
  'session.revoked': 'Signed out a session',
  'device.added': 'Device added',
  'device.removed': 'Device removed',
  'password.changed': 'Password changed',
  'email.changed': 'E-mail address changed',
  'phone.changed': 'Phone number changed',
  'consent.changed': 'Consent changed',
  'policy.accepted': 'Privacy policy accepted',
  'export.downloaded': 'Data exported',
  'data.deleted': 'Data deleted',
  'account.deletion.requested': 'Account deletion requested',
  'account.deletion.cancelled': 'Account deletion cancelled',
  'diagnostics.deleted': 'Diagnostics deleted',
  'messaging.on': 'Messaging turned on (or new keys)',
  'messaging.off': 'Messaging turned off',
  'messaging.block': 'Number blocked',
  'messaging.unblock': 'Number unblocked',
  'spam.reported': 'Spam reported',
};

/** An audit action for people; an action this page does not know yet reads as its code. */
export const actionName = (action: string) => ACTION_NAMES[action] ?? action;

const DELETED_SCOPES: Record<string, string> = {
  item: 'one item',
  collection: 'a collection',
  device: 'a device and its data',
  account: 'the whole account',
  diagnostics: 'diagnostics reports',
};

const LOGIN_METHODS: Record<string, string> = { password: 'with the password', recovery: 'with the recovery key' };

/**
 * The detail of an entry for people: the command's name, the consent's purpose, a due date.
 * The detail is never content (a command type, a purpose, counts), so showing it is safe.
 */
export function auditDetail(action: string, detail: string | null): string {
  if (!detail) return '';
  if (action === 'command.created') return COMMAND_NAMES[detail] ?? detail;
  if (action === 'login.succeeded' || action === 'login.failed') return LOGIN_METHODS[detail] ?? detail;
  if (action === 'consent.changed') {
    const match = /^(\S+) (on|off)(?: \((keep|delete)\))?$/.exec(detail);
    if (match) {
      const stored = match[3] === 'keep' ? ', stored data kept' : match[3] === 'delete' ? ', stored data deleted' : '';
      return `${purposeName(match[1]!)} ${match[2]}${stored}`;
    }
  }
  if (action === 'phone.changed' && detail === 'removed') return 'removed';
  if (action === 'data.deleted') {
    const match = /^(item|collection|data-kind|device|account|diagnostics)(?::(\S+))? receipt=(\S+)$/.exec(detail);
    if (match) {
      const what = match[1] === 'data-kind' ? `all ${kindName(match[2]!)} data` : DELETED_SCOPES[match[1]!];
      return `${what}, receipt ${match[3]}`;
    }
  }
  // A due date is written as Unix milliseconds.
  return detail.replace(/\bdue (\d{12,14})\b/, (_, ms: string) => `due ${dateTime(Number(ms))}`);
}

/** "Pixel 9", or a short id for a device that is gone (its name went with it). */
export function deviceLabel(deviceId: string | null, names: ReadonlyMap<string, string>): string {
  if (!deviceId) return '';
  return names.get(deviceId) ?? `a removed device (${deviceId.slice(0, 6)}…)`;
}

const COUNT_NAMES: Record<string, [string, string]> = {
  items: ['item', 'items'],
  collections: ['collection', 'collections'],
  blobs: ['file', 'files'],
  objects: ['stored object', 'stored objects'],
  locations: ['location', 'locations'],
  commands: ['command', 'commands'],
  simEvents: ['SIM event', 'SIM events'],
  devices: ['device', 'devices'],
  sessions: ['session', 'sessions'],
  reports: ['report', 'reports'],
  pushSubscriptions: ['push subscription', 'push subscriptions'],
  diagnostics: ['diagnostics report', 'diagnostics reports'],
  messagingIdentities: ['messaging identity', 'messaging identities'],
  messages: ['waiting message', 'waiting messages'],
  spamReports: ['spam report', 'spam reports'],
  auditAnonymised: ['audit entry made anonymous', 'audit entries made anonymous'],
};

/** "12 items, 3 files, 10.0 MB": what a receipt says was deleted. */
export function receiptCounts(counts: Record<string, number>): string {
  const parts = Object.entries(counts).map(([name, value]) => {
    if (name === 'bytes') return bytes(value);
    const [one, many] = COUNT_NAMES[name] ?? [name, name];
    return `${value} ${value === 1 ? one : many}`;
  });
  return parts.length ? parts.join(', ') : 'nothing was stored';
}

export function receiptScopeText(scope: ReceiptPayload['scope']): string {
  switch (scope.type) {
    case 'account':
      return 'The whole account';
    case 'data-kind':
      return `All ${kindName(scope.kind)} data`;
    case 'collection':
      return 'A collection';
    case 'item':
      return 'One item';
    case 'device':
      return 'A device and its data';
    case 'diagnostics':
      return 'Diagnostics reports';
    default:
      return 'Data';
  }
}

/** "1.5 MB": decimal units, as file managers show. */
export function bytes(value: number): string {
  if (value < 1000) return `${value} B`;
  if (value < 1_000_000) return `${(value / 1000).toFixed(1)} kB`;
  if (value < 1_000_000_000) return `${(value / 1_000_000).toFixed(1)} MB`;
  return `${(value / 1_000_000_000).toFixed(2)} GB`;
}

export type CheckedReceipt =
  | { id: string; verified: true; payload: ReceiptPayload }
  | { id: string; verified: false; problem: string };

/**
 * Checks a receipt against the pinned key, never the key the receipt names itself. The same
 * checks as verifyReceipt in src/protocol/receipts.ts (a test holds them to it), without its zod
 * schema, which would more than quadruple the page's script.
 */
export function checkReceipt(receipt: Receipt, pinnedKey: string | null): CheckedReceipt {
  const problem = (why: string): CheckedReceipt => ({ id: receipt.id, verified: false, problem: why });
  if (!pinnedKey) return problem('no pinned server key to check it against');
  if (receipt.publicKey !== pinnedKey) return problem('signed by a different key than the one pinned');
  if (!receiptSignedBy(receipt, pinnedKey)) return problem('the signature does not verify');
  let payload: ReceiptPayload;
  try {
    payload = JSON.parse(receipt.payload) as ReceiptPayload;
  } catch {
    return problem('the signed payload is not JSON');
  }
  const countsOk =
    typeof payload?.counts === 'object' && payload.counts !== null && Object.values(payload.counts).every((n) => Number.isInteger(n) && n >= 0);
  if (
    payload?.version !== 1 ||
    typeof payload.accountId !== 'string' ||
    typeof payload.server !== 'string' ||
    typeof payload.scope?.type !== 'string' ||
    !Number.isInteger(payload.requestedAt) ||
    !Number.isInteger(payload.completedAt) ||
    !countsOk
  ) {
    return problem('the signed payload is not a version 1 receipt');
  }
  if (payload.receiptId !== receipt.id) return problem('the receipt id does not match its payload');
  return { id: receipt.id, verified: true, payload };
}

/**
 * Trust on first use for the server's receipt key: the first key this browser saw for this
 * server is pinned, and a different key later is reported rather than silently trusted, so a
 * server that swapped its key cannot pass off receipts signed with the new one as verified.
 */
export function pinReceiptKey(pinned: string | null, served: string): { pinned: string; changed: boolean } {
  if (!pinned) return { pinned: served, changed: false };
  return { pinned, changed: pinned !== served };
}

/** "Your account will be deleted on 9 Dec 2026, 14:00 (in 7 days)." */
export function deletionText(dueAt: number, now: number, requestedBy: 'owner' | 'guardian'): string {
  const days = Math.max(0, Math.ceil((dueAt - now) / 86_400_000));
  const left = days === 0 ? 'today' : days === 1 ? 'in 1 day' : `in ${days} days`;
  const who = requestedBy === 'guardian' ? 'Your parent or guardian asked for your account to be deleted. ' : '';
  return `${who}Your account and everything in it will be deleted on ${dateTime(dueAt)} (${left}).`;
}
