import { atomic, type Db, type Statement } from '../../db/client.js';
import type { Deps } from '../../deps.js';
import { AppError, notFound } from '../../http/app-error.js';
import {
  ACCOUNT_PURPOSES,
  defaultGranted,
  DEVICE_PURPOSES,
  isDevicePurpose,
  kindOfPurpose,
  PURPOSE,
  type Purpose,
  purposeOfKind,
} from '../../protocol/api/consents.js';
import { BUILT_IN_KINDS } from '../../protocol/api/sync.js';
import { auditEntry } from '../audit/service.js';
import { type DeviceRecord, deviceRecord, listDevices } from '../devices/service.js';
import { acceptanceStatements, acceptedVersion, consentFloor, publishedPolicy } from '../policy/service.js';
import * as repo from './repo.js';

// The consent ledger. Every choice is a new row (purpose, device for Find Device, granted, the
// policy version in force, the session or device that made it); the newest row of a purpose is
// its state, and a purpose never chosen has its default (src/protocol/api/consents.ts), counted
// as given under the policy version the account last accepted (sign-up records the first).
//
// Guarantee: the server acts on a purpose only while it is granted under a policy version no
// older than the newest rights-reducing one (the floor). requireConsent is that check; sync,
// Find Device, SIM SMS, diagnostics and the experience program call it before they store or
// send anything, and a consent given under an older version counts as off until granted again.

export type ConsentPurpose = Purpose;
export type Actor = { sessionId?: string; deviceId?: string };

interface PolicyContext {
  current: number;
  floor: number;
  /** The version a default (never chosen) consent counts as given under. */
  accepted: number;
}

async function policyContext(deps: Deps, accountId: string): Promise<PolicyContext> {
  const [{ version }, floor, accepted] = await Promise.all([publishedPolicy(deps), consentFloor(deps), acceptedVersion(deps, accountId)]);
  return { current: version, floor, accepted };
}

function assertPurpose(purpose: string, deviceId: string | undefined) {
  if (!PURPOSE.test(purpose)) throw new AppError('validation_failed', `purpose: ${JSON.stringify(purpose)} is not a consent purpose`);
  if (isDevicePurpose(purpose) !== (deviceId !== undefined)) {
    throw new AppError(
      'validation_failed',
      isDevicePurpose(purpose) ? `deviceId: ${purpose} is chosen per device; name it` : `deviceId: only ${DEVICE_PURPOSES.join(' and ')} are chosen per device`,
    );
  }
}

/**
 * A purpose's state from its newest row. For Find Device the switch on the device row
 * (devices.find_enabled) is what the find feature enforces, so it decides granted; the ledger
 * says when and under which version.
 */
function evaluate(purpose: Purpose, row: repo.ConsentEventRow | undefined, ctx: PolicyContext, findSwitch?: boolean) {
  const chosen = findSwitch ?? (row ? row.granted : defaultGranted(purpose));
  const policyVersion = row ? row.policyVersion : ctx.accepted;
  const needsReacceptance = chosen && policyVersion < ctx.floor;
  return { purpose, granted: chosen && !needsReacceptance, isDefault: !row, since: row?.at ?? null, policyVersion, needsReacceptance };
}

export type ConsentState = ReturnType<typeof evaluate>;

/** Who asks; a caller that has just read the device's row may pass it on instead of having it read again. */
type ConsentQuery = { accountId: string; purpose: ConsentPurpose; deviceId?: string; device?: DeviceRecord };

async function stateOf(deps: Deps, input: Omit<ConsentQuery, 'purpose'> & { purpose: Purpose }, ctx?: PolicyContext) {
  assertPurpose(input.purpose, input.deviceId);
  const known = input.device?.id === input.deviceId && input.device?.accountId === input.accountId ? input.device : undefined;
  const device = input.deviceId ? (known ?? (await deviceRecord(deps, input.accountId, input.deviceId))) : undefined;
  const findSwitch = input.purpose === 'find' ? device?.findEnabled : undefined;
  const row = await repo.latest(deps.db, input.accountId, input.purpose, input.deviceId ?? '');
  return evaluate(input.purpose, row, ctx ?? (await policyContext(deps, input.accountId)), findSwitch);
}

