/**
 * Sentence embeddings from the final hidden states, as llama.cpp's embedding context computes them
 * (src/llama-graph.cpp, build_pooling): the states pooled are `t_embd`, the output of output_norm
 * (llm_build_llama: `res->t_embd = cur` right after the final RMS norm, before the LM head), and
 * - mean (`<arch>.pooling_type` = 1): ggml_mul_mat(cont(transpose(hidden)), inp_mean), where
 *   inp_mean holds 1/length for each token of a sequence;
 * - last (`<arch>.pooling_type` = 3): get_rows(hidden, inp_cls), the row of each sequence's last token.
 * llama.cpp does not normalise (node-llama-cpp returns the pooled vector as it is); the bi-encoder here
 * L2-normalises after pooling, which changes no cosine similarity.
 *
 * Dimension letters: E embedding length, N rows of the hidden states, C sequences pooled.
 */
import { GgmlType, type Context, type Tensor } from "../engine/index.js";
import { EngineError } from "../shared/errors.js";

export type Pooling = "mean" | "last";
export const POOLINGS: readonly Pooling[] = ["mean", "last"];

/** llama.cpp's enum llama_pooling_type values, stored as `<arch>.pooling_type` (uint32). */
export const LLAMA_POOLING_TYPE: Readonly<Record<Pooling, number>> = { mean: 1, last: 3 };

/** The pooling a GGUF's `<arch>.pooling_type` names; undefined when absent or not one we compute. */
export function poolingFromType(value: number | undefined): Pooling | undefined {
  return POOLINGS.find((pooling) => LLAMA_POOLING_TYPE[pooling] === value);
}

/**
 * Below this squared norm a vector is left as it is (a zero vector stays zero); llama.cpp's
 * common_embd_normalize does the same with 0.
 */
const NORM_EPSILON = 1e-12;

export interface PoolingGraph {
  /** F32 [E, C]: one embedding per sequence, unit length. */
  embeddings: Tensor;
  /** Writes the pooling input for `lengths` (real tokens of each of the C sequences, each of `stride` rows). */
  writeInputs(lengths: readonly number[]): void;
}

/**
 * Pools C sequences laid out one after another in `hidden` ([E, N], N = C * stride rows; rows past a
 * sequence's length are padding and get no weight), then L2-normalises each column.
 */
export function poolEmbeddings(context: Context, hidden: Tensor, pooling: Pooling, sequences: number, stride: number): PoolingGraph {
  const [E, N] = hidden.shape;
  const C = sequences;
  if (N !== C * stride) throw new EngineError(`pooling ${C} sequences of ${stride} rows needs ${C * stride} hidden rows, got ${N}`);
  let pooled: Tensor;
  let write: (lengths: readonly number[]) => void;
  if (pooling === "mean") {
    // [N, C]: 1/length on the rows of each sequence's real tokens
    const weights = context.tensor(GgmlType.F32, [N, C], "pool_mean").markInput();
    // [E, E]: the identity. hidden^T as mul_mat(hidden, I) instead of cont(transpose(hidden)): ggml's
    // backward of transpose hands on a transposed (non-contiguous) gradient, which the output norm's
    // mul backward then aborts on (binary-ops: nb00 == sizeof). Multiplying by 1 and adding zeros is
    // exact, so the values are llama.cpp's; the cost is E*E*N multiply-adds, small beside one block.
    const identity = context.tensor(GgmlType.F32, [E, E], "pool_identity").markInput();
    const identityValues = new Float32Array(E * E);
    for (let e = 0; e < E; e++) identityValues[e * E + e] = 1;
    // [N, E]
    const transposed = context.mulMat(hidden, identity);
    // [E, C] = hidden^T weights
    pooled = context.mulMat(transposed, weights);
    write = (lengths) => {
      const values = new Float32Array(N * C);
      lengths.forEach((length, c) => values.fill(1 / length, c * N + c * stride, c * N + c * stride + length));
      weights.write(values);
      identity.write(identityValues);
    };
  } else {
    // [C]: the row of each sequence's last real token
    const rows = context.tensor(GgmlType.I32, [C], "pool_last").markInput();
    // [E, C]
    pooled = context.getRows(hidden, rows);
    write = (lengths) => rows.write(Int32Array.from(lengths, (length, c) => c * stride + length - 1));
  }
  // [E, C]: x / ||x|| = rms_norm(x) / sqrt(E), whose backward ggml has
  const embeddings = context.scale(context.rmsNorm(pooled, NORM_EPSILON / E), 1 / Math.sqrt(E));
  return {
    embeddings,
    writeInputs(lengths) {
      if (lengths.length !== C) throw new EngineError(`pooling takes ${C} sequence lengths, got ${lengths.length}`);
      for (const length of lengths)
        if (!Number.isInteger(length) || length < 1 || length > stride) throw new EngineError(`a pooled sequence length must be 1..${stride}, got ${length}`);
      write(lengths);
    },
  };
}
