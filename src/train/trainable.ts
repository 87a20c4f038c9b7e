/**
 * The set of tensors a run trains, created on the model's backend: LoRA pairs on chosen linear
 * modules (A kaiming-uniform as PEFT, B zero), whole weights (full fine-tuning or a subset of
 * layers/modules, which must be f32 in the GGUF), or a soft prompt (virtual token embeddings
 * initialised from random vocabulary rows). Everything else stays frozen.
 */
import { Context, GgmlType, type Backend, type BackendBuffer, type Tensor } from "../engine/index.js";
import { toF32 } from "../engine/gguf/index.js";
import { ConfigError } from "../shared/errors.js";
import { targetByShort, type TargetName } from "../model/loraTargets.js";
import type { LlamaModel } from "../model/loadModel.js";
import type { LoraPair } from "../model/lora.js";
import { Random } from "./random.js";

export interface TrainableParameter {
  /** Stable name used in checkpoints: the GGUF tensor name, `<base>.lora_a|lora_b`, or `soft_prompt`. */
  name: string;
  tensor: Tensor;
  /** Whether AdamW weight decay applies (not to norm gains and the soft prompt). */
  decay: boolean;
}

export interface TrainableSetOptions {
  method: "lora" | "full" | "subset" | "soft-prompt";
  lora: { rank: number; alpha: number; targets: TargetName[]; layers?: number[] | undefined };
  subset: { targets: TargetName[]; layers?: number[] | undefined };
  softPrompt: { tokens: number };
  seed: number;
}

/** Trainable tensors plus what the forward graph needs to use them. */
export class TrainableSet implements Disposable {
  readonly parameters: TrainableParameter[] = [];
  /** Adapters by base tensor name, for buildForward. */
  readonly lora = new Map<string, LoraPair[]>();
  softPrompt: Tensor | undefined;
  /** LoRA rank and alpha when method is lora. */
  loraRank = 0;
  loraAlpha = 0;
  private context: Context | undefined;
  private buffer: BackendBuffer | undefined;

  private constructor(readonly method: TrainableSetOptions["method"]) {}

  static create(model: LlamaModel, backend: Backend, options: TrainableSetOptions): TrainableSet {
    const set = new TrainableSet(options.method);
    const hp = model.hparams;
    const checkLayers = (layers: number[] | undefined, field: string) => {
      for (const layer of layers ?? []) {
        if (layer >= hp.blockCount) {
          throw new ConfigError(`layer ${layer} does not exist; the model has ${hp.blockCount} blocks (0..${hp.blockCount - 1})`, {
            where: field,
          });
        }
      }
      return layers ?? Array.from({ length: hp.blockCount }, (_, index) => index);
    };

    if (options.method === "lora") {
      const { rank, alpha, targets } = options.lora;
      const layers = checkLayers(options.lora.layers, "lora.layers");
      const context = new Context({ maxTensors: layers.length * targets.length * 2 + 8 });
      const initial = new Map<Tensor, Float32Array>();
      for (const layer of layers) {
        for (const target of targets) {
          const base = `blk.${layer}.${targetByShort(target).gguf}.weight`;
          const weight = model.weight(base);
          const [inFeatures, outFeatures] = [weight.shape[0], weight.shape[1]];
          const a = context.tensor(GgmlType.F32, [inFeatures, rank], `${base}.lora_a`.slice(0, 63));
          const b = context.tensor(GgmlType.F32, [rank, outFeatures], `${base}.lora_b`.slice(0, 63));
          // PEFT: nn.init.kaiming_uniform_(A, a=sqrt(5)) -> U(-1/sqrt(in), 1/sqrt(in)); B = 0.
          const bound = 1 / Math.sqrt(inFeatures);
          const random = Random.derive(options.seed, `lora:${base}`);
          initial.set(a, Float32Array.from({ length: inFeatures * rank }, () => random.uniform(-bound, bound)));
          initial.set(b, new Float32Array(rank * outFeatures));
          a.markParameter();
          b.markParameter();
          set.parameters.push({ name: `${base}.lora_a`, tensor: a, decay: true }, { name: `${base}.lora_b`, tensor: b, decay: true });
          set.lora.set(base, [{ a, b, scale: alpha / rank }]);
        }
      }
      set.loraRank = rank;
      set.loraAlpha = alpha;
      set.own(context, backend, initial);
      return set;
    }

    if (options.method === "soft-prompt") {
      const { tokens } = options.softPrompt;
      const context = new Context({ maxTensors: 4 });
      const prompt = context.tensor(GgmlType.F32, [hp.embeddingLength, tokens], "soft_prompt");
      prompt.markParameter();
      // Start from the embeddings of random vocabulary tokens (a common prompt-tuning init): the
      // virtual tokens begin inside the distribution the model has seen.
      const embeddings = model.weight("token_embd.weight");
      const rowBytes = embeddings.bytes / embeddings.shape[1];
      const random = Random.derive(options.seed, "soft_prompt");
      const values = new Float32Array(hp.embeddingLength * tokens);
      for (let t = 0; t < tokens; t++) {
        const row = random.int(hp.vocabSize);
        values.set(toF32(embeddings.type, embeddings.readBytes(row * rowBytes, rowBytes)), t * hp.embeddingLength);
      }
      set.parameters.push({ name: "soft_prompt", tensor: prompt, decay: false });
      set.softPrompt = prompt;
      set.own(context, backend, new Map([[prompt, values]]));
      return set;
    }

    // full / subset: the model's own weights become parameters; they must be f32 to be updated.
    const names: string[] = [];
    if (options.method === "full") {
      names.push(...model.weightNames());
    } else {
      const layers = checkLayers(options.subset.layers, "subset.layers");
      for (const layer of layers)
        for (const target of options.subset.targets) names.push(`blk.${layer}.${targetByShort(target).gguf}.weight`);
    }
    for (const name of names) {
      const tensor = model.weight(name);
      if (tensor.type !== GgmlType.F32) {
        throw new ConfigError(`${options.method} fine-tuning updates ${name}, which is stored as ${GgmlType[tensor.type]}`, {
          where: "method",
          hint: "use an f32 GGUF for full/subset fine-tuning (or train LoRA on the quantised model)",
        });
      }
      tensor.markParameter();
      set.parameters.push({ name, tensor, decay: tensor.shape[1] > 1 });
    }
    return set;
  }

  private own(context: Context, backend: Backend, initial: Map<Tensor, Float32Array>): void {
    this.context = context;
    this.buffer = backend.allocate(context);
    for (const [tensor, values] of initial) tensor.write(values);
  }

  /** Total trainable values. */
  get size(): number {
    return this.parameters.reduce((sum, parameter) => sum + parameter.tensor.elements, 0);
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
