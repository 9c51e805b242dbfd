import type { MiddlewareHandler } from 'hono';
import type { Deps } from '../../deps.js';
import { AppError } from '../../http/app-error.js';
import { bearerToken } from '../../http/bearer.js';
import type { AppEnv } from '../../http/env.js';
import { authenticateDevice } from './service.js';

/** Requires a device token; the device it names is the only one the request may act for. */
export function requireDevice(deps: Deps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const token = bearerToken(c, 'hd');
    if (!token) throw new AppError('unauthorized', 'send this device\'s token as "Authorization: Bearer hd_…"');
    c.set('device', await authenticateDevice(deps, token));
    await next();
  };
}
