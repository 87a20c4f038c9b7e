/**
 * `vertical serve`'s HTTP server (Fastify, docs/decisions/0004): OpenAI-compatible generation routes,
 * `/v1/models`, `/v1/feedback`, `/health`, `/metrics`, optional Bearer keys on `/v1/*`, a body limit
 * (413), one structured access-log line per request, and a graceful `close()`: new requests get 503
 * while the ones in flight — streams included — finish; then the models are disposed.
 */
import Fastify, { type FastifyInstance, type FastifyRequest } from "fastify";
import type { AddressInfo } from "node:net";
import type { FeedbackStore } from "../eval/feedback/feedbackStore.js";
import { NotFoundError, ShuttingDownError } from "../shared/errors.js";
import type { ApiKeys } from "./apiKeys.js";
import { registerConsoleRoutes, type ConsoleOptions } from "./consoleRoutes.js";
import { registerGenerationRoutes } from "./generationRoutes.js";
import { toHttpFailure } from "./openaiError.js";
import { feedbackRequestSchema, parseBody } from "./openaiWire.js";
import type { ServedSystem } from "./servedSystem.js";
import { ServerMetrics } from "./serverMetrics.js";

export interface AccessLogEntry {
  time: string;
  method: string;
  url: string;
  status: number;
  ms: number;
  /** True when the client went away before the answer was complete. */
  aborted: boolean;
  model?: string;
  promptTokens?: number;
  completionTokens?: number;
  [field: string]: unknown;
}

export interface ServeOptions {
  systems: readonly ServedSystem[];
  feedback?: FeedbackStore;
  apiKeys?: ApiKeys;
  /** Largest request body in bytes. Defaults to 4 MiB. */
  bodyLimitBytes?: number;
  /** Time limit of one generation, milliseconds. Defaults to 120 000. */
  requestTimeoutMs?: number;
  /** Receives one entry per answered request. Defaults to a JSON line on stderr. */
  accessLog?: (entry: AccessLogEntry) => void;
  /** The web console and its API; none when undefined. */
  console?: ConsoleOptions;
}

export interface VerticalServer {
  readonly app: FastifyInstance;
  readonly metrics: ServerMetrics;
  /** Binds; defaults to 127.0.0.1 and a free port. Returns the base URL. */
  listen(options?: { host?: string; port?: number }): Promise<string>;
  /** Stops taking requests, lets those in flight finish, then disposes the models. */
  close(): Promise<void>;
}

const writeJsonLine = (entry: AccessLogEntry) => process.stderr.write(`${JSON.stringify(entry)}\n`);

