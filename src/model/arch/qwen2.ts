import { RopeMode } from "../../engine/index.js";
import type { Architecture } from "./architecture.js";

/** Qwen2 / Qwen2.5: NeoX RoPE, biases on Q, K and V. */
export const qwen2: Architecture = {
  name: "qwen2",
  ropeMode: RopeMode.Neox,
  qkNorm: false,
  qkvBias: true,
  explicitHeadDim: false,
};
