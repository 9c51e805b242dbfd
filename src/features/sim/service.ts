import { SmsError } from '../../adapters/sms.js';
import { constantTimeEqual } from '../../protocol/encoding.js';
import { atomic, changedRows, isUniqueViolation } from '../../db/client.js';
import type { Deps } from '../../deps.js';
import { AppError, notFound } from '../../http/app-error.js';
import { auditEntry } from '../audit/service.js';
import { isConsented, requireConsent } from '../consents/service.js';
import { deviceRecord } from '../devices/service.js';
import { notifyOwner } from '../push/service.js';
import type { Throttles } from '../throttles/service.js';
import * as repo from './repo.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
export const CODE_TTL_MS = 10 * MINUTE;
export const MAX_CODE_CHECKS = 5;
export const MAX_SENDS_PER_EVENT = 3;
const SMS_PER_DEVICE_PER_DAY = { limit: 6, windowMs: DAY };
const SMS_PER_NUMBER_PER_DAY = { limit: 4, windowMs: DAY };
const TOKEN_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

const CARRIER = 'sim-carrier';
const NUMBER = 'phone';

export interface SimEventInput {
  eventId: string;
  kind: 'inserted' | 'replaced' | 'removed';
  simIdHash: string;
  carrier?: string;
  claimedNumber?: string;
  method?: 'outbound' | 'inbound';
}

type DeviceRef = { accountId: string; deviceId: string };

/** Six digits, uniform: rejection sampling keeps the modulo from favouring low codes. */
export function newCode(random: Deps['random']) {
  for (;;) {
    const bytes = random.bytes(4);
    const value = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
    if (value < 4_294_000_000) return String(value % 1_000_000).padStart(6, '0');
  }
}

function newInboundToken(random: Deps['random']) {
  return Array.from(random.bytes(8), (b) => TOKEN_ALPHABET[b % TOKEN_ALPHABET.length]).join('');
}

// Codes are stored only as a keyed hash bound to their event, so a copy of the database is no help.
const codeHash = (deps: Deps, eventId: string, code: string) => deps.secrets.blindIndex('sim-code', `${eventId}:${code}`);
const tokenIndex = (deps: Deps, token: string) => deps.secrets.blindIndex('sim-inbound', token);

function checkNumberAllowed(deps: Deps, number: string) {
  const allowed = deps.config.smsAllowedPrefixes;
  if (allowed.length > 0 && !allowed.some((prefix) => number.startsWith(prefix))) {
    throw new AppError('invalid_phone_number', 'this server does not send SMS to that country');
  }
}

/**
 * Records a SIM inserted, replaced or removed, and starts verifying the new number. Needs Find
 * Device on (the policy's condition). A retry with the same event id returns the same event and
 * sends nothing new; a removal or replacement while the device is locked as lost raises an alert.
 */
