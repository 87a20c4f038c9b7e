/**
 * The linear modules that training can target, under the three names people use for them: the
 * short name (`q`), the Hugging Face module name (`q_proj`) and the GGUF tensor name (`attn_q`).
 * One table, so the config, the graph and both exports agree.
 */
export interface TargetModule {
  /** Short name used in configs and flags. */
  short: "q" | "k" | "v" | "o" | "gate" | "up" | "down";
  /** GGUF tensor stem inside a block: `blk.{i}.<gguf>.weight`. */
  gguf: string;
  /** Hugging Face module path inside a decoder layer: `model.layers.{i}.<hf>`. */
  hf: string;
}

export const TARGET_MODULES: readonly TargetModule[] = [
  { short: "q", gguf: "attn_q", hf: "self_attn.q_proj" },
  { short: "k", gguf: "attn_k", hf: "self_attn.k_proj" },
  { short: "v", gguf: "attn_v", hf: "self_attn.v_proj" },
  { short: "o", gguf: "attn_output", hf: "self_attn.o_proj" },
  { short: "gate", gguf: "ffn_gate", hf: "mlp.gate_proj" },
  { short: "up", gguf: "ffn_up", hf: "mlp.up_proj" },
  { short: "down", gguf: "ffn_down", hf: "mlp.down_proj" },
];

export type TargetName = TargetModule["short"];

export const ALL_TARGETS: readonly TargetName[] = TARGET_MODULES.map((module) => module.short);

/** The module for any of its names (`q`, `q_proj`, `self_attn.q_proj`, `attn_q`), or undefined. */
export function resolveTargetModule(name: string): TargetModule | undefined {
  const lowered = name.trim().toLowerCase();
  return TARGET_MODULES.find(
    (module) =>
      module.short === lowered ||
      module.gguf === lowered ||
      module.hf === lowered ||
      module.hf.split(".")[1] === lowered,
  );
}

export function targetByShort(short: TargetName): TargetModule {
  const module = TARGET_MODULES.find((candidate) => candidate.short === short);
  if (!module) throw new Error(`unknown target ${short}`);
  return module;
}
