/**
 * Several OpenAI-compatible servers that serve the same model (vLLM, SGLang, llama-server, Ollama,
 * `vertical serve`), used as one ChatModel / TokenScorer / Embedder. Each request goes to the
 * endpoint with the fewest requests outstanding (relative to its own concurrency); a failed attempt
 * (429, 5xx, timeout, refused or dropped connection) is sent again, to another endpoint when one is
 * free. An endpoint that answered 429/5xx rests for its Retry-After or an exponential backoff; one
 * that did not answer at all is taken out and probed (GET /models) every `probeIntervalMs` until it
 * answers again. Results do not depend on the routing: every request is answered whole by one
 * endpoint, and batch methods return results in the order of their inputs.
 */
import { BackendError, EndpointUnavailableError, InterruptedError, VerticalError } from "../shared/errors.js";
import type { ChatLetterScorer } from "./chatLetterScorer.js";
import { OpenAICompatibleBackend } from "./openaiCompatible.js";
import type {
  ChatMessage,
  ChatModel,
  ContinuationScore,
  Embedder,
  GenerateOptions,
  Generation,
  ScoreRequest,
  TokenScorer,
  Usage,
} from "./types.js";

export interface PoolEndpoint {
  /** E.g. http://127.0.0.1:8081/v1. */
  baseUrl: string;
  apiKey?: string;
  /** Requests this endpoint takes at once (llama-server: its `-np` slots). Defaults to 1. */
  maxConcurrency?: number;
}

export interface EndpointPoolOptions {
  /** The model name every endpoint serves. */
  model: string;
  endpoints: PoolEndpoint[];
  /** Re-sends of one request after failed attempts, over all endpoints. Defaults to 4. */
  maxRetries?: number;
  /** First rest of an endpoint after a 429/5xx without Retry-After; doubles per consecutive failure. Defaults to 500 ms. */
  baseDelayMs?: number;
  /** Longest rest, also for Retry-After. Defaults to 30 000 ms. */
  maxDelayMs?: number;
  /** Per attempt, and the longest a request waits for any endpoint to take it. Defaults to 120 000 ms. */
  timeoutMs?: number;
  /** How often an endpoint that stopped answering is probed again. Defaults to 5 000 ms. */
  probeIntervalMs?: number;
  /** Embedding width, if known in advance. */
  dimensions?: number;
}

/** What one endpoint did, for the report at the end of an evaluation. */
export interface EndpointCounts {
  baseUrl: string;
  /** Attempts sent to it (retries included). */
  requests: number;
  /** Attempts that failed on it. */
  failures: number;
  /** Attempts it took that were re-sends of a request that had failed before (here or elsewhere). */
  retries: number;
  /** up: in rotation; resting: after a 429/5xx; down: not answering, probed every probeIntervalMs. */
  state: "up" | "resting" | "down";
}

interface Member {
  endpoint: Required<Pick<PoolEndpoint, "baseUrl" | "maxConcurrency">> & { apiKey?: string };
  backend: OpenAICompatibleBackend;
  outstanding: number;
  requests: number;
  failures: number;
  retries: number;
  consecutiveFailures: number;
  /** Not given requests before this time (ms, performance.now()). */
  restUntil: number;
  down: boolean;
  nextProbeAt: number;
  probing: boolean;
}

export class EndpointPool implements ChatModel, TokenScorer, Embedder, ChatLetterScorer {
  readonly id: string;
  private readonly members: Member[];
  private readonly maxRetries: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly timeoutMs: number;
  private readonly probeIntervalMs: number;
  private waiters = new Set<() => void>();
  private knownDimensions: number | undefined;

