import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../http/env.js';
import { rateBucketOf } from './policy.js';
import type { Throttles } from './service.js';

/**
 * Counts each request against its bucket in policy.ts and answers 429 rate_limited, with
 * Retry-After, once the bucket is full. Runs after the credential middleware, so the account or
 * device is known; a request that reaches it without one is counted by its address instead.
 */
export function rateLimits(throttles: Throttles): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const bucket = rateBucketOf(c.req.method, c.req.path);
    if (bucket) {
      const subject =
        (bucket.key === 'account' && (c.get('session')?.accountId ?? c.get('device')?.accountId)) ||
        (bucket.key === 'device' && c.get('device')?.deviceId) ||
        `address:${c.get('clientAddress')}`;
      await throttles.hit(throttles.keyOf(`rate:${bucket.name}`, subject), bucket);
    }
    await next();
  };
}
