import { RopeMode } from "../../engine/index.js";
import type { Architecture } from "./architecture.js";

/** Llama 1/2/3: RoPE on adjacent pairs, no biases, no Q/K norms. (Llama 3.1 rope_freqs are not supported.) */
export const llama: Architecture = {
  name: "llama",
  ropeMode: RopeMode.Normal,
  qkNorm: false,
  qkvBias: false,
  explicitHeadDim: false,
};
