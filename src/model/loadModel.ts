/**
 * Loads a llama-family GGUF into backend memory: one context for the weight headers, one backend
 * buffer for their data, every tensor checked against the hyperparameters first.
 */
import { readGguf, type GgufFile } from "../engine/gguf/index.js";
import { Backend, BackendBuffer, Context, GgmlType, typeName, type Tensor } from "../engine/index.js";
import { DisposedError, ModelError } from "../shared/errors.js";
import { expectedTensors, readHyperparameters, type ModelHyperparameters } from "./hyperparameters.js";

export interface LoadModelOptions {
  /** Where the weights live and graphs run. */
  backend: Backend;
}

function pad(shape: readonly number[]): number[] {
  return [0, 1, 2, 3].map((i) => shape[i] ?? 1);
}

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

const integerTypes = new Set([GgmlType.I8, GgmlType.I16, GgmlType.I32, GgmlType.I64, GgmlType.F64]);

/** Tensors that change the math in ways this graph does not implement. */
const unsupportedTensors = new Map([
  ["rope_freqs.weight", "Llama 3.1 RoPE frequency factors"],
  ["rope_factors_long.weight", "LongRoPE frequency factors"],
  ["blk.0.attn_qkv.weight", "fused QKV projections"],
  ["blk.0.ffn_gate_inp.weight", "mixture-of-experts layers"],
]);

/** Checks that every tensor the hyperparameters imply is present with the right shape and a usable type. */
export function validateModelTensors(file: GgufFile, hp: ModelHyperparameters): void {
  for (const [name, what] of unsupportedTensors)
    if (file.tensor(name)) throw new ModelError(`tensor ${name}: ${what} are not supported`, { where: file.path });
  for (const expected of expectedTensors(hp)) {
    const info = file.tensor(expected.name);
    if (!info) {
      if (expected.required)
        throw new ModelError(`tensor ${expected.name} is missing (expected ${formatShape(expected.shape)})`, { where: file.path });
      continue;
    }
    const actual = pad(info.shape);
    const want = pad(expected.shape);
    if (actual.some((n, i) => n !== want[i]))
      throw new ModelError(
        `tensor ${expected.name} has shape ${formatShape(info.shape)}, expected ${formatShape(expected.shape)} from the hyperparameters`,
        { where: file.path, hint: "the file's metadata and tensors disagree; re-export the model" },
      );
    const isVector = expected.shape.length === 1;
    if (isVector && info.type !== GgmlType.F32)
      throw new ModelError(`tensor ${expected.name} is ${typeName(info.type)}; norms and biases must be f32`, { where: file.path });
    if (integerTypes.has(info.type))
      throw new ModelError(`tensor ${expected.name} is ${typeName(info.type)}; weights must be float or quantised`, { where: file.path });
  }
}

/** A llama-family model whose weights sit in a backend buffer. */
export class LlamaModel implements Disposable {
  private readonly weights = new Map<string, Tensor>();
  private context: Context | undefined;
  private buffer: BackendBuffer | undefined;

  constructor(
    readonly path: string,
    readonly file: GgufFile,
    readonly hparams: ModelHyperparameters,
    readonly backend: Backend,
  ) {
    validateModelTensors(file, hparams);
    const names = expectedTensors(hparams)
      .map((tensor) => tensor.name)
      .filter((name) => file.tensor(name));
    const context = new Context({ maxTensors: names.length + 1 });
    try {
      for (const name of names) {
        const info = file.tensor(name)!;
        this.weights.set(name, context.tensor(info.type, info.shape, name));
      }
      this.buffer = backend.allocate(context);
      this.buffer.markWeights();
      for (const [name, tensor] of this.weights) tensor.write(file.tensorData(name));
    } catch (error) {
      this.buffer?.dispose();
      context.dispose();
      throw error;
    }
    this.context = context;
  }

  get architecture() {
    return this.hparams.architecture;
  }

  /** The weight called `name` (GGUF name, e.g. "blk.0.attn_q.weight"); ModelError when absent. */
  weight(name: string): Tensor {
    const tensor = this.optionalWeight(name);
    if (!tensor) throw new ModelError(`tensor ${name} is missing`, { where: this.path });
    return tensor;
  }

  optionalWeight(name: string): Tensor | undefined {
    if (!this.context) throw new DisposedError(`model ${this.path} was disposed`);
    return this.weights.get(name);
  }

  /** Names of the weights loaded, in file order of expectation. */
  weightNames(): string[] {
    return [...this.weights.keys()];
  }

  /** The output projection: output.weight, or token_embd.weight when tied. */
  get outputWeightName(): string {
    return this.weights.has("output.weight") ? "output.weight" : "token_embd.weight";
  }

  get disposed(): boolean {
    return this.context === undefined;
  }

  dispose(): void {
    this.buffer?.dispose();
    this.context?.dispose();
    this.buffer = undefined;
    this.context = undefined;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** Reads `path`, checks it and uploads its weights to `backend`. */
export function loadModel(path: string, options: LoadModelOptions): LlamaModel {
  const file = readGguf(path);
  const hparams = readHyperparameters(file);
  return new LlamaModel(path, file, hparams, options.backend);
}
