import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { codesForStatus, ERROR_CODES, type ErrorCode, type ErrorStatus } from '../protocol/errors.js';

// OpenAPI pieces every route uses: the one error shape and JSON bodies. A route lists only the
// error statuses its own handler answers; withMiddlewareErrors adds those that the shared
// middleware answers, so the document never promises less than a route answers.

export const errorCodeSchema = z.enum(ERROR_CODES).openapi('ErrorCode', {
  description: 'The closed set of error codes; each has one HTTP status',
});

const errorShape = (code: z.ZodType) =>
  z.object({
    error: z.object({
      code,
      message: z.string().openapi({ example: 'body.email: Invalid email address' }),
      requestId: z.string(),
      details: z.record(z.string(), z.unknown()).optional().openapi({ description: 'Only on some codes, e.g. version_conflict' }),
    }),
  });

/** The error shape with any code: what a client falls back to. */
export const errorSchema = errorShape(errorCodeSchema).openapi('Error');

/** What each error status means, as every operation's responses and the introduction's table say it. */
export const STATUS_DESCRIPTIONS: Record<ErrorStatus, string> = {
  400: 'Invalid request',
  401: 'Not authenticated, or the proof failed',
  403: 'Refused: a cookie session without its CSRF token, no consent for this use, or not allowed',
  404: 'Not found, or not yours',
  409: 'Conflict with the current state',
  410: 'Gone: the sync cursor is older than the deletions the server keeps; resync from the start',
  411: 'Content-Length required',
  413: 'Too large',
  415: 'Body is not of the declared content type',
  416: 'Range not satisfiable',
  422: 'Does not match what was declared, or cannot be delivered',
  429: 'Rate limited; see Retry-After',
  500: 'Unexpected error, logged under the request id',
  503: 'Storage, the database or the SMS provider is unavailable, busy or full; nothing was saved; retry after Retry-After',
  507: 'Account storage quota exceeded',
};

const STATUSES = Object.keys(STATUS_DESCRIPTIONS).map(Number) as ErrorStatus[];

// One component per status, e.g. Error409, whose code is one that status carries, so a client
// knows which codes to expect from each response.
const schemaName = (status: ErrorStatus) => `Error${status}`;
const statusSchemas = new Map(
  STATUSES.map((status) => [
    status,
    errorShape(z.enum(codesForStatus(status) as [ErrorCode, ...ErrorCode[]])).openapi(schemaName(status)),
  ]),
);

const RETRY_AFTER = {
  'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer' as const, minimum: 1 } },
};

const errorResponse = <S>(status: ErrorStatus, schema: S) => ({
  description: `${STATUS_DESCRIPTIONS[status]} (${codesForStatus(status).join(', ')})`,
  ...(status === 429 || status === 503 ? { headers: RETRY_AFTER } : {}),
  content: { 'application/json': { schema } },
});

/** Error responses for the statuses a route's own handler answers, in the one error shape. */
export function errorResponses(...statuses: ErrorStatus[]) {
  return Object.fromEntries(statuses.map((status) => [status, errorResponse(status, statusSchemas.get(status)!)]));
}

/** Puts the error schemas in the document's components, where withMiddlewareErrors points. */
export function registerErrorSchemas(registry: Pick<OpenAPIHono['openAPIRegistry'], 'register'>) {
  registry.register('Error', errorSchema);
  for (const [status, schema] of statusSchemas) registry.register(schemaName(status), schema);
}

interface Operation {
  security?: Record<string, unknown>[];
  parameters?: unknown[];
  requestBody?: { content?: Record<string, unknown> };
  responses?: Record<string, unknown>;
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);
const SAFE_METHODS = new Set(['get', 'head', 'options']);
const PARSED_BODIES = new Set(['application/json', 'application/x-www-form-urlencoded']);

/**
 * The statuses the middleware in front of every handler can answer on an operation, read off
 * what the operation declares: anything can fail (500) or find storage gone (503); parameters
 * and bodies are validated (400); a credential can be missing (401); a cookie session's unsafe
 * request needs its CSRF token (403); a non-streamed body is size-limited (413); a parsed body
 * must have its content type (415); an operation in a rate-limit bucket can be refused (429).
 */
function middlewareStatuses(method: string, operation: Operation, rateLimited: boolean): ErrorStatus[] {
  const bodyTypes = Object.keys(operation.requestBody?.content ?? {});
  const unsafe = !SAFE_METHODS.has(method);
  const credentials = (operation.security ?? []).flatMap((requirement) => Object.keys(requirement));
  const streamed = bodyTypes.includes('application/octet-stream');
  const statuses: ErrorStatus[] = [500, 503];
  if (operation.parameters?.length || bodyTypes.length) statuses.push(400);
  if (credentials.length) statuses.push(401);
  if (credentials.includes('sessionCookie') && unsafe) statuses.push(403);
  if (unsafe && !streamed) statuses.push(413);
  if (bodyTypes.some((type) => PARSED_BODIES.has(type))) statuses.push(415);
  if (rateLimited) statuses.push(429);
  return statuses;
}

/**
 * Adds to each operation of a generated document the error statuses its middleware answers.
 * rateLimited says which operations (method, OpenAPI path) the rate-limit middleware covers.
 */
export function withMiddlewareErrors<T extends { paths?: object }>(
  document: T,
  options: { rateLimited?: (method: string, path: string) => boolean } = {},
): T {
  for (const [path, item] of Object.entries((document.paths ?? {}) as Record<string, Record<string, Operation>>)) {
    for (const [method, operation] of Object.entries(item)) {
      if (!METHODS.has(method)) continue;
      const added = middlewareStatuses(method, operation, options.rateLimited?.(method, path) ?? false).map((status) => [
        status,
        errorResponse(status, { $ref: `#/components/schemas/${schemaName(status)}` }),
      ]);
      operation.responses = { ...Object.fromEntries(added), ...operation.responses };
    }
  }
  return document;
}

export const jsonBody = <T extends z.ZodType>(schema: T, description?: string) => ({
  required: true as const,
  description,
  content: { 'application/json': { schema } },
});

export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
