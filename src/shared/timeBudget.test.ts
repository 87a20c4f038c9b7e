import { afterEach, describe, expect, it, vi } from "vitest";
import { timeBudget } from "./timeBudget.js";

describe("timeBudget", () => {
  afterEach(() => vi.useRealTimers());

  it("aborts once its minutes have passed, not before", () => {
    vi.useFakeTimers();
    const budget = timeBudget(undefined, 0.5);
    vi.advanceTimersByTime(29_999);
    expect(budget.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(budget.signal.aborted).toBe(true);
  });

  it("aborts with the caller's signal, and never by itself without minutes", () => {
    vi.useFakeTimers();
    const caller = new AbortController();
    const budget = timeBudget(caller.signal, undefined);
    vi.advanceTimersByTime(24 * 3_600_000);
    expect(budget.signal.aborted).toBe(false);
    caller.abort();
    expect(budget.signal.aborted).toBe(true);
  });

  it("leaves no timer once cleared", () => {
    vi.useFakeTimers();
    const budget = timeBudget(undefined, 1);
    budget.clear();
    vi.advanceTimersByTime(120_000);
    expect(budget.signal.aborted).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });
});