export async function isConsented(deps: Deps, input: ConsentQuery): Promise<boolean> {
  return (await stateOf(deps, input)).granted;
}

const LABELS: Record<string, string> = {
  find: 'Find Device',
  sim_sms: 'SIM-change verification by SMS',
  experience: 'the User Experience Program',
  diagnostics: 'crash diagnostics',
  messaging: 'Messages',
};
const labelOf = (purpose: Purpose) => LABELS[purpose] ?? `sync of ${kindOfPurpose(purpose)}`;

/** Throws AppError('consent_required') unless the purpose is consented to (per device when given). */
export async function requireConsent(deps: Deps, input: ConsentQuery): Promise<void> {
  const state = await stateOf(deps, input);
  if (state.granted) return;
  const turnOn =
    input.purpose === 'find'
      ? `turn Find Device on for this device again (PUT /v1/devices/${input.deviceId}/find)`
      : `turn it on with PUT /v1/account/consents/${input.purpose} {"granted": true}`;
  const message = state.needsReacceptance
    ? `${labelOf(input.purpose)} was agreed to under privacy policy version ${state.policyVersion}, and a later version reduced rights: accept the current policy (POST /v1/account/policy/accept with regrant ["${input.purpose}"]) or ${turnOn}; nothing was stored`
    : `${labelOf(input.purpose)} (${input.purpose}) is off for this account: ${turnOn}; nothing was stored`;
  throw new AppError('consent_required', message);
}

/** Sync's check: every data kind a write brings data into must be consented to. */
export async function requireSyncConsent(deps: Deps, accountId: string, kinds: Iterable<string>) {
  for (const kind of new Set(kinds)) await requireConsent(deps, { accountId, purpose: purposeOfKind(kind) });
}

/** Guards for sync's atomic write: it aborts if one of these kinds is withdrawn meanwhile (then ask requireSyncConsent why). */
export const syncConsentGuards = (db: Db, accountId: string, kinds: Iterable<string>): Statement[] =>
  [...new Set(kinds)].map((kind) => repo.guardNotWithdrawn(db, accountId, purposeOfKind(kind)));

// ---- reading ----

/** Every purpose's current state, and Find Device per device. */
export async function consentsOf(deps: Deps, accountId: string) {
  const [rows, ctx, devices] = await Promise.all([repo.latestOfEach(deps.db, accountId), policyContext(deps, accountId), listDevices(deps, accountId)]);
  const rowOf = (purpose: string, deviceId = '') => rows.find((r) => r.purpose === purpose && r.deviceId === deviceId);
  const custom = rows.filter((r) => r.purpose.startsWith('sync:custom:')).map((r) => r.purpose).sort();
  const purposes = [...BUILT_IN_KINDS.map(purposeOfKind), ...custom, ...ACCOUNT_PURPOSES];
  return {
    policyVersion: ctx.current,
    consents: purposes.map((purpose) => evaluate(purpose, rowOf(purpose), ctx)),
    find: devices.map((d) => ({ ...evaluate('find', rowOf('find', d.id), ctx, d.findEnabled), deviceId: d.id, deviceName: d.name })),
    messaging: devices.map((d) => ({ ...evaluate('messaging', rowOf('messaging', d.id), ctx), deviceId: d.id, deviceName: d.name })),
  };
}

const eventView = (row: repo.ConsentEventRow) => ({
  id: row.id,
  purpose: row.purpose,
  deviceId: row.deviceId === '' ? null : row.deviceId,
  granted: row.granted,
  policyVersion: row.policyVersion,
  actorSessionId: row.actorSessionId,
  actorDeviceId: row.actorDeviceId,
  actor: row.actorSessionId ? ('session' as const) : row.actorDeviceId ? ('device' as const) : ('system' as const),
  stored: row.choice,
  receiptId: row.receiptId,
  at: row.at,
});

/** The ledger, newest first, a page at a time. */
export async function consentHistory(deps: Deps, accountId: string, cursor: string | undefined, limit: number) {
  const rows = await repo.page(deps.db, accountId, cursor === undefined ? undefined : Number(cursor), limit + 1);
  const page = rows.slice(0, limit);
  return { events: page.map(eventView), nextCursor: rows.length > limit ? String(page.at(-1)!.seq) : null };
}

