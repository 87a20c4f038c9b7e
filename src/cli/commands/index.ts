import type { Command } from "commander";
import * as modelInit from "./modelInit.js";
import * as modelLogprobs from "./modelLogprobs.js";
import * as modelPerplexity from "./modelPerplexity.js";
import * as train from "./train.js";
import * as exportCommand from "./export.js";
import * as evalReport from "./evalReport.js";
import * as evalRatings from "./evalRatings.js";

export interface CommandModule {
  register(program: Command): void;
}

/** Every CLI command group, in the order `vertical --help` lists them. */
export const commandModules: CommandModule[] = [modelInit, modelPerplexity, modelLogprobs, evalReport, evalRatings, train, exportCommand];
