import type { ErrorCode } from '../protocol/errors.js';

// Services throw AppError with one of the protocol's error codes; src/http/errors.ts answers it
// in the one error shape with the code's status.

export type { ErrorCode } from '../protocol/errors.js';

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
