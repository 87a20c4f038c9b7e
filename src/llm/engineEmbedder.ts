/**
 * Text embeddings on Vertical's own engine (src/model on ggml), computed as llama.cpp's embedding
 * context computes them for the same GGUF: the tokens node-llama-cpp evaluates (embeddingTokens), the
 * final-norm hidden states pooled as the file's `<arch>.pooling_type` says (mean or last token; a file
 * without one gets llama.cpp's NONE behaviour, the last token's state). Vectors are L2-normalised
 * (node-llama-cpp's are not; cosine similarities are the same). Texts are batched by length, so one
 * compiled graph serves many texts.
 */
import path from "node:path";
import { settings } from "../config.js";
import { Backend } from "../engine/index.js";
import { EmbeddingEvaluator, loadModel, poolingFromType, type LlamaModel, type Pooling } from "../model/index.js";
import { DisposedError, InputError } from "../shared/errors.js";
import { embeddingTokens, tokenizerFromGguf, type Tokenizer } from "../tokenizer/index.js";
import type { Embedder } from "./types.js";

export interface EngineEmbedderOptions {
  modelPath: string;
  /** ggml threads. Defaults to settings().threads. */
  threads?: number;
  /** Defaults to the GGUF's `<arch>.pooling_type`, or "last" when it has none (what llama.cpp then returns). */
  pooling?: Pooling;
  /** Longest text in tokens. Defaults to the model's context length. */
  maxTokens?: number;
}

/** Sequence lengths are rounded up to this, so texts of similar length share one compiled graph. */
const LENGTH_BUCKET = 32;
/** Texts embedded in one pass. */
const BATCH = 8;

export class EngineEmbedder implements Embedder {
  readonly id: string;
  readonly dimensions: number;
  readonly pooling: Pooling;
  private readonly evaluators = new Map<number, EmbeddingEvaluator>();
  private readonly addEos: boolean;
  private readonly maxTokens: number;
  private disposed = false;

  private constructor(
    private readonly backend: Backend,
    private readonly model: LlamaModel,
    private readonly tokenizer: Tokenizer,
    options: EngineEmbedderOptions,
  ) {
    this.id = `engine-embed:${path.basename(options.modelPath)}`;
    this.dimensions = model.hparams.embeddingLength;
    const stored = model.file.getNumber(`${model.hparams.architecture.name}.pooling_type`);
    this.pooling = options.pooling ?? poolingFromType(stored) ?? "last";
    this.addEos = model.file.getBool("tokenizer.ggml.add_eos_token") ?? false;
    this.maxTokens = options.maxTokens ?? model.hparams.contextLength;
  }

  static async load(options: EngineEmbedderOptions): Promise<EngineEmbedder> {
    const backend = Backend.create({ threads: options.threads ?? settings().threads });
    let model: LlamaModel | undefined;
    try {
      model = loadModel(options.modelPath, { backend });
      return new EngineEmbedder(backend, model, tokenizerFromGguf(model.file), options);
    } catch (error) {
      model?.dispose();
      backend.dispose();
      throw error;
    }
  }

  /** The token ids embedded for `text`. */
  tokensOf(text: string): number[] {
    return embeddingTokens(this.tokenizer, text, this.addEos);
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    if (this.disposed) throw new DisposedError("the engine embedder was disposed", { where: this.id });
    const encoded = texts.map((text, index) => {
      const tokens = this.tokensOf(text);
      if (tokens.length === 0) throw new InputError(`text ${index + 1} has no tokens to embed`, { where: this.id });
      if (tokens.length > this.maxTokens)
        throw new InputError(`text ${index + 1} is ${tokens.length} tokens; the embedder takes ${this.maxTokens}`, { where: this.id, hint: "chunk long documents before embedding them" });
      return { index, tokens, bucket: Math.min(this.maxTokens, Math.ceil(tokens.length / LENGTH_BUCKET) * LENGTH_BUCKET) };
    });
    const vectors = new Array<Float32Array>(texts.length);
    const byBucket = new Map<number, typeof encoded>();
    for (const entry of encoded) byBucket.set(entry.bucket, [...(byBucket.get(entry.bucket) ?? []), entry]);
    for (const [length, entries] of byBucket) {
      const evaluator = this.evaluatorFor(length);
      for (let start = 0; start < entries.length; start += BATCH) {
        const slice = entries.slice(start, start + BATCH);
        evaluator.embed(slice.map((entry) => entry.tokens)).forEach((vector, i) => (vectors[slice[i]!.index] = vector));
        // let the event loop breathe between passes (progress, signals)
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    return vectors;
  }

  private evaluatorFor(length: number): EmbeddingEvaluator {
    let evaluator = this.evaluators.get(length);
    if (!evaluator) {
      evaluator = new EmbeddingEvaluator(this.model, { batch: BATCH, length, pooling: this.pooling });
      this.evaluators.set(length, evaluator);
    }
    return evaluator;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const evaluator of this.evaluators.values()) evaluator.dispose();
    this.model.dispose();
    this.backend.dispose();
  }
}
