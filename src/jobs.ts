import type { Deps } from './deps.js';
import { purgeExpiredChallenges } from './features/auth/service.js';
import { purgeDeadSessions } from './features/sessions/service.js';
import { createThrottles } from './features/throttles/service.js';

/**
 * Housekeeping that keeps the database to what is still needed: expired challenges, dead
 * sessions and old abuse counters. Node runs it on a timer; Workers from a cron trigger.
 */
export async function runMaintenance(deps: Deps) {
  const started = deps.clock.now();
  await purgeExpiredChallenges(deps);
  await purgeDeadSessions(deps);
  await createThrottles(deps).purgeStale();
  deps.log.debug('maintenance done', { ms: deps.clock.now() - started });
}
