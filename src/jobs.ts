import type { Deps } from './deps.js';
import { purgeExpiredChallenges } from './features/auth/service.js';
import { collectGarbage } from './features/blobs/service.js';
import { expireCommands, purgeOldLocations } from './features/find/service.js';
import { purgeOldVerifications } from './features/sim/service.js';
import { purgeDeadSessions } from './features/sessions/service.js';
import { purgeExpiredTrash } from './features/sync/service.js';
import { createThrottles } from './features/throttles/service.js';

/**
 * Housekeeping that keeps storage to what is still needed: expired challenges, dead sessions,
 * old abuse counters, trash past its retention, uploads that never became part of an item,
 * location history past its window, and commands left unacknowledged past their signed expiry. Node runs it on a timer; Workers from a cron trigger.
 */
export async function runMaintenance(deps: Deps) {
  const started = deps.clock.now();
  await purgeExpiredChallenges(deps);
  await purgeDeadSessions(deps);
  await createThrottles(deps).purgeStale();
  await purgeExpiredTrash(deps);
  await collectGarbage(deps);
  await purgeOldLocations(deps);
  await expireCommands(deps);
  await purgeOldVerifications(deps);
  deps.log.debug('maintenance done', { ms: deps.clock.now() - started });
}
