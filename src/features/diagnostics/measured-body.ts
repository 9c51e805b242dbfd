import type { MiddlewareHandler } from 'hono';
import { AppError } from '../../http/app-error.js';
import type { AppEnv } from '../../http/env.js';

/**
 * Refuses a body larger than maxBytes with 413 payload_too_large, counted on the bytes that
 * actually arrive, whatever Content-Length claims: reading stops at the first byte past the
 * limit, so an oversized body costs no more than the limit. The bytes read are handed on to the
 * validator as the request's body.
 */
export function measuredBody(maxBytes: () => number): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const body = c.req.raw.body;
    if (!body) return next();
    const limit = maxBytes();
    const reader = body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > limit) {
        await reader.cancel().catch(() => {});
        throw new AppError('payload_too_large', `a diagnostics report may be at most ${limit} bytes`);
      }
      chunks.push(value);
    }
    const bytes = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.length;
    }
    c.req.raw = new Request(c.req.raw, { body: bytes });
    return next();
  };
}
