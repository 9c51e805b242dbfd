import type { Deps } from './deps.js';
import { purgeOldAudit } from './features/audit/service.js';
import { purgeExpiredChallenges } from './features/auth/service.js';
import { collectGarbage } from './features/blobs/service.js';
import { purgeExpiredSignups } from './features/children/service.js';
import { purgeOldDiagnostics } from './features/diagnostics/service.js';
import { expireCommands, purgeOldLocations } from './features/find/service.js';
import { type Job, runJobs } from './features/maintenance/service.js';
import { purgeExpiredMessages } from './features/messages/service.js';
import { purgeOldVerifications } from './features/sim/service.js';
import { purgeDeadSessions } from './features/sessions/service.js';
import { purgeExpiredTrash, purgeOldTombstones } from './features/sync/service.js';
import { purgeDueAccounts } from './features/deletion/account-purge.js';
import { publishBlocklist } from './features/spam/publish.js';
import { createThrottles } from './features/throttles/service.js';
import { purgeExpiredCodes } from './features/verification/service.js';
import { sendPolicyNotices } from './features/consents/notices.js';

/**
 * Housekeeping that keeps storage to what is still needed, run in this order by one scheduler
 * (src/features/maintenance): Node every 10 minutes (src/node.ts), Workers from the cron trigger
 * (src/worker.ts, wrangler.toml), the operator on demand (`npm run admin -- run-jobs`). Each job
 * returns counts, is idempotent, and is recorded in job_runs (`npm run admin -- jobs`).
 * docs/OPERATIONS.md has the table of what each removes and when. Add a job with one line.
 */
export const JOBS: readonly Job[] = [
  { name: 'challenges', run: purgeExpiredChallenges },
  { name: 'sessions', run: purgeDeadSessions },
  { name: 'throttles', run: (deps) => createThrottles(deps).purgeStale() },
  { name: 'pending-signups', run: purgeExpiredSignups },
  { name: 'verification-codes', run: async (deps) => ({ codes: await purgeExpiredCodes(deps) }) },
  { name: 'trash', run: async (deps) => ({ items: await purgeExpiredTrash(deps) }) },
  { name: 'blob-garbage', run: collectGarbage },
  { name: 'locations', run: purgeOldLocations },
  { name: 'commands', run: expireCommands },
  { name: 'sim-verifications', run: purgeOldVerifications },
  { name: 'messages', run: purgeExpiredMessages },
  { name: 'audit', run: purgeOldAudit },
  { name: 'policy-notices', run: (deps) => sendPolicyNotices(deps) },
  { name: 'diagnostics', run: purgeOldDiagnostics },
  { name: 'tombstones', run: (deps) => purgeOldTombstones(deps) },
  { name: 'account-purge', run: (deps) => purgeDueAccounts(deps) },
  // After account-purge, so the reports of accounts deleted this pass no longer count.
  { name: 'spam-blocklist', run: publishBlocklist },
];

/** One pass over every job; resolves when it is done, whatever failed (the outcomes say). */
export const runMaintenance = (deps: Deps) => runJobs(deps, JOBS);
