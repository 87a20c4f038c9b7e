/**
 * The llama-family forward pass as a ggml graph, batched over B sequences of the same length.
 *
 * Dimension letters, used in every shape comment ([ne0, ne1, ...], innermost first):
 *   E embedding length   V vocabulary        F feed-forward length
 *   H query heads        Hkv key/value heads D head size
 *   B sequences          T tokens per sequence
 *   P soft-prompt rows   S = P + T positions per sequence      N = S * B rows in the batch
 */
import { GgmlType, type Context, type Tensor } from "../engine/index.js";
import { EngineError } from "../shared/errors.js";
import type { LlamaModel } from "./loadModel.js";
import type { LoraWeights } from "./lora.js";

export interface ForwardOptions {
  /** B: sequences in the batch. */
  batch: number;
  /** T: real tokens per sequence (after any soft prompt). */
  length: number;
  /** Adapters added to the linears they name (frozen or trainable). */
  lora?: LoraWeights;
  /** F32 [E, P]: P virtual token embeddings prepended to every sequence (trainable or frozen). */
  softPrompt?: Tensor;
  /**
   * I32 [n]: which of the N rows to carry through the last block and the LM head (row = sequence *
   * S + position), as llama.cpp does with inp_out_ids. Defaults to all N rows. Selecting only the
   * rows a loss or score needs saves most of the LM head and the last block's FFN.
   */
  outputRows?: Tensor;
  /** Build the LM head. Defaults to true; false leaves only `hidden`. */
  logits?: boolean;
  /**
   * Per-document attention inside packed sequences: an input mask lets a token attend only to
   * earlier tokens of its own document (and to the soft prompt); writeInputs takes each sequence's
   * segment indices. Defaults to false (causal attention across the whole sequence).
   */
  documentMask?: boolean;
}

export interface ForwardGraph {
  /** I32 [N]: token ids, soft-prompt slots included (their id is ignored). Input. */
  tokens: Tensor;
  /** I32 [N]: position of each row within its sequence, 0..S-1. Input. */
  positions: Tensor;
  /** F32 [1, N]: 0 on soft-prompt rows, 1 elsewhere. Input, only with a soft prompt. */
  promptMask: Tensor | undefined;
  /**
   * F16 [S, S, H*B]: 0 where query row i may attend key row j, -inf elsewhere, repeated for each head
   * of a sequence (heads and sequences share the scores' third dimension, which ggml's mask
   * broadcasting cannot split; a 4-D reshape around the softmax gave wrong gradients). Half the
   * bytes of one attention-scores tensor. Input, only with documentMask.
   */
  attentionMask: Tensor | undefined;
  /** F32 [E, n]: final hidden states after output_norm, of the outputRows only when given (else all N). */
  hidden: Tensor;
  /** F32 [V, n]: logits of the selected rows (all N by default). */
  logits: Tensor | undefined;
  /** S: positions per sequence. */
  sequenceLength: number;
  /**
   * Writes the inputs once the graph is allocated: `tokens` holds B * T ids, sequence after
   * sequence (soft-prompt slots are filled in here); with documentMask, `segments` holds each
   * sequence's segment index per token (B arrays of T; tokens see earlier tokens of their segment).
   */
  writeInputs(tokens: Int32Array, segments?: readonly Int32Array[]): void;
}

/** W x (+ bias) + sum over adapters of scale * B (A x). */
function linear(
  context: Context,
  model: LlamaModel,
  lora: LoraWeights | undefined,
  name: string,
  x: Tensor,
  biasName?: string,
): Tensor {
  let y = context.mulMat(model.weight(name), x);
  for (const pair of lora?.get(name) ?? []) {
    // [r, N] -> [out, N]
    const update = context.mulMat(pair.b, context.mulMat(pair.a, x));
    y = context.add(y, pair.scale === 1 ? update : context.scale(update, pair.scale));
  }
  const bias = biasName ? model.optionalWeight(biasName) : undefined;
  return bias ? context.add(y, bias) : y;
}

