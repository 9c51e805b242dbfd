import type { PushResult } from '../../adapters/push.js';
import { isGuardFailure } from '../../db/client.js';
import type { Deps } from '../../deps.js';
import { AppError, notFound } from '../../http/app-error.js';
import type { PushMessage } from '../../protocol/api/push.js';
import { checkPushEndpoint } from './endpoint-policy.js';
import * as repo from './repo.js';

// Push wake-up: a phone or a browser registers a Web Push subscription, and other features call
// notifyDevice / notifyOwner when there is something to fetch. The push names only what to
// fetch (PushMessage); the client fetches it over the API with its own credentials.

export const MAX_SUBSCRIPTIONS_PER_ACCOUNT = 20;
/** Refused deliveries in a row (other than 404/410, which drop it at once) before a subscription goes. */
export const MAX_FAILURES = 5;
const ATTEMPTS = 3;
const BACKOFF_MS = [1_000, 4_000];
/** A Retry-After longer than this is cut short: a retry belongs within ~30 s of the trigger. */
const MAX_WAIT_MS = 10_000;
const PUSH_TTL_SECONDS = 24 * 3600;

export type PushTopic = PushMessage;

export interface SubscriptionInput {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

const view = (row: repo.PushSubscriptionRow) => ({
  id: row.id,
  deviceId: row.deviceId,
  sessionId: row.sessionId,
  pushService: new URL(row.endpoint).origin,
  createdAt: row.createdAt,
  lastSuccessAt: row.lastSuccessAt,
  failures: row.failures,
});

async function save(deps: Deps, accountId: string, input: SubscriptionInput, binding: repo.Binding) {
  checkPushEndpoint(input.endpoint, deps.config.push.allowInsecureEndpoints);
  const row = { id: deps.random.id(), accountId, endpoint: input.endpoint, ...input.keys, createdAt: deps.clock.now() };
  try {
    const saved = await repo.saveSubscription(deps.db, row, binding, MAX_SUBSCRIPTIONS_PER_ACCOUNT);
    deps.log.info('push subscription saved', { accountId, subscriptionId: saved.id, deviceId: binding.deviceId });
    return view(saved);
  } catch (err) {
    if (!isGuardFailure(err)) throw err;
    if (binding.deviceId !== undefined && (await repo.endpointHeldByOther(deps.db, accountId, input.endpoint, binding.deviceId))) {
      throw new AppError('conflict', 'this push endpoint belongs to another device or session of this account');
    }
    throw new AppError('conflict', `an account keeps at most ${MAX_SUBSCRIPTIONS_PER_ACCOUNT} push subscriptions; delete one first`);
  }
}

/** A device's own subscription: registering again replaces it. */
export const registerDevicePush = (deps: Deps, device: { accountId: string; deviceId: string }, input: SubscriptionInput) =>
  save(deps, device.accountId, input, { deviceId: device.deviceId });

/** A browser's or an app's subscription, bound to its session: logging out ends it. */
export const registerSessionPush = (deps: Deps, session: { accountId: string; sessionId: string }, input: SubscriptionInput) =>
  save(deps, session.accountId, input, { sessionId: session.sessionId });

export async function removeDevicePush(deps: Deps, device: { accountId: string; deviceId: string }) {
  await repo.deleteDeviceSubscriptions(deps.db, device.accountId, device.deviceId);
}

export const listSubscriptions = async (deps: Deps, accountId: string) => (await repo.listSubscriptions(deps.db, accountId)).map(view);

// "Not yours" and "does not exist" are one answer: the delete is keyed by the account.
export async function removeSubscription(deps: Deps, accountId: string, subscriptionId: string) {
  if (!(await repo.deleteSubscription(deps.db, accountId, subscriptionId))) throw notFound('push subscription');
}

/** Wakes one device: its own subscription. Returns at once; delivery runs in the background. */
export function notifyDevice(deps: Deps, target: { accountId: string; deviceId: string }, topic: PushTopic): void {
  deps.background(async () => deliverAll(deps, await repo.deviceSubscriptions(deps.db, target.accountId, target.deviceId), topic));
}

/**
 * Tells the owner: the account's browser and app sessions, and its devices other than
 * `exceptDeviceId` (the one the news is about). Returns at once; delivery runs in the background.
 */
export function notifyOwner(deps: Deps, accountId: string, topic: PushTopic, options: { exceptDeviceId?: string } = {}): void {
  deps.background(async () => deliverAll(deps, await repo.ownerSubscriptions(deps.db, accountId, options.exceptDeviceId), topic));
}

// The Topic header (RFC 8030 §5.4): a newer push with the same topic replaces one still waiting.
function topicHeader(topic: PushTopic) {
  if (topic.fetch === 'commands' || topic.fetch === 'messages') return topic.fetch;
  return `${topic.fetch === 'device' ? 'device' : 'sim'}-${topic.deviceId}`;
}

async function deliverAll(deps: Deps, subscriptions: repo.PushSubscriptionRow[], topic: PushTopic) {
  await Promise.all(subscriptions.map((subscription) => deliver(deps, subscription, topic)));
}

/**
 * One subscription, up to three attempts: 2xx is delivered; 404/410 mean the subscription is gone
 * and it is deleted; 429, 5xx and no answer are retried after a backoff that honours Retry-After;
 * anything else, or running out of attempts, counts a failure, and the fifth in a row deletes it.
 */
async function deliver(deps: Deps, subscription: repo.PushSubscriptionRow, topic: PushTopic) {
  const fields = { accountId: subscription.accountId, subscriptionId: subscription.id };
  const options = { ttlSeconds: PUSH_TTL_SECONDS, urgency: 'high' as const, topic: topicHeader(topic) };
  let result: PushResult = { status: 0 };
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    result = await deps.push.send(subscription, topic, options);
    if (result.status >= 200 && result.status < 300) {
      await repo.recordSuccess(deps.db, subscription.id, deps.clock.now());
      deps.log.debug('push delivered', { ...fields, status: result.status, attempt });
      return;
    }
    if (result.status === 404 || result.status === 410) {
      await repo.forgetSubscription(deps.db, subscription.id);
      deps.log.info('push subscription gone; removed', { ...fields, status: result.status });
      return;
    }
    const retryable = result.status === 0 || result.status === 429 || result.status >= 500;
    if (!retryable || attempt === ATTEMPTS) break;
    const wait = Math.max(BACKOFF_MS[attempt - 1]!, (result.retryAfterSeconds ?? 0) * 1000);
    await deps.clock.sleep(Math.min(wait, MAX_WAIT_MS));
  }
  await repo.recordFailure(deps.db, subscription.id, MAX_FAILURES);
  deps.log.warn('push not delivered', { ...fields, status: result.status, error: result.error });
}

/** Deletion: the device's own push subscriptions (they go with its row, by cascade). */
export const countDevicePush = (deps: Deps, accountId: string, deviceId: string) => repo.countForDevice(deps.db, accountId, deviceId);
