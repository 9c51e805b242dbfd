// The closed set of error codes homing answers with. Services throw AppError with one of these;
// src/http/errors.ts maps each to its HTTP status in one place.

export const ERROR_CODES = [
  'validation_failed',
  'malformed_json',
  'unauthorized',
  'invalid_credentials',
  'challenge_invalid',
  'reauthentication_required',
  'csrf_failed',
  'not_found',
  'method_not_allowed',
  'conflict',
  'payload_too_large',
  'unsupported_media_type',
  'rate_limited',
  'internal_error',
  'service_unavailable',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const notFound = (what: string) => new AppError('not_found', `${what} not found`);
