/**
 * Every error Vertical raises on purpose. The message says what was expected, what was found and
 * what to do; `where` names the file, line, field or system at fault so callers can show it.
 */
export interface ErrorDetails {
  /** File path, `file:line`, config field, system name, … — whatever locates the problem. */
  where?: string;
  /** What the user can do about it. */
  hint?: string;
  cause?: unknown;
}

const marker = Symbol.for("vertical.error");

export class VerticalError extends Error {
  readonly [marker] = true;
  readonly where: string | undefined;
  readonly hint: string | undefined;

  constructor(message: string, details: ErrorDetails = {}) {
    const located = details.where ? `${details.where}: ${message}` : message;
    super(details.hint ? `${located}\nHint: ${details.hint}` : located, { cause: details.cause });
    this.name = new.target.name;
    this.where = details.where;
    this.hint = details.hint;
  }

  /** True for any VerticalError, also one from another copy of this module. */
  static isInstance(value: unknown): value is VerticalError {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }
}

/** A config file, recipe or CLI flag failed validation. */
export class ConfigError extends VerticalError {}
/** An input file (data, GGUF, eval set) is missing, unreadable or malformed. */
export class InputError extends VerticalError {}
/** The disk (or a file-size limit, or a quota) ran out while writing; what was written before is intact. */
export class DiskFullError extends VerticalError {}
/** Shapes, types or sizes that ggml would abort on; raised before the native call. */
export class EngineError extends VerticalError {}
/** A model file is inconsistent: unknown architecture, missing tensor, wrong shape, no tokenizer. */
export class ModelError extends VerticalError {}
/** A prompt longer than the model's context: raised with both lengths before any token is generated. */
export class ContextOverflowError extends ModelError {}
/** A remote backend (OpenAI-compatible endpoint) failed after retries. */
export class BackendError extends VerticalError {}
/**
 * An endpoint failed in a way another attempt may not (429, 5xx, timeout, refused or dropped
 * connection), so a caller with other endpoints (the endpoint pool) can send the request elsewhere.
 */
export class EndpointUnavailableError extends BackendError {
  constructor(
    message: string,
    readonly failure: {
      /** The HTTP status, when the endpoint answered. */
      status?: number;
      /** The endpoint's Retry-After, in ms, when it sent one. */
      retryAfterMs?: number;
      /** True when no answer came at all (refused, reset, timed out): the endpoint may be down. */
      unreachable: boolean;
    },
    details: ErrorDetails = {},
  ) {
    super(message, details);
  }
}
/** An object was used after dispose(). */
export class DisposedError extends VerticalError {}
/** The user interrupted a job (Ctrl-C); the job saved what it could. */
export class InterruptedError extends VerticalError {}
/** A named thing (a served model, a response id) does not exist. */
export class NotFoundError extends VerticalError {}
/** A caller's credentials are missing or wrong. */
export class UnauthorizedError extends VerticalError {}
/** Too much work queued already; try again after `retryAfterSeconds`. */
export class OverloadedError extends VerticalError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    details: ErrorDetails = {},
  ) {
    super(message, details);
  }
}
/** Work took longer than its time limit and was stopped. */
export class TimeoutError extends VerticalError {}
/** The process is shutting down and takes no new work. */
export class ShuttingDownError extends VerticalError {}
/**
 * A tool refused one call: arguments that fail the tool's schema, a SQL write, a query over its time
 * limit, an expression the calculator cannot read. The tool loop sends the message back to the model.
 */
export class ToolRefusedError extends VerticalError {}
