import type { Context } from 'hono';
import type { ZodError } from 'zod';
import { errorResponse } from './errors.js';
import type { AppEnv } from './env.js';

const targetName = (target: string) => (target === 'json' ? 'body' : target);

/** Names the field that failed, e.g. "body.email: Invalid email address". */
export function describeZodError(target: string, error: ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const path = [targetName(target), ...issue.path.map(String)].join('.');
      return `${path}: ${issue.message}`;
    })
    .join('; ');
}

const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Where validated input holds a lone surrogate (half of a UTF-16 pair, which JSON's \ud800 can
 * spell), e.g. "body.name". Such a string is not text: stored, it silently becomes U+FFFD, so
 * the record would no longer be what the client sent. The walk is iterative, and runs on input
 * that has already passed its schema.
 */
function loneSurrogatePath(target: string, data: unknown): string | undefined {
  // Each entry knows its parent, so a path is spelled out only for the value that fails (a push
  // of 500 items holds thousands of values, nearly always all well-formed).
  interface Entry {
    value: unknown;
    key: string;
    parent: Entry | undefined;
  }
  const pathOf = (entry: Entry) => {
    const keys: string[] = [];
    for (let e: Entry | undefined = entry; e; e = e.parent) keys.push(e.key);
    return keys.reverse().join('.');
  };
  const stack: Entry[] = [{ value: data, key: targetName(target), parent: undefined }];
  while (stack.length > 0) {
    const entry = stack.pop()!;
    const { value } = entry;
    if (typeof value === 'string' && LONE_SURROGATE.test(value)) return pathOf(entry);
    if (value !== null && typeof value === 'object') {
      for (const key of Object.keys(value)) {
        if (LONE_SURROGATE.test(key)) return pathOf(entry);
        stack.push({ value: (value as Record<string, unknown>)[key], key, parent: entry });
      }
    }
  }
  return undefined;
}

/** The defaultHook of every OpenAPIHono: turns a failed validation into the one error shape. */
export function validationHook(
  result: { target: string } & ({ success: true; data: unknown } | { success: false; error: ZodError }),
  c: Context<AppEnv>,
) {
  if (!result.success) return errorResponse(c, 'validation_failed', describeZodError(result.target, result.error));
  const illFormed = loneSurrogatePath(result.target, result.data);
  if (illFormed) return errorResponse(c, 'validation_failed', `${illFormed}: must be well-formed Unicode (it holds a lone surrogate)`);
  return undefined;
}
