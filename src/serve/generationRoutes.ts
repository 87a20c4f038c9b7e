/**
 * POST /v1/chat/completions, /v1/completions and /v1/embeddings: parse the OpenAI body, find the
 * system, wait for its queue, generate with an abort signal that fires when the client goes away or
 * the request's time is up, answer as JSON or as a server-sent event stream, and record the answer
 * for feedback. Retrieval systems add `citations` (document id, passage, whether the answer cites
 * it) to the answer object, a field the official clients pass through untouched.
 */
import crypto from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { FeedbackStore } from "../eval/feedback/feedbackStore.js";
import type { ChatMessage, Generation } from "../llm/types.js";
import { NotFoundError, TimeoutError } from "../shared/errors.js";
import { EventStream } from "./eventStream.js";
import { toHttpFailure } from "./openaiError.js";
import {
  chatRequestSchema,
  completionRequestSchema,
  embeddingRequestSchema,
  parseBody,
  toBase64Embedding,
  toChatMessages,
  toFinishReason,
  toGenerateOptions,
} from "./openaiWire.js";
import type { ServedAnswer, ServedSystem } from "./servedSystem.js";
import type { ServerMetrics } from "./serverMetrics.js";

export interface GenerationRouteOptions {
  systems: ReadonlyMap<string, ServedSystem>;
  metrics: ServerMetrics;
  feedback?: FeedbackStore;
  requestTimeoutMs: number;
  /** Notes the model and token counts of a request for the access log. */
  note: (request: FastifyRequest, fields: Record<string, unknown>) => void;
  /** Counts generations in flight, so shutdown can wait for them. */
  track: <T>(work: Promise<T>) => Promise<T>;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

function findSystem(systems: ReadonlyMap<string, ServedSystem>, name: string): ServedSystem {
  const system = systems.get(name);
  if (!system)
    throw new NotFoundError(`the model "${name}" does not exist`, {
      where: "model",
      hint: `Served models: ${[...systems.keys()].join(", ")} (GET /v1/models).`,
    });
  return system;
}

/**
 * Aborts when the client disconnects before the answer is complete, or when the time limit passes.
 * One controller and a timer cleared when the response closes (rather than AbortSignal.timeout
 * combined by AbortSignal.any), so nothing of a finished request waits on a timer or a composite
 * signal until a garbage collection finds it.
 */
function requestSignal(request: FastifyRequest, reply: FastifyReply, timeoutMs: number): { signal: AbortSignal; timedOut: () => boolean } {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  reply.raw.on("close", () => {
    clearTimeout(timer);
    if (reply.raw.writableFinished) return;
    controller.abort();
    // The answer will never be finished on this socket; a half-closed one would hold up shutdown.
    request.raw.socket.destroy();
  });
  return { signal: controller.signal, timedOut: () => timedOut };
}

function citationsOf(answer: ServedAnswer) {
  return answer.passages.map((passage, index) => ({
    index: index + 1,
    source: passage.source,
    text: passage.text,
    score: passage.score,
    cited: answer.citedSources.includes(passage.source),
  }));
}

function usageOf(generation: Generation) {
  const { promptTokens, completionTokens } = generation.usage;
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
}

/**
 * Runs `work`; an error after the stream started cannot change the status any more, so it goes to the
 * client as a last `data: {"error": …}` event (which the official clients raise) and undefined is returned.
 */
async function failInStream<T>(stream: EventStream | undefined, work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (error) {
    if (!stream?.isStarted) throw error;
    stream.send(toHttpFailure(error).body);
    stream.end();
    return undefined;
  }
}

export function registerGenerationRoutes(app: FastifyInstance, options: GenerationRouteOptions): void {
  const { systems, metrics } = options;

  /** Queue, generate, time; throws TimeoutError when the limit stopped it. */
  async function generate<T extends Generation>(
    request: FastifyRequest,
    system: ServedSystem,
    signal: { signal: AbortSignal; timedOut: () => boolean },
    work: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    options.note(request, { model: system.name });
    const result = await options.track(
      system.queue.run(async () => {
        const started = performance.now();
        const generation = await work(signal.signal);
        metrics.recordGeneration(system.name, generation.usage, (performance.now() - started) / 1000);
        return generation;
      }, signal.signal),
    ).catch((error: unknown) => {
      if ((error as { retryAfterSeconds?: number }).retryAfterSeconds !== undefined) metrics.rejected.inc({ model: system.name });
      // Still waiting in the queue when the time ran out: that is a timeout, not a cancellation.
      if (signal.timedOut()) throw new TimeoutError(`no model slot within ${options.requestTimeoutMs} ms`, { hint: "Retry later or start the server with a longer --timeout." });
      throw error;
    });
    options.note(request, { promptTokens: result.usage.promptTokens, completionTokens: result.usage.completionTokens, finish: result.finishReason });
    if (signal.timedOut())
      throw new TimeoutError(`generation stopped after ${options.requestTimeoutMs} ms`, { hint: "Ask for fewer max_tokens or start the server with a longer --timeout." });
    return result;
  }

  function record(id: string, system: ServedSystem, messages: ChatMessage[], answer: string, passages: ServedAnswer["passages"]): void {
    const question = [...messages].reverse().find((message) => message.role === "user")?.content ?? "";
    options.feedback?.recordResponse({ id, system: system.name, messages, question, answer, passages });
  }

  app.post("/v1/chat/completions", async (request, reply) => {
    const body = parseBody(chatRequestSchema, request.body);
    const system = findSystem(systems, body.model);
    const messages = toChatMessages(body.messages);
    const id = `chatcmpl-${crypto.randomUUID()}`;
    const created = nowSeconds();
    const signal = requestSignal(request, reply, options.requestTimeoutMs);
    const generateOptions = toGenerateOptions(body, system.spec.maxTokens ?? 256);
    const chunk = (delta: object, finish: string | null, extra: object = {}) => ({
      id,
      object: "chat.completion.chunk",
      created,
      model: system.name,
      choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
      ...extra,
    });
    const stream = body.stream ? new EventStream(reply.raw, () => reply.hijack(), { "x-request-id": id }) : undefined;
    const answer = await failInStream(stream, () =>
      generate(request, system, signal, (abort) =>
        system.chat(messages, {
          ...generateOptions,
          signal: abort,
          ...(stream ? { onText: (text: string) => stream.send(chunk(stream.isStarted ? { content: text } : { role: "assistant", content: text }, null)) } : {}),
        }),
      ),
    );
    if (!answer) return reply;
    record(id, system, messages, answer.text, answer.passages);
    const citations = system.spec.retrieval ? { citations: citationsOf(answer) } : {};
    if (stream) {
      stream.send(chunk({}, toFinishReason(answer.finishReason), citations));
      if (body.stream_options?.include_usage) stream.send({ id, object: "chat.completion.chunk", created, model: system.name, choices: [], usage: usageOf(answer) });
      stream.end();
      return reply;
    }
    return {
      id,
      object: "chat.completion",
      created,
      model: system.name,
      choices: [{ index: 0, message: { role: "assistant", content: answer.text }, finish_reason: toFinishReason(answer.finishReason), logprobs: null }],
      usage: usageOf(answer),
      ...citations,
    };
  });

  app.post("/v1/completions", async (request, reply) => {
    const body = parseBody(completionRequestSchema, request.body);
    const system = findSystem(systems, body.model);
    const prompt = [body.prompt].flat()[0]!;
    const id = `cmpl-${crypto.randomUUID()}`;
    const created = nowSeconds();
    const signal = requestSignal(request, reply, options.requestTimeoutMs);
    const chunk = (text: string, finish: string | null) => ({
      id,
      object: "text_completion",
      created,
      model: system.name,
      choices: [{ index: 0, text, finish_reason: finish, logprobs: null }],
    });
    const stream = body.stream ? new EventStream(reply.raw, () => reply.hijack(), { "x-request-id": id }) : undefined;
    const generation = await failInStream(stream, () =>
      generate(request, system, signal, (abort) =>
        system.complete(prompt, {
          ...toGenerateOptions(body, system.spec.maxTokens ?? 256),
          signal: abort,
          ...(stream ? { onText: (text: string) => stream.send(chunk(text, null)) } : {}),
        }),
      ),
    );
    if (!generation) return reply;
    record(id, system, [{ role: "user", content: prompt }], generation.text, []);
    if (stream) {
      stream.send(chunk("", toFinishReason(generation.finishReason)));
      stream.end();
      return reply;
    }
    return { ...chunk(generation.text, toFinishReason(generation.finishReason)), usage: usageOf(generation) };
  });

  app.post("/v1/embeddings", async (request, reply) => {
    const body = parseBody(embeddingRequestSchema, request.body);
    const system = findSystem(systems, body.model);
    const texts = [body.input].flat();
    const signal = requestSignal(request, reply, options.requestTimeoutMs);
    options.note(request, { model: system.name });
    const { vectors, tokens } = await options.track(system.queue.run(() => system.embed(texts), signal.signal));
    const base64 = body.encoding_format === "base64";
    return {
      object: "list",
      model: system.name,
      data: vectors.map((vector, index) => ({ object: "embedding", index, embedding: base64 ? toBase64Embedding(vector) : Array.from(vector) })),
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
  });
}
