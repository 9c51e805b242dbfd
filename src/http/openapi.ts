import { z } from '@hono/zod-openapi';

// OpenAPI pieces every route uses: the one error shape and JSON bodies.

export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'validation_failed' }),
      message: z.string().openapi({ example: 'body.email: Invalid email address' }),
      requestId: z.string(),
      details: z.record(z.string(), z.unknown()).optional().openapi({ description: 'Only on some codes, e.g. version_conflict' }),
    }),
  })
  .openapi('Error');

/** Error responses for a route, in the one error shape. */
export function errorResponses(...statuses: number[]) {
  const descriptions: Record<number, string> = {
    400: 'Invalid request (validation_failed, malformed_json)',
    401: 'Not authenticated, or the proof failed',
    403: 'CSRF token missing or wrong (cookie sessions)',
    404: 'Not found, or not yours',
    409: 'Conflict with the current state',
    413: 'Request body too large',
    415: 'Body is not application/json',
    411: 'Content-Length required',
    416: 'Range not satisfiable',
    422: 'Size or SHA-256 does not match what was declared (integrity_mismatch)',
    429: 'Rate limited; see Retry-After',
    503: 'Storage unavailable; nothing was saved',
    507: 'Account storage quota exceeded',
  };
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      { description: descriptions[status] ?? 'Error', content: { 'application/json': { schema: errorSchema } } },
    ]),
  );
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