export function createServer(options: ServeOptions): VerticalServer {
  const systems = new Map(options.systems.map((system) => [system.name, system]));
  const metrics = new ServerMetrics(() => [...systems.values()].map((system) => ({ model: system.name, depth: system.queue.depth, active: system.queue.active })));
  const accessLog = options.accessLog ?? writeJsonLine;
  const notes = new WeakMap<FastifyRequest, Record<string, unknown>>();
  let closing = false;
  let inFlight = 0;
  /** Responses begun and not yet closed (hijacked streams included). */
  let openResponses = 0;
  let drained: (() => void) | undefined;

  const app = Fastify({ logger: false, bodyLimit: options.bodyLimitBytes ?? 4 * 1024 * 1024, return503OnClosing: true });

  // One log line and one latency sample per request, on the socket's close so hijacked streams count too.
  app.addHook("onRequest", async (request, reply) => {
    const started = performance.now();
    notes.set(request, {});
    openResponses++;
    reply.raw.on("close", () => {
      openResponses--;
      const route = request.routeOptions.url ?? "unknown";
      const status = reply.raw.statusCode;
      const seconds = (performance.now() - started) / 1000;
      metrics.requests.inc({ route, status: String(status) });
      metrics.latency.observe({ route }, seconds);
      accessLog({ time: new Date().toISOString(), method: request.method, url: request.url, status, ms: Math.round(seconds * 1000), aborted: !reply.raw.writableFinished, ...notes.get(request) });
    });
    if (closing && request.url !== "/health") throw new ShuttingDownError("the server is shutting down", { hint: "Retry against another instance." });
    // Keys guard every API, the console's included; the console's static pages are open (they hold no data).
    if (request.url.startsWith("/v1/") || request.url.startsWith("/api/")) options.apiKeys?.check(request.headers.authorization);
  });

  app.setErrorHandler(async (error, _request, reply) => {
    const failure = toHttpFailure(error);
    return reply.status(failure.status).headers(failure.headers).send(failure.body);
  });
  app.setNotFoundHandler(async (request, reply) => {
    const failure = toHttpFailure(Object.assign(new Error(`no route ${request.method} ${request.url}`), { statusCode: 404, code: "unknown_url" }));
    return reply.status(404).send(failure.body);
  });

  app.get("/health", async (_request, reply) => {
    if (closing) return reply.status(503).send({ status: "shutting down" });
    return { status: "ok", models: [...systems.keys()] };
  });
  app.get("/metrics", async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  const modelObject = (name: string) => ({ id: name, object: "model", created: 0, owned_by: "vertical" });
  app.get("/v1/models", async () => ({ object: "list", data: [...systems.keys()].map(modelObject) }));
  app.get<{ Params: { id: string } }>("/v1/models/:id", async (request, reply) => {
    if (systems.has(request.params.id)) return modelObject(request.params.id);
    const failure = toHttpFailure(Object.assign(new Error(`the model "${request.params.id}" does not exist`), { statusCode: 404, code: "model_not_found" }));
    return reply.status(404).send(failure.body);
  });

  registerGenerationRoutes(app, {
    systems,
    metrics,
    ...(options.feedback ? { feedback: options.feedback } : {}),
    requestTimeoutMs: options.requestTimeoutMs ?? 120_000,
    note: (request, fields) => notes.set(request, { ...notes.get(request), ...fields }),
    track: async (work) => {
      inFlight++;
      try {
        return await work;
      } finally {
        if (--inFlight === 0) drained?.();
      }
    },
  });

  if (options.console) registerConsoleRoutes(app, options.console);

  app.post("/v1/feedback", async (request, reply) => {
    if (!options.feedback) throw new NotFoundError("this server keeps no feedback store", { hint: "Start it with --feedback FILE.db." });
    const body = parseBody(feedbackRequestSchema, request.body);
    const stored = options.feedback.addFeedback({
      responseId: body.response_id,
      ...(body.rating !== undefined ? { rating: body.rating } : {}),
      ...(body.correction !== undefined ? { correction: body.correction } : {}),
      ...(body.comment !== undefined ? { comment: body.comment } : {}),
      ...(body.user !== undefined ? { user: body.user } : {}),
    });
    return reply.status(201).send({ id: stored.id, object: "feedback", response_id: body.response_id, created_at: stored.createdAt });
  });

  return {
    app,
    metrics,
    async listen({ host = "127.0.0.1", port = 0 } = {}) {
      await app.listen({ host, port });
      const address = app.server.address() as AddressInfo;
      return `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`;
    },
    async close() {
      closing = true;
      const idle = inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (drained = resolve));
      // Fastify closes the connections idle at this moment; those that finish an answer later would
      // otherwise stay open for the keep-alive timeout (72 s), so close them as they become idle — and
      // once no response is open any more, close the rest too (a client may hold a socket it never
      // sent a request on, which Node does not count as idle).
      const sweep = setInterval(() => {
        app.server.closeIdleConnections();
        if (openResponses === 0 && inFlight === 0) app.server.closeAllConnections();
      }, 50);
      try {
        await Promise.all([app.close(), idle]);
      } finally {
        clearInterval(sweep);
      }
      for (const system of systems.values()) await system.dispose();
    },
  };
}
