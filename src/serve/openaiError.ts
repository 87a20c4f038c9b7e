/**
 * The one place where errors become HTTP statuses, in OpenAI's error shape:
 * `{"error": {"message", "type", "param", "code"}}` — what the official clients parse into APIError
 * (status, `param`, `code`). `param` is the request field at fault where there is one.
 */
import {
  InputError,
  InterruptedError,
  NotFoundError,
  OverloadedError,
  ShuttingDownError,
  TimeoutError,
  UnauthorizedError,
  VerticalError,
} from "../shared/errors.js";

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export interface HttpFailure {
  status: number;
  body: OpenAIErrorBody;
  headers: Record<string, string>;
}

function failure(status: number, type: string, code: string | null, message: string, param: string | null = null, headers: Record<string, string> = {}): HttpFailure {
  return { status, body: { error: { message, type, param, code } }, headers };
}

/** Fastify's own errors carry a status and a code (FST_ERR_CTP_BODY_TOO_LARGE, FST_ERR_CTP_INVALID_JSON_BODY, …). */
function frameworkFailure(error: { statusCode: number; code?: string; message: string }): HttpFailure {
  if (error.statusCode === 413)
    return failure(413, "invalid_request_error", "request_too_large", `${error.message}; send a smaller body`, "body");
  if (error.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE")
    return failure(415, "invalid_request_error", "unsupported_media_type", "send Content-Type: application/json", "body");
  if (error.statusCode === 400) return failure(400, "invalid_request_error", "invalid_json", `malformed JSON body: ${error.message}`, "body");
  return failure(error.statusCode, "invalid_request_error", error.code ?? null, error.message);
}

/** The HTTP answer for any error a handler throws; unknown errors are 500 without internals. */
export function toHttpFailure(error: unknown): HttpFailure {
  if (VerticalError.isInstance(error)) {
    const message = error.hint ? `${error.message.split("\nHint: ")[0]} (${error.hint})` : error.message;
    if (error instanceof InputError) return failure(400, "invalid_request_error", "invalid_value", message, error.where ?? null);
    if (error instanceof NotFoundError) return failure(404, "invalid_request_error", "model_not_found", message, error.where ?? null);
    if (error instanceof UnauthorizedError) return failure(401, "invalid_request_error", "invalid_api_key", message);
    if (error instanceof OverloadedError)
      return failure(429, "rate_limit_error", "queue_full", message, null, { "retry-after": String(error.retryAfterSeconds) });
    if (error instanceof TimeoutError) return failure(504, "timeout_error", "timeout", message);
    if (error instanceof ShuttingDownError) return failure(503, "server_error", "shutting_down", message);
    if (error instanceof InterruptedError) return failure(499, "invalid_request_error", "cancelled", message);
  }
  const framework = error as { statusCode?: unknown; code?: string; message?: string };
  if (typeof framework.statusCode === "number" && framework.statusCode >= 400 && framework.statusCode < 500)
    return frameworkFailure({ statusCode: framework.statusCode, message: framework.message ?? "bad request", ...(framework.code ? { code: framework.code } : {}) });
  return failure(500, "server_error", "internal_error", `internal error: ${(error as Error)?.message ?? String(error)}`);
}
