/**
 * A local GGUF through node-llama-cpp: chat with the model's own chat template (resolved from the GGUF
 * by node-llama-cpp's chat wrappers), raw completion, LoRA adapters, an explicit thread count, and
 * log-likelihood scoring through `LlamaContextSequence.controlledEvaluate` with next-token
 * probabilities. With llamaCppReranker.ts, the only file of src/ (with its tests) that imports node-llama-cpp.
 *
 * Scoring path: context tokens (BOS prepended when the model wants one, special-token text parsed)
 * are evaluated once per distinct context, always from an empty sequence (so results do not depend on the order items
 * are scored in); the distribution after the last context token scores every
 * single-token continuation at once (the letters of a multiple-choice item); a longer continuation is
 * evaluated token by token after the context, with the full distribution at each step.
 */
import path from "node:path";
import {
  getLlama,
  LlamaChat,
  LlamaCompletion,
  LlamaLogLevel,
  type ChatHistoryItem,
  type ChatModelFunctionCall,
  type ChatModelFunctions,
  type ChatModelResponse,
  type GbnfJsonSchema,
  type ChatWrapper,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaEmbeddingContext,
  type LlamaModel,
  type Token,
} from "node-llama-cpp";
import { settings } from "../config.js";
import { ContextOverflowError, DisposedError, ModelError } from "../shared/errors.js";
import type { ChatPromptRenderer } from "./chatPrompt.js";
import type { ToolCall, ToolChatModel, ToolConversationMessage, ToolDefinition, ToolTurn } from "./toolChat.js";
import type {
  ChatMessage,
  ChatModel,
  ContinuationScore,
  Embedder,
  GenerateOptions,
  Generation,
  ScoreRequest,
  TokenScorer,
} from "./types.js";

export interface LlamaCppAdapter {
  filePath: string;
  /** Defaults to 1. */
  scale?: number;
}

export interface LlamaCppOptions {
  modelPath: string;
  adapters?: LlamaCppAdapter[];
  /** ggml threads for evaluation. Defaults to settings().threads. */
  threads?: number;
  /** Context length in tokens. Defaults to min(the model's training context, 4096). */
  contextSize?: number;
  /** Layers offloaded to a GPU. Defaults to 0 when settings().device is "cpu", else "auto". */
  gpuLayers?: number | "auto";
  /**
   * F32 KV cache and no flash attention. Defaults to false (node-llama-cpp's defaults: F16 KV cache,
   * flash attention where available), which round keys, values and queries to f16: on a model with
   * large activations that moves log-probabilities by ~1e-2. Exact mode matches an f32 reference
   * (our engine) to ~1e-5 per token, at twice the KV memory.
   */
  exactAttention?: boolean;
}

let sharedLlama: Promise<Llama> | undefined;

/** One Llama instance per process (it owns the native backend; llamaCppReranker.ts shares it); never rebuilt or downloaded at run time. */
export function llamaInstance(): Promise<Llama> {
  sharedLlama ??= getLlama({
    gpu: settings().device === "cpu" ? false : "auto",
    build: "never",
    logLevel: LlamaLogLevel.error,
    progressLogs: false,
  });
  return sharedLlama;
}

/** A GGUF loaded by node-llama-cpp (on the CPU unless a device is set); its refusal names the file. */
export async function loadLlamaModel(modelPath: string, gpuLayers?: number | "auto"): Promise<LlamaModel> {
  const llama = await llamaInstance();
  try {
    return await llama.loadModel({ modelPath, gpuLayers: gpuLayers ?? (settings().device === "cpu" ? 0 : "auto") });
  } catch (error) {
    throw new ModelError(`node-llama-cpp cannot load the model: ${(error as Error).message}`, { where: modelPath, cause: error });
  }
}

function toHistory(messages: ChatMessage[]): ChatHistoryItem[] {
  return messages.map((message): ChatHistoryItem =>
    message.role === "assistant"
      ? { type: "model", response: [message.content] }
      : { type: message.role, text: message.content },
  );
}

