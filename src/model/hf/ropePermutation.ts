/**
 * llama.cpp's `llama` graph rotates adjacent pairs (RoPE "normal"); Hugging Face's Llama rotates the
 * two halves of each head (`rotate_half`). convert_hf_to_gguf.py therefore reorders the rows of
 * q_proj and k_proj (weights and biases) for the llama architecture — `LlamaModel.permute`:
 *
 *     weights.reshape(n_head, 2, rows // n_head // 2, *rest).swapaxes(1, 2).reshape(weights.shape)
 *
 * applied with n_head for q and n_head_kv for k. Qwen2/Qwen3 use NeoX RoPE and are not permuted.
 * With head size d and half = d / 2: GGUF row h*d + 2j + i holds Hugging Face row h*d + i*half + j.
 */

/** Architectures whose GGUF q/k rows convert_hf_to_gguf permuted. */
export const PERMUTED_ARCHITECTURES: ReadonlySet<string> = new Set(["llama"]);

function moveRows(values: Float32Array, rows: number, columns: number, heads: number, toGguf: boolean): Float32Array {
  const headDim = rows / heads;
  const half = headDim / 2;
  const out = new Float32Array(values.length);
  for (let h = 0; h < heads; h++) {
    for (let j = 0; j < half; j++) {
      for (let i = 0; i < 2; i++) {
        const ggufRow = h * headDim + 2 * j + i;
        const hfRow = h * headDim + i * half + j;
        const [from, to] = toGguf ? [hfRow, ggufRow] : [ggufRow, hfRow];
        out.set(values.subarray(from * columns, (from + 1) * columns), to * columns);
      }
    }
  }
  return out;
}

/** Undoes `LlamaModel.permute` on the rows of a row-major [rows, columns] matrix (a bias: columns = 1). */
export function unpermuteRows(values: Float32Array, rows: number, columns: number, heads: number): Float32Array {
  return moveRows(values, rows, columns, heads, false);
}

/** `LlamaModel.permute` itself: Hugging Face row order to GGUF row order. */
export function permuteRows(values: Float32Array, rows: number, columns: number, heads: number): Float32Array {
  return moveRows(values, rows, columns, heads, true);
}
