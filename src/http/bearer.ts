import type { Context } from 'hono';
import type { AppEnv } from './env.js';

/** The bearer token of a request when it carries the given kind's prefix (hs_ sessions, hd_ devices). */
export function bearerToken(c: Context<AppEnv>, prefix: string) {
  const header = c.req.header('Authorization');
  const match = header?.match(/^Bearer\s+(\S+)$/i);
  return match?.[1]?.startsWith(`${prefix}_`) ? match[1] : undefined;
}
