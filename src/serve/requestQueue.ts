/**
 * A bounded FIFO in front of one model: `concurrency` requests run, at most `maxWaiting` wait, and
 * one more is refused at once with an OverloadedError whose Retry-After is the expected wait (the
 * queue ahead of it times the mean recent run time) — a client backs off instead of piling up. A
 * waiter whose signal aborts (client gone, timeout) leaves the queue without ever running.
 */
import { InterruptedError, OverloadedError } from "../shared/errors.js";

export interface RequestQueueOptions {
  /** Requests that run at once. Defaults to 1 (a context sequence generates one answer at a time). */
  concurrency?: number;
  /** Requests that may wait. Defaults to 16. */
  maxWaiting?: number;
  /** Name used in error messages. */
  name: string;
  /** Milliseconds since an arbitrary origin; injectable for tests. Defaults to performance.now. */
  now?: () => number;
}

interface Waiter {
  start: () => void;
  cancel: (reason: unknown) => void;
}

export class RequestQueue {
  private running = 0;
  private readonly waiting: Waiter[] = [];
  /** Exponential moving average of run time, milliseconds. */
  private meanRunMs = 1000;
  private readonly concurrency: number;
  private readonly maxWaiting: number;
  private readonly now: () => number;

  constructor(private readonly options: RequestQueueOptions) {
    this.concurrency = options.concurrency ?? 1;
    this.maxWaiting = options.maxWaiting ?? 16;
    this.now = options.now ?? (() => performance.now());
  }

  /** Requests waiting (not running). */
  get depth(): number {
    return this.waiting.length;
  }

  get active(): number {
    return this.running;
  }

  /** Seconds a newcomer would wait now, at least 1 (Retry-After is whole seconds). */
  expectedWaitSeconds(): number {
    const ahead = this.waiting.length + this.running;
    return Math.max(1, Math.ceil((ahead * this.meanRunMs) / this.concurrency / 1000));
  }

  /** Runs `work` when a slot is free; throws OverloadedError at once when the queue is full. */
  async run<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    const started = this.now();
    try {
      return await work();
    } finally {
      this.meanRunMs = 0.8 * this.meanRunMs + 0.2 * (this.now() - started);
      this.release();
    }
  }

  private acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(new InterruptedError("the request was cancelled while queued"));
    if (this.running < this.concurrency) {
      this.running++;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.maxWaiting)
      return Promise.reject(
        new OverloadedError(`model "${this.options.name}" has ${this.waiting.length} requests waiting`, this.expectedWaitSeconds(), {
          hint: "Retry after the time in the Retry-After header, or start the server with a larger --queue.",
        }),
      );
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => waiter.cancel(new InterruptedError("the request was cancelled while queued"));
      const waiter: Waiter = {
        start: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
        cancel: (reason) => {
          const index = this.waiting.indexOf(waiter);
          if (index >= 0) this.waiting.splice(index, 1);
          signal?.removeEventListener("abort", onAbort);
          reject(reason);
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    // The slot passes straight to the next waiter, so `running` stays the same.
    if (next) next.start();
    else this.running--;
  }
}