/** The whole ledger, oldest first, for the account's export. */
export async function listConsentLedger(deps: Deps, accountId: string) {
  const all: ReturnType<typeof eventView>[] = [];
  for (let before: number | undefined; ; ) {
    const rows = await repo.page(deps.db, accountId, before, 500);
    all.push(...rows.map(eventView));
    if (rows.length < 500) return all.reverse();
    before = rows.at(-1)!.seq;
  }
}

// ---- recording ----

interface Choice {
  accountId: string;
  purpose: Purpose;
  deviceId?: string;
  granted: boolean;
  actor: Actor;
  stored?: 'keep' | 'delete';
  receiptId?: string;
}

function eventStatement(deps: Deps, policyVersion: number, choice: Choice): Statement {
  return repo.insertEvent(deps.db, {
    accountId: choice.accountId,
    id: deps.random.id(),
    purpose: choice.purpose,
    deviceId: choice.deviceId ?? '',
    granted: choice.granted,
    policyVersion,
    actorSessionId: choice.actor.sessionId ?? null,
    actorDeviceId: choice.actor.sessionId ? null : (choice.actor.deviceId ?? null),
    choice: choice.stored ?? null,
    receiptId: choice.receiptId ?? null,
    at: deps.clock.now(),
  });
}

const auditOf = (deps: Deps, choice: Choice) =>
  auditEntry(deps, choice.accountId, 'consent.changed', {
    sessionId: choice.actor.sessionId,
    deviceId: choice.deviceId ?? (choice.actor.sessionId ? undefined : choice.actor.deviceId),
    detail: `${choice.purpose} ${choice.granted ? 'on' : 'off'}${choice.stored ? ` (${choice.stored})` : ''}`,
  });

/**
 * The ledger row (and its audit entry) for a choice made elsewhere: Find Device's own switch
 * commits it in the same atomic write that flips devices.find_enabled. An array, so that it is
 * spread into the caller's batch, never run on its own.
 */
export async function consentStatements(deps: Deps, choice: Choice, opts: { audit?: boolean } = {}): Promise<Statement[]> {
  assertPurpose(choice.purpose, choice.deviceId);
  const { version } = await publishedPolicy(deps);
  return [eventStatement(deps, version, choice), ...(opts.audit === false ? [] : [auditOf(deps, choice)])];
}

/** What the consent routes need from features that already depend on this one; app.ts passes them in. */
export interface ConsentActions {
  /** Turns Find Device on or off for a device of the account (features/find), recording the ledger row itself. */
  setFindEnabled(deps: Deps, input: { accountId: string; deviceId: string; enabled: boolean; actor: Actor }): Promise<unknown>;
  /** Deletes every collection, item and blob of one data kind (features/deletion); returns the signed receipt. */
  purgeKind(
    deps: Deps,
    input: { accountId: string; kind: string; requestedAt: number; actor: Actor },
  ): Promise<{ id: string; payload: string; signature: string; publicKey: string }>;
  /** Turns messaging off for a device of the account (features/messaging), recording the ledger row itself. */
  setMessagingOff(deps: Deps, input: { accountId: string; deviceId: string; actor: Actor }): Promise<unknown>;
}

/**
 * A user's choice. Turning a data kind off must say what becomes of what is stored: 'keep'
 * leaves it (and refuses more), 'delete' purges every collection, item and blob of the kind and
 * answers the signed receipt. The withdrawal is committed before the purge starts, so nothing of
 * the kind can arrive while it runs; a second row then records the receipt (rows are never
 * updated). If the purge fails the kind stays off and the same request can be repeated.
 */
