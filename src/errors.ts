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
  'forbidden',
  'not_found',
  'conflict',
  'version_conflict',
  'length_required',
  'integrity_mismatch',
  'blob_too_large',
  'quota_exceeded',
  'range_not_satisfiable',
  'find_disabled',
  'invalid_phone_number',
  'sms_undeliverable',
  'verification_failed',
  'payload_too_large',
  'unsupported_media_type',
  'rate_limited',
  'internal_error',
  'service_unavailable',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface AppErrorOptions {
  retryAfterSeconds?: number;
  /** Machine-readable facts a client needs to recover, e.g. the current versions on a conflict. */
  details?: Record<string, unknown>;
}

export class AppError extends Error {
  readonly retryAfterSeconds?: number;
  readonly details?: Record<string, unknown>;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message);
    this.name = 'AppError';
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.details = options.details;
  }
}

export const notFound = (what: string) => new AppError('not_found', `${what} not found`);
