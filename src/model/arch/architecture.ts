/**
 * What distinguishes one llama-family architecture from another in the graph. Each architecture is
 * a small file registered in arch/index.ts; the graph (forward.ts) reads these flags.
 */
import { RopeMode } from "../../engine/index.js";

export interface Architecture {
  /** general.architecture in GGUF, and the prefix of its hyperparameter keys ("qwen3.block_count"). */
  readonly name: string;
  /** llama.cpp's rope type for the architecture (llama_model_rope_type). */
  readonly ropeMode: RopeMode;
  /** RMSNorm of each head of Q and K before RoPE (attn_q_norm / attn_k_norm), Qwen3. */
  readonly qkNorm: boolean;
  /** Whether `vertical model init` writes Q/K/V biases (Qwen2 checkpoints have them). Loading accepts them anyway. */
  readonly qkvBias: boolean;
  /** Head size may differ from embedding/heads and is read from `<arch>.attention.key_length` (Qwen3). */
  readonly explicitHeadDim: boolean;
}
