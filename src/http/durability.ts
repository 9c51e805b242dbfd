import type { MiddlewareHandler } from 'hono';
import type { Deps } from '../deps.js';
import type { AppEnv } from './env.js';
import { freshErrorResponse } from './errors.js';
import { isDatabaseBusy, isDatabaseFull } from '../db/client.js';

/**
 * No answer before its writes are on disk. Where writes commit in groups (Deps.durability), the
 * response waits for the commit that holds every write made while the request ran; if that commit
 * failed, the request is answered as failed, with nothing saved that it can rely on, and its retry
 * is safe. Reads wait too when a group is open, so nothing is answered from writes that could still
 * be lost.
 */
export function durableWrites(deps: Deps): MiddlewareHandler<AppEnv> {
  const durability = deps.durability;
  if (!durability) return (_c, next) => next();
  return async (c, next) => {
    const mark = durability.mark();
    await next();
    try {
      await durability.settled(mark);
    } catch (err) {
      const requestId = c.get('requestId');
      let failed: Response;
      if (isDatabaseFull(err)) {
        deps.log.error('storage full', { requestId, route: c.req.routePath, store: 'database' });
        failed = freshErrorResponse(requestId, 'storage_full', 'the server has no room to save this; nothing was saved; try again later', 60);
      } else if (isDatabaseBusy(err)) {
        deps.log.warn('database busy', { requestId, route: c.req.routePath });
        failed = freshErrorResponse(requestId, 'database_busy', 'the database is busy; nothing was saved; try again', 1);
      } else {
        deps.log.error('commit failed', { requestId, route: c.req.routePath, detail: String((err as Error).message ?? err).slice(0, 300) });
        failed = freshErrorResponse(requestId, 'service_unavailable', 'the database could not save this; nothing was saved; try again', 5);
      }
      // The answer the handler built goes whole, headers too (a session cookie for a login whose
      // session was never saved): with no answer set, Hono copies none of its headers over.
      c.res = undefined;
      c.res = failed;
    }
  };
}