/** Our tool definitions as node-llama-cpp functions (their JSON schema becomes a GBNF grammar for the call). */
function toFunctions(tools: ToolDefinition[]): ChatModelFunctions {
  return Object.fromEntries(
    tools.map((tool) => [
      tool.name,
      { description: tool.description, params: tool.parameters as unknown as GbnfJsonSchema },
    ]),
  );
}

/**
 * A tool conversation as node-llama-cpp history: an assistant turn with calls becomes a model response
 * holding `functionCall` items, and each tool result is written into its call's `result` (that is where
 * node-llama-cpp keeps results; the chat wrapper renders them in the model's own function syntax).
 */
function toToolHistory(messages: ToolConversationMessage[], tools: ToolDefinition[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  const calls = new Map<string, ChatModelFunctionCall>();
  for (const message of messages) {
    if (message.role === "tool") {
      const call = calls.get(message.toolCallId);
      if (call) call.result = message.content;
      continue;
    }
    if ("toolCalls" in message) {
      const response: ChatModelResponse["response"] = message.content ? [message.content] : [];
      for (const call of message.toolCalls) {
        let params: unknown = call.argumentsJson;
        try {
          params = JSON.parse(call.argumentsJson);
        } catch {
          // Malformed arguments stay as text: the tool result already tells the model what was wrong.
        }
        const item: ChatModelFunctionCall = {
          type: "functionCall",
          name: call.name,
          description: tools.find((tool) => tool.name === call.name)?.description,
          params,
          result: "",
        };
        calls.set(call.id, item);
        response.push(item);
      }
      history.push({ type: "model", response });
      continue;
    }
    history.push(...toHistory([message]));
  }
  return history;
}

/** The history to generate from: after tool results the model continues its own turn (as LlamaChatSession does). */
function withOpenModelTurn(history: ChatHistoryItem[]): ChatHistoryItem[] {
  const last = history.at(-1);
  if (last?.type === "model" && last.response.some((item) => typeof item === "object" && item.type === "functionCall"))
    return history;
  return [...history, { type: "model", response: [] }];
}

export class LlamaCppBackend implements ChatModel, TokenScorer, ChatPromptRenderer, ToolChatModel {
  readonly id: string;
  private disposed = false;
  /** Generation and scoring share one sequence; calls are serialised through this chain. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly sequence: LlamaContextSequence,
    private readonly chatWrapper: ChatWrapper,
    id: string,
  ) {
    this.id = id;
  }

  static async load(options: LlamaCppOptions): Promise<LlamaCppBackend> {
    const threads = options.threads ?? settings().threads;
    const model = await loadLlamaModel(options.modelPath, options.gpuLayers);
    const adapters = options.adapters ?? [];
    let context: LlamaContext;
    try {
      context = await model.createContext({
        contextSize: options.contextSize ?? Math.min(model.trainContextSize, 4096),
        threads,
        sequences: 1,
        ...(options.exactAttention
          ? { experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32", flashAttention: false }
          : {}),
        ...(adapters.length > 0
          ? {
              lora: {
                adapters: adapters.map((adapter) => ({ filePath: adapter.filePath, scale: adapter.scale ?? 1 })),
              },
            }
          : {}),
      });
    } catch (error) {
      await model.dispose();
      throw new ModelError(
        `cannot create a context${adapters.length ? " with the adapters" : ""}: ${(error as Error).message}`,
        {
          where: [options.modelPath, ...adapters.map((adapter) => adapter.filePath)].join(" + "),
          cause: error,
        },
      );
    }
    const { resolveChatWrapper } = await import("node-llama-cpp");
    const chatWrapper = resolveChatWrapper(model);
    const id =
      `llama-cpp:${path.basename(options.modelPath)}` +
      adapters.map((adapter) => `+lora:${path.basename(adapter.filePath)}`).join("");
    return new LlamaCppBackend(model, context, context.getSequence(), chatWrapper, id);
  }

  /** Tokens the context holds: prompt plus generated tokens must fit (a server checks requests against it). */
  get contextSize(): number {
    return this.context.contextSize;
  }

  /** The GGUF's chat template applied to `messages`, ending with the assistant prefix, as text. */
  renderChatPrompt(messages: ChatMessage[]): string {
    this.checkAlive();
    const history = [...toHistory(messages), { type: "model", response: [] } as ChatHistoryItem];
    const { contextText } = this.chatWrapper.generateContextState({ chatHistory: history });
    // Special tokens become their text (contextTokens parses them back); a leading BOS is not doubled there.
    return this.model.detokenize(contextText.tokenize(this.model.tokenizer), true);
  }

  private checkAlive(): void {
    if (this.disposed) throw new DisposedError("the llama-cpp backend was disposed", { where: this.id });
  }

  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  chat(messages: ChatMessage[], options: GenerateOptions = {}): Promise<Generation> {
    return this.serialised(async () => {
      this.checkAlive();
      await this.sequence.clearHistory();
      const chat = new LlamaChat({
        contextSequence: this.sequence,
        chatWrapper: this.chatWrapper,
        autoDisposeSequence: false,
      });
      try {
        const promptTokens = this.model.tokenize(this.renderChatPrompt(messages), true).length;
        const history = [...toHistory(messages), { type: "model", response: [] } as ChatHistoryItem];
        let result: Awaited<ReturnType<LlamaChat["generateResponse"]>>;
        try {
          result = await chat.generateResponse(history, generationSettings(options));
        } catch (error) {
          // A prompt a little over the context is shortened by node-llama-cpp's history compression (the demo's
          // retrieval-sft answers rely on it); one it cannot shorten is named with both lengths.
          if (promptTokens + 1 <= this.context.contextSize || !/compress chat history/i.test((error as Error).message)) throw error;
          throw new ContextOverflowError(
            `a chat prompt of ${promptTokens} tokens does not fit the ${this.context.contextSize}-token context`,
            { where: this.id, hint: "Shorten the prompt (fewer shots or passages) or give the system a larger contextSize.", cause: error },
          );
        }
        return {
          text: result.response,
          usage: {
            promptTokens,
            completionTokens: this.model.tokenize(result.response, false).length,
          },
          finishReason: finishReasonOf(result.metadata.stopReason),
        };
      } finally {
        chat.dispose({ disposeSequence: false });
      }
    });
  }

  /** The prompt text of a tool conversation with `tools` offered, as the model's chat wrapper renders it. */
  renderToolPrompt(messages: ToolConversationMessage[], tools: ToolDefinition[]): string {
    this.checkAlive();
    const { contextText } = this.chatWrapper.generateContextState({
      chatHistory: withOpenModelTurn(toToolHistory(messages, tools)),
      ...(tools.length > 0 ? { availableFunctions: toFunctions(tools) } : {}),
    });
    return this.model.detokenize(contextText.tokenize(this.model.tokenizer), true);
  }

  /**
   * One turn with node-llama-cpp function calling: generation stops at the model's function calls
   * (grammar-constrained to each function's schema) and returns them instead of running them, so the
   * tool loop — not node-llama-cpp — runs tools, checks arguments and counts rounds.
   */
  chatWithTools(
    messages: ToolConversationMessage[],
    tools: ToolDefinition[],
    options: GenerateOptions = {},
  ): Promise<ToolTurn> {
    return this.serialised(async () => {
      this.checkAlive();
      await this.sequence.clearHistory();
      const chat = new LlamaChat({
        contextSequence: this.sequence,
        chatWrapper: this.chatWrapper,
        autoDisposeSequence: false,
      });
      try {
        const history = withOpenModelTurn(toToolHistory(messages, tools));
        const result = await chat.generateResponse(history, {
          ...generationSettings(options),
          ...(tools.length > 0 ? { functions: toFunctions(tools) } : {}),
        });
        const toolCalls: ToolCall[] = (result.functionCalls ?? []).map((call, index) => ({
          id: `call_${messages.length}_${index}`,
          name: call.functionName,
          argumentsJson: JSON.stringify(call.params ?? {}),
        }));
        return {
          text: result.response,
          toolCalls,
          usage: {
            promptTokens: this.model.tokenize(this.renderToolPrompt(messages, tools), true).length,
            completionTokens: this.model.tokenize(result.response, false).length,
          },
          finishReason: finishReasonOf(result.metadata.stopReason),
        };
      } finally {
        chat.dispose({ disposeSequence: false });
      }
    });
  }

  complete(prompt: string, options: GenerateOptions = {}): Promise<Generation> {
    return this.serialised(async () => {
      this.checkAlive();
      await this.sequence.clearHistory();
      const completion = new LlamaCompletion({ contextSequence: this.sequence, autoDisposeSequence: false });
      try {
        const result = await completion.generateCompletionWithMeta(prompt, generationSettings(options));
        return {
          text: result.response,
          usage: {
            promptTokens: this.contextTokens(prompt).length,
            completionTokens: this.model.tokenize(result.response, false).length,
          },
          finishReason: finishReasonOf(result.metadata.stopReason),
        };
      } finally {
        completion.dispose({ disposeSequence: false });
      }
    });
  }

  /** Context tokens: BOS when the model wants one, then the text with special-token text parsed. */
  contextTokens(context: string): Token[] {
    const tokens = this.model.tokenize(context, true);
    const bos = this.model.tokens.bos;
    return this.model.tokens.shouldPrependBosToken && bos !== null && tokens[0] !== bos ? [bos, ...tokens] : tokens;
  }

  /** Continuation tokens: plain text, no BOS, no special-token parsing. */
  continuationTokens(continuation: string): Token[] {
    return this.model.tokenize(continuation, false);
  }

  score(requests: ScoreRequest[]): Promise<ContinuationScore[]> {
    return this.serialised(async () => {
      this.checkAlive();
      const results = new Array<ContinuationScore>(requests.length);
      const byContext = new Map<string, number[]>();
      requests.forEach((request, index) => {
        const group = byContext.get(request.context) ?? [];
        group.push(index);
        byContext.set(request.context, group);
      });
      for (const [contextText, indices] of byContext) {
        const context = this.contextTokens(contextText);
        if (context.length === 0)
          throw new ModelError("cannot score after an empty context (the model has no BOS token)", { where: this.id });
        if (context.length + 1 > this.context.contextSize)
          throw new ModelError(
            `context of ${context.length} tokens does not fit the ${this.context.contextSize}-token context`,
            {
              where: this.id,
              hint: "Raise the system's contextSize or use fewer shots.",
            },
          );
        const [afterContext] = await this.evaluateContext(context);
        for (const index of indices) {
          const continuation = this.continuationTokens(requests[index]!.continuation);
          if (continuation.length === 0)
            throw new ModelError(`empty continuation for request ${index}`, { where: this.id });
          const distributions = [afterContext!];
          if (continuation.length > 1) {
            // Later tokens: evaluate the continuation (minus its last token) after the context, then
            // drop it again so the next continuation starts from the bare context.
            const steps = await this.evaluate(continuation.slice(0, -1), 0);
            distributions.push(...steps);
            await this.sequence.eraseContextTokenRanges([
              { start: context.length, end: context.length + continuation.length - 1 },
            ]);
          }
          const tokenLogprobs: number[] = [];
          let isGreedy = true;
          continuation.forEach((token, i) => {
            const probabilities = distributions[i]!;
            tokenLogprobs.push(Math.log(probabilities.get(token) ?? 0));
            isGreedy &&= probabilities.keys().next().value === token;
          });
          results[index] = {
            logprob: tokenLogprobs.reduce((a, b) => a + b, 0),
            tokenLogprobs,
            isGreedy,
            tokenCount: continuation.length,
            contextTokenCount: context.length,
          };
        }
      }
      return results;
    });
  }

  /**
   * Evaluates `context` from an empty sequence and returns the distribution after its last token. Never from a prefix
   * cached by an earlier context: that prefix was evaluated in another batch split, and llama.cpp's CPU kernels round
   * differently per batch shape, so an item's scores would depend on which item came before it (the kill harness saw
   * logprobs move by 3e-4 when a resumed evaluation scored an item first instead of after its neighbour). Few-shot
   * prompts pay for their shared prefix once per item instead of once per run; results are repeatable.
   */
  private async evaluateContext(context: Token[]): Promise<Map<Token, number>[]> {
    await this.sequence.clearHistory();
    return this.evaluate(context, context.length - 1);
  }

  /**
   * Appends `tokens` to the sequence and returns the next-token distribution after each token from
   * index `from` on (temperature 0: the plain softmax over the whole vocabulary, sorted by probability).
   */
  private async evaluate(tokens: Token[], from: number): Promise<Map<Token, number>[]> {
    const items = tokens.map((token, i) =>
      i >= from ? ([token, { generateNext: { probabilities: true, options: { temperature: 0 } } }] as const) : token,
    );
    const outputs = await this.sequence.controlledEvaluate(
      items as Parameters<LlamaContextSequence["controlledEvaluate"]>[0],
    );
    const distributions: Map<Token, number>[] = [];
    for (let i = from; i < tokens.length; i++) {
      const probabilities = outputs[i]?.next.probabilities;
      if (!probabilities)
        throw new ModelError(`node-llama-cpp returned no probabilities for token ${i}`, { where: this.id });
      distributions.push(probabilities);
    }
    return distributions;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    await this.queue.catch(() => undefined);
    this.disposed = true;
    await this.context.dispose();
    await this.model.dispose();
  }
}

export interface LlamaCppEmbedderOptions {
  modelPath: string;
  /** ggml threads. Defaults to settings().threads. */
  threads?: number;
  /** Longest text in tokens. Defaults to min(the model's training context, 2048). */
  contextSize?: number;
}

/** Text embeddings from a local GGUF (node-llama-cpp's embedding context: the model's pooling). */
export class LlamaCppEmbedder implements Embedder {
  readonly id: string;
  readonly dimensions: number;
  private disposed = false;

  private constructor(
    private readonly model: LlamaModel,
    private readonly context: LlamaEmbeddingContext,
    id: string,
  ) {
    this.id = id;
    this.dimensions = model.embeddingVectorSize;
  }

  static async load(options: LlamaCppEmbedderOptions): Promise<LlamaCppEmbedder> {
    const model = await loadLlamaModel(options.modelPath);
    try {
      const context = await model.createEmbeddingContext({
        contextSize: options.contextSize ?? Math.min(model.trainContextSize, 2048),
        threads: options.threads ?? settings().threads,
      });
      return new LlamaCppEmbedder(model, context, `llama-cpp-embed:${path.basename(options.modelPath)}`);
    } catch (error) {
      await model.dispose();
      throw new ModelError(`cannot create an embedding context: ${(error as Error).message}`, {
        where: options.modelPath,
        cause: error,
      });
    }
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    if (this.disposed) throw new DisposedError("the llama-cpp embedder was disposed", { where: this.id });
    const vectors: Float32Array[] = [];
    // One at a time: the embedding context evaluates a single sequence.
    for (const text of texts) vectors.push(Float32Array.from((await this.context.getEmbeddingFor(text)).vector));
    return vectors;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.context.dispose();
    await this.model.dispose();
  }
}

/** Vertical's generation options as node-llama-cpp's (chat and completion take the same ones); greedy by default. */
function generationSettings(options: GenerateOptions) {
  return {
    maxTokens: options.maxTokens ?? 256,
    temperature: options.temperature ?? 0,
    ...(options.topP !== undefined ? { topP: options.topP } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.stop?.length ? { customStopTriggers: options.stop } : {}),
    ...(options.onText ? { onTextChunk: options.onText } : {}),
    ...(options.signal ? { signal: options.signal, stopOnAbortSignal: true } : {}),
  };
}

function finishReasonOf(stopReason: string): Generation["finishReason"] {
  if (stopReason === "maxTokens") return "length";
  return stopReason === "abort" ? "abort" : "stop";
}