export async function reportSimEvent(deps: Deps, throttles: Throttles, device: DeviceRef, input: SimEventInput) {
  const row = await deviceRecord(deps, device.accountId, device.deviceId);
  if (!row.findEnabled) throw new AppError('find_disabled', 'SIM-change verification works only while Find Device is on');
  if (input.kind === 'removed' ? input.method !== undefined || input.claimedNumber !== undefined : input.method === undefined) {
    throw new AppError('validation_failed', input.kind === 'removed' ? 'body: a removal takes no method or number' : 'body.method: required for an inserted or replaced SIM');
  }
  if (input.method === 'outbound') {
    if (!input.claimedNumber) throw new AppError('validation_failed', 'body.claimedNumber: required for outbound verification');
    checkNumberAllowed(deps, input.claimedNumber);
  }
  if (input.method === 'inbound' && (deps.config.sms.provider !== 'twilio' || !deps.config.smsInboundNumber)) {
    throw new AppError('validation_failed', 'body.method: inbound verification needs Twilio and SMS_INBOUND_NUMBER on this server');
  }

  const ref: repo.EventRef = { ...device, eventId: input.eventId };
  const simIdHash = deps.secrets.blindIndex('sim-id', input.simIdHash);
  const retried = await sameEventAgain(deps, ref, input.kind, simIdHash);
  if (retried) return retried;

  const now = deps.clock.now();
  // Without the sim_sms consent no SMS goes either way: the change itself is still recorded (and
  // raises the Lost Mode alert), unverified, and the verification is refused below.
  const verify = input.method !== undefined && (await isConsented(deps, { accountId: device.accountId, purpose: 'sim_sms' }));
  // Lost Mode is on the device row read above.
  const alert = input.kind !== 'inserted' && row.lostSince !== null;
  const insert = repo.insertEvent(deps.db, {
    accountId: device.accountId,
    deviceId: device.deviceId,
    id: input.eventId,
    kind: input.kind,
    simIdHash,
    carrierSealed: input.carrier ? deps.secrets.sealPersonal(CARRIER, input.carrier) : null,
    claimedNumberSealed: input.claimedNumber ? deps.secrets.sealPersonal(NUMBER, input.claimedNumber) : null,
    verifiedNumberSealed: null,
    method: verify ? input.method! : null,
    status: verify ? 'pending' : 'recorded',
    alert,
    createdAt: now,
    verifiedAt: null,
  });
  try {
    await atomic(deps.db, [insert, auditEntry(deps, device.accountId, alert ? 'sim.alert' : 'sim.changed', { deviceId: device.deviceId, detail: input.kind })]);
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    // The id was taken between the check above and this write: by this device's own retry, which
    // gets the same answer, or by another device, which must still lose.
    return (await sameEventAgain(deps, ref, input.kind, simIdHash)) ?? Promise.reject(eventIdTaken());
  }
  if (alert) {
    deps.log.warn('SIM changed on a device in Lost Mode', { accountId: device.accountId, deviceId: device.deviceId });
    notifyOwner(deps, device.accountId, { fetch: 'sim-events', deviceId: device.deviceId }, { exceptDeviceId: device.deviceId });
  }

  if (input.method && !verify) await requireConsent(deps, { accountId: device.accountId, purpose: 'sim_sms' });
  if (input.method === 'outbound') await sendCode(deps, throttles, device, input.eventId, input.claimedNumber!);
  if (input.method === 'inbound') return startInbound(deps, device, input.eventId);
  return eventStatus(deps, (await repo.findEvent(deps.db, ref))!);
}

const eventIdTaken = () => new AppError('conflict', 'that event id belongs to another SIM event of this account; use a fresh id');

/**
 * A report whose id this device already used is a retry and gets the same answer (nothing is
 * sent again). An id another device of the account used is refused before anything is written
 * or texted: event ids are chosen by devices, so a device must not be able to reach another's.
 */
async function sameEventAgain(deps: Deps, ref: repo.EventRef, kind: SimEventInput['kind'], simIdHash: string) {
  const owner = await repo.eventOwner(deps.db, ref.accountId, ref.eventId);
  if (owner === undefined) return undefined;
  if (owner !== ref.deviceId) throw eventIdTaken();
  const existing = (await repo.findEvent(deps.db, ref))!;
  if (existing.kind !== kind || existing.simIdHash !== simIdHash) throw new AppError('conflict', 'that event id was used for a different SIM event');
  return eventStatus(deps, existing);
}

/** Starts (or restarts) the ten minutes in which a code or token can verify an event. */
async function openVerification(
  deps: Deps,
  device: DeviceRef,
  eventId: string,
  secret: { codeHash?: string; inboundTokenIndex?: string; numberIndex?: string; sends: number },
) {
  const expiresAt = deps.clock.now() + CODE_TTL_MS;
  await repo.upsertVerification(deps.db, {
    accountId: device.accountId,
    eventId,
    deviceId: device.deviceId,
    codeHash: secret.codeHash ?? null,
    inboundTokenIndex: secret.inboundTokenIndex ?? null,
    numberIndex: secret.numberIndex ?? null,
    attempts: 0,
    sends: secret.sends,
    expiresAt,
    consumedAt: null,
  });
  return expiresAt;
}

async function eventStatus(deps: Deps, event: repo.SimEventRow) {
  const verification = await repo.findVerification(deps.db, { accountId: event.accountId, deviceId: event.deviceId, eventId: event.id });
  return { eventId: event.id, status: event.status, expiresAt: verification?.expiresAt ?? null, inbound: null };
}

/**
 * Texts a fresh code to the claimed number. Limited per event, per device and per number per day,
 * so the endpoint cannot be used to pump SMS. If the provider fails, nothing is left that could
 * verify, and the error says why.
 */
