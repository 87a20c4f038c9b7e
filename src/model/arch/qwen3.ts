import { RopeMode } from "../../engine/index.js";
import type { Architecture } from "./architecture.js";

/** Qwen3 (dense): NeoX RoPE, RMSNorm on each Q and K head, head size from attention.key_length. */
export const qwen3: Architecture = {
  name: "qwen3",
  ropeMode: RopeMode.Neox,
  qkNorm: true,
  qkvBias: false,
  explicitHeadDim: true,
};
