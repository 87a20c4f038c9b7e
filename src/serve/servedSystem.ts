/**
 * One served "model": a system as src/eval/spec.ts defines it (GGUF + adapters + retrieval + system
 * prompt + chat template), asked the way the lab asks it (lab/routeChatModels.ts: the chat template or
 * plain `Question: … Answer:` text, retrieved passages with [n] citations), behind its own bounded
 * queue. Local systems generate through node-llama-cpp; each request is checked against the context
 * size first, so a too-long prompt is a clear 400 instead of a silently truncated history.
 */
import { createSystemBackend } from "../eval/systemBackend.js";
import { systemChatTemplate, systemPromptTemplate, type SystemSpec } from "../eval/spec.js";
import { routeChatModel } from "../lab/routeChatModels.js";
import type { LlamaCppBackend, LlamaCppEmbedder } from "../llm/llamaCpp.js";
import type { RetrievedPassage, Retriever } from "../llm/retriever.js";
import type { ChatMessage, ChatModel, GenerateOptions, Generation } from "../llm/types.js";
import { citedDocuments } from "../rag/formatPassages.js";
import { InputError } from "../shared/errors.js";
import { RequestQueue, type RequestQueueOptions } from "./requestQueue.js";

export interface ServedAnswer extends Generation {
  /** Passages the answer was conditioned on, best first (empty without retrieval). */
  passages: RetrievedPassage[];
  /** Sources of the passages the answer cites as [n]. */
  citedSources: string[];
}

export interface ServedSystem {
  readonly name: string;
  readonly spec: SystemSpec;
  readonly queue: RequestQueue;
  /** Longest prompt + answer in tokens, where the backend knows it. */
  readonly contextSize: number | undefined;
  chat(messages: ChatMessage[], options: GenerateOptions): Promise<ServedAnswer>;
  complete(prompt: string, options: GenerateOptions): Promise<Generation>;
  embed(texts: string[]): Promise<{ vectors: Float32Array[]; tokens: number }>;
  dispose(): Promise<void>;
}

export interface ServeSystemOptions {
  /** The retriever of a system with `retrieval`; required for those. */
  retriever?: Retriever;
  /** Solved examples put before each question (the lab's few-shot route). */
  exemplars?: readonly { question: string; answer: string }[];
  queue?: Omit<RequestQueueOptions, "name">;
}

/** Records what the lab's prompt builder retrieved, so the answer can carry its citations. */
class RecordingRetriever implements Retriever {
  passages: RetrievedPassage[] = [];
  constructor(private readonly inner: Retriever) {}
  get id(): string {
    return this.inner.id;
  }
  async retrieve(query: string, k: number): Promise<RetrievedPassage[]> {
    this.passages = await this.inner.retrieve(query, k);
    return this.passages;
  }
}

/** Refuses a prompt the context cannot hold and caps max tokens at what is left of it. */
function fitToContext(backend: LlamaCppBackend, promptTokens: number, options: GenerateOptions, field: string): GenerateOptions {
  const room = backend.contextSize - promptTokens;
  if (room <= 0)
    throw new InputError(`the prompt is ${promptTokens} tokens; the model's context holds ${backend.contextSize}`, {
      where: field,
      hint: "Send a shorter prompt, or serve the system with a larger contextSize.",
    });
  return { ...options, maxTokens: Math.min(options.maxTokens ?? 256, room) };
}

/** node-llama-cpp's chat and completion, each request checked against the context first. */
function contextCheckedModel(backend: LlamaCppBackend): ChatModel {
  return {
    id: backend.id,
    chat: (messages, options = {}) =>
      backend.chat(messages, fitToContext(backend, backend.contextTokens(backend.renderChatPrompt(messages)).length, options, "messages")),
    complete: (prompt, options = {}) => backend.complete(prompt, fitToContext(backend, backend.contextTokens(prompt).length, options, "prompt")),
  };
}

/** Loads the system's model (and, on first use, an embedding context of the same GGUF). */
export async function serveSystem(spec: SystemSpec, options: ServeSystemOptions = {}): Promise<ServedSystem> {
  if (spec.retrieval && !options.retriever)
    throw new InputError("the system has retrieval but no retriever was given", { where: `system "${spec.name}"` });
  // The engine backend scores but does not sample: generation goes through node-llama-cpp, as in the lab.
  const local = spec.backend !== "openai";
  const backend = await createSystemBackend(local ? { ...spec, backend: "llama-cpp" } : spec);
  const llama = local ? (backend.chat as LlamaCppBackend) : undefined;
  if (!backend.chat) throw new InputError(`backend ${backend.id} cannot generate text`, { where: `system "${spec.name}"` });
  const model = llama ? contextCheckedModel(llama) : backend.chat;
  let embedder: Promise<LlamaCppEmbedder> | undefined;
  const queue = new RequestQueue({ name: spec.name, ...options.queue });

  // The system prompt of the system's template (docs/prompt.md), the one eval run measured with.
  const systemPrompt = systemPromptTemplate(spec).systemPrompt;
  const withSystemPrompt = (messages: ChatMessage[]): ChatMessage[] =>
    systemPrompt ? [{ role: "system", content: systemPrompt }, ...messages] : messages;

  return {
    name: spec.name,
    spec,
    queue,
    contextSize: llama?.contextSize,
    async chat(messages, generate) {
      const recorder = options.retriever ? new RecordingRetriever(options.retriever) : undefined;
      const asked = routeChatModel(model, {
        chat: systemChatTemplate(spec) === "auto",
        ...(options.exemplars?.length ? { exemplars: options.exemplars } : {}),
        ...(recorder && spec.retrieval ? { retriever: recorder, k: spec.retrieval.k } : {}),
      });
      const generation = await asked.chat(withSystemPrompt(messages), generate);
      const passages = recorder?.passages ?? [];
      return { ...generation, passages, citedSources: citedDocuments(generation.text, passages) };
    },
    complete: (prompt, generate) => model.complete(prompt, generate),
    async embed(texts) {
      if (!llama)
        throw new InputError("embeddings are served for local GGUF systems only", { where: "model", hint: `system "${spec.name}" is ${spec.backend}` });
      embedder ??= import("../llm/llamaCpp.js").then(({ LlamaCppEmbedder }) =>
        LlamaCppEmbedder.load({ modelPath: spec.model, ...(spec.threads ? { threads: spec.threads } : {}) }),
      );
      const loaded = await embedder;
      const tokens = texts.reduce((sum, text) => sum + llama.continuationTokens(text).length, 0);
      return { vectors: await loaded.embed(texts), tokens };
    },
    async dispose() {
      await backend.dispose();
      if (embedder) await (await embedder).dispose();
    },
  };
}