async function sendCode(deps: Deps, throttles: Throttles, device: DeviceRef, eventId: string, number: string) {
  const numberIndex = deps.secrets.blindIndex(NUMBER, number);
  const previous = await repo.findVerification(deps.db, { ...device, eventId });
  if (previous && previous.sends >= MAX_SENDS_PER_EVENT) {
    throw new AppError('rate_limited', `at most ${MAX_SENDS_PER_EVENT} codes are sent for one SIM event`);
  }
  try {
    await throttles.hit(throttles.keyOf('sms:device', device.deviceId), SMS_PER_DEVICE_PER_DAY);
    await throttles.hit(throttles.keyOf('sms:number', numberIndex), SMS_PER_NUMBER_PER_DAY);
  } catch (err) {
    await repo.setEventStatus(deps.db, { ...device, eventId }, { status: 'failed' });
    throw err;
  }

  const code = newCode(deps.random);
  await openVerification(deps, device, eventId, { codeHash: codeHash(deps, eventId, code), numberIndex, sends: 1 });
  try {
    await deps.sms.send({ to: number, body: `homing: your SIM verification code is ${code}. It expires in 10 minutes.` });
  } catch (err) {
    await atomic(deps.db, [repo.deleteVerification(deps.db, { ...device, eventId }), repo.setEventStatus(deps.db, { ...device, eventId }, { status: 'failed' })]);
    throw smsFailure(deps, err);
  }
  await repo.setEventStatus(deps.db, { ...device, eventId }, { status: 'pending' });
}

function smsFailure(deps: Deps, err: unknown) {
  if (!(err instanceof SmsError)) return err;
  switch (err.failure) {
    case 'invalid_number':
      return new AppError('invalid_phone_number', 'the SMS provider says this number cannot receive SMS');
    case 'unreachable':
      return new AppError('sms_undeliverable', 'the SMS could not be delivered to this number; check it and resend');
    case 'rate_limited':
      return new AppError('rate_limited', 'the SMS provider is busy; resend in a minute', { retryAfterSeconds: 60 });
    case 'auth_failed':
      deps.log.error('the SMS provider refused our credentials: check TWILIO_* settings');
      return new AppError('service_unavailable', 'SMS is not available on this server right now');
    case 'unavailable':
      return new AppError('service_unavailable', 'the SMS provider could not be reached; resend later', { retryAfterSeconds: 30 });
  }
}

export async function resendCode(deps: Deps, throttles: Throttles, device: DeviceRef, eventId: string) {
  const event = await repo.findEvent(deps.db, { ...device, eventId });
  if (!event) throw notFound('SIM event');
  if (event.method !== 'outbound' || event.status === 'verified') {
    throw new AppError('conflict', event.status === 'verified' ? 'this SIM event is already verified' : 'only outbound verification sends codes');
  }
  await requireConsent(deps, { accountId: device.accountId, purpose: 'sim_sms' });
  await sendCode(deps, throttles, device, eventId, deps.secrets.openPersonal(NUMBER, event.claimedNumberSealed!));
  return eventStatus(deps, (await repo.findEvent(deps.db, { ...device, eventId }))!);
}

async function markVerified(deps: Deps, event: { accountId: string; deviceId: string; id: string }, numberSealed: string) {
  await atomic(deps.db, [
    repo.setEventStatus(deps.db, { accountId: event.accountId, deviceId: event.deviceId, eventId: event.id }, { status: 'verified', verifiedNumberSealed: numberSealed, verifiedAt: deps.clock.now() }),
    auditEntry(deps, event.accountId, 'sim.verified', { deviceId: event.deviceId }),
  ]);
  deps.log.info('SIM number verified', { accountId: event.accountId, deviceId: event.deviceId });
}

/**
 * Checks a code. The attempt is counted before the comparison (constant-time, on keyed hashes), a
 * code dies after five checks or ten minutes, and consuming it is what makes it single-use.
 */
export async function verifyCode(deps: Deps, device: DeviceRef, eventId: string, code: string) {
  const event = await repo.findEvent(deps.db, { ...device, eventId });
  if (!event) throw notFound('SIM event');
  const now = deps.clock.now();
  const attempt = await repo.takeAttempt(deps.db, { ...device, eventId }, now, MAX_CODE_CHECKS);
  if (!attempt?.codeHash) {
    throw new AppError('verification_failed', 'this code has expired, was used, or had too many wrong tries; ask for a new one');
  }
  if (!constantTimeEqual(attempt.codeHash, codeHash(deps, eventId, code))) {
    throw new AppError('verification_failed', 'wrong code', { details: { attemptsLeft: MAX_CODE_CHECKS - attempt.attempts } });
  }
  if (!(await repo.consume(deps.db, { ...device, eventId }, now))) {
    throw new AppError('verification_failed', 'this code was already used');
  }
  await markVerified(deps, event, event.claimedNumberSealed!);
  return { eventId, status: 'verified' as const, expiresAt: null, inbound: null };
}

