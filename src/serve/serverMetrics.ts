/**
 * Prometheus metrics of one server (its own prom-client registry, so two servers in one process —
 * tests — do not share counters): requests by route and status, latency histograms, queue depth per
 * model, generated tokens and the last generation's tokens per second, plus the process's memory
 * and CPU (prom-client's default metrics).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: "vertical_http_requests_total", help: "HTTP requests answered", labelNames: ["route", "status"], registers: [this.registry] });
  readonly latency = new Histogram({
    name: "vertical_http_request_duration_seconds",
    help: "Time from request to the last byte of the answer",
    labelNames: ["route"],
    buckets: [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });
  readonly queueDepth: Gauge<"model">;
  readonly running: Gauge<"model">;
  readonly generatedTokens = new Counter({ name: "vertical_generated_tokens_total", help: "Completion tokens generated", labelNames: ["model"], registers: [this.registry] });
  readonly promptTokens = new Counter({ name: "vertical_prompt_tokens_total", help: "Prompt tokens read", labelNames: ["model"], registers: [this.registry] });
  readonly tokensPerSecond = new Gauge({ name: "vertical_tokens_per_second", help: "Completion tokens per second of the last generation", labelNames: ["model"], registers: [this.registry] });
  readonly rejected = new Counter({ name: "vertical_queue_rejections_total", help: "Requests refused with 429 because the queue was full", labelNames: ["model"], registers: [this.registry] });

  /** `queues` is read at each scrape: the depth and running count of every model's queue. */
  constructor(queues: () => { model: string; depth: number; active: number }[]) {
    collectDefaultMetrics({ register: this.registry });
    this.queueDepth = new Gauge({
      name: "vertical_queue_depth",
      help: "Requests waiting for a model",
      labelNames: ["model"],
      registers: [this.registry],
      collect() {
        for (const queue of queues()) this.set({ model: queue.model }, queue.depth);
      },
    });
    this.running = new Gauge({
      name: "vertical_requests_running",
      help: "Requests a model is working on",
      labelNames: ["model"],
      registers: [this.registry],
      collect() {
        for (const queue of queues()) this.set({ model: queue.model }, queue.active);
      },
    });
  }

  recordGeneration(model: string, usage: { promptTokens: number; completionTokens: number }, seconds: number): void {
    this.generatedTokens.inc({ model }, usage.completionTokens);
    this.promptTokens.inc({ model }, usage.promptTokens);
    if (seconds > 0) this.tokensPerSecond.set({ model }, usage.completionTokens / seconds);
  }
}
