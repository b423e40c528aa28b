/**
 * One error family for the whole API. Every error that reaches a client has a stable `code`, an
 * HTTP status and a safe message; the single handler in `src/app.ts` renders
 * `{"error": {"code", "message", "details"}}` and hides anything 5xx.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> | unknown[] | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "AppError";
  }
}

export const badRequest = (code: string, message: string, details?: Record<string, unknown> | unknown[]) =>
  new AppError(400, code, message, details ?? null);
export const unauthorized = (code: string, message: string) =>
  new AppError(401, code, message, null, { "www-authenticate": 'Bearer realm="vidflux"' });
export const forbidden = (message = "You do not have permission to perform this action.", code = "permission_denied") =>
  new AppError(403, code, message);
export const notFound = (message = "Not found.", code = "not_found") => new AppError(404, code, message);
export const conflict = (code: string, message: string, details?: Record<string, unknown>) =>
  new AppError(409, code, message, details ?? null);
export const payloadTooLarge = (message: string, code = "payload_too_large", details?: Record<string, unknown>) =>
  new AppError(413, code, message, details ?? null);
export const unsupportedMediaType = (message: string, code = "unsupported_media_type") => new AppError(415, code, message);
export const unprocessable = (code: string, message: string, details?: Record<string, unknown>) =>
  new AppError(422, code, message, details ?? null);