async function startInbound(deps: Deps, device: DeviceRef, eventId: string) {
  const token = newInboundToken(deps.random);
  const expiresAt = await openVerification(deps, device, eventId, { inboundTokenIndex: tokenIndex(deps, token), sends: 0 });
  return { eventId, status: 'pending' as const, expiresAt, inbound: { token: `HOMING ${token}`, sendTo: deps.config.smsInboundNumber! } };
}

/**
 * An SMS that reached our Twilio number, its signature already checked by the caller. The
 * carrier-asserted sender number becomes the verified number of the event whose one-time token
 * the message carries. Anything else (no token, unknown, used or expired) changes nothing.
 */
export async function receiveInboundSms(deps: Deps, message: { from: string; body: string }) {
  const token = message.body.toUpperCase().match(new RegExp(`[${TOKEN_ALPHABET}]{8}`))?.[0];
  if (!token || !/^\+[1-9][0-9]{6,14}$/.test(message.from)) return false;
  const now = deps.clock.now();
  const verification = await repo.findByInboundToken(deps.db, tokenIndex(deps, token), now);
  if (!verification || !(await repo.consume(deps.db, verification, now))) return false;
  await markVerified(deps, { accountId: verification.accountId, deviceId: verification.deviceId, id: verification.eventId }, deps.secrets.sealPersonal(NUMBER, message.from));
  return true;
}

/** A SIM event as its owner sees it: carrier and numbers are personal data the server sealed for itself, opened here. */
function openedEvent(deps: Deps, e: repo.SimEventRow) {
  const open = (purpose: string, sealed: string | null) => (sealed ? deps.secrets.openPersonal(purpose, sealed) : null);
  return {
    id: e.id,
    deviceId: e.deviceId,
    kind: e.kind,
    carrier: open(CARRIER, e.carrierSealed),
    claimedNumber: open(NUMBER, e.claimedNumberSealed),
    verifiedNumber: open(NUMBER, e.verifiedNumberSealed),
    method: e.method,
    status: e.status,
    alert: e.alert,
    createdAt: e.createdAt,
    verifiedAt: e.verifiedAt,
  };
}

/** The device's SIM history, for its owner: numbers and carriers opened for display. */
export async function simHistory(deps: Deps, accountId: string, deviceId: string) {
  await deviceRecord(deps, accountId, deviceId);
  return (await repo.listEvents(deps.db, accountId, deviceId)).map((e) => {
    const { deviceId: _, ...event } = openedEvent(deps, e);
    return event;
  });
}

/**
 * The number the device has now, as SIM-change verification proved it: its newest SIM event,
 * when that one is verified. A later event (removed, or replaced and not yet verified) means the
 * device no longer has a proven number, so nothing is answered.
 */
export async function currentVerifiedNumber(deps: Deps, accountId: string, deviceId: string): Promise<{ number: string; verifiedAt: number } | undefined> {
  const event = await repo.newestEvent(deps.db, accountId, deviceId);
  if (event?.status !== 'verified' || !event.verifiedNumberSealed || event.verifiedAt === null) return undefined;
  return { number: deps.secrets.openPersonal(NUMBER, event.verifiedNumberSealed), verifiedAt: event.verifiedAt };
}

export async function purgeOldVerifications(deps: Deps) {
  return { verifications: changedRows(await repo.deleteExpiredVerifications(deps.db, deps.clock.now())) };
}

/** One page of the account's SIM events for its export, opened as its owner sees them. */
export async function exportSimEventsPage(deps: Deps, accountId: string, afterId: string, limit: number) {
  return (await repo.eventsPage(deps.db, accountId, afterId, limit)).map((e) => openedEvent(deps, e));
}

/** Deletion: the SIM events and verifications a device holds (they go with its row, by cascade). */
export const countDeviceSimData = (deps: Deps, accountId: string, deviceId: string) => repo.countForDevice(deps.db, accountId, deviceId);
