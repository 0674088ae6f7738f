import type { ContentfulStatusCode } from 'hono/utils/http-status';

/**
 * The one error type of the homeserver. Anything thrown with it is rendered as
 * the Matrix error body `{ errcode, error, ...extra }` with its status; anything
 * else becomes 500 M_UNKNOWN (see app.ts).
 */
export class MatrixError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly errcode: string,
    message: string,
    /** Extra top-level keys of the error body, e.g. retry_after_ms, soft_logout. */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'MatrixError';
  }

  body(): Record<string, unknown> {
    return { errcode: this.errcode, error: this.message, ...this.extra };
  }
}

export const forbidden = (why: string): MatrixError => new MatrixError(403, 'M_FORBIDDEN', why);
export const notFound = (why: string): MatrixError => new MatrixError(404, 'M_NOT_FOUND', why);
export const badJson = (why: string): MatrixError => new MatrixError(400, 'M_BAD_JSON', why);
export const invalidParam = (why: string): MatrixError => new MatrixError(400, 'M_INVALID_PARAM', why);
export const missingParam = (why: string): MatrixError => new MatrixError(400, 'M_MISSING_PARAM', why);
export const unrecognized = (why = 'Unrecognized request'): MatrixError => new MatrixError(404, 'M_UNRECOGNIZED', why);
export const limitExceeded = (retryAfterMs: number): MatrixError =>
  new MatrixError(429, 'M_LIMIT_EXCEEDED', 'Too many requests', { retry_after_ms: retryAfterMs });
