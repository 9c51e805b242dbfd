import type { Deps } from '../../deps.js';
import { changedRows } from '../../db/client.js';
import { AppError } from '../../http/app-error.js';
import { createMemoryWindows } from './memory-windows.js';
import * as repo from './repo.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export interface BackoffPolicy {
  /** Failures allowed in the window before each further one adds a growing wait. */
  freeFailures: number;
  windowMs: number;
  maxBlockMs: number;
}

// Login limits; src/features/auth/login-limits.ts explains which key each applies to and why.
// Strict, per (account, address): what one guesser at one address meets.
export const LOGIN_FAILURES_PER_ACCOUNT_ADDRESS: BackoffPolicy = { freeFailures: 5, windowMs: HOUR, maxBlockMs: 15 * MINUTE };
// Many people can share one address behind NAT, so an address gets more room than a pair.
export const LOGIN_FAILURES_PER_ADDRESS: BackoffPolicy = { freeFailures: 20, windowMs: HOUR, maxBlockMs: 15 * MINUTE };
// Loose, per account, for clients that never logged in to it: bounds a guesser spread over many
// addresses to about 135 guesses a day (100 free, then waits doubling to an hour), while a
// stranger needs 100 failures to slow the owner down at all.
export const LOGIN_FAILURES_PER_ACCOUNT: BackoffPolicy = { freeFailures: 100, windowMs: DAY, maxBlockMs: HOUR };
// A trusted client (one that logged in before) skips the per-account limit but meets this one.
export const LOGIN_FAILURES_PER_TRUSTED_CLIENT: BackoffPolicy = { freeFailures: 5, windowMs: HOUR, maxBlockMs: 15 * MINUTE };

export interface RateLimit {
  limit: number;
  windowMs: number;
  /** Where the count lives: the database (default; global on every runtime) or this process (memory-windows.ts). */
  counter?: 'db' | 'memory';
}

export const CHALLENGES_PER_ADDRESS: RateLimit = { limit: 30, windowMs: MINUTE };
export const CHALLENGES_PER_ACCOUNT_ADDRESS: RateLimit = { limit: 10, windowMs: MINUTE };
// Untrusted clients only. Challenges are not guesses (failures are); this bounds the rows one
// email can make from many addresses.
export const CHALLENGES_PER_ACCOUNT: RateLimit = { limit: 120, windowMs: MINUTE };
export const SIGNUPS_PER_ADDRESS: RateLimit = { limit: 10, windowMs: HOUR };

/**
 * Abuse limits. Keys are keyed hashes, so the table never holds a raw address or email.
 * Callers key accounts by blind index, which exists for unknown emails too: a locked-out
 * stranger's email and a locked-out member's behave the same.
 */
export function createThrottles(deps: Deps) {
  const keyOf = (scope: string, value: string) => `${scope}:${deps.secrets.blindIndex('throttle', value)}`;
  const memory = createMemoryWindows();

  const refuse = (untilMs: number, now: number): never => {
    throw new AppError('rate_limited', 'too many attempts; wait and try again', { retryAfterSeconds: (untilMs - now) / 1000 });
  };

  return {
    keyOf,

    /** Refuses while any of the keys is in a backoff period. */
    async assertNotBlocked(keys: string[]) {
      const now = deps.clock.now();
      const until = await repo.findBlockedUntil(deps.db, keys);
      if (until > now) refuse(until, now);
    },

    /** Records a failure; past the free ones, each doubles the wait, up to the policy's cap. */
    async recordFailure(key: string, policy: BackoffPolicy) {
      const now = deps.clock.now();
      const { count } = await repo.countInWindow(deps.db, key, now, policy.windowMs);
      const excess = count - policy.freeFailures;
      if (excess > 0) {
        const waitMs = Math.min(1000 * 2 ** (excess - 1), policy.maxBlockMs);
        await repo.blockUntil(deps.db, key, now + waitMs);
      }
    },

    async clear(key: string) {
      await repo.clear(deps.db, key);
    },

    /**
     * Counts a request against a fixed-window limit and refuses once it is exceeded. With a
     * `cost` (units one request uses, e.g. the numbers a lookup asks about; database counters
     * only) the hit is all or nothing: one that would pass the limit is refused and counts
     * nothing, so it does not use up what is left. Answers the units left in the window.
     */
    async hit(key: string, limit: RateLimit, cost?: number) {
      const now = deps.clock.now();
      if (cost !== undefined) {
        if (limit.counter === 'memory') throw new Error('a hit with a cost needs a database counter');
        const counted = cost <= limit.limit ? await repo.countIfFits(deps.db, key, now, limit.windowMs, cost, limit.limit) : undefined;
        if (!counted) {
          const started = (await repo.findWindow(deps.db, key))?.windowStartedAt ?? now;
          refuse(Math.max(started, now - limit.windowMs + 1000) + limit.windowMs, now);
        }
        return { left: limit.limit - counted!.count };
      }
      const { count, windowStartedAt } =
        limit.counter === 'memory'
          ? memory.count(key, now, limit.windowMs)
          : await repo.countInWindow(deps.db, key, now, limit.windowMs);
      if (count > limit.limit) refuse(windowStartedAt + limit.windowMs, now);
      return { left: Math.max(0, limit.limit - count) };
    },

    async purgeStale() {
      return { counters: changedRows(await repo.deleteStale(deps.db, deps.clock.now() - 24 * HOUR)) };
    },
  };
}

export type Throttles = ReturnType<typeof createThrottles>;

// Counters keyed by an account's id, its e-mail's blind index or one of its devices' ids, outside
// the request buckets of policy.ts: the scopes the features use with keyOf.
const ACCOUNT_SCOPES = ['login-failures:account', 'challenges:account'];
const DEVICE_SCOPES = ['locations:device', 'sms:device', 'messages:device'];

/**
 * Account deletion: statements removing the counters keyed by the account, its e-mail index and
 * its devices (those keyed by an address, or an address paired with the e-mail, expire on their own).
 */
export function forgetSubjectsStatements(
  deps: Deps,
  subjects: { accountId: string; emailIndex: string; deviceIds: string[]; buckets: { name: string; key: string }[] },
) {
  const { keyOf } = createThrottles(deps);
  const keys = [
    ...subjects.buckets.flatMap((b) =>
      b.key === 'account' ? [keyOf(`rate:${b.name}`, subjects.accountId)] : b.key === 'device' ? subjects.deviceIds.map((d) => keyOf(`rate:${b.name}`, d)) : [],
    ),
    ...ACCOUNT_SCOPES.map((scope) => keyOf(scope, subjects.emailIndex)),
    ...DEVICE_SCOPES.flatMap((scope) => subjects.deviceIds.map((d) => keyOf(scope, d))),
  ];
  const statements = [];
  for (let i = 0; i < keys.length; i += 90) statements.push(repo.deleteKeys(deps.db, keys.slice(i, i + 90)));
  return statements;
}
