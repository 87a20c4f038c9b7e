import type { Command } from "commander";
import * as modelInit from "./modelInit.js";
import * as modelLogprobs from "./modelLogprobs.js";
import * as modelPerplexity from "./modelPerplexity.js";

export interface CommandModule {
  register(program: Command): void;
}

/** Every CLI command group, in the order `vertical --help` lists them. */
export const commandModules: CommandModule[] = [modelInit, modelPerplexity, modelLogprobs];
