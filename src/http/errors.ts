import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from '../adapters/log.js';
import { BlobStoreFullError, BlobStoreUnavailableError } from '../adapters/blob-store.js';
import { isDatabaseBusy, isDatabaseFull } from '../db/client.js';
import { ERROR_STATUS, type ErrorCode } from '../protocol/errors.js';
import { AppError, type AppErrorOptions } from './app-error.js';
import type { AppEnv } from './env.js';

const STATUS = ERROR_STATUS as Record<ErrorCode, ContentfulStatusCode>;

export const statusOf = (code: ErrorCode) => STATUS[code];

export function errorResponse(c: Context<AppEnv>, code: ErrorCode, message: string, options: AppErrorOptions = {}) {
  const { retryAfterSeconds, details } = options;
  if (retryAfterSeconds !== undefined) c.header('Retry-After', String(Math.max(1, Math.ceil(retryAfterSeconds))));
  return c.json({ error: { code, message, requestId: c.get('requestId'), ...(details ? { details } : {}) } }, STATUS[code]);
}

/**
 * An error answer built afresh, sharing nothing with what the handler built: for replacing an
 * answer after the fact (src/http/durability.ts), when none of its headers may survive.
 */
export function freshErrorResponse(requestId: string, code: ErrorCode, message: string, retryAfterSeconds: number) {
  return new Response(JSON.stringify({ error: { code, message, requestId } }), {
    status: STATUS[code],
    headers: { 'Content-Type': 'application/json', 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
  });
}

/** The app's onError: known errors keep their code; anything else is logged and answered plainly. */
export function handleError(log: Logger) {
  return (err: Error, c: Context<AppEnv>) => {
    if (err instanceof AppError) return errorResponse(c, err.code, err.message, err);
    if (err instanceof BlobStoreFullError || isDatabaseFull(err)) {
      const store = err instanceof BlobStoreFullError ? 'blobs' : 'database';
      log.error('storage full', { requestId: c.get('requestId'), route: c.req.routePath, store });
      return errorResponse(c, 'storage_full', 'the server has no room to save this; nothing was saved; try again later', {
        retryAfterSeconds: 60,
      });
    }
    if (err instanceof BlobStoreUnavailableError) {
      log.warn('blob store unavailable', { requestId: c.get('requestId'), detail: err.message.slice(0, 300) });
      return errorResponse(c, 'service_unavailable', 'storage is unavailable right now; nothing was saved; try again', {
        retryAfterSeconds: 5,
      });
    }
    // SQLite rolled the write back, so the retry the client is told to make is safe.
    if (isDatabaseBusy(err)) {
      log.warn('database busy', { requestId: c.get('requestId'), route: c.req.routePath });
      return errorResponse(c, 'database_busy', 'the database is busy; nothing was saved; try again', { retryAfterSeconds: 1 });
    }
    if (err instanceof HTTPException) {
      // Hono's own validators throw these, e.g. for a body that is not JSON.
      if (err.status === 400 && /json/i.test(err.message)) {
        return errorResponse(c, 'malformed_json', 'the request body is not valid JSON');
      }
      // Any other 400 of Hono's is a body it could not parse, e.g. malformed form data.
      if (err.status === 400) return errorResponse(c, 'validation_failed', 'the request body could not be parsed');
      if (err.status === 413) return errorResponse(c, 'payload_too_large', 'the request body is too large');
      if (err.status === 415) {
        return errorResponse(c, 'unsupported_media_type', 'send the request body as application/json');
      }
    }
    log.error('unhandled error', {
      requestId: c.get('requestId'),
      method: c.req.method,
      route: c.req.routePath,
      error: err.name,
      detail: err.message.slice(0, 500),
    });
    return errorResponse(c, 'internal_error', 'internal error');
  };
}
