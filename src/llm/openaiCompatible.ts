/**
 * Any OpenAI-compatible HTTP endpoint (OpenAI, vLLM, llama.cpp server, Ollama, LM Studio, Vertical's
 * own `serve`): chat and completions (streaming over SSE or not), embeddings, and log-likelihood
 * scoring through the legacy completions endpoint with `echo: true, logprobs` (what
 * lm-evaluation-harness's local-completions model uses). Requests go through a concurrency limit and
 * fetchWithRetry (timeouts, backoff on 429/5xx).
 */
import pLimit, { type LimitFunction } from "p-limit";
import { settings } from "../config.js";
import { BackendError, ConfigError } from "../shared/errors.js";
import type { ChatLetterScorer } from "./chatLetterScorer.js";
import { fetchWithRetry, type RetryPolicy } from "./httpRetry.js";
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

export interface OpenAICompatibleOptions extends RetryPolicy {
  /** The model name sent in every request. */
  model: string;
  /** E.g. http://127.0.0.1:8080/v1. Defaults to settings().baseUrl (OPENAI_BASE_URL). */
  baseUrl?: string;
  /** Defaults to settings().apiKey (VERTICAL_API_KEY / OPENAI_API_KEY); none is sent when unset. */
  apiKey?: string;
  /** Requests in flight at once. Defaults to 4. */
  maxConcurrency?: number;
  /** Embedding width, if known in advance; otherwise learned from the first answer. */
  dimensions?: number;
}

interface CompletionLogprobs {
  /** Chat completions with `logprobs: true`: per generated token, its alternatives. */
  content?: { token: string; logprob: number; top_logprobs?: { token: string; logprob: number }[] }[] | null;
  tokens?: string[];
  token_logprobs?: (number | null)[];
  top_logprobs?: (Record<string, number> | null)[] | null;
  text_offset?: number[];
}

interface WireToolCall {
  id?: string;
  type?: string;
  function?: { name?: string; arguments?: string };
}

interface CompletionChoice {
  text?: string;
  finish_reason?: string | null;
  logprobs?: CompletionLogprobs | null;
  message?: { content?: string | null; reasoning_content?: string | null; tool_calls?: WireToolCall[] | null };
  delta?: { content?: string | null };
}

interface CompletionResponse {
  choices?: CompletionChoice[];
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  data?: { embedding: number[]; index?: number }[];
}

function finishReason(raw: string | null | undefined, aborted: boolean): Generation["finishReason"] {
  if (aborted) return "abort";
  return raw === "length" ? "length" : "stop";
}

/** Our tool conversation in OpenAI's chat wire format (assistant `tool_calls`, `tool` messages). */
function toWireMessages(messages: ToolConversationMessage[]): Record<string, unknown>[] {
  return messages.map((message) => {
    if (message.role === "tool") return { role: "tool", tool_call_id: message.toolCallId, content: message.content };
    if ("toolCalls" in message)
      return {
        role: "assistant",
        content: message.content || null,
        tool_calls: message.toolCalls.map((call) => ({
          id: call.id,
          type: "function",
          function: { name: call.name, arguments: call.argumentsJson },
        })),
      };
    return { role: message.role, content: message.content };
  });
}

function toWireTools(tools: ToolDefinition[]): Record<string, unknown>[] {
  return tools.map((tool) => ({
    type: "function",
    function: { name: tool.name, description: tool.description, parameters: tool.parameters },
  }));
}

function fromWireToolCalls(calls: WireToolCall[] | null | undefined, where: string): ToolCall[] {
  return (calls ?? []).map((call, index) => {
    if (!call.function?.name)
      throw new BackendError(`tool call ${index} has no function name`, {
        where,
        hint: "The server's tool_calls do not follow the OpenAI format.",
      });
    return { id: call.id ?? `call_${index}`, name: call.function.name, argumentsJson: call.function.arguments ?? "" };
  });
}

export class OpenAICompatibleBackend implements ChatModel, TokenScorer, Embedder, ChatLetterScorer, ToolChatModel {
  readonly id: string;
  readonly baseUrl: string;
  private readonly model: string;
  private readonly apiKey: string | undefined;
  private readonly limit: LimitFunction;
  private readonly policy: RetryPolicy;
  private knownDimensions: number | undefined;

  constructor(options: OpenAICompatibleOptions) {
    const baseUrl = options.baseUrl ?? settings().baseUrl;
    if (!baseUrl)
      throw new ConfigError("no endpoint URL for the OpenAI-compatible backend", {
        where: `model ${options.model}`,
        hint: "Set baseUrl on the system (e.g. http://127.0.0.1:8080/v1) or OPENAI_BASE_URL.",
      });
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.model = options.model;
    this.apiKey = options.apiKey ?? settings().apiKey;
    this.limit = pLimit(options.maxConcurrency ?? 4);
    this.policy = options;
    this.knownDimensions = options.dimensions;
    this.id = `openai:${this.model}@${this.baseUrl}`;
  }

