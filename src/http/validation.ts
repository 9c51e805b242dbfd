import type { Context } from 'hono';
import type { ZodError } from 'zod';
import { errorResponse } from './errors.js';
import type { AppEnv } from './env.js';

/** Names the field that failed, e.g. "body.email: Invalid email address". */
export function describeZodError(target: string, error: ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const path = [target === 'json' ? 'body' : target, ...issue.path.map(String)].join('.');
      return `${path}: ${issue.message}`;
    })
    .join('; ');
}

/** The defaultHook of every OpenAPIHono: turns a failed validation into the one error shape. */
export function validationHook(
  result: { success: true } | { success: false; error: ZodError; target: string },
  c: Context<AppEnv>,
) {
  if (!result.success) return errorResponse(c, 'validation_failed', describeZodError(result.target, result.error));
  return undefined;
}
