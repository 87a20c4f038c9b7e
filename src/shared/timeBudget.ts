/**
 * A wall-clock budget as an abort signal: training stops at the budget as it does at Ctrl-C (the weights
 * reached are kept), but the caller can still tell the two apart by the caller's own signal.
 */

export interface TimeBudget {
  /** Aborts when `signal` does, or once `minutes` have passed. */
  signal: AbortSignal;
  /** Stops the timer (call in a `finally`, so a finished run leaves none behind). */
  clear(): void;
}

/** `signal` with a budget of `minutes` added (no budget when `minutes` is undefined). */
export function timeBudget(signal: AbortSignal | undefined, minutes: number | undefined): TimeBudget {
  const timer = new AbortController();
  const timeout = minutes !== undefined ? setTimeout(() => timer.abort(), minutes * 60_000) : undefined;
  return {
    signal: signal ? AbortSignal.any([signal, timer.signal]) : timer.signal,
    clear: () => {
      if (timeout) clearTimeout(timeout);
    },
  };
}