  constructor(options: EndpointPoolOptions) {
    if (options.endpoints.length === 0)
      throw new BackendError("an endpoint pool needs at least one endpoint", { where: `model ${options.model}` });
    this.maxRetries = options.maxRetries ?? 4;
    this.baseDelayMs = options.baseDelayMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 30_000;
    this.timeoutMs = options.timeoutMs ?? 120_000;
    this.probeIntervalMs = options.probeIntervalMs ?? 5_000;
    this.knownDimensions = options.dimensions;
    this.members = options.endpoints.map((endpoint) => {
      const maxConcurrency = endpoint.maxConcurrency ?? 1;
      // One attempt per call: the pool, not the endpoint, decides where a failed request goes next.
      const backend = new OpenAICompatibleBackend({
        model: options.model,
        baseUrl: endpoint.baseUrl,
        ...(endpoint.apiKey !== undefined ? { apiKey: endpoint.apiKey } : {}),
        maxConcurrency,
        maxRetries: 0,
        timeoutMs: this.timeoutMs,
      });
      return {
        endpoint: { baseUrl: backend.baseUrl, maxConcurrency, ...(endpoint.apiKey ? { apiKey: endpoint.apiKey } : {}) },
        backend,
        outstanding: 0,
        requests: 0,
        failures: 0,
        retries: 0,
        consecutiveFailures: 0,
        restUntil: 0,
        down: false,
        nextProbeAt: 0,
        probing: false,
      };
    });
    this.id = `openai-pool:${options.model}@${this.members.map((member) => member.endpoint.baseUrl).join(",")}`;
  }

  /** Requests the pool takes at once: the sum of its endpoints' maxConcurrency. */
  get concurrency(): number {
    return this.members.reduce((sum, member) => sum + member.endpoint.maxConcurrency, 0);
  }

  get dimensions(): number {
    if (this.knownDimensions === undefined)
      throw new BackendError("embedding width not known yet: call embed() once or pass `dimensions`", {
        where: this.id,
      });
    return this.knownDimensions;
  }

  /** Per-endpoint counts since the pool was made, in the order the endpoints were listed. */
  counts(): EndpointCounts[] {
    const now = performance.now();
    return this.members.map((member) => ({
      baseUrl: member.endpoint.baseUrl,
      requests: member.requests,
      failures: member.failures,
      retries: member.retries,
      state: member.down ? "down" : member.restUntil > now ? "resting" : "up",
    }));
  }

  chat(messages: ChatMessage[], options: GenerateOptions = {}): Promise<Generation> {
    return this.generate((backend, guarded) => backend.chat(messages, guarded), options);
  }

  complete(prompt: string, options: GenerateOptions = {}): Promise<Generation> {
    return this.generate((backend, guarded) => backend.complete(prompt, guarded), options);
  }

  /** Each request routed on its own, so a batch spreads over the endpoints; results in input order. */
  score(requests: ScoreRequest[]): Promise<ContinuationScore[]> {
    return Promise.all(
      requests.map((request) => this.send(async (backend) => (await backend.score([request]))[0]!, {})),
    );
  }

  firstTokenLogprobs(
    messages: ChatMessage[],
    candidates: readonly string[],
  ): Promise<{ logprobs: (number | null)[]; usage: Usage }> {
    return this.send((backend) => backend.firstTokenLogprobs(messages, candidates), {});
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    const vectors = await this.send((backend) => backend.embed(texts), {});
    this.knownDimensions ??= vectors[0]?.length;
    return vectors;
  }

  /** A streamed generation is sent again only while nothing of it has reached the caller. */
  private generate(
    call: (backend: OpenAICompatibleBackend, options: GenerateOptions) => Promise<Generation>,
    options: GenerateOptions,
  ): Promise<Generation> {
    let streamed = false;
    const onText = options.onText;
    const guarded: GenerateOptions = onText
      ? {
          ...options,
          onText: (delta) => {
            streamed = true;
            onText(delta);
          },
        }
      : options;
    return this.send((backend) => call(backend, guarded), { signal: options.signal, canRetry: () => !streamed });
  }

  private async send<T>(
    call: (backend: OpenAICompatibleBackend) => Promise<T>,
    control: { signal?: AbortSignal; canRetry?: () => boolean },
  ): Promise<T> {
    let lastError: unknown;
    for (let attempt = 0; attempt <= this.maxRetries; attempt++) {
      const member = await this.acquire(control.signal);
      member.requests++;
      if (attempt > 0) member.retries++;
      try {
        const result = await call(member.backend);
        member.consecutiveFailures = 0;
        return result;
      } catch (error) {
        member.failures++;
        const retryable = isRetryable(error) && !control.signal?.aborted && (control.canRetry?.() ?? true);
        if (!retryable) throw error;
        this.recordFailure(member, error);
        lastError = error;
      } finally {
        member.outstanding--;
        this.wake();
      }
    }
    throw new BackendError(
      `every attempt failed (${this.maxRetries + 1} attempts); the last: ${(lastError as Error).message}`,
      {
        where: this.id,
        cause: lastError,
        hint: "Are the servers up and serving this model? Raise maxRetries or timeoutMs for busy endpoints.",
      },
    );
  }

