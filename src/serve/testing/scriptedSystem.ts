/**
 * A ServedSystem without a model, for the server's own tests: it "generates" the words of a fixed
 * answer one at a time, `msPerToken` apart, honours the abort signal like node-llama-cpp does
 * (stops, finish reason "abort") and records how many tokens each call produced — so a test can see
 * that a disconnect really stopped the work.
 */
import { systemSchema } from "../../eval/spec.js";
import type { ChatMessage, GenerateOptions, Generation } from "../../llm/types.js";
import { RequestQueue } from "../requestQueue.js";
import type { ServedAnswer, ServedSystem } from "../servedSystem.js";

export interface ScriptedSystemOptions {
  name?: string;
  answer?: string;
  msPerToken?: number;
  maxWaiting?: number;
}

export class ScriptedSystem implements ServedSystem {
  readonly name: string;
  readonly spec;
  readonly queue: RequestQueue;
  readonly contextSize = 512;
  /** Tokens produced by each call, in call order. */
  readonly producedTokens: number[] = [];
  disposed = false;
  private readonly words: string[];
  private readonly msPerToken: number;

  constructor(options: ScriptedSystemOptions = {}) {
    this.name = options.name ?? "scripted";
    this.spec = systemSchema.parse({ name: this.name, backend: "llama-cpp", model: "/nowhere.gguf" });
    this.queue = new RequestQueue({ name: this.name, ...(options.maxWaiting !== undefined ? { maxWaiting: options.maxWaiting } : {}) });
    this.words = (options.answer ?? "The harbour fee is twelve yuan.").split(/(?<= )/);
    this.msPerToken = options.msPerToken ?? 0;
  }

  private async generate(prompt: string, options: GenerateOptions): Promise<Generation> {
    const limit = Math.min(options.maxTokens ?? 256, this.words.length);
    let text = "";
    let produced = 0;
    let finishReason: Generation["finishReason"] = limit < this.words.length ? "length" : "stop";
    for (; produced < limit; produced++) {
      if (options.signal?.aborted) {
        finishReason = "abort";
        break;
      }
      if (this.msPerToken > 0) await new Promise((resolve) => setTimeout(resolve, this.msPerToken));
      text += this.words[produced];
      options.onText?.(this.words[produced]!);
    }
    this.producedTokens.push(produced);
    return { text, usage: { promptTokens: prompt.split(" ").length, completionTokens: produced }, finishReason };
  }

  async chat(messages: ChatMessage[], options: GenerateOptions): Promise<ServedAnswer> {
    const generation = await this.generate(messages.map((message) => message.content).join(" "), options);
    return { ...generation, passages: [], citedSources: [] };
  }

  complete(prompt: string, options: GenerateOptions): Promise<Generation> {
    return this.generate(prompt, options);
  }

  async embed(texts: string[]): Promise<{ vectors: Float32Array[]; tokens: number }> {
    return { vectors: texts.map((text) => Float32Array.from([text.length, 1, 0.5])), tokens: texts.length };
  }

  async dispose(): Promise<void> {
    this.disposed = true;
  }
}