  get dimensions(): number {
    if (this.knownDimensions === undefined)
      throw new BackendError("embedding width not known yet: call embed() once or pass `dimensions`", {
        where: this.id,
      });
    return this.knownDimensions;
  }

  private headers(): Record<string, string> {
    return {
      "content-type": "application/json",
      ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}),
    };
  }

  private post(route: string, body: unknown, signal?: AbortSignal): Promise<Response> {
    return this.limit(() =>
      fetchWithRetry(
        `${this.baseUrl}${route}`,
        { method: "POST", headers: this.headers(), body: JSON.stringify(body), signal },
        this.policy,
      ),
    );
  }

  private async postJson(route: string, body: unknown, signal?: AbortSignal): Promise<CompletionResponse> {
    const response = await this.post(route, body, signal);
    try {
      return (await response.json()) as CompletionResponse;
    } catch (error) {
      throw new BackendError(`the answer is not JSON: ${(error as Error).message}`, {
        where: `${this.baseUrl}${route}`,
        cause: error,
      });
    }
  }

  private samplingFields(options: GenerateOptions): Record<string, unknown> {
    return {
      model: this.model,
      max_tokens: options.maxTokens ?? 256,
      temperature: options.temperature ?? 0,
      ...(options.topP !== undefined ? { top_p: options.topP } : {}),
      ...(options.stop?.length ? { stop: options.stop } : {}),
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
    };
  }

  chat(messages: ChatMessage[], options: GenerateOptions = {}): Promise<Generation> {
    return this.generate("/chat/completions", { messages }, options);
  }

  complete(prompt: string, options: GenerateOptions = {}): Promise<Generation> {
    return this.generate("/completions", { prompt }, options);
  }

  /**
   * One chat turn with `tools` offered (OpenAI function calling). Not streamed: a streamed turn
   * splits a call's JSON arguments over many events, and the tool loop needs them whole anyway.
   */
  async chatWithTools(
    messages: ToolConversationMessage[],
    tools: ToolDefinition[],
    options: GenerateOptions = {},
  ): Promise<ToolTurn> {
    const where = `${this.baseUrl}/chat/completions`;
    const body = {
      ...this.samplingFields(options),
      messages: toWireMessages(messages),
      ...(tools.length > 0 ? { tools: toWireTools(tools) } : {}),
    };
    const answer = await this.postJson("/chat/completions", body, options.signal);
    const choice = answer.choices?.[0];
    if (!choice) throw new BackendError("the answer has no choices", { where });
    const text = choice.message?.content ?? "";
    options.onText?.(text);
    return {
      text,
      toolCalls: fromWireToolCalls(choice.message?.tool_calls, where),
      usage: {
        promptTokens: answer.usage?.prompt_tokens ?? 0,
        completionTokens: answer.usage?.completion_tokens ?? 0,
      },
      finishReason: finishReason(choice.finish_reason, false),
    };
  }

  private async generate(route: string, input: Record<string, unknown>, options: GenerateOptions): Promise<Generation> {
    const stream = options.onText !== undefined;
    const body = {
      ...this.samplingFields(options),
      ...input,
      ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
    };
    const where = `${this.baseUrl}${route}`;
    if (!stream) {
      const answer = await this.postJson(route, body, options.signal);
      const choice = answer.choices?.[0];
      if (!choice) throw new BackendError("the answer has no choices", { where });
      const text = choice.message?.content ?? choice.text ?? "";
      return {
        text,
        usage: {
          promptTokens: answer.usage?.prompt_tokens ?? 0,
          completionTokens: answer.usage?.completion_tokens ?? 0,
        },
        finishReason: finishReason(choice.finish_reason, false),
      };
    }
    const response = await this.post(route, body, options.signal);
    let text = "";
    let usage = { promptTokens: 0, completionTokens: 0 };
    let reason: string | null | undefined;
    try {
      for await (const event of readServerSentEvents(response)) {
        if (event === "[DONE]") break;
        let chunk: CompletionResponse;
        try {
          chunk = JSON.parse(event) as CompletionResponse;
        } catch (error) {
          throw new BackendError(`a streamed event is not JSON: ${event.slice(0, 200)}`, { where, cause: error });
        }
        const choice = chunk.choices?.[0];
        const delta = choice?.delta?.content ?? choice?.text ?? "";
        if (delta) {
          text += delta;
          options.onText!(delta);
        }
        if (choice?.finish_reason) reason = choice.finish_reason;
        if (chunk.usage)
          usage = {
            promptTokens: chunk.usage.prompt_tokens ?? 0,
            completionTokens: chunk.usage.completion_tokens ?? 0,
          };
      }
    } catch (error) {
      if (options.signal?.aborted) return { text, usage, finishReason: "abort" };
      throw error;
    }
    return { text, usage, finishReason: finishReason(reason, false) };
  }

  /**
   * Log-likelihood of each continuation through completions with `echo: true, logprobs: 1,
   * max_tokens: 1` (as lm-evaluation-harness does). The continuation's tokens are those whose
   * text_offset lies at or after the context's end; a token that straddles the boundary is counted
   * with the continuation. The one generated token is dropped.
   */
  async score(requests: ScoreRequest[]): Promise<ContinuationScore[]> {
    const where = `${this.baseUrl}/completions`;
    return Promise.all(
      requests.map(async (request) => {
        const prompt = request.context + request.continuation;
        const answer = await this.postJson("/completions", {
          model: this.model,
          prompt,
          max_tokens: 1,
          temperature: 0,
          echo: true,
          logprobs: 1,
        });
        const logprobs = answer.choices?.[0]?.logprobs;
        const offsets = logprobs?.text_offset;
        const tokenLogprobs = logprobs?.token_logprobs;
        if (!logprobs || !offsets || !tokenLogprobs || !logprobs.tokens)
          throw new BackendError(
            "the endpoint returned no prompt log-probabilities (completions with echo + logprobs)",
            {
              where,
              hint: "This server cannot score continuations: set `logprobs: false` (or `scoring: generate`) on the system to use generation with answer extraction.",
            },
          );
        const contextEnd = request.context.length;
        const promptEnd = prompt.length;
        const result: ContinuationScore = {
          logprob: 0,
          tokenLogprobs: [],
          isGreedy: true,
          tokenCount: 0,
          contextTokenCount: 0,
        };
        for (let i = 0; i < logprobs.tokens.length; i++) {
          const start = offsets[i]!;
          // The next token's offset bounds this one; a token's own text can be a byte-fallback form.
          const end = offsets[i + 1] ?? start + logprobs.tokens[i]!.length;
          if (start >= promptEnd) break; // the generated token
          if (end <= contextEnd) {
            result.contextTokenCount!++;
            continue;
          }
          const logprob = tokenLogprobs[i];
          if (logprob === null || logprob === undefined)
            throw new BackendError(`no log-probability for continuation token ${JSON.stringify(logprobs.tokens[i])}`, {
              where,
            });
          result.tokenLogprobs.push(logprob);
          result.logprob += logprob;
          const top = logprobs.top_logprobs?.[i];
          if (top) {
            const best = Object.entries(top).reduce((a, b) => (b[1] > a[1] ? b : a));
            if (best[0] !== logprobs.tokens[i]) result.isGreedy = false;
          }
        }
        result.tokenCount = result.tokenLogprobs.length;
        if (result.tokenCount === 0 && request.continuation.length > 0)
          throw new BackendError("the echoed tokens do not cover the continuation (text_offset mismatch)", { where });
        return result;
      }),
    );
  }

  /**
   * Chat completions with `max_tokens: 1, logprobs: true, top_logprobs: 20`: the first reply token's
   * alternatives, matched to the candidates after trimming spaces, "(", ")", "*" and ".".
   */
  async firstTokenLogprobs(
    messages: ChatMessage[],
    candidates: readonly string[],
  ): Promise<{ logprobs: (number | null)[]; usage: { promptTokens: number; completionTokens: number } }> {
    const where = `${this.baseUrl}/chat/completions`;
    const answer = await this.postJson("/chat/completions", {
      model: this.model,
      messages,
      max_tokens: 1,
      temperature: 0,
      logprobs: true,
      top_logprobs: 20,
    });
    const first = answer.choices?.[0]?.logprobs?.content?.[0];
    if (!first)
      throw new BackendError("the endpoint returned no token log-probabilities for chat (logprobs + top_logprobs)", {
        where,
        hint: "Set `logprobs: false` (or `scoring: generate`) on the system to use generation with answer extraction.",
      });
    const alternatives = [...(first.top_logprobs ?? []), { token: first.token, logprob: first.logprob }];
    const spelled = (token: string) => token.replace(/[\s()*.]/g, "");
    const logprobs = candidates.map((candidate) => {
      const matches = alternatives.filter((entry) => spelled(entry.token) === candidate).map((entry) => entry.logprob);
      return matches.length > 0 ? Math.max(...matches) : null;
    });
    return {
      logprobs,
      usage: { promptTokens: answer.usage?.prompt_tokens ?? 0, completionTokens: answer.usage?.completion_tokens ?? 0 },
    };
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    const answer = await this.postJson("/embeddings", { model: this.model, input: texts });
    if (!answer.data || answer.data.length !== texts.length)
      throw new BackendError(`expected ${texts.length} embeddings, got ${answer.data?.length ?? 0}`, {
        where: `${this.baseUrl}/embeddings`,
      });
    const ordered = [...answer.data].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
    const vectors = ordered.map((entry) => Float32Array.from(entry.embedding));
    this.knownDimensions ??= vectors[0]?.length;
    return vectors;
  }
}

/** The `data:` payloads of a text/event-stream body, one per event. */
export async function* readServerSentEvents(response: Response): AsyncGenerator<string> {
  if (!response.body) return;
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(bytes, { stream: true });
    let boundary: number;
    while ((boundary = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const block = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary).replace(/^\r?\n\r?\n/, "");
      const data = block
        .split(/\r?\n/)
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).replace(/^ /, ""))
        .join("\n");
      if (data) yield data;
    }
  }
  const rest = buffer.trim();
  if (rest.startsWith("data:")) yield rest.slice(5).trim();
}
