// The closed set of error codes homing answers with, and the HTTP status of each. The server
// throws them, the OpenAPI document publishes them as an enum, and clients switch on them.

export const ERROR_STATUS = {
  validation_failed: 400,
  malformed_json: 400,
  unauthorized: 401,
  invalid_credentials: 401,
  challenge_invalid: 401,
  reauthentication_required: 401,
  csrf_failed: 403,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  version_conflict: 409,
  length_required: 411,
  integrity_mismatch: 422,
  blob_too_large: 413,
  quota_exceeded: 507,
  range_not_satisfiable: 416,
  find_disabled: 403,
  /** The user has not consented to this use (or withdrew it, or a new policy asks again): nothing was stored. */
  consent_required: 403,
  /** The sync cursor is older than the tombstones the server still keeps: resync from the start. */
  cursor_expired: 410,
  invalid_phone_number: 400,
  sms_undeliverable: 422,
  verification_failed: 400,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal_error: 500,
  service_unavailable: 503,
  /** The server's disk (database or blob folder) is full; nothing was saved; retry after Retry-After. */
  storage_full: 503,
  /** Another process holds the database's write lock; nothing was saved; retry after Retry-After. */
  database_busy: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
export type ErrorStatus = (typeof ERROR_STATUS)[ErrorCode];

export const ERROR_CODES = Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]];

/** The codes a given status can carry: what the OpenAPI document lists for that status. */
export const codesForStatus = (status: number): ErrorCode[] =>
  ERROR_CODES.filter((code) => ERROR_STATUS[code] === status);

/** The one error shape: `{ "error": { code, message, requestId, details? } }`. */
export interface ErrorBody {
  error: {
    code: ErrorCode;
    message: string;
    requestId: string;
    /** Only on some codes, e.g. the current versions on a version_conflict. */
    details?: Record<string, unknown>;
  };
}
