import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from './env.js';
import { validationHook } from './validation.js';

/** A router whose failed validations answer in the one error shape. */
export const createRouter = () => new OpenAPIHono<AppEnv>({ defaultHook: validationHook as never });

export const SESSION_SECURITY: Record<string, string[]>[] = [{ session: [] }, { sessionCookie: [] }];
export const DEVICE_SECURITY: Record<string, string[]>[] = [{ deviceToken: [] }];
