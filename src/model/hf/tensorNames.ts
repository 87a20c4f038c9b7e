/**
 * GGUF tensor names <-> Hugging Face state-dict names for LlamaForCausalLM, Qwen2ForCausalLM and
 * Qwen3ForCausalLM. The Hugging Face side is the module tree of transformers'
 * models/llama/modeling_llama.py (LlamaForCausalLM: `model.embed_tokens`, `model.layers.N.
 * {input_layernorm, self_attn.{q,k,v,o}_proj, post_attention_layernorm, mlp.{gate,up,down}_proj}`,
 * `model.norm`, `lm_head`), qwen2/modeling_qwen2.py (the same tree) and qwen3/modeling_qwen3.py (plus
 * `self_attn.q_norm` / `self_attn.k_norm`); the GGUF side is gguf-py's tensor_mapping.py as
 * convert_hf_to_gguf.py applies it (MODEL_TENSOR.ATTN_Q -> "blk.{bid}.attn_q", …).
 */

/** Per-block GGUF stem -> module path inside `model.layers.N`. */
const BLOCK_MODULES: readonly (readonly [string, string])[] = [
  ["attn_norm", "input_layernorm"],
  ["attn_q", "self_attn.q_proj"],
  ["attn_k", "self_attn.k_proj"],
  ["attn_v", "self_attn.v_proj"],
  ["attn_output", "self_attn.o_proj"],
  ["attn_q_norm", "self_attn.q_norm"],
  ["attn_k_norm", "self_attn.k_norm"],
  ["ffn_norm", "post_attention_layernorm"],
  ["ffn_gate", "mlp.gate_proj"],
  ["ffn_up", "mlp.up_proj"],
  ["ffn_down", "mlp.down_proj"],
];

const GLOBAL_MODULES: readonly (readonly [string, string])[] = [
  ["token_embd", "model.embed_tokens"],
  ["output_norm", "model.norm"],
  ["output", "lm_head"],
];

const hfByGgufStem = new Map(BLOCK_MODULES);
const ggufByHfModule = new Map(BLOCK_MODULES.map(([gguf, hf]) => [hf, gguf]));
const hfGlobal = new Map(GLOBAL_MODULES);
const ggufGlobal = new Map(GLOBAL_MODULES.map(([gguf, hf]) => [hf, gguf]));

/** `blk.3.attn_q.weight` -> `model.layers.3.self_attn.q_proj.weight`; undefined for a name with no HF counterpart. */
export function huggingFaceTensorName(ggufName: string): string | undefined {
  const block = /^blk\.(\d+)\.([a-z_]+)\.(weight|bias)$/.exec(ggufName);
  if (block) {
    const module = hfByGgufStem.get(block[2]!);
    return module === undefined ? undefined : `model.layers.${block[1]}.${module}.${block[3]}`;
  }
  const global = /^([a-z_]+)\.(weight|bias)$/.exec(ggufName);
  const module = global ? hfGlobal.get(global[1]!) : undefined;
  return module === undefined ? undefined : `${module}.${global![2]}`;
}

/** The inverse of huggingFaceTensorName. */
export function ggufTensorName(huggingFaceName: string): string | undefined {
  const block = /^model\.layers\.(\d+)\.(.+)\.(weight|bias)$/.exec(huggingFaceName);
  if (block) {
    const stem = ggufByHfModule.get(block[2]!);
    return stem === undefined ? undefined : `blk.${block[1]}.${stem}.${block[3]}`;
  }
  const global = /^(.+)\.(weight|bias)$/.exec(huggingFaceName);
  const stem = global ? ggufGlobal.get(global[1]!) : undefined;
  return stem === undefined ? undefined : `${stem}.${global![2]}`;
}

/** Which q/k rows are permuted for llama, and with how many heads: "q" -> H, "k" -> Hkv. */
export function permutedProjection(ggufName: string): "q" | "k" | undefined {
  const match = /^blk\.\d+\.attn_([qk])\.(weight|bias)$/.exec(ggufName);
  return match ? (match[1] as "q" | "k") : undefined;
}