/** Builds the forward graph in `context` (no-alloc; a Scheduler allocates it). */
export function buildForward(context: Context, model: LlamaModel, options: ForwardOptions): ForwardGraph {
  const hp = model.hparams;
  const { batch: B, length: T, lora } = options;
  const E = hp.embeddingLength;
  const H = hp.headCount;
  const Hkv = hp.headCountKv;
  const D = hp.headDim;
  const P = options.softPrompt?.shape[1] ?? 0;
  const S = P + T;
  const N = S * B;
  if (!Number.isInteger(B) || B <= 0 || !Number.isInteger(T) || T <= 0)
    throw new EngineError(`batch and length must be positive integers, got ${B} x ${T}`);
  if (lora?.has("token_embd.weight"))
    // llama.cpp applies such an adapter to the input embeddings as well (and, when tied, the output);
    // this graph does not, so refuse rather than differ silently.
    throw new EngineError("LoRA on token_embd.weight is not supported; adapt output.weight or the block linears");
  if (options.softPrompt) {
    const sp = options.softPrompt;
    if (sp.type !== GgmlType.F32 || sp.shape[0] !== E || sp.shape[2] !== 1 || sp.shape[3] !== 1)
      throw new EngineError(`soft prompt must be F32 [${E}, P], got ${sp}`);
  }

  const tokens = context.tensor(GgmlType.I32, [N], "tokens").markInput();
  const positions = context.tensor(GgmlType.I32, [N], "positions").markInput();
  const attentionMask = options.documentMask ? context.tensor(GgmlType.F16, [S, S, H * B], "attention_mask").markInput() : undefined;

  // [E, N]
  let x = context.getRows(model.weight("token_embd.weight"), tokens);
  let promptMask: Tensor | undefined;
  if (options.softPrompt) {
    promptMask = context.tensor(GgmlType.F32, [1, N], "prompt_mask").markInput();
    // [E, N]: soft-prompt slots zeroed
    x = context.mul(x, promptMask);
    // [E, P, B]
    const prompt = context.repeat(options.softPrompt, [E, P, B]);
    // [E, S, B]: the prompt added into rows 0..P-1 of every sequence
    x = context.accumulateLeading(context.reshape(x, [E, S, B]), prompt);
    // [E, N]
    x = context.reshape(x, [E, N]);
  }

  const ropeOptions = {
    dimensions: hp.ropeDimensions,
    mode: hp.architecture.ropeMode,
    freqBase: hp.ropeFreqBase,
    freqScale: hp.ropeFreqScale,
  };
  const scale = 1 / Math.sqrt(D);

  for (let layer = 0; layer < hp.blockCount; layer++) {
    const w = (name: string) => `blk.${layer}.${name}`;

    // ---- attention ----
    // [E, N]
    let h = context.mul(context.rmsNorm(x, hp.rmsEpsilon), model.weight(w("attn_norm.weight")));
    // [D*H, N], [D*Hkv, N], [D*Hkv, N]
    let q = linear(context, model, lora, w("attn_q.weight"), h, w("attn_q.bias"));
    let k = linear(context, model, lora, w("attn_k.weight"), h, w("attn_k.bias"));
    const v = linear(context, model, lora, w("attn_v.weight"), h, w("attn_v.bias"));
    // [D, H, N], [D, Hkv, N]
    q = context.reshape(q, [D, H, N]);
    k = context.reshape(k, [D, Hkv, N]);
    if (hp.architecture.qkNorm) {
      q = context.mul(context.rmsNorm(q, hp.rmsEpsilon), model.weight(w("attn_q_norm.weight")));
      k = context.mul(context.rmsNorm(k, hp.rmsEpsilon), model.weight(w("attn_k_norm.weight")));
    }
    q = context.rope(q, positions, ropeOptions);
    k = context.rope(k, positions, ropeOptions);
    // [D, S, H*B], [D, S, Hkv*B]: heads and sequences share one dimension (index h + H*b), so the
    // broadcast sends query head h of sequence b to key head h / (H/Hkv) of the same sequence. Kept
    // 3-D because ggml's backward of a broadcast mul_mat (GQA) asserts ne[3] == 1. (H3, training)
    const q3 = context.reshape(context.cont(context.permute(context.reshape(q, [D, H, S, B]), [0, 2, 1, 3])), [D, S, H * B]);
    const k3 = context.reshape(context.cont(context.permute(context.reshape(k, [D, Hkv, S, B]), [0, 2, 1, 3])), [D, S, Hkv * B]);
    // [S(keys), S(queries), H*B]
    let scores = context.mulMat(k3, q3);
    scores = attentionMask ? context.softMax(scores, scale, attentionMask) : context.softMax(context.diagMaskInf(scores, 0), scale);
    // [S, D, Hkv*B]
    const vT = context.reshape(context.cont(context.permute(context.reshape(v, [D, Hkv, S, B]), [1, 2, 0, 3])), [S, D, Hkv * B]);
    // [D, S, H, B]
    const attended = context.reshape(context.mulMat(vT, scores), [D, S, H, B]);
    // [D*H, N]
    const merged = context.reshape(context.cont(context.permute(attended, [0, 2, 1, 3])), [D * H, N]);
    // [E, N]
    let attention = linear(context, model, lora, w("attn_output.weight"), merged, w("attn_output.bias"));
    if (layer === hp.blockCount - 1 && options.outputRows) {
      // Last block: only the selected rows go on (llama.cpp's inp_out_ids). [E, n]
      attention = context.getRows(attention, options.outputRows);
      x = context.getRows(x, options.outputRows);
    }
    x = context.add(x, attention);

    // ---- feed-forward (SwiGLU) ----
    // [E, N]
    h = context.mul(context.rmsNorm(x, hp.rmsEpsilon), model.weight(w("ffn_norm.weight")));
    // [F, N]
    const gate = linear(context, model, lora, w("ffn_gate.weight"), h, w("ffn_gate.bias"));
    const up = linear(context, model, lora, w("ffn_up.weight"), h, w("ffn_up.bias"));
    // [E, N]
    const down = linear(context, model, lora, w("ffn_down.weight"), context.swiglu(gate, up), w("ffn_down.bias"));
    x = context.add(x, down);
  }

  // [E, n] (n = N without outputRows)
  const hidden = context.mul(context.rmsNorm(x, hp.rmsEpsilon), model.weight("output_norm.weight"));
  let logits: Tensor | undefined;
  if (options.logits ?? true) {
    // [V, n]
    logits = linear(context, model, lora, model.outputWeightName, hidden, "output.bias");
    logits.setName("logits").markOutput();
  }

  function writeInputs(ids: Int32Array, segments?: readonly Int32Array[]): void {
    if (ids.length !== B * T) throw new EngineError(`expected ${B} x ${T} = ${B * T} token ids, got ${ids.length}`);
    const vocab = hp.vocabSize;
    const rows = new Int32Array(N);
    const position = new Int32Array(N);
    for (let s = 0; s < B; s++)
      for (let i = 0; i < S; i++) {
        position[s * S + i] = i;
        if (i >= P) {
          const id = ids[s * T + (i - P)]!;
          if (!Number.isInteger(id) || id < 0 || id >= vocab)
            throw new EngineError(`token id ${id} is outside the vocabulary (0..${vocab - 1})`);
          rows[s * S + i] = id;
        }
      }
    tokens.write(rows);
    positions.write(position);
    if (promptMask) {
      const mask = new Float32Array(N);
      for (let s = 0; s < B; s++) mask.fill(1, s * S + P, (s + 1) * S);
      promptMask.write(mask);
    }
    if (attentionMask) {
      if (!segments || segments.length !== B || segments.some((segment) => segment.length !== T))
        throw new EngineError(`documentMask needs ${B} segment arrays of ${T} entries`);
      // row i (query) of sequence b: keys j <= i of the soft prompt or of i's own document; f16 bits
      const negativeInfinity = 0xfc00;
      const mask = new Uint16Array(S * S * H * B).fill(negativeInfinity);
      for (let b = 0; b < B; b++) {
        const segment = segments[b]!;
        const pattern = mask.subarray(b * H * S * S, (b * H + 1) * S * S);
        for (let i = 0; i < S; i++)
          for (let j = 0; j <= i; j++) if (j < P || segment[i - P] === segment[j - P]) pattern[i * S + j] = 0;
        // slice h + H*b of the scores belongs to head h of sequence b
        for (let h = 1; h < H; h++) mask.copyWithin((b * H + h) * S * S, b * H * S * S, (b * H + 1) * S * S);
      }
      attentionMask.write(mask);
    }
  }

  return { tokens, positions, promptMask, attentionMask, hidden, logits, sequenceLength: S, writeInputs };
}
