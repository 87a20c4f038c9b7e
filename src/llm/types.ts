/**
 * The interfaces every capability (eval, rag, prompt, lab) depends on. Backends — local GGUF through
 * node-llama-cpp, Vertical's own engine, any OpenAI-compatible endpoint — implement them; nothing
 * above llm/ imports a backend's library directly.
 */

export type ChatRole = "system" | "user" | "assistant";

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

export interface GenerateOptions {
  /** Defaults to 256. */
  maxTokens?: number;
  /** Defaults to 0 (greedy), so evaluations are repeatable. */
  temperature?: number;
  topP?: number;
  stop?: string[];
  seed?: number;
  signal?: AbortSignal;
  /** Called with each new piece of text as it is generated. */
  onText?: (delta: string) => void;
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
}

export interface Generation {
  text: string;
  usage: Usage;
  finishReason: "stop" | "length" | "abort";
  /** Set when the text came out of a tool loop: the calls it ran on the way (results record them per item). */
  toolUse?: ToolCallCounts;
}

/** Tool calls behind one answer: all of them, those that failed (unknown tool, bad arguments, refusal), and per tool. */
export interface ToolCallCounts {
  made: number;
  failed: number;
  byTool: Record<string, number>;
}

/** Chat (template applied by the backend) and raw completion. */
export interface ChatModel {
  /** A stable, human-readable id used in results ("local:tiny.gguf+lora:run1"). */
  readonly id: string;
  chat(messages: ChatMessage[], options?: GenerateOptions): Promise<Generation>;
  /** Raw text continuation, no chat template. */
  complete(prompt: string, options?: GenerateOptions): Promise<Generation>;
  dispose?(): Promise<void> | void;
}

export interface ScoreRequest {
  /** Text that conditions the continuation (already templated if a template is wanted). */
  context: string;
  continuation: string;
}

export interface ContinuationScore {
  /** Sum of log-probabilities (natural log) of the continuation's tokens. */
  logprob: number;
  /** Per-token log-probabilities of the continuation. */
  tokenLogprobs: number[];
  /** True if every continuation token was the argmax (lm-evaluation-harness's is_greedy). */
  isGreedy: boolean;
  /** Number of continuation tokens. */
  tokenCount: number;
  /** Number of context tokens the backend evaluated, when it knows (for cost accounting). */
  contextTokenCount?: number;
}

/** Log-likelihood of a continuation given a context. */
export interface TokenScorer {
  readonly id: string;
  score(requests: ScoreRequest[]): Promise<ContinuationScore[]>;
  dispose?(): Promise<void> | void;
}

export interface Embedder {
  readonly id: string;
  readonly dimensions: number;
  embed(texts: string[]): Promise<Float32Array[]>;
  dispose?(): Promise<void> | void;
}