  /** A 429/5xx rests the endpoint; no answer at all takes it out until a probe reaches it. */
  private recordFailure(member: Member, error: unknown): void {
    const failure = error instanceof EndpointUnavailableError ? error.failure : { unreachable: true };
    if (failure.unreachable) {
      member.down = true;
      member.nextProbeAt = performance.now() + this.probeIntervalMs;
      return;
    }
    const backoff = this.baseDelayMs * 2 ** member.consecutiveFailures * (1 + Math.random() * 0.25);
    member.consecutiveFailures++;
    member.restUntil = performance.now() + Math.min(this.maxDelayMs, failure.retryAfterMs ?? backoff);
  }

  /** Waits for the least-loaded endpoint that is up, not resting and below its concurrency. */
  private async acquire(signal: AbortSignal | undefined): Promise<Member> {
    const deadline = performance.now() + this.timeoutMs;
    for (;;) {
      if (signal?.aborted) throw new InterruptedError("request aborted", { where: this.id });
      this.startDueProbes();
      const member = this.pick();
      if (member) {
        member.outstanding++;
        return member;
      }
      const now = performance.now();
      if (now >= deadline)
        throw new BackendError(`no endpoint could take the request within ${this.timeoutMs} ms (${this.describe()})`, {
          where: this.id,
          hint: "Start the servers (or check their addresses in the pool's endpoints); down endpoints are probed every probeIntervalMs.",
        });
      await this.waitForChange(Math.min(deadline, this.nextEventAt(now)) - now, signal);
    }
  }

  private pick(): Member | undefined {
    const now = performance.now();
    let best: Member | undefined;
    for (const member of this.members) {
      if (member.down || member.restUntil > now || member.outstanding >= member.endpoint.maxConcurrency) continue;
      const load = member.outstanding / member.endpoint.maxConcurrency;
      if (!best || load < best.outstanding / best.endpoint.maxConcurrency) best = member;
    }
    return best;
  }

  /** The next time an endpoint may become usable without a request finishing. */
  private nextEventAt(now: number): number {
    let next = now + this.probeIntervalMs;
    for (const member of this.members) {
      if (member.restUntil > now) next = Math.min(next, member.restUntil);
      if (member.down && !member.probing) next = Math.min(next, Math.max(now, member.nextProbeAt));
    }
    return next;
  }

  private startDueProbes(): void {
    const now = performance.now();
    for (const member of this.members)
      if (member.down && !member.probing && member.nextProbeAt <= now) void this.probe(member);
  }

  private async probe(member: Member): Promise<void> {
    member.probing = true;
    try {
      const response = await fetch(`${member.endpoint.baseUrl}/models`, {
        headers: member.endpoint.apiKey ? { authorization: `Bearer ${member.endpoint.apiKey}` } : {},
        signal: AbortSignal.timeout(Math.min(this.timeoutMs, this.probeIntervalMs * 2)),
      });
      await response.body?.cancel();
      if (response.ok) {
        member.down = false;
        member.consecutiveFailures = 0;
      } else member.nextProbeAt = performance.now() + this.probeIntervalMs;
    } catch {
      member.nextProbeAt = performance.now() + this.probeIntervalMs;
    } finally {
      member.probing = false;
      this.wake();
    }
  }

  private waitForChange(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(1, ms));
      this.waiters.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  private describe(): string {
    return this.counts()
      .map((entry) => `${entry.baseUrl} ${entry.state}`)
      .join(", ");
  }

  dispose(): void {
    this.wake();
  }
}

/**
 * Worth another attempt: the endpoint was busy, broken or unreachable (EndpointUnavailableError), or
 * the connection broke while reading the answer (fetch's TypeError "terminated", bare or as the
 * cause of the backend's "not JSON" error). A 400/401/404 or a malformed answer fails the same way
 * anywhere.
 */
function isRetryable(error: unknown): boolean {
  if (error instanceof EndpointUnavailableError) return true;
  if (error instanceof TypeError) return true;
  return VerticalError.isInstance(error) && error.cause instanceof TypeError;
}
