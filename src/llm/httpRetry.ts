/**
 * fetch with the failure handling remote model endpoints need: a per-request timeout, retries with
 * exponential backoff (and Retry-After) on 429, 5xx and network errors, and errors that say which
 * endpoint failed, how, and what to do.
 */
import { BackendError, EndpointUnavailableError, InterruptedError } from "../shared/errors.js";

export interface RetryPolicy {
  /** Retries after the first attempt. Defaults to 4. */
  maxRetries?: number;
  /** First backoff; doubles on each retry (plus up to 25% jitter). Defaults to 500 ms. */
  baseDelayMs?: number;
  /** Longest single wait, also for Retry-After. Defaults to 30 000 ms. */
  maxDelayMs?: number;
  /** Per attempt. Defaults to 120 000 ms. */
  timeoutMs?: number;
}

const RETRYABLE_STATUS = new Set([408, 409, 425, 429, 500, 502, 503, 504]);

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new InterruptedError("request aborted"));
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new InterruptedError("request aborted"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function retryAfterMs(response: Response): number | undefined {
  const header = response.headers.get("retry-after");
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return `${cause.code}${cause.message ? ` (${cause.message})` : ""}`;
  return `${(error as Error).message}${cause?.message ? ` (${cause.message})` : ""}`;
}

/**
 * POSTs/GETs `url` and returns the first successful response (status < 400). The caller reads the
 * body. Throws EndpointUnavailableError (a BackendError that says how the last attempt failed)
 * after the retries are spent, or BackendError at once on a non-retryable status.
 */
export async function fetchWithRetry(
  url: string,
  init: RequestInit & { signal?: AbortSignal },
  policy: RetryPolicy = {},
): Promise<Response> {
  const maxRetries = policy.maxRetries ?? 4;
  const baseDelay = policy.baseDelayMs ?? 500;
  const maxDelay = policy.maxDelayMs ?? 30_000;
  const timeoutMs = policy.timeoutMs ?? 120_000;
  const callerSignal = init.signal;
  let lastProblem = "";
  let lastFailure: EndpointUnavailableError["failure"] = { unreachable: true };
  for (let attempt = 0; attempt <= maxRetries; attempt++) {
    if (callerSignal?.aborted) throw new InterruptedError("request aborted", { where: url });
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = callerSignal ? AbortSignal.any([callerSignal, timeout]) : timeout;
    let waitMs: number | undefined;
    try {
      const response = await fetch(url, { ...init, signal });
      if (response.ok) return response;
      const body = (await response.text().catch(() => "")).slice(0, 500);
      lastProblem = `HTTP ${response.status} ${response.statusText}${body ? `: ${body}` : ""}`;
      if (!RETRYABLE_STATUS.has(response.status))
        throw new BackendError(lastProblem, {
          where: url,
          hint:
            response.status === 401 || response.status === 403
              ? "Check the API key (system apiKey, VERTICAL_API_KEY or OPENAI_API_KEY)."
              : response.status === 404
                ? "Check the base URL (it usually ends in /v1) and the model name."
                : "The endpoint rejected the request; see its message above.",
        });
      waitMs = retryAfterMs(response);
      lastFailure = {
        status: response.status,
        unreachable: false,
        ...(waitMs !== undefined ? { retryAfterMs: waitMs } : {}),
      };
    } catch (error) {
      if (error instanceof BackendError) throw error;
      if (callerSignal?.aborted) throw new InterruptedError("request aborted", { where: url, cause: error });
      lastProblem = timeout.aborted
        ? `no answer within ${timeoutMs} ms`
        : `cannot connect: ${describeNetworkError(error)}`;
      lastFailure = { unreachable: true };
    }
    if (attempt === maxRetries) break;
    const backoff = baseDelay * 2 ** attempt * (1 + Math.random() * 0.25);
    await sleep(Math.min(maxDelay, waitMs ?? backoff), callerSignal);
  }
  throw new EndpointUnavailableError(`${lastProblem} (after ${maxRetries + 1} attempts)`, lastFailure, {
    where: url,
    hint: "Is the server running and reachable at this address? Raise timeoutMs/maxRetries for a slow or busy endpoint.",
  });
}