export async function changeConsent(deps: Deps, actions: ConsentActions, input: Choice) {
  const { accountId, purpose, granted, deviceId } = input;
  assertPurpose(purpose, deviceId);
  const kind = kindOfPurpose(purpose);
  if (input.stored !== undefined && (kind === undefined || granted)) {
    throw new AppError('validation_failed', 'body.stored: only for turning a data kind (sync:<kind>) off');
  }
  if (kind !== undefined && !granted && input.stored === undefined) {
    throw new AppError(
      'validation_failed',
      `body.stored: turning ${purpose} off, say what happens to the ${kind} already stored: "keep" (kept, no more accepted) or "delete" (deleted now, with a receipt)`,
    );
  }
  // A phone's token is the weaker credential (a stolen phone keeps it): it chooses Find Device
  // for itself only, like PUT /v1/device/find, and deleting stored data needs a session.
  const byDevice = input.actor.sessionId === undefined;
  if (byDevice && isDevicePurpose(purpose) && deviceId !== input.actor.deviceId) throw notFound('device');
  if (byDevice && input.stored === 'delete') {
    throw new AppError('forbidden', 'deleting stored data needs a logged-in session, not a device token: use PUT /v1/account/consents with stored "delete"');
  }
  if (purpose === 'find') {
    await actions.setFindEnabled(deps, { accountId, deviceId: deviceId!, enabled: granted, actor: input.actor });
    return { consent: await stateOf(deps, { accountId, purpose, deviceId }), receipt: null };
  }
  if (purpose === 'messaging') {
    // Turning it on needs the phone's verified number and keys, which only PUT /v1/device/messaging brings.
    if (granted) throw new AppError('validation_failed', 'body.granted: messaging is turned on by the phone itself with PUT /v1/device/messaging (it brings the verified number and the keys); here it can only be withdrawn');
    await deviceRecord(deps, accountId, deviceId!);
    await actions.setMessagingOff(deps, { accountId, deviceId: deviceId!, actor: input.actor });
    return { consent: await stateOf(deps, { accountId, purpose, deviceId }), receipt: null };
  }

  const before = await stateOf(deps, input);
  const { version } = await publishedPolicy(deps);
  if (input.stored !== 'delete') {
    await atomic(deps.db, [eventStatement(deps, version, input), auditOf(deps, input)]);
    return { consent: await stateOf(deps, input), receipt: null };
  }
  const requestedAt = deps.clock.now();
  const wasOn = before.granted || before.needsReacceptance;
  if (wasOn) await atomic(deps.db, [eventStatement(deps, version, input), auditOf(deps, input)]);
  const receipt = await actions.purgeKind(deps, { accountId, kind: kind!, requestedAt, actor: input.actor });
  await atomic(deps.db, [eventStatement(deps, version, { ...input, receiptId: receipt.id }), ...(wasOn ? [] : [auditOf(deps, input)])]);
  deps.log.info('data kind withdrawn and deleted', { accountId, kind, receiptId: receipt.id });
  return { consent: await stateOf(deps, input), receipt };
}

/**
 * Accepts the policy in force, acknowledging its notice, and grants again the purposes named
 * (under the new version): consents given under a version older than a rights-reducing one stay
 * off unless re-granted. 'find' re-grants Find Device on every device where its switch is on.
 */
export async function acceptPolicy(deps: Deps, input: { accountId: string; version: number; regrant: Purpose[]; actor: Actor }) {
  const { accountId, actor } = input;
  const acceptance = await acceptanceStatements(deps, accountId, input.version, actor);
  const purposes = [...new Set(input.regrant)];
  for (const purpose of purposes) if (!PURPOSE.test(purpose)) throw new AppError('validation_failed', `body.regrant: ${JSON.stringify(purpose)} is not a consent purpose`);
  const devices = purposes.some(isDevicePurpose) ? await listDevices(deps, accountId) : [];
  // Messaging is re-granted where it is on: on each device whose newest messaging row grants it.
  const messagingOn = purposes.includes('messaging')
    ? new Set((await repo.latestOfEach(deps.db, accountId)).filter((r) => r.purpose === 'messaging' && r.granted).map((r) => r.deviceId))
    : new Set<string>();
  const choices: Choice[] = [
    ...purposes.filter((p) => !isDevicePurpose(p)).map((purpose) => ({ accountId, purpose, granted: true, actor })),
    ...(purposes.includes('find') ? devices.filter((d) => d.findEnabled) : []).map((d) => ({ accountId, purpose: 'find', deviceId: d.id, granted: true, actor })),
    ...devices.filter((d) => messagingOn.has(d.id)).map((d) => ({ accountId, purpose: 'messaging', deviceId: d.id, granted: true, actor })),
  ];
  await atomic(deps.db, [...acceptance, ...choices.flatMap((choice) => [eventStatement(deps, input.version, choice), auditOf(deps, choice)])]);
  return consentsOf(deps, accountId);
}
